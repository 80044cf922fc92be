//! Certificates in TLCP: a party's signing and encryption certificates (GB/T 38636-2020
//! 6.4.5.3: the Certificate message carries the signing certificate, the encryption
//! certificate, then the CA certificates), and the checks a peer's chain gets: SM2-with-SM3
//! signatures up to a trust anchor, validity periods, CA flags, key usage, and the server's
//! name.

use std::time::SystemTime;

use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{self as der, Decode, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, SubjectAltName};

use super::error::AlertDescription;
use crate::{Algorithm, Backend, PrivateKey, SignatureAlg, sm2};

/// id-ecPublicKey (RFC 5480).
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
/// The SM2 curve, and the SM2 public-key algorithm some issuers name instead
/// (GM/T 0006-2012: 1.2.156.10197.1.301).
const SM2_CURVE: &str = "1.2.156.10197.1.301";
/// SM2 signature with SM3 (GM/T 0006-2012: 1.2.156.10197.1.501).
const SM2_WITH_SM3: &str = "1.2.156.10197.1.501";
/// Longest chain we follow.
const MAX_DEPTH: usize = 8;

/// What a certificate is used for in TLCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Signs ServerKeyExchange / CertificateVerify: keyUsage digitalSignature or
    /// nonRepudiation.
    Signing,
    /// Decrypts the pre-master secret or enters the SM2 key exchange: keyUsage
    /// keyEncipherment, dataEncipherment or keyAgreement.
    Encryption,
}

/// One parsed certificate: what the handshake and the chain check need.
#[derive(Clone, Debug)]
pub struct Cert {
    der: Vec<u8>,
    /// The SM2 public key, 65-byte uncompressed point.
    public: Vec<u8>,
    key_usage: Option<KeyUsage>,
    ca: bool,
    subject: Vec<u8>,
    issuer: Vec<u8>,
    tbs: Vec<u8>,
    sm2_signed: bool,
    signature: Vec<u8>,
    not_before: SystemTime,
    not_after: SystemTime,
    dns_names: Vec<String>,
    ip_addresses: Vec<std::net::IpAddr>,
    subject_text: String,
}

impl Cert {
    /// Parses a DER certificate with an SM2 public key.
    pub fn parse(der: &[u8]) -> Result<Self, &'static str> {
        let cert = x509_cert::Certificate::from_der(der).map_err(|_| "not an X.509 certificate")?;
        let tbs = cert.tbs_certificate();
        let spki = tbs.subject_public_key_info();
        let alg = spki.algorithm.oid.to_string();
        let curve_ok = match alg.as_str() {
            EC_PUBLIC_KEY => spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .is_some_and(|oid| oid.to_string() == SM2_CURVE),
            SM2_CURVE => true,
            _ => false,
        };
        if !curve_ok {
            return Err("the certificate's key is not an SM2 key");
        }
        let public = spki
            .subject_public_key
            .as_bytes()
            .ok_or("malformed public key")?
            .to_vec();
        if public.len() != 65 || public[0] != 4 {
            return Err("the SM2 public key is not an uncompressed point");
        }
        let key_usage = match tbs.get_extension::<KeyUsage>() {
            Ok(Some((_, ku))) => Some(ku),
            Ok(None) => None,
            Err(_) => return Err("malformed keyUsage"),
        };
        let ca = match tbs.get_extension::<BasicConstraints>() {
            Ok(Some((_, bc))) => bc.ca,
            Ok(None) => false,
            Err(_) => return Err("malformed basicConstraints"),
        };
        let mut dns_names = Vec::new();
        let mut ip_addresses = Vec::new();
        if let Ok(Some((_, san))) = tbs.get_extension::<SubjectAltName>() {
            for name in san.0 {
                match name {
                    GeneralName::DnsName(n) => dns_names.push(n.to_string().to_ascii_lowercase()),
                    GeneralName::IpAddress(ip) => {
                        let b = ip.as_bytes();
                        if let Ok(v4) = <[u8; 4]>::try_from(b) {
                            ip_addresses.push(v4.into());
                        } else if let Ok(v6) = <[u8; 16]>::try_from(b) {
                            ip_addresses.push(v6.into());
                        }
                    }
                    _ => {}
                }
            }
        }
        let enc = |e: der::Result<Vec<u8>>| e.map_err(|_| "malformed certificate");
        Ok(Self {
            der: der.to_vec(),
            public,
            key_usage,
            ca,
            subject: enc(tbs.subject().to_der())?,
            issuer: enc(tbs.issuer().to_der())?,
            tbs: enc(tbs.to_der())?,
            sm2_signed: cert.signature_algorithm().oid.to_string() == SM2_WITH_SM3,
            signature: cert
                .signature()
                .as_bytes()
                .ok_or("malformed signature")?
                .to_vec(),
            not_before: tbs.validity().not_before.to_system_time(),
            not_after: tbs.validity().not_after.to_system_time(),
            dns_names,
            ip_addresses,
            subject_text: tbs.subject().to_string(),
        })
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The SM2 public key, a 65-byte uncompressed point.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// The subject as RFC 4514 text.
    pub fn subject(&self) -> &str {
        &self.subject_text
    }

    /// Whether basicConstraints marks a CA.
    pub fn is_ca(&self) -> bool {
        self.ca
    }

    /// Whether keyUsage (if present) allows `role`.
    pub fn allows(&self, role: Role) -> bool {
        match (&self.key_usage, role) {
            (None, _) => true,
            (Some(ku), Role::Signing) => ku.digital_signature() || ku.non_repudiation(),
            (Some(ku), Role::Encryption) => {
                ku.key_encipherment() || ku.data_encipherment() || ku.key_agreement()
            }
        }
    }

    /// Whether the certificate names `server`: a subjectAltName DNS name (a leading `*.`
    /// matching one label) or IP address, or with no alternative names the subject CN.
    pub fn names(&self, server: &str) -> bool {
        let server = server.trim_end_matches('.').to_ascii_lowercase();
        if let Ok(ip) = server.parse::<std::net::IpAddr>() {
            return self.ip_addresses.contains(&ip);
        }
        let matches = |pattern: &str| {
            if let Some(suffix) = pattern.strip_prefix("*.") {
                server
                    .split_once('.')
                    .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix)
            } else {
                pattern == server
            }
        };
        if self.dns_names.is_empty() && self.ip_addresses.is_empty() {
            return self
                .subject_text
                .split(',')
                .filter_map(|p| p.trim().strip_prefix("CN="))
                .any(|cn| matches(&cn.to_ascii_lowercase()));
        }
        self.dns_names.iter().any(|p| matches(p))
    }

    /// Whether `issuer` signed this certificate (SM2 with SM3, the default ID, GB/T
    /// 35276-2017 5.5) and is allowed to.
    fn signed_by(&self, issuer: &Cert, sm2: Backend) -> bool {
        self.sm2_signed
            && self.issuer == issuer.subject
            && sm2
                .sm2_verify(&issuer.public, sm2::DEFAULT_ID, &self.tbs, &self.signature)
                .is_ok()
    }

    fn valid_at(&self, now: SystemTime) -> bool {
        self.not_before <= now && now <= self.not_after
    }
}

/// Checks that `chain[0]` leads to one of `roots` through the rest of `chain`: every link an
/// SM2-with-SM3 signature by a CA certificate, every certificate valid now. The error is the
/// alert to send.
pub(crate) fn verify_chain(
    chain: &[Cert],
    roots: &[Cert],
    sm2: Backend,
    now: SystemTime,
) -> Result<(), AlertDescription> {
    let leaf = chain.first().ok_or(AlertDescription::BadCertificate)?;
    if !sm2.supports(Algorithm::Signature(SignatureAlg::Sm2Sm3)) {
        return Err(AlertDescription::InternalError);
    }
    let mut current = leaf;
    for _ in 0..MAX_DEPTH {
        if !current.valid_at(now) {
            return Err(AlertDescription::CertificateExpired);
        }
        if roots.iter().any(|r| r.der == current.der) {
            return Ok(());
        }
        if let Some(root) = roots.iter().find(|r| r.ca && current.signed_by(r, sm2)) {
            return if root.valid_at(now) {
                Ok(())
            } else {
                Err(AlertDescription::CertificateExpired)
            };
        }
        match chain[1..]
            .iter()
            .find(|c| c.der != current.der && c.ca && current.signed_by(c, sm2))
        {
            Some(next) => current = next,
            None => return Err(AlertDescription::UnknownCa),
        }
    }
    Err(AlertDescription::UnknownCa)
}

/// A party's TLCP credentials: the signing certificate (with its CA chain) and key, and the
/// encryption certificate and key (GB/T 38636-2020 6.4.5.3). Checked when made: both keys are
/// SM2 and match their certificates, and each certificate's keyUsage allows its role.
#[derive(Debug)]
pub struct Credentials {
    pub(crate) sign: Cert,
    pub(crate) sign_key: PrivateKey,
    pub(crate) enc: Cert,
    pub(crate) enc_key: PrivateKey,
    /// CA certificates sent after the two (DER).
    pub(crate) chain: Vec<Vec<u8>>,
}

impl Credentials {
    /// `sign_chain` is the signing certificate followed by its CA certificates (DER).
    pub fn new(
        sign_chain: &[Vec<u8>],
        sign_key: PrivateKey,
        enc_cert: &[u8],
        enc_key: PrivateKey,
    ) -> Result<Self, String> {
        let (sign_der, chain) = sign_chain.split_first().ok_or("no signing certificate")?;
        let sign = Cert::parse(sign_der).map_err(|e| format!("signing certificate: {e}"))?;
        let enc = Cert::parse(enc_cert).map_err(|e| format!("encryption certificate: {e}"))?;
        if !sign.allows(Role::Signing) {
            return Err(
                "the signing certificate's keyUsage allows neither digitalSignature nor nonRepudiation"
                    .into(),
            );
        }
        if !enc.allows(Role::Encryption) {
            return Err("the encryption certificate's keyUsage allows none of keyEncipherment, dataEncipherment, keyAgreement (is it the signing certificate?)".into());
        }
        if sign_key.public_key() != sign.public_key() {
            return Err("the signing key does not match the signing certificate".into());
        }
        if enc_key.public_key() != enc.public_key() {
            return Err("the encryption key does not match the encryption certificate".into());
        }
        Ok(Self {
            sign,
            sign_key,
            enc,
            enc_key,
            chain: chain.to_vec(),
        })
    }

    /// The signing certificate.
    pub fn signing_certificate(&self) -> &Cert {
        &self.sign
    }

    /// The encryption certificate.
    pub fn encryption_certificate(&self) -> &Cert {
        &self.enc
    }

    /// The Certificate message's list: signing, encryption, then the CA certificates.
    pub(crate) fn wire_list(&self) -> Vec<&[u8]> {
        let mut v = vec![self.sign.der(), self.enc.der()];
        v.extend(self.chain.iter().map(Vec::as_slice));
        v
    }
}
