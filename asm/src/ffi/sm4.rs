//! SM4 (`csrc/sm4_*.c`): the SIMD kernels' tokens and calls, and the one-block AES-NI kernel
//! of the serial modes.

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

/// Proof that GFNI is usable (with AVX's encoding and SSSE3), for the serial and short-input
/// kernel (`csrc/sm4_gfni1.c`): CBC encryption, CBC-MAC, and up to eight blocks at once. With
/// AVX-512 (F/BW/VL) as well, its build that ends each round with VPTERNLOGD
/// (`csrc/sm4_gfni1_vl.c`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gfni1 {
    vl: bool,
}

impl Gfni1 {
    pub(crate) fn new(f: Features) -> Option<Self> {
        (cfg!(target_arch = "x86_64") && f.has(Feature::Gfni) && f.has(Feature::Avx2)).then_some(
            Self {
                vl: f.has(Feature::Avx512),
            },
        )
    }

    /// Which build: "gfni1-vl" (AVX-512VL) or "gfni1".
    pub(crate) const fn name(self) -> &'static str {
        if self.vl { "gfni1-vl" } else { "gfni1" }
    }
}

/// Blocks the short-input kernel takes in one call.
pub(crate) const GFNI1_MAX_BLOCKS: usize = 8;

#[cfg(target_arch = "x86_64")]
unsafe extern "C" {
    fn tlsfe_sm4_gfni1_prepare(rk: *const u32, zk: *mut u32);
    fn tlsfe_sm4_gfni1_ecb(zk: *const u32, input: *const u8, out: *mut u8, nblocks: usize);
    fn tlsfe_sm4_gfni1_cbc(
        zk: *const u32,
        chain: *mut u8,
        input: *const u8,
        out: *mut u8,
        nblocks: usize,
    );
    fn tlsfe_sm4_gfni1_vl_ecb(zk: *const u32, input: *const u8, out: *mut u8, nblocks: usize);
    fn tlsfe_sm4_gfni1_vl_cbc(
        zk: *const u32,
        chain: *mut u8,
        input: *const u8,
        out: *mut u8,
        nblocks: usize,
    );
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
        extra: *mut u8,
    );
    fn tlsfe_sm4_aesni_crypt1(rk: *const u32, input: *const u8, out: *mut u8);
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
/// 2^32); `extra`, when given, is one more block encrypted (ECB, in place) in the same rounds
/// as the first counter blocks, so its latency hides behind theirs. Only for kernels with
/// [`Sm4Token::has_ctr32`]; callers check that first.
pub(crate) fn sm4_ctr32(
    t: Sm4Token,
    rk: &[u32; 32],
    ctr: &[u8; 16],
    data: &mut [u8],
    extra: Option<&mut [u8; 16]>,
) {
    assert!(data.len().is_multiple_of(16), "whole blocks only");
    assert!(t.has_ctr32(), "kernel without in-register CTR");
    #[cfg(target_arch = "x86_64")]
    {
        let extra = extra.map_or(core::ptr::null_mut(), |b| b.as_mut_ptr());
        // SAFETY: the token proves GFNI/AVX-512 exist; `rk` is 32 words, `ctr` 16 bytes;
        // `data` holds len/16 blocks, read and written in place (the kernel allows in == out);
        // `extra` is null or 16 writable bytes apart from `data` (a distinct borrow).
        unsafe {
            tlsfe_sm4_gfni_avx512_ctr32(
                rk.as_ptr(),
                ctr.as_ptr(),
                data.as_ptr(),
                data.as_mut_ptr(),
                data.len() / 16,
                extra,
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (rk, ctr, data, extra);
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

/// The round keys `rk` in the short-input kernel's basis (made once per key).
pub(crate) fn sm4_gfni1_prepare(_t: Gfni1, rk: &[u32; 32]) -> [u32; 64] {
    let mut zk = [0u32; 64];
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the token proves GFNI/AVX/SSSE3 exist; `rk` is 32 words, `zk` 64.
    unsafe {
        tlsfe_sm4_gfni1_prepare(rk.as_ptr(), zk.as_mut_ptr());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = rk;
    zk
}

/// Up to [`GFNI1_MAX_BLOCKS`] independent blocks in place, at the latency of one; `zk` from
/// [`sm4_gfni1_prepare`].
pub(crate) fn sm4_gfni1_ecb(t: Gfni1, zk: &[u32; 64], data: &mut [u8]) {
    assert!(
        data.len().is_multiple_of(16) && data.len() <= GFNI1_MAX_BLOCKS * 16,
        "one to eight whole blocks"
    );
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the token proves GFNI/AVX/SSSE3 exist (and AVX-512VL for its VL build); `zk` is
    // 64 words; `data` holds len/16 (at most 8) blocks, read into a stack buffer before
    // anything is written.
    unsafe {
        let f = if t.vl {
            tlsfe_sm4_gfni1_vl_ecb
        } else {
            tlsfe_sm4_gfni1_ecb
        };
        let p = data.as_mut_ptr();
        f(zk.as_ptr(), p, p, data.len() / 16);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (t, zk, data);
}

/// The CBC/CBC-MAC entry of the build `t` names.
#[cfg(target_arch = "x86_64")]
type Gfni1Cbc = unsafe extern "C" fn(*const u32, *mut u8, *const u8, *mut u8, usize);
#[cfg(target_arch = "x86_64")]
fn gfni1_cbc(t: Gfni1) -> Gfni1Cbc {
    if t.vl {
        tlsfe_sm4_gfni1_vl_cbc
    } else {
        tlsfe_sm4_gfni1_cbc
    }
}

/// CBC encryption of whole blocks in place from `chain` (the IV), which becomes the last
/// ciphertext block.
pub(crate) fn sm4_gfni1_cbc(t: Gfni1, zk: &[u32; 64], chain: &mut [u8; 16], data: &mut [u8]) {
    assert!(data.len().is_multiple_of(16), "whole blocks only");
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the token proves GFNI/AVX/SSSE3 exist (and AVX-512VL for its VL build); `zk` is
    // 64 words; `chain` 16 bytes; `data` holds len/16 blocks, each read before it is written
    // (in place is allowed).
    unsafe {
        let p = data.as_mut_ptr();
        gfni1_cbc(t)(zk.as_ptr(), chain.as_mut_ptr(), p, p, data.len() / 16);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (t, zk, chain, data);
}

/// CBC-MAC: `state` absorbs each whole block of `data` (state = E(state ^ block)).
pub(crate) fn sm4_gfni1_mac(t: Gfni1, zk: &[u32; 64], state: &mut [u8; 16], data: &[u8]) {
    assert!(data.len().is_multiple_of(16), "whole blocks only");
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the token proves GFNI/AVX/SSSE3 exist (and AVX-512VL for its VL build); `zk` is
    // 64 words; `state` 16 bytes; `data` holds len/16 blocks, only read (a null output means
    // MAC only).
    unsafe {
        gfni1_cbc(t)(
            zk.as_ptr(),
            state.as_mut_ptr(),
            data.as_ptr(),
            core::ptr::null_mut(),
            data.len() / 16,
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (t, zk, state, data);
}
