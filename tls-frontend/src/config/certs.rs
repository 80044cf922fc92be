//! The certificate store: every configured chain with its key, and the choice of one per
//! ClientHello: by server name, then by everything the client offers (versions, suites,
//! signature schemes, groups). RFC 8998 clients get the SM2 certificate and a strictly-GM
//! handshake; others ECDSA, then Ed25519, then RSA, each only where a suite the client offers
//! can use it.

use std::path::Path;
use std::sync::Arc;

use crypto_core::tls::KeyProvider;
use crypto_core::{KeyKind, PrivateKey};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::sign::CertifiedKey;

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
    pub info: Option<config::x509::CertInfo>,
    /// Its OCSP staple (none, from a file, or fetched).
    pub staple: Arc<config::ocsp::Staple>,
    /// Whether the key is in a hardware security module (its handshakes run on the module
    /// pool).
    pub in_module: bool,
}

impl Entry {
    /// The name it goes by in logs and metrics: its first server name, or "default".
    pub fn label(&self) -> String {
        self.names
            .first()
            .cloned()
            .unwrap_or_else(|| "default".into())
    }
}

/// How well `names` (lower case, `*.` wildcards) serve `sni`: `Some(0)` by an exact name,
/// `Some(1)` by a wildcard over exactly one label, `None` not at all.
pub fn name_rank(names: &[String], sni: &str) -> Option<u8> {
    let sni = sni.to_ascii_lowercase();
    if names.contains(&sni) {
        return Some(0);
    }
    let parent = sni.split_once('.').map(|(_, p)| p)?;
    names
        .iter()
        .any(|n| n.strip_prefix("*.").is_some_and(|p| p == parent))
        .then_some(1)
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
                crate::ops::log::warn(&format!(
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

/// A certificate's staple as configured: a file's response must pass every check except its
/// dates (an expired one is only not served, with a warning: the file's updater may be late);
/// `auto` needs the issuer in the chain and an OCSP URL in the certificate.
fn load_staple(
    c: &config::Certificate,
    certified: &CertifiedKey,
    algs: rustls::crypto::WebPkiSupportedAlgorithms,
    now: std::time::SystemTime,
) -> Result<config::ocsp::Staple, String> {
    use config::ocsp::{Refused, Source, Staple};
    let leaf = certified.cert[0].clone();
    let issuer = certified.cert.get(1).cloned();
    let at = |m: String| format!("certificate {}: ocsp: {m}", c.cert.display());
    if c.ocsp.is_some()
        && let Some(issuer) = &issuer
        && !config::ocsp::issued_by(&leaf, issuer)
    {
        return Err(at(
            "the certificate after the leaf in the chain is not its issuer (OCSP names the issuer)"
                .into(),
        ));
    }
    let source = match c.ocsp.as_deref() {
        None => Source::None,
        Some("auto") => {
            let issuer = issuer.as_ref().ok_or_else(|| {
                at("\"auto\" needs the issuer certificate after the leaf in the chain".into())
            })?;
            let url = config::ocsp::responder_url(&leaf).ok_or_else(|| {
                at(
                    "\"auto\", but the certificate names no OCSP responder (authorityInfoAccess)"
                        .into(),
                )
            })?;
            config::ocsp::parse_url(&url).map_err(|e| at(format!("responder {url}: {e}")))?;
            let request = config::ocsp::request(&leaf, issuer).map_err(at)?;
            Source::Auto { url, request }
        }
        Some(file) => Source::File(file.into()),
    };
    let staple = Staple::new(source, leaf, issuer, algs);
    if let Source::File(path) = &staple.source {
        let der = std::fs::read(path).map_err(|e| at(format!("{}: {e}", path.display())))?;
        match staple.install(&der, certified, now) {
            Ok(_) => {}
            Err(e @ (Refused::Expired(_) | Refused::NotYetValid(_))) => {
                crate::ops::log::warn(&at(format!("{}: {e}; not stapled", path.display())))
            }
            Err(e) => return Err(at(format!("{}: {e}", path.display()))),
        }
    }
    Ok(staple)
}

impl Store {
    /// Loads every `[[certificate]]`: chain, key (read once), a check that they match, and
    /// its OCSP staple: a file's response is checked now (`algs` verify its signature); a
    /// fetched one is taken over from `previous` (the running store, on reload) when the
    /// certificate did not change.
    pub fn load(
        certs: &[config::Certificate],
        keys: &KeyProvider,
        algs: rustls::crypto::WebPkiSupportedAlgorithms,
        previous: Option<&Store>,
        pkcs11: &config::pkcs11::Settings,
    ) -> Result<Self, String> {
        let mut entries = Vec::new();
        let now = std::time::SystemTime::now();
        for c in certs {
            let chain = read_chain(&c.cert)?;
            let (signing, kind, key_alg): (Arc<dyn rustls::sign::SigningKey>, _, _) =
                if let Some(uri) = c
                    .key
                    .to_str()
                    .filter(|k| config::pkcs11::is_uri(k.as_ref()))
                {
                    let at = |e: String| format!("certificate {}: key: {e}", c.cert.display());
                    let (key, kind, warnings) =
                        config::pkcs11::load(uri, pkcs11, &chain[0], &algs, &|p| {
                            read_key_file(p, "PIN")
                        })
                        .map_err(at)?;
                    for w in warnings {
                        crate::ops::log::warn(&w);
                    }
                    config::pkcs11::offload(pkcs11).map_err(at)?;
                    let (kind, alg) = match kind {
                        config::pkcs11::KeyType::Rsa(bits) => (KeyKind::Rsa, format!("RSA{bits}")),
                        config::pkcs11::KeyType::EcP256 => (KeyKind::EcP256, "ECDSA-P256".into()),
                        config::pkcs11::KeyType::EcP384 => (KeyKind::EcP384, "ECDSA-P384".into()),
                    };
                    (Arc::new(key), kind, alg)
                } else {
                    let bytes = read_key_file(&c.key, "key")?;
                    let key = PrivateKey::from_pem_or_der(&bytes)
                        .map_err(|e| format!("key {}: {e}", c.key.display()))?;
                    let signing = keys
                        .signing_key(&key)
                        .map_err(|e| format!("key {}: {e}", c.key.display()))?;
                    (Arc::new(signing), key.kind(), key_alg(&key))
                };
            let in_module = config::pkcs11::is_uri(&c.key);
            let certified = CertifiedKey::new(chain, signing);
            certified.keys_match().map_err(|e| {
                format!(
                    "{} and {} do not belong together: {e}",
                    c.cert.display(),
                    c.key.display()
                )
            })?;
            let info = config::x509::info(&certified.cert[0]).ok();
            let staple = load_staple(c, &certified, algs, now)?;
            let old = previous.and_then(|p| {
                p.entries
                    .iter()
                    .find(|e| e.staple.leaf == staple.leaf && e.staple.source == staple.source)
            });
            if let Some(old) = old
                && matches!(staple.source, config::ocsp::Source::Auto { .. })
            {
                staple.adopt(&old.staple, &certified, now);
            }
            entries.push(Entry {
                names: c.names.iter().map(|n| n.to_ascii_lowercase()).collect(),
                default: c.default,
                kind,
                key_alg,
                certified: Arc::new(certified),
                path: c.cert.clone(),
                info,
                staple: Arc::new(staple),
                in_module,
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
        use crate::config::x509::{Validity, format_time};
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
            let at = config::x509::unix_seconds(info.not_after);
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
    pub fn for_name(&self, sni: &str) -> Option<Vec<&Entry>> {
        let best = self
            .entries
            .iter()
            .filter_map(|e| name_rank(&e.names, sni))
            .min()?;
        Some(
            self.entries
                .iter()
                .filter(|e| name_rank(&e.names, sni) == Some(best))
                .collect(),
        )
    }
}
