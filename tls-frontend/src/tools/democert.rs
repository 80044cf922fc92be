//! The demo's certificates: issuing X.509 certificates for any of our key kinds, SM2 included,
//! signed through crypto-core (also what tests use to make certificates with chosen dates).

use std::time::{Duration, SystemTime};

use crypto_core::{Backend, Error, KeyKind, PrivateKey, SignatureAlg};

// --- DER, through the `der` crate and x509-cert's types ----------------------------------------

use der::asn1::{BitString, Ia5String, OctetString};
use der::{Encode, Header, Length, Tag};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier};
use x509_cert::time::{Time, Validity};

/// An extension with `value` under its type's OID.
fn extension<T: der::oid::AssociatedOid + Encode>(
    critical: bool,
    value: &T,
) -> Result<Extension, Error> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(der_error)?).map_err(der_error)?,
    })
}

fn der_error(_: der::Error) -> Error {
    Error::Backend("certificate encoding failed")
}

/// A SEQUENCE around already-encoded parts (the TBS certificate and the certificate itself:
/// x509-cert builds those only through its signing builder).
fn sequence(parts: &[&[u8]]) -> Result<Vec<u8>, Error> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let header = Header::new(Tag::Sequence, Length::try_from(len).map_err(der_error)?);
    let mut out = header.to_der().map_err(der_error)?;
    for p in parts {
        out.extend_from_slice(p);
    }
    Ok(out)
}

/// `O=tls-frontend demo, CN=<cn>` (RFC 4514 writes the most specific first).
fn name(cn: &str) -> Result<Name, Error> {
    let escaped: String = cn
        .chars()
        .flat_map(|c| {
            let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=');
            special.then_some('\\').into_iter().chain(Some(c))
        })
        .collect();
    format!("CN={escaped},O=tls-frontend demo")
        .parse()
        .map_err(der_error)
}

/// The AlgorithmIdentifier and crypto-core algorithm an issuer key signs with.
fn signature_alg(kind: KeyKind) -> (AlgorithmIdentifierOwned, SignatureAlg) {
    let id = |oid: &str, null: bool| AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new_unwrap(oid),
        parameters: null.then(der::Any::null),
    };
    match kind {
        // sha256WithRSAEncryption, NULL parameters (RFC 4055).
        KeyKind::Rsa => (
            id("1.2.840.113549.1.1.11", true),
            SignatureAlg::RsaPkcs1Sha256,
        ),
        // ecdsa-with-SHA256 / SHA384, no parameters (RFC 5758).
        KeyKind::EcP256 => (
            id("1.2.840.10045.4.3.2", false),
            SignatureAlg::EcdsaP256Sha256,
        ),
        KeyKind::EcP384 => (
            id("1.2.840.10045.4.3.3", false),
            SignatureAlg::EcdsaP384Sha384,
        ),
        // id-Ed25519 (RFC 8410).
        KeyKind::Ed25519 => (id("1.3.101.112", false), SignatureAlg::Ed25519),
        // SM2-with-SM3, no parameters (GM/T 0006).
        _ => (id("1.2.156.10197.1.501", false), SignatureAlg::Sm2Sm3),
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
    /// A TLCP encryption certificate (GB/T 38636-2020 6.4.5.3): keyEncipherment,
    /// dataEncipherment and keyAgreement, serverAuth and clientAuth.
    Encryption,
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
    let validity: Validity = Validity::new(
        Time::try_from(validity.0).map_err(der_error)?,
        Time::try_from(validity.1).map_err(der_error)?,
    );
    let subject = name(cn)?;
    let issuer_name = name(issuer_cn)?;

    let mut exts: Vec<Extension> = Vec::new();
    let rsa = subject_key.kind() == KeyKind::Rsa;
    match role {
        Role::Ca => {
            exts.push(extension(
                true,
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: None,
                },
            )?);
            exts.push(extension(
                true,
                &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
            )?);
        }
        Role::Encryption => {
            exts.push(extension(
                true,
                &BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
            )?);
            exts.push(extension(
                true,
                &KeyUsage(
                    KeyUsages::KeyEncipherment
                        | KeyUsages::DataEncipherment
                        | KeyUsages::KeyAgreement,
                ),
            )?);
            exts.push(extension(
                false,
                &ExtendedKeyUsage(vec![
                    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1"),
                    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2"),
                ]),
            )?);
        }
        Role::Server | Role::Client => {
            exts.push(extension(
                true,
                &BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
            )?);
            // digitalSignature, plus keyEncipherment for RSA.
            let usage = if rsa {
                KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment
            } else {
                KeyUsages::DigitalSignature.into()
            };
            exts.push(extension(true, &KeyUsage(usage))?);
            let purpose = ObjectIdentifier::new_unwrap(if role == Role::Server {
                "1.3.6.1.5.5.7.3.1"
            } else {
                "1.3.6.1.5.5.7.3.2"
            });
            exts.push(extension(false, &ExtendedKeyUsage(vec![purpose]))?);
        }
    }
    if !names.is_empty() {
        let mut sans = Vec::new();
        for n in names {
            sans.push(match n.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(a)) => {
                    GeneralName::IpAddress(OctetString::new(a.octets()).map_err(der_error)?)
                }
                Ok(std::net::IpAddr::V6(a)) => {
                    GeneralName::IpAddress(OctetString::new(a.octets()).map_err(der_error)?)
                }
                Err(_) => GeneralName::DnsName(Ia5String::new(n).map_err(der_error)?),
            });
        }
        exts.push(extension(false, &SubjectAltName(sans))?);
    }
    let ski = OctetString::new(key_id(&spki)?).map_err(der_error)?;
    exts.push(extension(false, &SubjectKeyIdentifier(ski))?);
    let aki = OctetString::new(key_id(&issuer_key.public_key_spki_der())?).map_err(der_error)?;
    exts.push(extension(
        false,
        &AuthorityKeyIdentifier {
            key_identifier: Some(aki),
            ..AuthorityKeyIdentifier::default()
        },
    )?);

    let enc = |v: &dyn Fn() -> der::Result<Vec<u8>>| v().map_err(der_error);
    // [0] EXPLICIT Version v3 (2).
    let version = [0xa0, 0x03, 0x02, 0x01, 0x02];
    let tbs = sequence(&[
        &version,
        &enc(&|| der::asn1::Uint::new(&serial)?.to_der())?,
        &enc(&|| sig_alg.to_der())?,
        &enc(&|| issuer_name.to_der())?,
        &enc(&|| validity.to_der())?,
        &enc(&|| subject.to_der())?,
        &spki,
        // [3] EXPLICIT Extensions.
        &enc(&|| {
            der::asn1::ContextSpecific {
                tag_number: der::TagNumber(3),
                tag_mode: der::TagMode::Explicit,
                value: exts.clone(),
            }
            .to_der()
        })?,
    ])?;
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
    sequence(&[
        &tbs,
        &enc(&|| sig_alg.to_der())?,
        &enc(&|| BitString::from_bytes(&signature)?.to_der())?,
    ])
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
