//! Session tickets a whole fleet can read: every instance loads the same key file; the newest
//! key encrypts, every key in the file decrypts, and a ticket is accepted for its lifetime.
//! Rotating is adding a key (`tls-frontend tickets rotate FILE`) and reloading; a key dropped
//! from the file stops its tickets from resuming.
//!
//! File format, one key per line (`#` comments allowed):
//! `<created, unix seconds> <name, 16 bytes hex> <key, 32 bytes hex>`.
//!
//! A ticket is `name (16) || nonce (12) || AES-256-GCM(issued_at (8, BE) || state) || tag`,
//! with the name as additional data. AES-256-GCM comes from the selection's backend.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crypto_core::{AeadAlg, AeadKey, Algorithm, Nonce, Selection};
use zeroize::Zeroizing;

const NAME_LEN: usize = 16;
const KEY_LEN: usize = 32;
const OVERHEAD: usize = NAME_LEN + 12 + 8 + crypto_core::TAG_LEN;

struct Key {
    created: u64,
    name: [u8; NAME_LEN],
    aead: Box<dyn AeadKey>,
}

/// What [`TicketKeys::rotate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    /// The new key's name (hex), which tickets it encrypts carry in front.
    pub name: String,
    /// Keys in the file now, the new one included.
    pub keys: usize,
    /// Old keys dropped (their tickets no longer resume).
    pub dropped: usize,
}

/// The loaded keys.
pub struct TicketKeys {
    keys: Vec<Key>,
    lifetime: Duration,
    rng: &'static dyn crypto_core::SecureRandom,
}

impl std::fmt::Debug for TicketKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketKeys")
            .field("keys", &self.keys.len())
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One parsed line: (created, name, key).
type Line = (u64, [u8; NAME_LEN], Zeroizing<Vec<u8>>);

fn parse_file(text: &str) -> Result<Vec<Line>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let bad = || {
            format!(
                "line {}: expected `<created> <name hex32> <key hex64>`",
                i + 1
            )
        };
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [created, name, key] = parts.as_slice() else {
            return Err(bad());
        };
        let created: u64 = created.parse().map_err(|_| bad())?;
        let name: [u8; NAME_LEN] = hex(name).and_then(|n| n.try_into().ok()).ok_or_else(bad)?;
        let key = Zeroizing::new(hex(key).filter(|k| k.len() == KEY_LEN).ok_or_else(bad)?);
        out.push((created, name, key));
    }
    Ok(out)
}

impl TicketKeys {
    /// Loads the key file (read once; a warning if others can read it).
    pub fn load(path: &Path, lifetime: Duration, selection: &Selection) -> Result<Self, String> {
        if let Err(e) = std::fs::metadata(path)
            && e.kind() == std::io::ErrorKind::NotFound
        {
            return Err(format!(
                "ticket key file {} does not exist: make one with `tls-frontend tickets rotate {}`",
                path.display(),
                path.display()
            ));
        }
        let bytes = crate::config::certs::read_key_file(path, "ticket keys")?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| format!("ticket keys {}: not text", path.display()))?;
        let lines = parse_file(text).map_err(|e| format!("ticket keys {}: {e}", path.display()))?;
        if lines.is_empty() {
            return Err(format!("ticket keys {}: no keys", path.display()));
        }
        let backend = selection.backend_for(Algorithm::Aead(AeadAlg::Aes256Gcm));
        let mut keys = Vec::new();
        for (created, name, key) in lines {
            let aead = backend
                .aead(AeadAlg::Aes256Gcm, &key)
                .map_err(|e| format!("ticket keys: {e}"))?;
            keys.push(Key {
                created,
                name,
                aead,
            });
        }
        // Newest first: it encrypts.
        keys.sort_by_key(|k| std::cmp::Reverse(k.created));
        let rng = selection
            .backend_for(Algorithm::Random)
            .random()
            .unwrap_or_else(|_| crypto_core::system_random());
        Ok(Self {
            keys,
            lifetime,
            rng,
        })
    }

    /// Writes a new key into `path` (creating it with mode 0600), keeping the newest `keep`
    /// keys in all. Written whole and renamed into place. Errors name `path`, never the
    /// temporary file beside it.
    pub fn rotate(path: &Path, keep: usize) -> Result<Rotated, String> {
        let mut lines = match std::fs::read(path) {
            Ok(b) => parse_file(&String::from_utf8_lossy(&b))
                .map_err(|e| format!("ticket keys {}: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let rng = crypto_core::system_random();
        let mut name = [0u8; NAME_LEN];
        let mut key = Zeroizing::new(vec![0u8; KEY_LEN]);
        rng.fill(&mut name).map_err(|e| e.to_string())?;
        rng.fill(&mut key).map_err(|e| e.to_string())?;
        let created = now().max(
            lines
                .iter()
                .map(|l| l.0.saturating_add(1))
                .max()
                .unwrap_or(0),
        );
        lines.push((created, name, key));
        lines.sort_by_key(|l| std::cmp::Reverse(l.0));
        let before = lines.len();
        lines.truncate(keep.max(1));
        let rotated = Rotated {
            name: to_hex(&name),
            keys: lines.len(),
            dropped: before - lines.len(),
        };
        let mut text = Zeroizing::new(String::from(
            "# tls-frontend session-ticket keys: <created> <name> <key>; newest encrypts\n",
        ));
        for (c, n, k) in &lines {
            text.push_str(&format!("{c} {} {}\n", to_hex(n), to_hex(k)));
        }
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        {
            use std::io::Write;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let written = opts
                .open(&tmp)
                .and_then(|mut f| f.write_all(text.as_bytes()));
            if let Err(e) = written {
                let _ = std::fs::remove_file(&tmp);
                return Err(format!("writing {}: {e}", path.display()));
            }
        }
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("writing {}: {e}", path.display())
        })?;
        Ok(rotated)
    }

    /// How many keys are loaded.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is loaded (never true for a loaded file).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The ticket keys as one listener uses them: tickets are bound to a context (the listener's
/// client-authentication policy), so a ticket issued where no client certificate was needed
/// cannot resume where one is required. (rustls checks only suite, SNI and EMS when resuming,
/// and a resumed TLS 1.3 handshake asks for no certificate.)
#[derive(Debug)]
pub struct Scoped {
    /// The fleet's keys.
    pub keys: std::sync::Arc<TicketKeys>,
    /// SHA-256 of the policy.
    pub context: [u8; 32],
}

impl rustls::server::ProducesTickets for Scoped {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        u32::try_from(self.keys.lifetime.as_secs()).unwrap_or(u32::MAX)
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        self.keys.seal(plain, &self.context)
    }

    fn decrypt(&self, ticket: &[u8]) -> Option<Vec<u8>> {
        self.keys.open(ticket, &self.context)
    }
}

impl TicketKeys {
    /// Seals `plain` under the newest key; `context` is authenticated, not stored.
    pub fn seal(&self, plain: &[u8], context: &[u8]) -> Option<Vec<u8>> {
        let key = self.keys.first()?;
        let mut nonce = [0u8; 12];
        self.rng.fill(&mut nonce).ok()?;
        let mut out = Vec::with_capacity(plain.len() + OVERHEAD);
        out.extend_from_slice(&key.name);
        out.extend_from_slice(&nonce);
        let body = out.len();
        out.extend_from_slice(&now().to_be_bytes());
        out.extend_from_slice(plain);
        let len = out.len() - body;
        out.resize(out.len() + crypto_core::TAG_LEN, 0);
        let aad = [&key.name[..], context].concat();
        key.aead
            .seal_in_place(&Nonce(nonce), &aad, &mut out[body..], len)
            .ok()?;
        Some(out)
    }

    /// Opens a ticket sealed under any loaded key with the same `context`, if unexpired.
    pub fn open(&self, ticket: &[u8], context: &[u8]) -> Option<Vec<u8>> {
        if ticket.len() < OVERHEAD {
            return None;
        }
        let (name, rest) = ticket.split_at(NAME_LEN);
        let key = self.keys.iter().find(|k| k.name[..] == *name)?;
        let (nonce, sealed) = rest.split_at(12);
        let mut nonce_arr = [0u8; 12];
        nonce_arr.copy_from_slice(nonce);
        let mut buf = sealed.to_vec();
        let aad = [name, context].concat();
        let plain = key
            .aead
            .open_in_place(&Nonce(nonce_arr), &aad, &mut buf)
            .ok()?;
        let (issued, state) = plain.split_at(8);
        let mut t = [0u8; 8];
        t.copy_from_slice(issued);
        let issued = u64::from_be_bytes(t);
        let now = now();
        // Expired, or from the future beyond a little clock skew between instances: refused.
        if now > issued.saturating_add(self.lifetime.as_secs()) || issued > now + 300 {
            return None;
        }
        Some(state.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotate_encrypt_decrypt_and_expire() {
        let dir = std::env::temp_dir().join(format!("tickets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys");
        let sel = Selection::single(crypto_core::Backend::RustCrypto);
        TicketKeys::rotate(&path, 3).unwrap();
        let a = TicketKeys::load(&path, Duration::from_secs(3600), &sel).unwrap();
        let t1 = a.seal(b"state one", b"ctx").unwrap();
        TicketKeys::rotate(&path, 3).unwrap();
        let b = TicketKeys::load(&path, Duration::from_secs(3600), &sel).unwrap();
        assert_eq!(b.len(), 2);
        // The old ticket still opens; new tickets use the new key.
        assert_eq!(b.open(&t1, b"ctx").as_deref(), Some(&b"state one"[..]));
        // Another context (another listener's client-auth policy) cannot open it.
        assert_eq!(b.open(&t1, b"other"), None);
        let t2 = b.seal(b"state two", b"ctx").unwrap();
        assert_ne!(t1[..16], t2[..16]);
        assert_eq!(
            a.open(&t2, b"ctx"),
            None,
            "an instance without the new key cannot open it"
        );
        // Tampering and truncation are refused.
        let mut bad = t2.clone();
        bad[30] ^= 1;
        assert_eq!(b.open(&bad, b"ctx"), None);
        assert_eq!(b.open(&t2[..20], b"ctx"), None);
        // Keep 1: the oldest key goes, and its tickets with it.
        TicketKeys::rotate(&path, 1).unwrap();
        let c = TicketKeys::load(&path, Duration::from_secs(3600), &sel).unwrap();
        assert_eq!(c.open(&t1, b"ctx"), None);
        // Lifetime 0: expired at once (issued at `now`, refused once a second has passed).
        let d = TicketKeys::load(&path, Duration::ZERO, &sel).unwrap();
        let t = d.seal(b"x", b"ctx").unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(d.open(&t, b"ctx"), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(parse_file("1 00 11").is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
