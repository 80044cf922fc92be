//! The one error type of crypto-core.
//!
//! Failures of decryption and verification are deliberately opaque: they say *that* the input
//! was rejected, never *why*, so that no error message can become an oracle.

use core::fmt;

use crate::{Algorithm, Backend};

/// Everything that can go wrong in crypto-core.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The backend does not implement this algorithm (or was not compiled into this build).
    Unsupported {
        /// What was asked for.
        alg: Algorithm,
        /// Who was asked.
        backend: Backend,
    },
    /// A key was malformed, of the wrong length, of the wrong kind for the algorithm, or
    /// rejected by the backend (for example an RSA modulus outside 2048..=8192 bits).
    InvalidKey(&'static str),
    /// A key file or encoding could not be parsed.
    KeyParse(&'static str),
    /// An AEAD tag did not verify. The plaintext buffer has been zeroed.
    DecryptFailed,
    /// A signature did not verify.
    BadSignature,
    /// A peer's public key was malformed, not on the curve, or gave an all-zero secret.
    InvalidPeerKey,
    /// An input or output length is outside what the algorithm allows (buffer too short for
    /// the tag, HKDF output longer than 255 hash lengths, ...).
    InvalidLength,
    /// An input was malformed in a way the caller controls (a ciphertext too short to hold
    /// its header, a user ID the backend cannot take, ...); the text says which.
    InvalidInput(&'static str),
    /// The operating system's random number generator failed.
    RandomFailed,
    /// The backend failed in a way that no input explains (a bug or an exhausted resource).
    Backend(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported { alg, backend } => {
                write!(f, "backend `{}` does not implement `{alg}`", backend.name())?;
                if !backend.is_built() {
                    write!(f, " (not built into this binary)")?;
                }
                Ok(())
            }
            Self::InvalidKey(why) => write!(f, "invalid key: {why}"),
            Self::KeyParse(why) => write!(f, "cannot parse key: {why}"),
            Self::DecryptFailed => f.write_str("decryption failed"),
            Self::BadSignature => f.write_str("signature verification failed"),
            Self::InvalidPeerKey => f.write_str("invalid peer public key"),
            Self::InvalidLength => f.write_str("length out of range"),
            Self::InvalidInput(why) => write!(f, "invalid input: {why}"),
            Self::RandomFailed => f.write_str("random number generator failed"),
            Self::Backend(why) => write!(f, "backend failure: {why}"),
        }
    }
}

impl std::error::Error for Error {}
