//! The `Backend` value: names a crypto implementation and hands out its algorithms.
//!
//! Each call checks the backend's support table first, so an algorithm a backend lacks is always
//! a typed [`Error::Unsupported`], never a panic and never a silent substitute.

use core::fmt;
use core::str::FromStr;

use crate::backends::{self, Provider};
use crate::{
    AeadAlg, AeadKey, Algorithm, Error, Hash, HashAlg, Hkdf, Hmac, KeyExchange, KxAlg, PrivateKey,
    SecureRandom, SignatureAlg, SigningKey, Verifier,
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
    /// The system OpenSSL 3 through `openssl-sys` (cargo feature `openssl`).
    OpenSsl,
}

impl Backend {
    /// Every backend this crate knows, built into this binary or not.
    pub const ALL: &'static [Self] = &[Self::Ring, Self::AwsLc, Self::RustCrypto, Self::OpenSsl];

    /// The stable lower-case name used in configuration and tables.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ring => "ring",
            Self::AwsLc => "aws-lc",
            Self::RustCrypto => "rustcrypto",
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
        if key.kind() != alg.key_kind() {
            return Err(Error::InvalidKey(
                "key kind does not match the signature scheme",
            ));
        }
        p.signing_key(alg, key)
    }

    /// Signature verification for `alg`.
    pub fn verifier(self, alg: SignatureAlg) -> Result<&'static dyn Verifier, Error> {
        self.checked(Algorithm::Signature(alg))?.verifier(alg)
    }

    /// Key agreement in a group.
    pub fn kx(self, alg: KxAlg) -> Result<&'static dyn KeyExchange, Error> {
        self.checked(Algorithm::Kx(alg))?.kx(alg)
    }

    /// The backend's secure random number generator.
    pub fn random(self) -> Result<&'static dyn SecureRandom, Error> {
        self.checked(Algorithm::Random)?.random()
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
