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

// ---- SM2 (csrc/sm2_impl.h) and SM3 (csrc/sm3_*.c) ---------------------------------------

/// Which SM2 arithmetic: plain C, or MULX/ADCX/ADOX products with AVX2 table scans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sm2Path {
    Portable,
    Adx,
}

impl Sm2Path {
    /// The best path `f` allows (the ADX object needs BMI2, ADX and AVX2 together).
    pub(crate) fn best(f: Features) -> Self {
        if cfg!(target_arch = "x86_64")
            && f.has(Feature::Bmi2)
            && f.has(Feature::Adx)
            && f.has(Feature::Avx2)
        {
            Self::Adx
        } else {
            Self::Portable
        }
    }
}

/// Limbs in the fixed-base table: 43 windows x 32 points x 8 limbs.
pub(crate) const SM2_BASE_TABLE_LIMBS: usize = 43 * 32 * 8;

unsafe extern "C" {
    fn tlsfe_sm2_portable_base_table(table: *mut u64);
    fn tlsfe_sm2_portable_mul_base(out: *mut u8, k: *const u8, table: *const u64) -> i32;
    fn tlsfe_sm2_portable_mul_point(out: *mut u8, k: *const u8, q: *const u8) -> i32;
    fn tlsfe_sm2_portable_point_check(q: *const u8) -> i32;
    fn tlsfe_sm2_portable_fe_ops(out: *mut u64, a: *const u64, b: *const u64);
    fn tlsfe_sm2_portable_inv_one_plus(out: *mut u8, d: *const u8);
    fn tlsfe_sm2_portable_sign_finish(
        r: *mut u8,
        s: *mut u8,
        e: *const u8,
        x1: *const u8,
        k: *const u8,
        d: *const u8,
        dinv: *const u8,
    ) -> i32;
    fn tlsfe_sm2_portable_verify_vartime(
        e: *const u8,
        r: *const u8,
        s: *const u8,
        q: *const u8,
        table: *const u64,
    ) -> i32;
    fn tlsfe_sm3_portable_blocks(state: *mut u32, data: *const u8, nblocks: usize);
}

#[cfg(target_arch = "x86_64")]
unsafe extern "C" {
    fn tlsfe_sm2_adx_base_table(table: *mut u64);
    fn tlsfe_sm2_adx_mul_base(out: *mut u8, k: *const u8, table: *const u64) -> i32;
    fn tlsfe_sm2_adx_mul_point(out: *mut u8, k: *const u8, q: *const u8) -> i32;
    fn tlsfe_sm2_adx_point_check(q: *const u8) -> i32;
    fn tlsfe_sm2_adx_fe_ops(out: *mut u64, a: *const u64, b: *const u64);
    fn tlsfe_sm2_adx_inv_one_plus(out: *mut u8, d: *const u8);
    fn tlsfe_sm2_adx_sign_finish(
        r: *mut u8,
        s: *mut u8,
        e: *const u8,
        x1: *const u8,
        k: *const u8,
        d: *const u8,
        dinv: *const u8,
    ) -> i32;
    fn tlsfe_sm2_adx_verify_vartime(
        e: *const u8,
        r: *const u8,
        s: *const u8,
        q: *const u8,
        table: *const u64,
    ) -> i32;
    fn tlsfe_sm3_bmi2_blocks(state: *mut u32, data: *const u8, nblocks: usize);
    fn tlsfe_sm3_avx2_x8(state: *mut u32, ptrs: *const *const u8, nblocks: usize);
    fn tlsfe_sm3_avx512_x16(state: *mut u32, ptrs: *const *const u8, nblocks: usize);
}

/// Picks the path's symbol: the ADX one exists only on x86-64, where `Sm2Path::best` is the
/// only way to get `Adx`.
macro_rules! sm2_call {
    ($path:expr, $name:ident ( $($arg:expr),* )) => {{
        match $path {
            #[cfg(target_arch = "x86_64")]
            Sm2Path::Adx => paste_adx!($name)($($arg),*),
            _ => paste_portable!($name)($($arg),*),
        }
    }};
}
macro_rules! paste_adx {
    (base_table) => {
        tlsfe_sm2_adx_base_table
    };
    (mul_base) => {
        tlsfe_sm2_adx_mul_base
    };
    (mul_point) => {
        tlsfe_sm2_adx_mul_point
    };
    (point_check) => {
        tlsfe_sm2_adx_point_check
    };
    (fe_ops) => {
        tlsfe_sm2_adx_fe_ops
    };
    (inv_one_plus) => {
        tlsfe_sm2_adx_inv_one_plus
    };
    (sign_finish) => {
        tlsfe_sm2_adx_sign_finish
    };
    (verify_vartime) => {
        tlsfe_sm2_adx_verify_vartime
    };
}
macro_rules! paste_portable {
    (base_table) => {
        tlsfe_sm2_portable_base_table
    };
    (mul_base) => {
        tlsfe_sm2_portable_mul_base
    };
    (mul_point) => {
        tlsfe_sm2_portable_mul_point
    };
    (point_check) => {
        tlsfe_sm2_portable_point_check
    };
    (fe_ops) => {
        tlsfe_sm2_portable_fe_ops
    };
    (inv_one_plus) => {
        tlsfe_sm2_portable_inv_one_plus
    };
    (sign_finish) => {
        tlsfe_sm2_portable_sign_finish
    };
    (verify_vartime) => {
        tlsfe_sm2_portable_verify_vartime
    };
}

/// Fills the fixed-base table (public data). Not reentrant for one path: callers run it
/// once, under a `OnceLock`.
pub(crate) fn sm2_base_table(path: Sm2Path) -> Box<[u64]> {
    let mut table = vec![0u64; SM2_BASE_TABLE_LIMBS].into_boxed_slice();
    // SAFETY: `table` has the size the C code writes; the path's instructions were detected.
    unsafe { sm2_call!(path, base_table(table.as_mut_ptr())) };
    table
}

/// `k * G` as `x || y`; false for infinity.
pub(crate) fn sm2_mul_base(path: Sm2Path, out: &mut [u8; 64], k: &[u8; 32], table: &[u64]) -> bool {
    assert_eq!(table.len(), SM2_BASE_TABLE_LIMBS);
    // SAFETY: fixed-size buffers as the C code expects; the table has its full size.
    unsafe { sm2_call!(path, mul_base(out.as_mut_ptr(), k.as_ptr(), table.as_ptr())) == 1 }
}

/// `k * Q`: `Err(())` when `q` is not a curve point, `Ok(false)` for infinity.
pub(crate) fn sm2_mul_point(
    path: Sm2Path,
    out: &mut [u8; 64],
    k: &[u8; 32],
    q: &[u8; 64],
) -> Result<bool, ()> {
    // SAFETY: fixed-size buffers as the C code expects.
    match unsafe { sm2_call!(path, mul_point(out.as_mut_ptr(), k.as_ptr(), q.as_ptr())) } {
        -1 => Err(()),
        r => Ok(r == 1),
    }
}

/// Whether `q` (`x || y`) is on the curve with coordinates below p.
pub(crate) fn sm2_point_check(path: Sm2Path, q: &[u8; 64]) -> bool {
    // SAFETY: a 64-byte input.
    unsafe { sm2_call!(path, point_check(q.as_ptr())) == 1 }
}

/// The field operations mod p on `a`, `b` (< p, little-endian limbs): `[a b R^-1, a^2 R^-1,
/// a + b, a - b, R^2 / a]`. For tests.
pub(crate) fn sm2_fe_ops(path: Sm2Path, a: &[u64; 4], b: &[u64; 4]) -> [[u64; 4]; 5] {
    let mut out = [[0u64; 4]; 5];
    // SAFETY: 20 output limbs, 4 limbs per input.
    unsafe {
        sm2_call!(
            path,
            fe_ops(out.as_mut_ptr().cast::<u64>(), a.as_ptr(), b.as_ptr())
        )
    };
    out
}

/// `(1 + d)^-1 mod n`.
pub(crate) fn sm2_inv_one_plus(path: Sm2Path, out: &mut [u8; 32], d: &[u8; 32]) {
    // SAFETY: 32-byte buffers.
    unsafe { sm2_call!(path, inv_one_plus(out.as_mut_ptr(), d.as_ptr())) }
}

/// The signature's `(r, s)` from e, x1, k, d and `(1 + d)^-1`; false when k must be redrawn.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sm2_sign_finish(
    path: Sm2Path,
    r: &mut [u8; 32],
    s: &mut [u8; 32],
    e: &[u8; 32],
    x1: &[u8; 32],
    k: &[u8; 32],
    d: &[u8; 32],
    dinv: &[u8; 32],
) -> bool {
    // SAFETY: 32-byte buffers.
    unsafe {
        sm2_call!(
            path,
            sign_finish(
                r.as_mut_ptr(),
                s.as_mut_ptr(),
                e.as_ptr(),
                x1.as_ptr(),
                k.as_ptr(),
                d.as_ptr(),
                dinv.as_ptr()
            )
        ) == 1
    }
}

/// SM2 verification of `(r, s)` over the digest `e` by the public key `q`.
pub(crate) fn sm2_verify_vartime(
    path: Sm2Path,
    e: &[u8; 32],
    r: &[u8; 32],
    s: &[u8; 32],
    q: &[u8; 64],
    table: &[u64],
) -> bool {
    assert_eq!(table.len(), SM2_BASE_TABLE_LIMBS);
    // SAFETY: fixed-size buffers; the table has its full size.
    unsafe {
        sm2_call!(
            path,
            verify_vartime(
                e.as_ptr(),
                r.as_ptr(),
                s.as_ptr(),
                q.as_ptr(),
                table.as_ptr()
            )
        ) == 1
    }
}

/// Which one-message SM3 kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sm3Path {
    Portable,
    Bmi2,
}

impl Sm3Path {
    pub(crate) fn best(f: Features) -> Self {
        if cfg!(target_arch = "x86_64") && f.has(Feature::Bmi2) {
            Self::Bmi2
        } else {
            Self::Portable
        }
    }
}

/// Compresses whole 64-byte blocks into `state`.
pub(crate) fn sm3_blocks(path: Sm3Path, state: &mut [u32; 8], data: &[u8]) {
    assert!(data.len().is_multiple_of(64), "whole blocks only");
    let n = data.len() / 64;
    match path {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: BMI2 was detected; `data` holds n blocks; `state` is 8 words.
        Sm3Path::Bmi2 => unsafe { tlsfe_sm3_bmi2_blocks(state.as_mut_ptr(), data.as_ptr(), n) },
        // SAFETY: as above, plain C.
        _ => unsafe { tlsfe_sm3_portable_blocks(state.as_mut_ptr(), data.as_ptr(), n) },
    }
}

/// Which many-message SM3 kernel: 16 lanes with AVX-512 or 8 with AVX2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sm3Lanes {
    Avx2x8,
    Avx512x16,
}

impl Sm3Lanes {
    pub(crate) fn best(f: Features) -> Option<Self> {
        if !cfg!(target_arch = "x86_64") || !f.has(Feature::Avx2) {
            None
        } else if f.has(Feature::Avx512) {
            Some(Self::Avx512x16)
        } else {
            Some(Self::Avx2x8)
        }
    }

    pub(crate) const fn lanes(self) -> usize {
        match self {
            Self::Avx2x8 => 8,
            Self::Avx512x16 => 16,
        }
    }
}

/// Compresses `nblocks` blocks from each of `lanes()` inputs into the word-major `state`
/// (`state[lanes * word + lane]`). Every input must hold at least `nblocks` blocks.
pub(crate) fn sm3_lanes(k: Sm3Lanes, state: &mut [u32], inputs: &[&[u8]], nblocks: usize) {
    let lanes = k.lanes();
    assert_eq!(state.len(), 8 * lanes);
    assert_eq!(inputs.len(), lanes);
    assert!(
        inputs.iter().all(|i| i.len() >= nblocks * 64),
        "short lane input"
    );
    let mut ptrs = [core::ptr::null::<u8>(); 16];
    for (p, i) in ptrs.iter_mut().zip(inputs) {
        *p = i.as_ptr();
    }
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the kind was made from detected features; every pointer covers nblocks blocks;
    // `state` holds 8 words per lane.
    unsafe {
        match k {
            Sm3Lanes::Avx2x8 => tlsfe_sm3_avx2_x8(state.as_mut_ptr(), ptrs.as_ptr(), nblocks),
            Sm3Lanes::Avx512x16 => tlsfe_sm3_avx512_x16(state.as_mut_ptr(), ptrs.as_ptr(), nblocks),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (ptrs, nblocks);
}
