//! The only `unsafe` in this crate: calls into the C kernels of `csrc/`. Each wrapper takes a
//! token that can only be made after CPU detection said the kernel's instructions exist, and
//! checks buffer lengths before the call.
//!
//! One file per kernel family: `sm4`, `ghash`, `sm2`, `sm3`; this file holds the constant-time
//! test marks (Valgrind client requests) they all use.
#![allow(unsafe_code)]

mod ghash;
mod sm2;
mod sm3;
mod sm4;

pub(crate) use ghash::*;
pub(crate) use sm2::*;
pub(crate) use sm3::*;
pub(crate) use sm4::*;

#[cfg(feature = "ct-valgrind")]
unsafe extern "C" {
    fn tlsfe_ct_secret(p: *const u8, n: usize);
    fn tlsfe_ct_public(p: *const u8, n: usize);
}

/// Tells Memcheck that `bytes` are secret (no branch or address may depend on them).
/// A no-op unless built with `ct-valgrind` and run under Valgrind.
pub fn ct_secret(bytes: &[u8]) {
    #[cfg(feature = "ct-valgrind")]
    // SAFETY: a Valgrind client request on a live slice; it changes no memory.
    unsafe {
        tlsfe_ct_secret(bytes.as_ptr(), bytes.len());
    }
    #[cfg(not(feature = "ct-valgrind"))]
    let _ = bytes;
}

/// Tells Memcheck that `bytes` are public by design (a ciphertext, a verdict).
pub fn ct_public(bytes: &[u8]) {
    #[cfg(feature = "ct-valgrind")]
    // SAFETY: a Valgrind client request on a live slice; it changes no memory.
    unsafe {
        tlsfe_ct_public(bytes.as_ptr(), bytes.len());
    }
    #[cfg(not(feature = "ct-valgrind"))]
    let _ = bytes;
}

/// Returns `x`, declassified: under Valgrind with `ct-valgrind`, the value read back is marked
/// public, so a branch on it (a tag verdict) is not reported. The round trip through memory
/// makes the request act on the value actually used.
pub(crate) fn ct_declassify(x: u8) -> u8 {
    let cell = [x];
    ct_public(&cell);
    // SAFETY: reads a live local; volatile so the value comes from the declassified memory.
    unsafe { core::ptr::read_volatile(&cell[0]) }
}

/// Returns a copy of `x` that Memcheck treats as secret (with `ct-valgrind`, under Valgrind).
/// The copy is read back with volatile loads after the request, so the compiler cannot
/// constant-fold the secret past the marking: everything computed from it is tracked.
pub fn ct_secret_copy<const N: usize>(x: [u8; N]) -> [u8; N] {
    let cell = x;
    ct_secret(&cell);
    let mut out = [0u8; N];
    for (o, c) in out.iter_mut().zip(&cell) {
        // SAFETY: reads a live local byte.
        *o = unsafe { core::ptr::read_volatile(c) };
    }
    out
}
