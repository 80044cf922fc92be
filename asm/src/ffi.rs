//! The only `unsafe` in this crate: calls into the C kernels of `csrc/`. Each wrapper takes a
//! token that can only be made after CPU detection said the kernel's instructions exist, and
//! checks buffer lengths before the call.
#![allow(unsafe_code)]

use crate::cpu::{Feature, Features};

/// The SIMD SM4 kernels, fastest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sm4Simd {
    GfniAvx512,
    GfniAvx2,
    VaesAvx2,
    AesNiAvx2,
}

/// Proof that the named kernel's instructions are usable: only [`Sm4Token::best`] makes one,
/// from detected features (AVX2 implies SSSE3/SSE4.1 on every x86-64 CPU).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sm4Token(Sm4Simd);

impl Sm4Token {
    pub(crate) fn best(f: Features) -> Option<Self> {
        if !cfg!(target_arch = "x86_64") || !f.has(Feature::Avx2) {
            return None;
        }
        let k = if f.has(Feature::Gfni) && f.has(Feature::Avx512) {
            Sm4Simd::GfniAvx512
        } else if f.has(Feature::Gfni) {
            Sm4Simd::GfniAvx2
        } else if f.has(Feature::AesNi) && f.has(Feature::Vaes) {
            Sm4Simd::VaesAvx2
        } else if f.has(Feature::AesNi) {
            Sm4Simd::AesNiAvx2
        } else {
            return None;
        };
        Some(Self(k))
    }

    pub(crate) fn kernel(self) -> Sm4Simd {
        self.0
    }

    /// Whether the kernel has the in-register CTR entry point ([`sm4_ctr32`]).
    pub(crate) fn has_ctr32(self) -> bool {
        self.0 == Sm4Simd::GfniAvx512
    }
}

/// Proof that AES-NI is usable, for the one-block kernel of the serial modes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AesNi1(());

impl AesNi1 {
    pub(crate) fn new(f: Features) -> Option<Self> {
        (cfg!(target_arch = "x86_64") && f.has(Feature::AesNi) && f.has(Feature::Avx2))
            .then_some(Self(()))
    }
}

/// Which wide GHASH kernel: VPCLMULQDQ on 256-bit (AVX2) or 512-bit (AVX-512) registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WideGhash {
    Avx2,
    Avx512,
}

/// Proof that VPCLMULQDQ (and PCLMULQDQ, AVX2, and for the 512-bit kernel AVX-512) are usable.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Vpclmul(WideGhash);

impl Vpclmul {
    pub(crate) fn best(f: Features) -> Option<Self> {
        let usable = cfg!(target_arch = "x86_64")
            && f.has(Feature::Vpclmulqdq)
            && f.has(Feature::Pclmulqdq)
            && f.has(Feature::Avx2);
        if !usable {
            return None;
        }
        Some(Self(if f.has(Feature::Avx512) {
            WideGhash::Avx512
        } else {
            WideGhash::Avx2
        }))
    }

    pub(crate) fn kind(self) -> WideGhash {
        self.0
    }
}

/// H^1..H^16 for the VPCLMULQDQ GHASH.
pub(crate) fn ghash_vpclmul_init(_t: Vpclmul, h: &[u8; 16]) -> [u8; 256] {
    let mut table = [0u8; 256];
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the token proves PCLMULQDQ exists; `h` is 16 bytes, `table` 256.
    unsafe {
        tlsfe_ghash_vpclmul_init(h.as_ptr(), table.as_mut_ptr());
    }
    table
}

/// Absorbs whole blocks into `xi` with the wide kernel.
pub(crate) fn ghash_vpclmul_update(t: Vpclmul, table: &[u8; 256], xi: &mut [u8; 16], data: &[u8]) {
    assert!(data.len().is_multiple_of(16), "whole blocks only");
    #[cfg(target_arch = "x86_64")]
    {
        let f = match t.0 {
            WideGhash::Avx2 => tlsfe_ghash_vpclmul_avx2_update,
            WideGhash::Avx512 => tlsfe_ghash_vpclmul_avx512_update,
        };
        // SAFETY: the token proves the instructions exist; sizes as declared.
        unsafe {
            f(
                table.as_ptr(),
                xi.as_mut_ptr(),
                data.as_ptr(),
                data.len() / 16,
            )
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (t, table, xi, data);
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
    fn tlsfe_sm4_vaes_avx2_crypt(rk: *const u32, input: *const u8, out: *mut u8, nblocks: usize);
    fn tlsfe_sm4_gfni_avx2_crypt(rk: *const u32, input: *const u8, out: *mut u8, nblocks: usize);
    fn tlsfe_sm4_gfni_avx512_crypt(rk: *const u32, input: *const u8, out: *mut u8, nblocks: usize);
    fn tlsfe_sm4_gfni_avx512_ctr32(
        rk: *const u32,
        ctr: *const u8,
        input: *const u8,
        out: *mut u8,
        nblocks: usize,
    );
    fn tlsfe_ghash_vpclmul_init(h: *const u8, htable: *mut u8);
    fn tlsfe_ghash_vpclmul_avx2_update(
        htable: *const u8,
        xi: *mut u8,
        data: *const u8,
        nblocks: usize,
    );
    fn tlsfe_ghash_vpclmul_avx512_update(
        htable: *const u8,
        xi: *mut u8,
        data: *const u8,
        nblocks: usize,
    );
    fn tlsfe_sm4_aesni_crypt1(rk: *const u32, input: *const u8, out: *mut u8);
    fn tlsfe_ghash_pclmul_init(h: *const u8, htable: *mut u8);
    fn tlsfe_ghash_pclmul_update(htable: *const u8, xi: *mut u8, data: *const u8, nblocks: usize);
}

/// SM4 on whole blocks in place with the given round keys.
pub(crate) fn sm4_simd(t: Sm4Token, rk: &[u32; 32], data: &mut [u8]) {
    assert!(data.len().is_multiple_of(16), "whole blocks only");
    #[cfg(target_arch = "x86_64")]
    {
        let f = match t.0 {
            Sm4Simd::GfniAvx512 => tlsfe_sm4_gfni_avx512_crypt,
            Sm4Simd::GfniAvx2 => tlsfe_sm4_gfni_avx2_crypt,
            Sm4Simd::VaesAvx2 => tlsfe_sm4_vaes_avx2_crypt,
            Sm4Simd::AesNiAvx2 => tlsfe_sm4_aesni_avx2_crypt,
        };
        // SAFETY: the token proves the kernel's instructions exist; `rk` is 32 words; `data`
        // holds exactly len/16 blocks, read and written in place (the kernels allow in == out).
        unsafe {
            f(
                rk.as_ptr(),
                data.as_ptr(),
                data.as_mut_ptr(),
                data.len() / 16,
            )
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (t, rk, data);
}

/// CTR on whole blocks in place with counters generated in registers (word 3 counts, mod
/// 2^32). Only for kernels with [`Sm4Token::has_ctr32`]; callers check that first.
pub(crate) fn sm4_ctr32(t: Sm4Token, rk: &[u32; 32], ctr: &[u8; 16], data: &mut [u8]) {
    assert!(data.len().is_multiple_of(16), "whole blocks only");
    assert!(t.has_ctr32(), "kernel without in-register CTR");
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: the token proves GFNI/AVX-512 exist; `rk` is 32 words, `ctr` 16 bytes;
        // `data` holds len/16 blocks, read and written in place (the kernel allows in == out).
        unsafe {
            tlsfe_sm4_gfni_avx512_ctr32(
                rk.as_ptr(),
                ctr.as_ptr(),
                data.as_ptr(),
                data.as_mut_ptr(),
                data.len() / 16,
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (rk, ctr, data);
}

/// One SM4 block in place (serial modes).
pub(crate) fn sm4_aesni1(_t: AesNi1, rk: &[u32; 32], block: &mut [u8; 16]) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the token proves AES-NI/SSE4.1 exist; `rk` is 32 words; `block` is 16 bytes,
    // read and written in place (the kernel reads all input before writing).
    unsafe {
        tlsfe_sm4_aesni_crypt1(rk.as_ptr(), block.as_ptr(), block.as_mut_ptr());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (rk, block);
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
