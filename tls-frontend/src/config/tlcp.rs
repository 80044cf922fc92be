//! TLCP's loaded parts: every `[[tlcp_certificate]]` pair (signing chain and key, encryption
//! certificate and key, checked together by [`Credentials::new`]), the choice of one per
//! server name, and the client side's credentials and trust anchors for TLCP upstreams.

use std::path::Path;
use std::sync::Arc;

use crypto_core::PrivateKey;
use crypto_core::tlcp::{Cert, Credentials};

use super::certs::{name_rank, read_chain, read_key_file};
use crate::config;

/// One signing + encryption pair.
#[derive(Debug)]
pub struct TlcpEntry {
    /// The names it serves (lower case; `*.` wildcards allowed).
    pub names: Vec<String>,
    /// Served when no name matches.
    pub default: bool,
    /// The checked pair.
    pub credentials: Arc<Credentials>,
    /// The signing certificate file, as configured.
    pub path: std::path::PathBuf,
    /// The signing certificate's validity and names, for `check` and the expiry gauge.
    pub info: Option<config::x509::CertInfo>,
}

/// Every configured TLCP pair.
#[derive(Debug, Default)]
pub struct TlcpStore {
    entries: Vec<TlcpEntry>,
}

/// Reads one SM2 key file (once, permissions checked).
fn sm2_key(path: &Path, what: &str) -> Result<PrivateKey, String> {
    let bytes = read_key_file(path, what)?;
    let key = PrivateKey::from_pem_or_der(&bytes)
        .map_err(|e| format!("{what} {}: {e}", path.display()))?;
    if key.kind() != crypto_core::KeyKind::Sm2 {
        return Err(format!(
            "{what} {}: TLCP needs an SM2 key, this is {:?}",
            path.display(),
            key.kind()
        ));
    }
    Ok(key)
}

/// Loads and checks one pair: key usage (digitalSignature for signing, keyEncipherment for
/// encryption), and each key against its certificate. Errors name the files.
pub fn credentials(
    sign_cert: &Path,
    sign_key: &Path,
    enc_cert: &Path,
    enc_key: &Path,
) -> Result<Credentials, String> {
    let sign_chain: Vec<Vec<u8>> = read_chain(sign_cert)?
        .into_iter()
        .map(|c| c.as_ref().to_vec())
        .collect();
    let enc_chain = read_chain(enc_cert)?;
    let sk = sm2_key(sign_key, "signing key")?;
    let ek = sm2_key(enc_key, "encryption key")?;
    Credentials::new(&sign_chain, sk, enc_chain[0].as_ref(), ek).map_err(|e| {
        format!(
            "TLCP pair {} + {}: {e}",
            sign_cert.display(),
            enc_cert.display()
        )
    })
}

/// The SM2 certificates of a PEM CA file, parsed for TLCP; others (RSA, ECDSA roots for TLS
/// clients) are skipped. An error when none is SM2.
pub fn sm2_roots(path: &Path) -> Result<Vec<Cert>, String> {
    let roots: Vec<Cert> = read_chain(path)?
        .iter()
        .filter_map(|c| Cert::parse(c.as_ref()).ok())
        .collect();
    if roots.is_empty() {
        return Err(format!(
            "{}: no SM2 certificate among its CAs (TLCP needs one)",
            path.display()
        ));
    }
    Ok(roots)
}

impl TlcpStore {
    /// Loads every `[[tlcp_certificate]]`.
    pub fn load(certs: &[config::TlcpCertificate]) -> Result<Self, String> {
        let mut entries = Vec::new();
        for c in certs {
            let credentials = credentials(&c.sign_cert, &c.sign_key, &c.enc_cert, &c.enc_key)?;
            let info = config::x509::info(credentials.signing_certificate().der()).ok();
            entries.push(TlcpEntry {
                names: c.names.iter().map(|n| n.to_ascii_lowercase()).collect(),
                default: c.default,
                credentials: Arc::new(credentials),
                path: c.sign_cert.clone(),
                info,
            });
        }
        Ok(Self { entries })
    }

    /// Every entry, in configuration order.
    pub fn entries(&self) -> &[TlcpEntry] {
        &self.entries
    }

    /// The index of the entry for `sni`: an exact name first, then a wildcard, then (unless
    /// `reject_unknown`) the default; `None` when nothing serves it.
    pub fn choose(&self, sni: Option<&str>, reject_unknown: bool) -> Option<usize> {
        if let Some(sni) = sni {
            let best = self
                .entries
                .iter()
                .enumerate()
                .filter_map(|(i, e)| name_rank(&e.names, sni).map(|r| (r, i)))
                .min();
            if let Some((_, i)) = best {
                return Some(i);
            }
            if reject_unknown {
                return None;
            }
        }
        self.entries.iter().position(|e| e.default)
    }
}
