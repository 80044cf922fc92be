//! Private keys in a hardware security module, through PKCS#11 (the `cryptoki` crate): a
//! certificate's `key = "pkcs11:token=...;object=...?pin-source=file:..."` (an RFC 7512 URI, the
//! form nginx, HAProxy and OpenSSL's providers take). The proxy signs TLS 1.3
//! CertificateVerify and TLS 1.2 ServerKeyExchange through the module and never sees the key.
//!
//! - **Modules** are loaded once per path per process (a second `C_Initialize` of the same
//!   library fails) and stay loaded across reloads.
//! - **Sessions**: each key keeps a pool of sessions; a signature checks one out (so signers on
//!   different pool threads never share one), and an idle session stays open (the login of a
//!   PKCS#11 application lasts while one of its sessions is open). A signature that fails with
//!   an error that says the session, the login or the token went away drops every session of
//!   that key, logs in again, looks the key up again, and retries once.
//! - **Blocking**: `C_Sign` blocks its thread. A handshake whose certificate's key is in a
//!   module runs on the module pool ([`Offload`]: its own threads, a bounded number of
//!   handshakes at once, a deadline), never on a worker thread, so a slow module delays only
//!   the handshakes that need it.
//! - **Checks at load** (`check`, start, reload): the module loads, the token is found, the PIN
//!   logs in, the object is a private key, and a test signature verifies with the
//!   certificate's public key (so a key of another certificate is refused before a client
//!   sees it). A key the token would let out (CKA_EXTRACTABLE, or not CKA_SENSITIVE) is a
//!   warning.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use rustls::pki_types::{CertificateDer, SubjectPublicKeyInfoDer};
use rustls::sign::{Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};

use crate::config::x509::read;

/// A parsed `pkcs11:` URI (RFC 7512): which token and object, where the PIN and the module are.
/// Its `Debug` never shows a `pin-value`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Uri {
    /// `token`: the token label.
    pub token: Option<String>,
    /// `serial`: the token serial number.
    pub serial: Option<String>,
    /// `slot-id`.
    pub slot_id: Option<u64>,
    /// `object`: the key's CKA_LABEL.
    pub object: Option<String>,
    /// `id`: the key's CKA_ID.
    pub id: Option<Vec<u8>>,
    /// `pin-source=file:...`.
    pub pin_source: Option<PathBuf>,
    /// `pin-value=...` (discouraged: the PIN then sits in the configuration).
    pub pin_value: Option<String>,
    /// `module-path`.
    pub module_path: Option<PathBuf>,
}

impl std::fmt::Debug for Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uri")
            .field("token", &self.token)
            .field("serial", &self.serial)
            .field("slot_id", &self.slot_id)
            .field("object", &self.object)
            .field("id", &self.id)
            .field("pin_source", &self.pin_source)
            .field("pin_value", &self.pin_value.as_ref().map(|_| "(hidden)"))
            .field("module_path", &self.module_path)
            .finish()
    }
}

fn percent_decode(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-encoding in {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn text(s: &str) -> Result<String, String> {
    String::from_utf8(percent_decode(s)?).map_err(|_| format!("{s:?} is not UTF-8"))
}

/// Whether a configured key names a PKCS#11 object rather than a file.
pub fn is_uri(key: &Path) -> bool {
    key.to_str().is_some_and(|k| k.starts_with("pkcs11:"))
}

/// Parses an RFC 7512 URI. Path attributes other than the ones a key needs, a repeated
/// attribute, `type` other than `private`, both PIN attributes, or a relative `module-path`
/// are refused; unknown query attributes too, except vendor ones (`x-...`).
pub fn parse_uri(uri: &str) -> Result<Uri, String> {
    let rest = uri
        .strip_prefix("pkcs11:")
        .ok_or("a PKCS#11 URI starts with pkcs11:")?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut u = Uri::default();
    let mut seen = Vec::new();
    for attr in path.split(';').filter(|a| !a.is_empty()) {
        let (name, value) = attr
            .split_once('=')
            .ok_or_else(|| format!("{attr:?} is not name=value"))?;
        if seen.contains(&name) {
            return Err(format!("{name} given twice"));
        }
        seen.push(name);
        match name {
            "token" => u.token = Some(text(value)?),
            "serial" => u.serial = Some(text(value)?),
            "slot-id" => {
                u.slot_id = Some(value.parse().map_err(|_| format!("slot-id {value:?}"))?);
            }
            "object" => u.object = Some(text(value)?),
            "id" => u.id = Some(percent_decode(value)?),
            "type" if value == "private" => {}
            "type" => return Err(format!("type={value}: a key is type=private")),
            // Attributes that narrow the match further are not needed to find a key: refuse
            // them rather than ignore them, so a URI never matches more than it says.
            other => return Err(format!("unsupported path attribute {other}")),
        }
    }
    for attr in query.split('&').filter(|a| !a.is_empty()) {
        let (name, value) = attr
            .split_once('=')
            .ok_or_else(|| format!("{attr:?} is not name=value"))?;
        if seen.contains(&name) {
            return Err(format!("{name} given twice"));
        }
        seen.push(name);
        match name {
            "pin-source" => {
                let v = text(value)?;
                let file = v
                    .strip_prefix("file://")
                    .or_else(|| v.strip_prefix("file:"))
                    .unwrap_or(&v);
                if !file.starts_with('/') {
                    return Err(format!(
                        "pin-source={v}: an absolute file (file:/path) is supported"
                    ));
                }
                u.pin_source = Some(file.into());
            }
            "pin-value" => u.pin_value = Some(text(value)?),
            "module-path" => {
                let p = PathBuf::from(text(value)?);
                if !p.is_absolute() {
                    return Err("module-path must be absolute".into());
                }
                u.module_path = Some(p);
            }
            n if n.starts_with("x-") => {}
            other => return Err(format!("unsupported query attribute {other}")),
        }
    }
    if u.pin_source.is_some() && u.pin_value.is_some() {
        return Err("pin-source and pin-value together".into());
    }
    if u.object.is_none() && u.id.is_none() {
        return Err("name the key: object=LABEL or id=%xx".into());
    }
    Ok(u)
}

// --- Modules, tokens, keys ---------------------------------------------------------------------

/// A loaded module and which initialisation of it is current.
#[derive(Debug)]
struct Module {
    path: PathBuf,
    p11: Pkcs11,
    /// Signers hold it read across their calls into the module; a re-initialisation holds
    /// it written, so no call is inside the module when it is finalised.
    state: RwLock<ModuleState>,
}

#[derive(Debug)]
struct ModuleState {
    /// Bumped by every re-initialisation: sessions and handles of an older one are void.
    generation: u64,
    /// When it was last re-initialised (at most once a second).
    last: Option<Instant>,
}

fn initialize(p11: &Pkcs11) -> Result<(), P11Error> {
    match p11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(()),
        Err(e) => Err(e),
    }
}

impl Module {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, ModuleState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// `C_Finalize` and `C_Initialize` again (a module whose device went away may only find
    /// it again so, as p11-kit's client module does), unless another signer did since
    /// `seen` or it was done less than a second ago. Whether the caller should try again.
    fn reinitialize(&self, seen: u64) -> bool {
        // Never wait for the lock: a signature stuck inside the module would hold it (and a
        // waiting writer would then block every later signer too). Another time, then.
        let mut state = match self.state.try_write() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return false,
        };
        if state.generation != seen {
            return true;
        }
        if state
            .last
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            return false;
        }
        state.last = Some(Instant::now());
        state.generation += 1;
        let _ = self.p11.clone().finalize();
        let result = initialize(&self.p11);
        crate::ops::log::warn(&format!(
            "PKCS#11 module {}: initialised again{}",
            self.path.display(),
            match &result {
                Ok(()) => String::new(),
                Err(e) => format!(", without success: {e}"),
            }
        ));
        result.is_ok()
    }
}

static MODULES: Mutex<Vec<Arc<Module>>> = Mutex::new(Vec::new());

/// The module at `path`, loaded and initialised once per process.
fn module(path: &Path) -> Result<Arc<Module>, String> {
    let mut loaded = MODULES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = loaded.iter().find(|m| m.path == path) {
        return Ok(m.clone());
    }
    let p11 = Pkcs11::new(path).map_err(|e| format!("module {}: {e}", path.display()))?;
    initialize(&p11).map_err(|e| format!("module {}: C_Initialize: {e}", path.display()))?;
    let m = Arc::new(Module {
        path: path.to_owned(),
        p11,
        state: RwLock::new(ModuleState {
            generation: 0,
            last: None,
        }),
    });
    loaded.push(m.clone());
    Ok(m)
}

/// The key type, from the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// RSA with this many modulus bits.
    Rsa(usize),
    /// ECDSA on P-256.
    EcP256,
    /// ECDSA on P-384.
    EcP384,
}

/// (tag, content) of every element of `b`.
fn elements(mut b: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (t, c, rest) = read(b)?;
        out.push((t, c));
        b = rest;
    }
    Some(out)
}

/// The leaf's SubjectPublicKeyInfo (whole) and key type.
fn leaf_key(leaf: &[u8]) -> Result<(Vec<u8>, KeyType), String> {
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    const EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    let unreadable = || "the certificate's public key is unreadable".to_owned();
    let (_, cert, _) = read(leaf).ok_or_else(unreadable)?;
    let (_, tbs, _) = read(cert).ok_or_else(unreadable)?;
    // [0] version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo.
    let mut b = tbs;
    let mut index = 0;
    loop {
        let (tag, content, rest) = read(b).ok_or_else(unreadable)?;
        if index == 0 && tag != 0xa0 {
            index = 1;
        }
        if index == 6 {
            let whole = &b[..b.len() - rest.len()];
            let parts = elements(content).ok_or_else(unreadable)?;
            let (Some((0x30, alg)), Some((0x03, bits))) = (parts.first(), parts.get(1)) else {
                return Err(unreadable());
            };
            let alg = elements(alg).ok_or_else(unreadable)?;
            let kind = match alg.as_slice() {
                [(0x06, oid), ..] if *oid == RSA => {
                    let key = bits.get(1..).ok_or_else(unreadable)?;
                    let (_, key, _) = read(key).ok_or_else(unreadable)?;
                    let (_, modulus, _) = read(key).ok_or_else(unreadable)?;
                    let leading = modulus.iter().take_while(|b| **b == 0).count();
                    KeyType::Rsa((modulus.len() - leading) * 8)
                }
                [(0x06, oid), (0x06, curve)] if *oid == EC && *curve == P256 => KeyType::EcP256,
                [(0x06, oid), (0x06, curve)] if *oid == EC && *curve == P384 => KeyType::EcP384,
                _ => {
                    return Err(
                        "only RSA, ECDSA P-256 and P-384 keys are supported in a module".into(),
                    );
                }
            };
            return Ok((whole.to_vec(), kind));
        }
        b = rest;
        index += 1;
    }
}

/// Errors after which a fresh session, login and key lookup may succeed.
fn recoverable(e: &P11Error) -> bool {
    matches!(
        e,
        P11Error::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::UserNotLoggedIn
                | RvError::ObjectHandleInvalid
                | RvError::KeyHandleInvalid
                | RvError::DeviceRemoved
                | RvError::DeviceError
                | RvError::TokenNotPresent
                | RvError::TokenNotRecognized
                | RvError::CryptokiNotInitialized,
            _
        )
    )
}

/// One key in one token, and its sessions. Its `Debug` shows neither the PIN nor sessions.
struct Inner {
    module: Arc<Module>,
    uri: Uri,
    pin: zeroize::Zeroizing<String>,
    /// Idle sessions, logged in, with the module generation they were opened in.
    sessions: Mutex<Vec<(u64, Session)>>,
    /// The private key's handle (found again after a recovery), with its generation.
    handle: Mutex<Option<(u64, ObjectHandle)>>,
    kind: KeyType,
    spki: Vec<u8>,
    /// What `check` and the log call it.
    name: String,
    /// The token refused the PIN: no more logins until a reload (a token locks its PIN after
    /// a few wrong tries).
    pin_refused: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Why a signature failed.
#[derive(Debug)]
enum SignError {
    /// The module said so.
    Module(P11Error),
    /// The key is not (or not only one object) in the token: not something a new session or
    /// a new initialisation would change.
    Lookup(String),
}

impl std::fmt::Display for SignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Module(e) => write!(f, "{e}"),
            Self::Lookup(e) => f.write_str(e),
        }
    }
}

/// Disposes of sessions taken out of a pool, with the module's current generation known
/// (the caller holds the module's read lock): a session of an older initialisation is
/// forgotten, not closed, as its handle number may now belong to a live session of the new
/// one.
fn dispose(current: u64, sessions: Vec<(u64, Session)>) {
    for (g, s) in sessions {
        if g == current {
            drop(s);
        } else {
            std::mem::forget(s);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let state = self.module.read();
        let sessions = std::mem::take(self.sessions.get_mut().unwrap_or_else(|e| e.into_inner()));
        dispose(state.generation, sessions);
    }
}

impl Inner {
    fn slot(&self) -> Result<Slot, String> {
        let slots = self
            .module
            .p11
            .get_slots_with_initialized_token()
            .map_err(|e| format!("listing slots: {e}"))?;
        let mut found = None;
        for slot in slots {
            if self.uri.slot_id.is_some_and(|id| id != slot.id()) {
                continue;
            }
            let Ok(info) = self.module.p11.get_token_info(slot) else {
                continue;
            };
            if self.uri.token.as_deref().is_some_and(|t| t != info.label()) {
                continue;
            }
            if self
                .uri
                .serial
                .as_deref()
                .is_some_and(|s| s != info.serial_number())
            {
                continue;
            }
            if found.is_some() {
                return Err("more than one token matches; name it by token= or serial=".into());
            }
            found = Some(slot);
        }
        found.ok_or_else(|| "no token matches".into())
    }

    /// A logged-in session of module generation `generation`: an idle one, or a new one.
    fn session(&self, generation: u64) -> Result<Session, P11Error> {
        {
            let mut idle = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
            let (current, old): (Vec<_>, Vec<_>) = std::mem::take(&mut *idle)
                .into_iter()
                .partition(|(g, _)| *g == generation);
            *idle = current;
            dispose(generation, old);
            if let Some((_, s)) = idle.pop() {
                return Ok(s);
            }
        }
        if self.pin_refused.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(P11Error::Pkcs11(
                RvError::PinIncorrect,
                cryptoki::context::Function::Login,
            ));
        }
        let slot = self.slot().map_err(|_| {
            P11Error::Pkcs11(
                RvError::TokenNotPresent,
                cryptoki::context::Function::OpenSession,
            )
        })?;
        let s = self.module.p11.open_ro_session(slot)?;
        match s.login(UserType::User, Some(&AuthPin::from(self.pin.as_str()))) {
            Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(s),
            Err(e @ P11Error::Pkcs11(RvError::PinIncorrect | RvError::PinLocked, _)) => {
                self.pin_refused
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn key(&self, s: &Session, generation: u64) -> Result<ObjectHandle, String> {
        if let Some((g, h)) = *self.handle.lock().unwrap_or_else(|e| e.into_inner())
            && g == generation
        {
            return Ok(h);
        }
        let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
        if let Some(label) = &self.uri.object {
            template.push(Attribute::Label(label.as_bytes().to_vec()));
        }
        if let Some(id) = &self.uri.id {
            template.push(Attribute::Id(id.clone()));
        }
        let found = s
            .find_objects(&template)
            .map_err(|e| format!("finding the key: {e}"))?;
        let h = match found.as_slice() {
            [h] => *h,
            [] => return Err("no private key matches in the token".into()),
            _ => {
                return Err(format!(
                    "{} private keys match; name one by id=",
                    found.len()
                ));
            }
        };
        *self.handle.lock().unwrap_or_else(|e| e.into_inner()) = Some((generation, h));
        Ok(h)
    }

    /// One try: (the result, the module generation it was made in).
    fn sign_once(
        &self,
        mechanism: &Mechanism<'_>,
        data: &[u8],
    ) -> (Result<Vec<u8>, SignError>, u64) {
        let state = self.module.read();
        let generation = state.generation;
        (self.sign_in(generation, mechanism, data), generation)
    }

    fn sign_in(
        &self,
        generation: u64,
        mechanism: &Mechanism<'_>,
        data: &[u8],
    ) -> Result<Vec<u8>, SignError> {
        let s = self.session(generation).map_err(SignError::Module)?;
        let h = self.key(&s, generation).map_err(SignError::Lookup)?;
        let signed = s.sign(mechanism, h, data).map_err(SignError::Module);
        if signed.is_ok() {
            self.sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((generation, s));
        }
        signed
    }

    fn forget_sessions(&self) {
        let state = self.module.read();
        let sessions =
            std::mem::take(&mut *self.sessions.lock().unwrap_or_else(|e| e.into_inner()));
        dispose(state.generation, sessions);
        *self.handle.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Signs `message` for `scheme` (the module hashes for RSA; ECDSA is hashed here, as
    /// tokens without CKM_ECDSA_SHA256, SoftHSM among them, need).
    fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, String> {
        use sha2::Digest as _;
        let pss = |hash, mgf, len: u64| PkcsPssParams {
            hash_alg: hash,
            mgf,
            s_len: len.into(),
        };
        let digest;
        let (mechanism, data): (Mechanism<'_>, &[u8]) = match scheme {
            SignatureScheme::RSA_PSS_SHA256 => (
                Mechanism::Sha256RsaPkcsPss(pss(
                    MechanismType::SHA256,
                    PkcsMgfType::MGF1_SHA256,
                    32,
                )),
                message,
            ),
            SignatureScheme::RSA_PSS_SHA384 => (
                Mechanism::Sha384RsaPkcsPss(pss(
                    MechanismType::SHA384,
                    PkcsMgfType::MGF1_SHA384,
                    48,
                )),
                message,
            ),
            SignatureScheme::RSA_PSS_SHA512 => (
                Mechanism::Sha512RsaPkcsPss(pss(
                    MechanismType::SHA512,
                    PkcsMgfType::MGF1_SHA512,
                    64,
                )),
                message,
            ),
            SignatureScheme::RSA_PKCS1_SHA256 => (Mechanism::Sha256RsaPkcs, message),
            SignatureScheme::RSA_PKCS1_SHA384 => (Mechanism::Sha384RsaPkcs, message),
            SignatureScheme::RSA_PKCS1_SHA512 => (Mechanism::Sha512RsaPkcs, message),
            SignatureScheme::ECDSA_NISTP256_SHA256 => {
                digest = sha2::Sha256::digest(message).to_vec();
                (Mechanism::Ecdsa, &digest[..])
            }
            SignatureScheme::ECDSA_NISTP384_SHA384 => {
                digest = sha2::Sha384::digest(message).to_vec();
                (Mechanism::Ecdsa, &digest[..])
            }
            other => return Err(format!("{other:?} is not signed through PKCS#11")),
        };
        // The session, the login, the token or the module may have gone away: first open new
        // sessions and log in again; if that fails too, initialise the module again.
        let retry = |e: &SignError| matches!(e, SignError::Module(e) if recoverable(e));
        let signed = match self.sign_once(&mechanism, data) {
            (Err(e), _) if retry(&e) => {
                crate::ops::log::warn(&format!(
                    "PKCS#11 key {}: {e}; reopening its sessions",
                    self.name
                ));
                self.forget_sessions();
                match self.sign_once(&mechanism, data) {
                    (Err(e), generation) if retry(&e) => {
                        self.forget_sessions();
                        if self.module.reinitialize(generation) {
                            self.sign_once(&mechanism, data).0
                        } else {
                            Err(e)
                        }
                    }
                    (other, _) => other,
                }
            }
            (other, _) => other,
        }
        .map_err(|e| format!("PKCS#11 key {}: C_Sign: {e}", self.name))?;
        match self.kind {
            KeyType::Rsa(_) => Ok(signed),
            KeyType::EcP256 => ecdsa_to_der(&signed, 64),
            KeyType::EcP384 => ecdsa_to_der(&signed, 96),
        }
    }
}

/// PKCS#11's ECDSA signature (r || s, each the field's size) as the DER `Ecdsa-Sig-Value` TLS
/// carries (RFC 8446 section 4.2.3, X9.62).
fn ecdsa_to_der(raw: &[u8], expected: usize) -> Result<Vec<u8>, String> {
    if raw.len() != expected {
        return Err(format!(
            "an ECDSA signature of {} bytes (expected {expected})",
            raw.len()
        ));
    }
    let int = |mut v: &[u8]| {
        while v.len() > 1 && v[0] == 0 {
            v = &v[1..];
        }
        let mut out = vec![0x02];
        let pad = v[0] & 0x80 != 0;
        out.push((v.len() + usize::from(pad)) as u8);
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
        out
    };
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut body = int(r);
    body.extend(int(s));
    let mut out = vec![0x30];
    if body.len() >= 0x80 {
        out.push(0x81);
    }
    out.push(body.len() as u8);
    out.extend(body);
    Ok(out)
}

/// A key in a module, as rustls signs with it.
#[derive(Debug, Clone)]
pub struct ModuleKey(Arc<Inner>);

impl SigningKey for ModuleKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        use SignatureScheme as S;
        let ours: &[SignatureScheme] = match self.0.kind {
            KeyType::Rsa(_) => &[
                S::RSA_PSS_SHA256,
                S::RSA_PSS_SHA384,
                S::RSA_PSS_SHA512,
                S::RSA_PKCS1_SHA256,
                S::RSA_PKCS1_SHA384,
                S::RSA_PKCS1_SHA512,
            ],
            KeyType::EcP256 => &[S::ECDSA_NISTP256_SHA256],
            KeyType::EcP384 => &[S::ECDSA_NISTP384_SHA384],
        };
        let scheme = *ours.iter().find(|s| offered.contains(s))?;
        Some(Box::new(ModuleSigner {
            key: self.0.clone(),
            scheme,
        }))
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(SubjectPublicKeyInfoDer::from(self.0.spki.as_slice()))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match self.0.kind {
            KeyType::Rsa(_) => SignatureAlgorithm::RSA,
            KeyType::EcP256 | KeyType::EcP384 => SignatureAlgorithm::ECDSA,
        }
    }
}

/// One handshake's signature.
#[derive(Debug)]
struct ModuleSigner {
    key: Arc<Inner>,
    scheme: SignatureScheme,
}

impl Signer for ModuleSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        let m = crate::ops::metrics::get();
        let result = self.key.sign(self.scheme, message);
        m.pkcs11_signature(result.is_ok());
        result.map_err(|e| {
            crate::ops::log::warn(&e);
            rustls::Error::General(e)
        })
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

/// The `[pkcs11]` settings a key needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The module when the URI names none.
    pub module: Option<PathBuf>,
    /// Threads of the module pool.
    pub threads: usize,
    /// Handshakes in the pool at once (running or waiting).
    pub queue: usize,
    /// The most a handshake may spend in the pool.
    pub timeout: Duration,
}

/// Reads a secret file (a PIN) once, checking its permissions.
pub type ReadSecret<'a> = dyn Fn(&Path) -> Result<zeroize::Zeroizing<Vec<u8>>, String> + 'a;

/// Loads the key `uri` names for `leaf`, checking it as the module docs above say; a PIN file is
/// read with `read_secret` (once, permissions checked). Returns the key, its type, and
/// warnings.
pub fn load(
    uri_text: &str,
    settings: &Settings,
    leaf: &CertificateDer<'_>,
    algs: &rustls::crypto::WebPkiSupportedAlgorithms,
    read_secret: &ReadSecret<'_>,
) -> Result<(ModuleKey, KeyType, Vec<String>), String> {
    let mut uri = parse_uri(uri_text)?;
    let module_path = uri
        .module_path
        .clone()
        .or_else(|| settings.module.clone())
        .ok_or("no module: add module-path=/path/to/module.so to the URI or set [pkcs11] module")?;
    let pin = match (uri.pin_source.clone(), uri.pin_value.take()) {
        (Some(file), _) => {
            let bytes = read_secret(&file)?;
            let line = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
            let text = std::str::from_utf8(line.trim_ascii())
                .map_err(|_| format!("PIN {}: not UTF-8", file.display()))?;
            zeroize::Zeroizing::new(text.to_owned())
        }
        // Moved, not copied: the URI keeps no PIN.
        (None, Some(v)) => zeroize::Zeroizing::new(v),
        (None, None) => {
            return Err("no PIN: add ?pin-source=file:/path/to/pin to the URI".into());
        }
    };
    let (spki, kind) = leaf_key(leaf)?;
    let name = format!(
        "{}{}",
        uri.token
            .as_deref()
            .map(|t| format!("token={t};"))
            .unwrap_or_default(),
        uri.object
            .as_deref()
            .map(|o| format!("object={o}"))
            .unwrap_or_else(|| "id=..".into())
    );
    let module = module(&module_path)?;
    let inner = Inner {
        module,
        uri,
        pin,
        sessions: Mutex::new(Vec::new()),
        handle: Mutex::new(None),
        kind,
        spki,
        name: name.clone(),
        pin_refused: std::sync::atomic::AtomicBool::new(false),
    };
    // Every call into the module under its read lock (no re-initialisation meanwhile); the
    // lock is let go before the test signature, which takes it itself.
    let state = inner.module.read();
    let generation = state.generation;
    // The token first, for a clear error if it is not there.
    inner.slot()?;
    let session = inner.session(generation).map_err(|e| match e {
        P11Error::Pkcs11(RvError::PinIncorrect, _) => {
            "the token refused the PIN (CKR_PIN_INCORRECT)".to_owned()
        }
        P11Error::Pkcs11(RvError::PinLocked, _) => {
            "the token's user PIN is locked (CKR_PIN_LOCKED)".to_owned()
        }
        other => format!("logging in: {other}"),
    })?;
    let handle = inner.key(&session, generation)?;
    let mut warnings = Vec::new();
    let flags = session
        .get_attributes(
            handle,
            &[AttributeType::Sensitive, AttributeType::Extractable],
        )
        .map_err(|e| format!("reading the key's attributes: {e}"))?;
    for f in flags {
        match f {
            Attribute::Sensitive(false) => warnings.push(format!(
                "PKCS#11 key {name}: not CKA_SENSITIVE: the token lets its value out"
            )),
            Attribute::Extractable(true) => warnings.push(format!(
                "PKCS#11 key {name}: CKA_EXTRACTABLE: the token lets it be exported (wrapped)"
            )),
            _ => {}
        }
    }
    inner
        .sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((generation, session));
    drop(state);
    let key = ModuleKey(Arc::new(inner));
    // The test signature, verified with the certificate's key.
    let schemes = match kind {
        KeyType::Rsa(_) => SignatureScheme::RSA_PSS_SHA256,
        KeyType::EcP256 => SignatureScheme::ECDSA_NISTP256_SHA256,
        KeyType::EcP384 => SignatureScheme::ECDSA_NISTP384_SHA384,
    };
    let message = b"tls-frontend: does this key belong to this certificate?";
    let signature = key.0.sign(schemes, message)?;
    let cert =
        webpki::EndEntityCert::try_from(leaf).map_err(|e| format!("the certificate: {e:?}"))?;
    let candidates = algs
        .mapping
        .iter()
        .find(|(s, _)| *s == schemes)
        .map(|(_, a)| *a)
        .unwrap_or(&[]);
    if !candidates
        .iter()
        .any(|a| cert.verify_signature(*a, message, &signature).is_ok())
    {
        return Err(format!(
            "the key {name} does not belong to the certificate (a test signature does not verify with its public key)"
        ));
    }
    Ok((key, kind, warnings))
}

// --- The module pool ----------------------------------------------------------------------------

/// Where handshakes with a key in a module run: a runtime of its own (threads that may block
/// in `C_Sign`), at most `queue` handshakes at once, each for at most `timeout`.
#[derive(Debug)]
pub struct Offload {
    runtime: tokio::runtime::Runtime,
    permits: Arc<tokio::sync::Semaphore>,
    timeout: Duration,
}

static OFFLOAD: OnceLock<Offload> = OnceLock::new();

/// Builds the pool on first use, sized by the settings then (a restart resizes it).
pub fn offload(settings: &Settings) -> Result<&'static Offload, String> {
    if let Some(o) = OFFLOAD.get() {
        return Ok(o);
    }
    // One builder at a time: a runtime built by a loser of the race would be dropped, which
    // must not happen where this may run (inside an async context).
    static BUILDING: Mutex<()> = Mutex::new(());
    let _one = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(o) = OFFLOAD.get() {
        return Ok(o);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.threads.max(1))
        .thread_name("pkcs11")
        .enable_all()
        .build()
        .map_err(|e| format!("the PKCS#11 pool: {e}"))?;
    let _ = OFFLOAD.set(Offload {
        runtime,
        permits: Arc::new(tokio::sync::Semaphore::new(settings.queue.max(1))),
        timeout: settings.timeout,
    });
    crate::ops::metrics::get().pkcs11_pool_started();
    OFFLOAD.get().ok_or_else(|| "the PKCS#11 pool".into())
}

/// The pool, if a key in a module was ever loaded.
pub fn pool() -> Option<&'static Offload> {
    OFFLOAD.get()
}

/// A place in the pool, given back (and the gauge lowered) when the handshake's task ends,
/// however it ends (aborted at the deadline included).
#[derive(Debug)]
struct Leave {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Leave {
    fn drop(&mut self) {
        crate::ops::metrics::get().pkcs11_in_pool(-1);
    }
}

/// Aborts the pool's task when the caller stops waiting for it.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Why a handshake did not get through the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffloadError {
    /// `queue` handshakes were already in it.
    Busy,
    /// It took longer than `timeout`.
    Timeout,
    /// Its task ended without an answer (a panic).
    Lost,
}

impl Offload {
    /// Runs `work` on the pool.
    pub async fn run<F>(&self, work: F) -> Result<F::Output, OffloadError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let m = crate::ops::metrics::get();
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            m.pkcs11_refused(true);
            return Err(OffloadError::Busy);
        };
        m.pkcs11_in_pool(1);
        // The deadline runs inside the pool, so it holds even if the caller stops waiting
        // (its own handshake deadline passed first): the handshake then still leaves the pool
        // at `timeout`, and the guard below aborts it at once.
        let timeout = self.timeout;
        let task = self.runtime.spawn(async move {
            let _leave = Leave { _permit: permit };
            tokio::time::timeout(timeout, work).await
        });
        let mut task = AbortOnDrop(task);
        match (&mut task.0).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(_elapsed)) => {
                m.pkcs11_refused(false);
                Err(OffloadError::Timeout)
            }
            Err(_) => Err(OffloadError::Lost),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        let u = parse_uri(
            "pkcs11:token=my%20token;object=tls-ec;type=private?pin-source=file:/run/pin&module-path=/usr/lib/softhsm/libsofthsm2.so",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("my token"));
        assert_eq!(u.object.as_deref(), Some("tls-ec"));
        assert_eq!(u.pin_source.as_deref(), Some(Path::new("/run/pin")));
        assert_eq!(
            u.module_path.as_deref(),
            Some(Path::new("/usr/lib/softhsm/libsofthsm2.so"))
        );
        let u = parse_uri("pkcs11:id=%01%a1;slot-id=7?pin-value=1234&x-vendor=1").unwrap();
        assert_eq!(u.id, Some(vec![0x01, 0xa1]));
        assert_eq!(u.slot_id, Some(7));
        assert_eq!(u.pin_value.as_deref(), Some("1234"));
        for bad in [
            "pkcs12:object=a",
            "pkcs11:token=t",
            "pkcs11:object=a;object=b",
            "pkcs11:object=a;type=cert",
            "pkcs11:object=a;model=x",
            "pkcs11:object=a?pin-source=file:/p&pin-value=1",
            "pkcs11:object=a?module-path=lib.so",
            "pkcs11:object=a?pin-source=relative",
            "pkcs11:object=%zz",
            "pkcs11:object=a?what=1",
            "pkcs11:object",
        ] {
            assert!(parse_uri(bad).is_err(), "{bad}");
        }
        assert!(is_uri(Path::new("pkcs11:object=a")));
        assert!(!is_uri(Path::new("/etc/tls/key.pem")));
    }

    #[test]
    fn ecdsa_signatures_become_der() {
        // r with its top bit set gets a zero byte; s with leading zeros loses them.
        let mut raw = vec![0x80; 32];
        raw.extend([0u8; 31]);
        raw.push(0x05);
        let der = ecdsa_to_der(&raw, 64).unwrap();
        let mut want = vec![0x30, 0x26, 0x02, 0x21, 0x00];
        want.extend([0x80; 32]);
        want.extend([0x02, 0x01, 0x05]);
        assert_eq!(der, want);
        assert!(ecdsa_to_der(&[1, 2, 3], 64).is_err());
        assert!(ecdsa_to_der(&[], 64).is_err());
        assert!(ecdsa_to_der(&raw, 96).is_err());
    }

    #[test]
    fn key_types_from_certificates() {
        let pem = |name: &str| {
            use rustls::pki_types::pem::PemObject as _;
            let path = format!("{}/../tests/data/pki/{name}", env!("CARGO_MANIFEST_DIR"));
            CertificateDer::from_pem_file(&path).unwrap_or_else(|e| panic!("{path}: {e:?}"))
        };
        let (spki, kind) = leaf_key(&pem("rsa-server.pem")).unwrap();
        assert_eq!(kind, KeyType::Rsa(2048));
        assert_eq!(spki[0], 0x30);
        assert_eq!(
            leaf_key(&pem("ecdsa-p256-server.pem")).unwrap().1,
            KeyType::EcP256
        );
    }
}
