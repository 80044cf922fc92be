//! The demo's certificates: issuing X.509 certificates for any of our key kinds, SM2 included,
//! signed through crypto-core (also what tests use to make certificates with chosen dates).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crypto_core::{Backend, Error, KeyKind, PrivateKey, SignatureAlg};

use crate::config::x509::civil_from_days;

// --- DER writing ----------------------------------------------------------------------------

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn set(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x31, &parts.concat())
}

/// An OID from its DER content bytes.
fn oid(content: &[u8]) -> Vec<u8> {
    tlv(0x06, content)
}

fn uint(bytes: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    if v.first().is_none_or(|&b| b & 0x80 != 0) {
        v.insert(0, 0);
    }
    tlv(0x02, &v)
}

fn bit_string(bytes: &[u8], unused: u8) -> Vec<u8> {
    let mut v = vec![unused];
    v.extend_from_slice(bytes);
    tlv(0x03, &v)
}

fn time(t: SystemTime) -> Vec<u8> {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    if (1950..2050).contains(&y) {
        tlv(
            0x17,
            format!("{:02}{m:02}{d:02}{hh:02}{mm:02}{ss:02}Z", y % 100).as_bytes(),
        )
    } else {
        tlv(
            0x18,
            format!("{y:04}{m:02}{d:02}{hh:02}{mm:02}{ss:02}Z").as_bytes(),
        )
    }
}

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];

fn name(cn: &str) -> Vec<u8> {
    let o = set(&[&seq(&[&oid(OID_O), &tlv(0x0c, b"tls-frontend demo")])]);
    let c = set(&[&seq(&[&oid(OID_CN), &tlv(0x0c, cn.as_bytes())])]);
    seq(&[&o, &c])
}

/// The AlgorithmIdentifier and crypto-core algorithm an issuer key signs with.
fn signature_alg(kind: KeyKind) -> (Vec<u8>, SignatureAlg) {
    match kind {
        // sha256WithRSAEncryption, NULL parameters (RFC 4055).
        KeyKind::Rsa => (
            seq(&[
                &oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]),
                &[0x05, 0x00],
            ]),
            SignatureAlg::RsaPkcs1Sha256,
        ),
        // ecdsa-with-SHA256 / SHA384, no parameters (RFC 5758).
        KeyKind::EcP256 => (
            seq(&[&oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])]),
            SignatureAlg::EcdsaP256Sha256,
        ),
        KeyKind::EcP384 => (
            seq(&[&oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03])]),
            SignatureAlg::EcdsaP384Sha384,
        ),
        KeyKind::Ed25519 => (seq(&[&oid(&[0x2b, 0x65, 0x70])]), SignatureAlg::Ed25519),
        // SM2-with-SM3 1.2.156.10197.1.501, no parameters (GM/T 0006).
        _ => (
            seq(&[&oid(&[0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x75])]),
            SignatureAlg::Sm2Sm3,
        ),
    }
}

/// What a certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A CA (basicConstraints CA:TRUE, keyCertSign).
    Ca,
    /// A TLS server (serverAuth, with SANs).
    Server,
    /// A TLS client (clientAuth).
    Client,
}

/// An issuer: its name and key.
#[derive(Debug)]
pub struct Issuer<'a> {
    /// Subject CN of the issuer certificate.
    pub cn: &'a str,
    /// The issuer's key.
    pub key: &'a PrivateKey,
}

fn key_id(spki_der: &[u8]) -> Result<Vec<u8>, Error> {
    // RFC 7093 section 2 method 1: the leftmost 160 bits of SHA-256 of the key.
    let sha256 = crypto_core::HashAlg::Sha256;
    let digest = Backend::any_for(crypto_core::Algorithm::Hash(sha256))
        .ok_or(Error::Backend("no backend built with SHA-256"))?
        .hash(sha256)?
        .hash(spki_der);
    Ok(digest.as_ref()[..20].to_vec())
}

/// Issues a certificate for `subject_key` (self-signed when `issuer` is `None`), valid from an
/// hour ago (clock skew) for `valid_for`.
pub fn issue(
    cn: &str,
    role: Role,
    names: &[&str],
    subject_key: &PrivateKey,
    issuer: Option<&Issuer<'_>>,
    valid_for: Duration,
) -> Result<Vec<u8>, Error> {
    let now = SystemTime::now();
    issue_between(
        cn,
        role,
        names,
        subject_key,
        issuer,
        (now - Duration::from_secs(3600), now + valid_for),
    )
}

/// As [`issue`], valid from `validity.0` to `validity.1` (tests make expired and not yet valid
/// certificates with it).
pub fn issue_between(
    cn: &str,
    role: Role,
    names: &[&str],
    subject_key: &PrivateKey,
    issuer: Option<&Issuer<'_>>,
    validity: (SystemTime, SystemTime),
) -> Result<Vec<u8>, Error> {
    let spki = subject_key.public_key_spki_der();
    let (issuer_cn, issuer_key) = match issuer {
        Some(i) => (i.cn, i.key),
        None => (cn, subject_key),
    };
    let (sig_alg, alg) = signature_alg(issuer_key.kind());
    let mut serial = [0u8; 16];
    crypto_core::system_random().fill(&mut serial)?;
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    let validity = seq(&[&time(validity.0), &time(validity.1)]);

    let mut exts: Vec<Vec<u8>> = Vec::new();
    let ext = |id: &[u8], critical: bool, value: Vec<u8>| {
        if critical {
            seq(&[&oid(id), &[0x01, 0x01, 0xff], &tlv(0x04, &value)])
        } else {
            seq(&[&oid(id), &tlv(0x04, &value)])
        }
    };
    let rsa = subject_key.kind() == KeyKind::Rsa;
    match role {
        Role::Ca => {
            exts.push(ext(&[0x55, 0x1d, 0x13], true, seq(&[&[0x01, 0x01, 0xff]])));
            // keyCertSign (bit 5) and cRLSign (bit 6).
            exts.push(ext(&[0x55, 0x1d, 0x0f], true, bit_string(&[0x06], 1)));
        }
        Role::Server | Role::Client => {
            exts.push(ext(&[0x55, 0x1d, 0x13], true, seq(&[])));
            // digitalSignature (bit 0), plus keyEncipherment (bit 2) for RSA.
            let ku = if rsa {
                bit_string(&[0xa0], 5)
            } else {
                bit_string(&[0x80], 7)
            };
            exts.push(ext(&[0x55, 0x1d, 0x0f], true, ku));
            let purpose: &[u8] = if role == Role::Server {
                &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01]
            } else {
                &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02]
            };
            exts.push(ext(&[0x55, 0x1d, 0x25], false, seq(&[&oid(purpose)])));
        }
    }
    if !names.is_empty() {
        let mut sans = Vec::new();
        for n in names {
            match n.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(a)) => sans.push(tlv(0x87, &a.octets())),
                Ok(std::net::IpAddr::V6(a)) => sans.push(tlv(0x87, &a.octets())),
                Err(_) => sans.push(tlv(0x82, n.as_bytes())),
            }
        }
        let refs: Vec<&[u8]> = sans.iter().map(Vec::as_slice).collect();
        exts.push(ext(&[0x55, 0x1d, 0x11], false, seq(&refs)));
    }
    exts.push(ext(&[0x55, 0x1d, 0x0e], false, tlv(0x04, &key_id(&spki)?)));
    let issuer_spki = issuer_key.public_key_spki_der();
    exts.push(ext(
        &[0x55, 0x1d, 0x23],
        false,
        seq(&[&tlv(0x80, &key_id(&issuer_spki)?)]),
    ));
    let ext_refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
    let extensions = tlv(0xa3, &seq(&ext_refs));

    let tbs = seq(&[
        &tlv(0xa0, &uint(&[2])), // v3
        &uint(&serial),
        &sig_alg,
        &name(issuer_cn),
        &validity,
        &name(cn),
        &spki,
        &extensions,
    ]);
    // Certificates take the default SM2 ID (1234567812345678), as RFC 8998 says.
    let backend = crypto_core::speed::preferred(crypto_core::Algorithm::Signature(alg))
        .iter()
        .copied()
        .find(|b| b.supports(crypto_core::Algorithm::Signature(alg)))
        .or_else(|| Backend::any_for(crypto_core::Algorithm::Signature(alg)))
        .ok_or(Error::Unsupported {
            alg: crypto_core::Algorithm::Signature(alg),
            backend: Backend::RustCrypto,
        })?;
    let signature = backend.signing_key(alg, issuer_key)?.sign(&tbs)?;
    Ok(seq(&[&tbs, &sig_alg, &bit_string(&signature, 0)]))
}

/// PEM text of a DER certificate.
pub fn pem(der: &[u8]) -> String {
    pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, der).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::x509::subject_cn;

    #[test]
    fn issued_certificates_carry_their_cn() {
        let ca = PrivateKey::generate(KeyKind::EcP256).unwrap();
        let ca_der = issue(
            "Demo CA",
            Role::Ca,
            &[],
            &ca,
            None,
            Duration::from_secs(86_400),
        )
        .unwrap();
        assert_eq!(subject_cn(&ca_der).as_deref(), Some("Demo CA"));
        let leaf = PrivateKey::generate(KeyKind::Sm2).unwrap();
        let der = issue(
            "sm2.localhost",
            Role::Server,
            &["localhost", "127.0.0.1"],
            &leaf,
            Some(&Issuer {
                cn: "Demo CA",
                key: &ca,
            }),
            Duration::from_secs(86_400),
        )
        .unwrap();
        assert_eq!(subject_cn(&der).as_deref(), Some("sm2.localhost"));
        assert!(pem(&der).starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert_eq!(subject_cn(b"\x30\x84\xff\xff"), None);
        assert_eq!(subject_cn(&der[..der.len() / 2]), None);
    }
}
