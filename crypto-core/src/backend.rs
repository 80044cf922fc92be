//! The `Backend` value: names a crypto implementation and hands out its algorithms.
//!
//! Each call checks the backend's support table first, so an algorithm a backend lacks is always
//! a typed [`Error::Unsupported`], never a panic and never a silent substitute.

use core::fmt;
use core::str::FromStr;

use crate::backends::{self, Provider};
use zeroize::Zeroizing;

use crate::sm2::{self, CiphertextFormat};
use crate::{
    AeadAlg, AeadKey, Algorithm, CipherAlg, CipherKey, Error, Hash, HashAlg, Hkdf, Hmac,
    KeyExchange, KeyKind, KxAlg, PrivateKey, SecureRandom, SignatureAlg, SigningKey, Verifier,
};

/// A crypto implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Backend {
    /// ring 0.17 (BoringSSL-derived assembly).
    Ring,
    /// aws-lc-rs (AWS-LC through FFI).
    AwsLc,
    /// Pure-Rust RustCrypto crates.
    RustCrypto,
    /// This project's own kernels (the `asm` crate): SM2, SM3 (with HMAC and HKDF), SM4 modes and
    /// GHASH.
    Asm,
    /// The `libsm` crate (pure Rust, GM algorithms only: SM2, SM3, SM4). Variable-time
    /// big-integer and table code: a cross-check and comparison backend, not for secrets in
    /// production.
    Libsm,
    /// The system OpenSSL 3 through `openssl-sys` (cargo feature `openssl`).
    OpenSsl,
}

impl Backend {
    /// Every backend this crate knows, built into this binary or not.
    pub const ALL: &'static [Self] = &[
        Self::Ring,
        Self::AwsLc,
        Self::RustCrypto,
        Self::Asm,
        Self::Libsm,
        Self::OpenSsl,
    ];

    /// The stable lower-case name used in configuration and tables.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ring => "ring",
            Self::AwsLc => "aws-lc",
            Self::RustCrypto => "rustcrypto",
            Self::Asm => "asm",
            Self::Libsm => "libsm",
            Self::OpenSsl => "openssl",
        }
    }

    /// Whether this backend is compiled into this binary.
    pub fn is_built(self) -> bool {
        self.provider().is_some()
    }

    /// The backends compiled into this binary.
    pub fn built() -> impl Iterator<Item = Self> {
        Self::ALL.iter().copied().filter(|b| b.is_built())
    }

    /// Whether this backend, as built, implements `alg`.
    pub fn supports(self, alg: Algorithm) -> bool {
        self.provider().is_some_and(|p| p.supports(alg))
    }

    fn provider(self) -> Option<&'static dyn Provider> {
        match self {
            Self::Ring => Some(&backends::ring::PROVIDER),
            Self::AwsLc => Some(&backends::aws_lc::PROVIDER),
            Self::RustCrypto => Some(&backends::rustcrypto::PROVIDER),
            Self::Asm => Some(&backends::asm::PROVIDER),
            Self::Libsm => Some(&backends::libsm::PROVIDER),
            #[cfg(feature = "openssl")]
            Self::OpenSsl => Some(&backends::openssl::PROVIDER),
            #[cfg(not(feature = "openssl"))]
            Self::OpenSsl => None,
        }
    }

    fn checked(self, alg: Algorithm) -> Result<&'static dyn Provider, Error> {
        match self.provider() {
            Some(p) if p.supports(alg) => Ok(p),
            _ => Err(Error::Unsupported { alg, backend: self }),
        }
    }

    /// An AEAD key. `key` must be [`AeadAlg::key_len`] bytes.
    pub fn aead(self, alg: AeadAlg, key: &[u8]) -> Result<Box<dyn AeadKey>, Error> {
        if key.len() != alg.key_len() {
            return Err(Error::InvalidKey("wrong AEAD key length"));
        }
        self.checked(Algorithm::Aead(alg))?.aead(alg, key)
    }

    /// A hash function.
    pub fn hash(self, alg: HashAlg) -> Result<&'static dyn Hash, Error> {
        self.checked(Algorithm::Hash(alg))?.hash(alg)
    }

    /// HMAC over a hash.
    pub fn hmac(self, alg: HashAlg) -> Result<&'static dyn Hmac, Error> {
        self.checked(Algorithm::Hmac(alg))?.hmac(alg)
    }

    /// HKDF over a hash.
    pub fn hkdf(self, alg: HashAlg) -> Result<&'static dyn Hkdf, Error> {
        self.checked(Algorithm::Hkdf(alg))?.hkdf(alg)
    }

    /// A signing key for `alg` from a loaded private key of the matching kind.
    pub fn signing_key(
        self,
        alg: SignatureAlg,
        key: &PrivateKey,
    ) -> Result<Box<dyn SigningKey>, Error> {
        let p = self.checked(Algorithm::Signature(alg))?;
        if !alg.can_sign() {
            return Err(Error::InvalidInput(
                "this ECDSA curve/hash pairing is for verification only; sign with the curve's own hash",
            ));
        }
        if key.kind() != alg.key_kind() {
            return Err(Error::InvalidKey(
                "key kind does not match the signature scheme",
            ));
        }
        if alg == SignatureAlg::Sm2Sm3 {
            return p.sm2_signing_key(key, sm2::DEFAULT_ID);
        }
        p.signing_key(alg, key)
    }

    /// An SM2 signing key with user ID `id` (any bytes up to [`sm2::MAX_ID_LEN`]); its
    /// `algorithm()` is [`SignatureAlg::Sm2Sm3`]. Signatures are DER.
    pub fn sm2_signing_key(
        self,
        key: &PrivateKey,
        id: &[u8],
    ) -> Result<Box<dyn SigningKey>, Error> {
        let p = self.checked(Algorithm::Signature(SignatureAlg::Sm2Sm3))?;
        if key.kind() != KeyKind::Sm2 {
            return Err(Error::InvalidKey("not an SM2 key"));
        }
        sm2::check_id(id)?;
        p.sm2_signing_key(key, id)
    }

    /// Verifies a DER SM2 signature made with user ID `id` under `public_key` (the 65-byte
    /// uncompressed point). Any failure, including a malformed key or signature, is
    /// [`Error::BadSignature`].
    pub fn sm2_verify(
        self,
        public_key: &[u8],
        id: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let p = self.checked(Algorithm::Signature(SignatureAlg::Sm2Sm3))?;
        sm2::check_id(id)?;
        if public_key.len() != 65 || public_key[0] != 4 {
            return Err(Error::BadSignature);
        }
        p.sm2_verify(public_key, id, message, signature)
    }

    /// Encrypts to an SM2 public key (GB/T 32918.4) and returns the ciphertext in `format`.
    /// Messages must not be empty (C2 would be empty and C3 would authenticate nothing).
    pub fn sm2_encrypt(
        self,
        public_key: &[u8],
        plaintext: &[u8],
        format: CiphertextFormat,
    ) -> Result<Vec<u8>, Error> {
        let p = self.checked(Algorithm::Sm2Encryption)?;
        if public_key.len() != 65 || public_key[0] != 4 {
            return Err(Error::InvalidKey(
                "SM2 public key must be a 65-byte uncompressed point",
            ));
        }
        if plaintext.is_empty() {
            return Err(Error::InvalidInput("SM2 cannot encrypt an empty message"));
        }
        let raw = p.sm2_encrypt(public_key, plaintext)?;
        match format {
            CiphertextFormat::Raw => Ok(raw),
            CiphertextFormat::Der => sm2::raw_to_der(&raw),
        }
    }

    /// Decrypts an SM2 ciphertext in `format`. A malformed outline is
    /// [`Error::InvalidInput`], C1 off the curve is [`Error::InvalidPeerKey`], and a C3 that
    /// does not match is [`Error::DecryptFailed`].
    pub fn sm2_decrypt(
        self,
        key: &PrivateKey,
        ciphertext: &[u8],
        format: CiphertextFormat,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let p = self.checked(Algorithm::Sm2Encryption)?;
        if key.kind() != KeyKind::Sm2 {
            return Err(Error::InvalidKey("not an SM2 key"));
        }
        let raw = sm2::to_raw(ciphertext, format)?;
        sm2::check_raw(&raw)?;
        if raw.len() == sm2::RAW_OVERHEAD {
            return Err(Error::InvalidInput("SM2 ciphertext with an empty C2"));
        }
        p.sm2_decrypt(key, &raw)
    }

    /// A key for an unauthenticated block-cipher mode.
    pub fn cipher(self, alg: CipherAlg, key: &[u8]) -> Result<Box<dyn CipherKey>, Error> {
        if key.len() != alg.key_len() {
            return Err(Error::InvalidKey("wrong cipher key length"));
        }
        Ok(Box::new(CheckedCipher(
            self.checked(Algorithm::Cipher(alg))?.cipher(alg, key)?,
        )))
    }

    /// Signature verification for `alg`.
    pub fn verifier(self, alg: SignatureAlg) -> Result<&'static dyn Verifier, Error> {
        self.checked(Algorithm::Signature(alg))?.verifier(alg)
    }

    /// Key agreement in a group.
    pub fn kx(self, alg: KxAlg) -> Result<&'static dyn KeyExchange, Error> {
        self.checked(Algorithm::Kx(alg))?.kx(alg)
    }

    /// A key-encapsulation mechanism.
    pub fn kem(self, alg: crate::KemAlg) -> Result<&'static dyn crate::Kem, Error> {
        self.checked(Algorithm::Kem(alg))?.kem(alg)
    }

    /// The backend's secure random number generator.
    pub fn random(self) -> Result<&'static dyn SecureRandom, Error> {
        self.checked(Algorithm::Random)?.random()
    }
}

/// Checks IV and length rules once, so backends only see well-formed calls.
#[derive(Debug)]
struct CheckedCipher(Box<dyn CipherKey>);

impl CheckedCipher {
    fn check(&self, iv: &[u8], len: usize) -> Result<(), Error> {
        let alg = self.0.algorithm();
        if iv.len() != alg.iv_len() {
            return Err(Error::InvalidInput("wrong IV length for this mode"));
        }
        if alg.needs_whole_blocks() && !len.is_multiple_of(crate::BLOCK_LEN) {
            return Err(Error::InvalidLength);
        }
        Ok(())
    }
}

impl CipherKey for CheckedCipher {
    fn algorithm(&self) -> CipherAlg {
        self.0.algorithm()
    }

    fn encrypt(&self, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
        self.check(iv, in_out.len())?;
        self.0.encrypt(iv, in_out)
    }

    fn decrypt(&self, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
        self.check(iv, in_out.len())?;
        self.0.decrypt(iv, in_out)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = UnknownBackend;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|b| b.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownBackend(s.to_owned()))
    }
}

/// A backend name that no backend has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownBackend(pub String);

impl fmt::Display for UnknownBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown backend `{}` (known: ", self.0)?;
        for (i, b) in Backend::ALL.iter().enumerate() {
            write!(f, "{}{}", if i > 0 { ", " } else { "" }, b.name())?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for UnknownBackend {}

/// The backend x algorithm support matrix as a Markdown table, one row per algorithm and one
/// column per backend given ("yes" / "no"); backends not built into this binary show "n/b".
pub fn support_matrix(backends: &[Backend]) -> String {
    let mut out = String::from("| algorithm |");
    for b in backends {
        out.push_str(&format!(" {} |", b.name()));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(backends.len()));
    out.push('\n');
    for alg in Algorithm::all() {
        out.push_str(&format!("| {alg} |"));
        for b in backends {
            let cell = if !b.is_built() {
                "n/b"
            } else if b.supports(alg) {
                "yes"
            } else {
                "no"
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}
