//! The only `unsafe` in this crate: calls into the C kernels of `csrc/`. Each wrapper takes a
//! token that can only be made after CPU detection said the kernel's instructions exist, and
//! checks buffer lengths before the call.
#![allow(unsafe_code)]

use crate::cpu::{Feature, Features};

/// Proof that AES-NI, SSSE3 and AVX2 are usable (AVX2 implies SSSE3 on every x86-64 CPU).
#[derive(Clone, Copy, Debug)]
pub(crate) struct AesNiAvx2(());

impl AesNiAvx2 {
    pub(crate) fn new(f: Features) -> Option<Self> {
        (cfg!(target_arch = "x86_64") && f.has(Feature::AesNi) && f.has(Feature::Avx2))
            .then_some(Self(()))
    }
}

/// Proof that PCLMULQDQ and SSSE3/SSE4.1 are usable (required together with AVX2 here).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pclmul(());

impl Pclmul {
    pub(crate) fn new(f: Features) -> Option<Self> {
        (cfg!(target_arch = "x86_64") && f.has(Feature::Pclmulqdq) && f.has(Feature::Avx2))
            .then_some(Self(()))
    }
}

#[cfg(target_arch = "x86_64")]
unsafe extern "C" {
    fn tlsfe_sm4_aesni_avx2_crypt(rk: *const u32, input: *const u8, out: *mut u8, nblocks: usize);
    fn tlsfe_ghash_pclmul_init(h: *const u8, htable: *mut u8);
    fn tlsfe_ghash_pclmul_update(htable: *const u8, xi: *mut u8, data: *const u8, nblocks: usize);
}

/// SM4 on whole blocks in place with the given round keys.
pub(crate) fn sm4_aesni_avx2(_t: AesNiAvx2, rk: &[u32; 32], data: &mut [u8]) {
    assert!(data.len().is_multiple_of(16), "whole blocks only");
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the token proves AES-NI/AVX2 exist; `rk` is 32 words; `data` holds exactly
    // len/16 blocks, read and written in place (the kernel allows in == out).
    unsafe {
        tlsfe_sm4_aesni_avx2_crypt(
            rk.as_ptr(),
            data.as_ptr(),
            data.as_mut_ptr(),
            data.len() / 16,
        );
    }
}

/// H, H^2, H^3, H^4 for the PCLMULQDQ GHASH.
pub(crate) fn ghash_pclmul_init(_t: Pclmul, h: &[u8; 16]) -> [u8; 64] {
    let mut table = [0u8; 64];
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the token proves PCLMULQDQ/SSE4.1 exist; `h` is 16 bytes, `table` 64.
    unsafe {
        tlsfe_ghash_pclmul_init(h.as_ptr(), table.as_mut_ptr());
    }
    table
}

/// Absorbs whole blocks into `xi`.
pub(crate) fn ghash_pclmul_update(_t: Pclmul, table: &[u8; 64], xi: &mut [u8; 16], data: &[u8]) {
    assert!(data.len().is_multiple_of(16), "whole blocks only");
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the token proves PCLMULQDQ exists; sizes as declared; `data` holds len/16 blocks.
    unsafe {
        tlsfe_ghash_pclmul_update(
            table.as_ptr(),
            xi.as_mut_ptr(),
            data.as_ptr(),
            data.len() / 16,
        );
    }
}
