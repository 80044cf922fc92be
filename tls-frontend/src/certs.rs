//! The certificate store: every configured chain with its key, and the choice of one per
//! ClientHello: by server name, then by everything the client offers (versions, suites,
//! signature schemes, groups). RFC 8998 clients get the SM2 certificate and a strictly-GM
//! handshake; others ECDSA, then Ed25519, then RSA, each only where a suite the client offers
//! can use it.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use crypto_core::tls::{CURVE_SM2, KeyProvider, SM2SIG_SM3};
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
    /// The certificate file, as configured.
    pub path: std::path::PathBuf,
    /// The leaf's subject, issuer, validity and alternative names (`None` if our X.509 reader
    /// could not read what rustls accepted).
    pub info: Option<crate::x509::CertInfo>,
}

/// How long before notAfter `check` and the log start warning.
pub const EXPIRY_WARNING: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

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
            let info = crate::x509::info(&certified.cert[0]).ok();
            entries.push(Entry {
                names: c.names.iter().map(|n| n.to_ascii_lowercase()).collect(),
                default: c.default,
                kind: key.kind(),
                key_alg: key_alg(&key),
                certified: Arc::new(certified),
                path: c.cert.clone(),
                info,
            });
        }
        Ok(Self { entries })
    }

    /// Every entry, in configuration order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// A warning for each certificate that is expired, not yet valid, or expires within
    /// [`EXPIRY_WARNING`] of `now`.
    pub fn expiry_warnings(&self, now: std::time::SystemTime) -> Vec<String> {
        use crate::x509::{Validity, format_time};
        let mut out = Vec::new();
        for e in &self.entries {
            let Some(info) = &e.info else { continue };
            let what = format!("certificate {} ({})", e.path.display(), e.key_alg);
            match info.validity_at(now, EXPIRY_WARNING) {
                Validity::Fine => {}
                Validity::Expired => out.push(format!(
                    "{what} expired on {}: clients will refuse it",
                    format_time(info.not_after)
                )),
                Validity::NotYetValid => out.push(format!(
                    "{what} is not valid before {}: clients will refuse it until then",
                    format_time(info.not_before)
                )),
                Validity::ExpiresSoon => {
                    let days = info
                        .not_after
                        .duration_since(now)
                        .map_or(0, |d| d.as_secs() / 86_400);
                    out.push(format!(
                        "{what} expires on {} (in {days} day{}): renew it",
                        format_time(info.not_after),
                        if days == 1 { "" } else { "s" }
                    ));
                }
            }
        }
        out
    }

    /// `(name, key algorithm, notAfter in Unix seconds)` for every configured name of every
    /// certificate (`""` for a default certificate without names): the expiry gauge's series.
    pub fn expiry_series(&self) -> Vec<(String, String, u64)> {
        let mut out = Vec::new();
        for e in &self.entries {
            let Some(info) = &e.info else { continue };
            let at = crate::x509::unix_seconds(info.not_after);
            if e.names.is_empty() {
                out.push((String::new(), e.key_alg.clone(), at));
            }
            for n in &e.names {
                out.push((n.clone(), e.key_alg.clone(), at));
            }
        }
        out.sort();
        out.dedup();
        out
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

    /// The certificate and handshake profile for a ClientHello, or why there is none.
    ///
    /// The choice respects everything the client offered. The version is the highest both
    /// sides speak. TLS 1.3: an RFC 8998 client (its first suite we have is an SM suite, and
    /// it offers sm2sig_sm3 and curveSM2) gets the SM2 certificate with the [`Profile::Gm`]
    /// handshake, which allows nothing but SM suites and curveSM2, as strict RFC 8998 peers
    /// require; every other client gets the [`Profile::Standard`] handshake, which has no SM
    /// suite at all, and a certificate whose key signs one of its schemes (ECDSA, then
    /// Ed25519, then RSA, then SM2). TLS 1.2: the certificate must also suit a suite the client
    /// offers (ECDHE_ECDSA or ECDHE_RSA).
    pub fn choose(&self, offer: &Offer<'_>, caps: &Caps) -> Result<Choice<'_>, Refusal> {
        let candidates = match offer.server_name.and_then(|s| self.for_name(s)) {
            Some(c) => c,
            None if caps.reject_unknown && offer.server_name.is_some() => {
                return Err(Refusal::UnknownName);
            }
            None => self.entries.iter().filter(|e| e.default).collect(),
        };
        let tls13 = caps.tls13 && offer.tls13;
        let tls12 = caps.tls12 && offer.tls12;
        if !tls13 && !tls12 {
            return Err(Refusal::Version);
        }
        let signs = |e: &Entry, schemes: &[SignatureScheme]| {
            e.certified.key.choose_scheme(schemes).is_some()
        };
        let by_kind = |kinds: &[KeyKind], ok: &dyn Fn(&Entry) -> bool| {
            kinds
                .iter()
                .find_map(|k| candidates.iter().copied().find(|e| e.kind == *k && ok(e)))
        };
        if tls13 {
            let schemes: Vec<SignatureScheme> = offer
                .schemes
                .iter()
                .copied()
                .filter(|s| allowed_in_tls13(*s))
                .collect();
            let first_ours = offer.suites.iter().find(|s| {
                caps.gm_suites.contains(s)
                    || caps.standard.cipher_suites.iter().any(|x| x.suite() == **s)
            });
            let wants_gm = first_ours.is_some_and(|s| caps.gm_suites.contains(s))
                && offer.schemes.contains(&SM2SIG_SM3)
                && offer.groups.contains(&CURVE_SM2);
            if wants_gm && let Some(e) = by_kind(&[KeyKind::Sm2], &|e| signs(e, &[SM2SIG_SM3])) {
                return Ok(Choice {
                    entry: e,
                    profile: Profile::Gm,
                });
            }
            let common = caps.standard.cipher_suites.iter().any(|s| {
                s.version().version == rustls::ProtocolVersion::TLSv1_3
                    && offer.suites.contains(&s.suite())
            });
            if !common {
                return Err(Refusal::Suites);
            }
            return by_kind(
                &[
                    KeyKind::EcP256,
                    KeyKind::EcP384,
                    KeyKind::Ed25519,
                    KeyKind::Rsa,
                    KeyKind::Sm2,
                ],
                &|e| signs(e, &schemes),
            )
            .map(|entry| Choice {
                entry,
                profile: Profile::Standard,
            })
            .ok_or(Refusal::Certificate);
        }
        // TLS 1.2: a suite both offer that the key can authenticate, and a scheme of the
        // client's that the key signs and that suite allows.
        let usable = |e: &Entry| {
            let alg = e.certified.key.algorithm();
            caps.standard.cipher_suites.iter().any(|s| {
                let rustls::SupportedCipherSuite::Tls12(s12) = s else {
                    return false;
                };
                offer.suites.contains(&s.suite())
                    && s.usable_for_signature_algorithm(alg)
                    && signs(
                        e,
                        &offer
                            .schemes
                            .iter()
                            .copied()
                            .filter(|x| s12.sign.contains(x))
                            .collect::<Vec<_>>(),
                    )
            })
        };
        by_kind(
            &[
                KeyKind::EcP256,
                KeyKind::EcP384,
                KeyKind::Ed25519,
                KeyKind::Rsa,
            ],
            &usable,
        )
        .map(|entry| Choice {
            entry,
            profile: Profile::Standard,
        })
        .ok_or(Refusal::Certificate)
    }
}

/// RFC 8446 section 4.2.3: TLS 1.3 signs with neither RSASSA-PKCS1-v1_5 nor SHA-1, SHA-224 or
/// MD5 (rustls drops the same schemes before it asks a key to choose).
fn allowed_in_tls13(s: SignatureScheme) -> bool {
    let [hash, sign] = u16::from(s).to_be_bytes();
    !(hash <= 3 || sign == 1)
}

/// What a ClientHello offers, in rustls's types.
#[derive(Debug)]
pub struct Offer<'a> {
    /// The server name, lower case.
    pub server_name: Option<&'a str>,
    /// Whether the client speaks TLS 1.3.
    pub tls13: bool,
    /// Whether the client speaks TLS 1.2.
    pub tls12: bool,
    /// Its suites, in its order.
    pub suites: &'a [CipherSuite],
    /// Its signature schemes.
    pub schemes: &'a [SignatureScheme],
    /// Its groups.
    pub groups: &'a [rustls::NamedGroup],
}

/// What a listener can do, for the choice.
#[derive(Debug)]
pub struct Caps {
    /// TLS 1.3 is enabled.
    pub tls13: bool,
    /// TLS 1.2 is enabled.
    pub tls12: bool,
    /// The standard handshake's provider (no SM suites).
    pub standard: Arc<rustls::crypto::CryptoProvider>,
    /// The SM suites the GM handshake offers (empty: none, e.g. no curveSM2 on this listener
    /// or no SM4/SM3 in the selection).
    pub gm_suites: Vec<CipherSuite>,
    /// Unknown names fail the handshake.
    pub reject_unknown: bool,
}

/// Which handshake a connection gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Every suite but the SM ones, every configured group.
    Standard,
    /// RFC 8998 strictly: SM suites only, curveSM2 only (a HelloRetryRequest for it if the
    /// client sent no curveSM2 share), the SM2 certificate.
    Gm,
}

/// A certificate and the handshake to use it with.
#[derive(Debug)]
pub struct Choice<'a> {
    /// The certificate.
    pub entry: &'a Entry,
    /// The handshake.
    pub profile: Profile,
}

/// Why no certificate suits a ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The name is not served and the listener rejects unknown names.
    UnknownName,
    /// No version both sides speak.
    Version,
    /// No suite both sides have.
    Suites,
    /// No certificate whose key the client can verify with a suite it offers.
    Certificate,
}

impl Refusal {
    /// The alert that answers it.
    pub fn alert(self) -> crate::hello::Alert {
        use crate::hello::Alert;
        match self {
            Self::UnknownName => Alert::UnrecognizedName,
            Self::Version => Alert::ProtocolVersion,
            // RFC 8446 section 4.1.1: no acceptable parameters is handshake_failure.
            Self::Suites | Self::Certificate => Alert::HandshakeFailure,
        }
    }

    /// A short name for logs and the metric label.
    pub fn name(self) -> &'static str {
        match self {
            Self::UnknownName => "unknown_name",
            Self::Version => "no_common_version",
            Self::Suites => "no_common_suite",
            Self::Certificate => "no_suitable_certificate",
        }
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
