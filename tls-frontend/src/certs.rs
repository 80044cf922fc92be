//! The certificate store: every configured chain with its key, and the choice of one per
//! ClientHello: by server name, then by what the client offers. RFC 8998 clients (offering an SM
//! suite and sm2sig_sm3) get the SM2 certificate; others ECDSA, then Ed25519, then RSA.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use crypto_core::tls::{KeyProvider, SM2SIG_SM3, TLS13_SM4_CCM_SM3, TLS13_SM4_GCM_SM3};
use crypto_core::{KeyKind, PrivateKey};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{CipherSuite, SignatureAlgorithm, SignatureScheme};

use crate::config;

/// One chain and key.
#[derive(Debug)]
pub struct Entry {
    /// The names it serves (lower case; `*.` wildcards allowed).
    pub names: Vec<String>,
    /// Served when no name matches.
    pub default: bool,
    /// The key's kind.
    pub kind: KeyKind,
    /// A short name of the key algorithm for logs and PROXY v2 ("RSA2048", "ECDSA-P256", ...).
    pub key_alg: String,
    /// The chain and the signing key.
    pub certified: Arc<CertifiedKey>,
}

/// Every configured certificate.
#[derive(Debug)]
pub struct Store {
    entries: Vec<Entry>,
}

/// Reads a key file once, warning when its permissions let others read it; `what` names the
/// file in errors ("key", "ticket keys").
pub fn read_key_file(path: &Path, what: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, String> {
    let bytes = zeroize::Zeroizing::new(
        std::fs::read(path).map_err(|e| format!("{what} {}: {e}", path.display()))?,
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                crate::log::warn(&format!(
                    "key file {} is readable by group or others (mode {:o}); chmod 600 it",
                    path.display(),
                    mode & 0o777
                ));
            }
        }
    }
    Ok(bytes)
}

/// A PEM error in words (the library's own message shows marker lines as byte lists).
fn pem_error(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match e {
        Error::MissingSectionEnd { end_marker } => format!(
            "a PEM block without its end line (-----END {}-----)",
            String::from_utf8_lossy(end_marker).trim()
        ),
        Error::IllegalSectionStart { line } => format!(
            "a malformed PEM begin line ({})",
            String::from_utf8_lossy(line).trim()
        ),
        Error::Base64Decode(why) => format!("a PEM block that is not base64 ({why})"),
        other => other.to_string(),
    }
}

/// Whether `bytes` start like a DER SEQUENCE with a definite length (a DER certificate).
fn looks_like_der(bytes: &[u8]) -> bool {
    matches!(bytes, [0x30, 0x81..=0x84, ..])
}

/// Reads a PEM certificate chain.
pub fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("certificate {}: {e}", path.display()))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("certificate {}: {}", path.display(), pem_error(&e)))?;
    if chain.is_empty() {
        if looks_like_der(&bytes) {
            return Err(format!(
                "certificate {}: PEM expected (this file looks like DER; `openssl x509 -inform DER -in FILE -out FILE.pem` converts it)",
                path.display()
            ));
        }
        return Err(format!(
            "certificate {}: no CERTIFICATE block",
            path.display()
        ));
    }
    Ok(chain)
}

fn key_alg(key: &PrivateKey) -> String {
    match key.kind() {
        KeyKind::Rsa => format!("RSA{}", key.rsa_bits().unwrap_or(0)),
        KeyKind::EcP256 => "ECDSA-P256".into(),
        KeyKind::EcP384 => "ECDSA-P384".into(),
        KeyKind::Ed25519 => "Ed25519".into(),
        KeyKind::Sm2 => "SM2".into(),
        _ => "unknown".into(),
    }
}

impl Store {
    /// Loads every `[[certificate]]`: chain, key (read once), and a check that they match.
    pub fn load(certs: &[config::Certificate], keys: &KeyProvider) -> Result<Self, String> {
        let mut entries = Vec::new();
        for c in certs {
            let chain = read_chain(&c.cert)?;
            let bytes = read_key_file(&c.key, "key")?;
            let key = PrivateKey::from_pem_or_der(&bytes)
                .map_err(|e| format!("key {}: {e}", c.key.display()))?;
            let signing = keys
                .signing_key(&key)
                .map_err(|e| format!("key {}: {e}", c.key.display()))?;
            let certified = CertifiedKey::new(chain, Arc::new(signing));
            certified.keys_match().map_err(|e| {
                format!(
                    "{} and {} do not belong together: {e}",
                    c.cert.display(),
                    c.key.display()
                )
            })?;
            entries.push(Entry {
                names: c.names.iter().map(|n| n.to_ascii_lowercase()).collect(),
                default: c.default,
                kind: key.kind(),
                key_alg: key_alg(&key),
                certified: Arc::new(certified),
            });
        }
        Ok(Self { entries })
    }

    /// The entries for a name: exact names first, then a matching wildcard; `None` if no entry
    /// names it.
    fn for_name(&self, sni: &str) -> Option<Vec<&Entry>> {
        let sni = sni.to_ascii_lowercase();
        let exact: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.names.contains(&sni))
            .collect();
        if !exact.is_empty() {
            return Some(exact);
        }
        let parent = sni.split_once('.').map(|(_, p)| p)?;
        let wild: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| {
                e.names
                    .iter()
                    .any(|n| n.strip_prefix("*.").is_some_and(|p| p == parent))
            })
            .collect();
        (!wild.is_empty()).then_some(wild)
    }

    /// The entry for a ClientHello (`suites` in the client's order; `supported`, ours), or
    /// `None` (a clean handshake failure).
    pub fn choose(
        &self,
        sni: Option<&str>,
        schemes: &[SignatureScheme],
        suites: &[CipherSuite],
        supported: &[CipherSuite],
        reject_unknown: bool,
    ) -> Option<&Entry> {
        let candidates = match sni.and_then(|s| self.for_name(s)) {
            Some(c) => c,
            None if reject_unknown && sni.is_some() => return None,
            None => self.entries.iter().filter(|e| e.default).collect(),
        };
        let offers = |s: SignatureScheme| schemes.contains(&s);
        // An RFC 8998 client: it prefers an SM suite (its first suite we support is one) and
        // offers sm2sig_sm3. A client that merely lists the SM suites after others (any client
        // built on our provider does) gets the usual certificates.
        let is_sm = |s: &CipherSuite| *s == TLS13_SM4_GCM_SM3 || *s == TLS13_SM4_CCM_SM3;
        let gm = suites
            .iter()
            .find(|s| supported.contains(s))
            .is_some_and(is_sm)
            && offers(SM2SIG_SM3);
        let find = |kind: KeyKind, scheme_ok: bool| {
            candidates
                .iter()
                .copied()
                .find(|e| e.kind == kind && scheme_ok)
        };
        let rsa_ok = schemes.iter().any(|s| {
            matches!(
                *s,
                SignatureScheme::RSA_PSS_SHA256
                    | SignatureScheme::RSA_PSS_SHA384
                    | SignatureScheme::RSA_PSS_SHA512
                    | SignatureScheme::RSA_PKCS1_SHA256
                    | SignatureScheme::RSA_PKCS1_SHA384
                    | SignatureScheme::RSA_PKCS1_SHA512
            )
        });
        (if gm { find(KeyKind::Sm2, true) } else { None })
            .or_else(|| {
                find(
                    KeyKind::EcP256,
                    offers(SignatureScheme::ECDSA_NISTP256_SHA256),
                )
            })
            .or_else(|| {
                find(
                    KeyKind::EcP384,
                    offers(SignatureScheme::ECDSA_NISTP384_SHA384),
                )
            })
            .or_else(|| find(KeyKind::Ed25519, offers(SignatureScheme::ED25519)))
            .or_else(|| find(KeyKind::Rsa, rsa_ok))
            .or_else(|| find(KeyKind::Sm2, offers(SM2SIG_SM3)))
    }
}

/// A signing key that remembers the scheme rustls chose (for metrics and the access log).
#[derive(Debug)]
pub struct Recording {
    inner: Arc<dyn SigningKey>,
    /// The scheme, once chosen.
    pub chosen: Arc<OnceLock<SignatureScheme>>,
}

impl Recording {
    /// A per-connection copy of `entry`'s certified key whose scheme choice lands in `slot`.
    pub fn wrap(entry: &Entry, slot: Arc<OnceLock<SignatureScheme>>) -> Arc<CertifiedKey> {
        let key = Arc::new(Self {
            inner: entry.certified.key.clone(),
            chosen: slot,
        });
        let mut ck = CertifiedKey::new(entry.certified.cert.clone(), key);
        ck.ocsp.clone_from(&entry.certified.ocsp);
        Arc::new(ck)
    }
}

impl SigningKey for Recording {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let signer = self.inner.choose_scheme(offered)?;
        let _ = self.chosen.set(signer.scheme());
        Some(signer)
    }

    fn public_key(&self) -> Option<rustls::pki_types::SubjectPublicKeyInfoDer<'_>> {
        self.inner.public_key()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.inner.algorithm()
    }
}

/// Always the same certified key (or none: a handshake failure).
#[derive(Debug)]
pub struct Fixed(pub Option<Arc<CertifiedKey>>);

impl rustls::server::ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.clone()
    }
}
