//! The backends. Every backend has the same shape, `backends/<lib>/{mod, aead, hash, sign, kx,
//! gm}.rs` (only the parts it has): `mod.rs` holds its [`Provider`]: the one support table (made of
//! `provider::groups`) and the functions the [`Backend`](crate::Backend) value calls; the
//! other files hold the primitives, with names that say what they are (`Aead`, `Signer`,
//! `Verifier`, `Kx`). The contract every backend keeps is enforced once, around them, in
//! `backend.rs`. Each backend is behind its own cargo feature.

pub(crate) use provider::Provider;

#[cfg(feature = "asm")]
pub(crate) mod asm;
#[cfg(feature = "aws-lc")]
pub(crate) mod aws_lc;
mod checked_aead;
#[cfg(any(feature = "asm", feature = "libsm"))]
pub(crate) mod generic;
#[cfg(feature = "libsm")]
pub(crate) mod libsm;
#[cfg(feature = "openssl")]
pub(crate) mod openssl;
pub(crate) mod provider;
#[cfg(feature = "ring")]
pub(crate) mod ring;
#[cfg(any(feature = "ring", feature = "aws-lc"))]
mod ring_api;
#[cfg(feature = "rustcrypto")]
pub(crate) mod rustcrypto;

/// The built providers, in the order key services ask them: the fast, complete ones first.
pub(crate) fn providers() -> impl Iterator<Item = &'static Provider> {
    [
        crate::Backend::AwsLc,
        crate::Backend::OpenSsl,
        crate::Backend::RustCrypto,
        crate::Backend::Asm,
        crate::Backend::Libsm,
        crate::Backend::Ring,
    ]
    .into_iter()
    .filter_map(provider)
}

/// A built backend's provider.
pub(crate) fn provider(b: crate::Backend) -> Option<&'static Provider> {
    use crate::Backend;
    match b {
        #[cfg(feature = "ring")]
        Backend::Ring => Some(&ring::PROVIDER),
        #[cfg(feature = "aws-lc")]
        Backend::AwsLc => Some(&aws_lc::PROVIDER),
        #[cfg(feature = "rustcrypto")]
        Backend::RustCrypto => Some(&rustcrypto::PROVIDER),
        #[cfg(feature = "asm")]
        Backend::Asm => Some(&asm::PROVIDER),
        #[cfg(feature = "libsm")]
        Backend::Libsm => Some(&libsm::PROVIDER),
        #[cfg(feature = "openssl")]
        Backend::OpenSsl => Some(&openssl::PROVIDER),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}
