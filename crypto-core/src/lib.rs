//! One crypto API over several backends.
//!
//! `crypto-core` names algorithms ([`Algorithm`], [`AeadAlg`], [`SignatureAlg`], ...), defines
//! small object-safe traits for each kind of primitive ([`AeadKey`], [`Hash`], [`Hmac`],
//! [`Hkdf`], [`SigningKey`], [`Verifier`], [`KeyExchange`], [`SecureRandom`]) and lets a
//! [`Backend`] (ring, aws-lc-rs, RustCrypto, libsm, our `asm` kernels, OpenSSL; one cargo feature
//! each) supply them. What a backend lacks is a typed [`Error::Unsupported`].
//!
//! # The rooms
//! - Plain data: `alg` (algorithm and backend ids), `error`, `traits` (the primitive traits),
//!   `keys` (key material and its encodings), `der` (DER through the `der` crate), `sm2`
//!   (SM2 formats), `ct` (constant-time comparisons).
//! - The backends: `backends/<lib>/{mod, aead, hash, sign, kx, gm}.rs`, each one `Provider`
//!   value (`backends/provider.rs`: a support table made of shared algorithm groups, and the
//!   functions that make its primitives), reached through `backend` (the [`Backend`] value's
//!   dispatch), which also keeps the contract every backend shares (key-agreement input
//!   checks, typed `Unsupported`; a backend's AEAD is a bare seal/open that reaches callers
//!   only inside the provider's checked wrapper: limits, failed-open zeroing); `key_loading` (PKCS#8, SEC1, PKCS#1; fresh keys) asks any
//!   built backend for the arithmetic it needs.
//! - [`Selection`] (`selection`: plain data and its text form, parsed at the edge).
//! - [`speed`]: measuring backends (`speed` tables, `auto` calibration, profile files,
//!   resolving a [`SelectionSpec`]).
//! - [`tls`]: the rustls `CryptoProvider` built from a Selection, RFC 8998 included.
//! - [`tlcp`]: TLCP (GB/T 38636-2020), a sans-IO server and client over a Selection.
//!
//! Dependencies point one way: data <- backends <- `backend` <- `selection` <- `speed`, `tls`,
//! `tlcp`.
//!
//! ```
//! use crypto_core::{AeadAlg, Backend, Nonce};
//!
//! let key = Backend::Ring.aead(AeadAlg::Aes128Gcm, &[7; 16])?;
//! let mut buf = *b"hello, world\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
//! let n = key.seal_in_place(&Nonce([0; 12]), b"aad", &mut buf, 12)?;
//! let other = Backend::RustCrypto.aead(AeadAlg::Aes128Gcm, &[7; 16])?;
//! assert_eq!(other.open_in_place(&Nonce([0; 12]), b"aad", &mut buf[..n])?, b"hello, world");
//! # Ok::<(), crypto_core::Error>(())
//! ```
//!
//! # Secrets
//! Key material this crate holds is zeroized on drop: every encoding of a [`PrivateKey`],
//! [`SharedSecret`]s, the RustCrypto backend's AEAD key schedules (their `zeroize` feature) and
//! ephemeral scalars, and the OpenSSL backend's HKDF PRKs (OpenSSL cleanses its own contexts
//! when freed). Key schedules inside ring and aws-lc-rs belong to those libraries; ring does not
//! promise to zeroize them.
#![deny(missing_docs)]

#[cfg(not(any(
    feature = "ring",
    feature = "aws-lc",
    feature = "rustcrypto",
    feature = "asm",
    feature = "libsm",
    feature = "openssl"
)))]
compile_error!(
    "crypto-core needs at least one backend feature: ring, aws-lc, rustcrypto, asm, libsm or openssl"
);

mod alg;
mod backend;
pub(crate) mod backends;
pub mod ct;
mod der;
mod error;
mod key_loading;
mod keys;
mod selection;
pub mod sm2;
pub mod speed;
pub mod tlcp;
pub mod tls;
mod traits;

pub use alg::{
    AeadAlg, Algorithm, Backend, CipherAlg, HashAlg, KemAlg, KeyKind, KxAlg, SignatureAlg,
    UnknownBackend,
};
pub use backend::support_matrix;
pub use error::Error;
pub use keys::{PrivateKey, RSA_BITS};
pub use selection::{Base, Family, Selection, SelectionError, SelectionSpec, Target};
pub use traits::{
    AeadKey, BLOCK_LEN, CipherKey, EphemeralKey, Hash, HashContext, Hkdf, HkdfPrk, Hmac, HmacKey,
    Kem, KemDecapsulationKey, KeyExchange, NONCE_LEN, Nonce, Output, SecureRandom, SharedSecret,
    SignedMessage, SigningKey, TAG_LEN, Tag, Verifier, system_random,
};
