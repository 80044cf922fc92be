//! SM2 field and point arithmetic (`csrc/sm2_impl.h`, `sm2_portable.c`, `sm2_adx.c`).

use crate::cpu::{Feature, Features};

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

/// Limbs in the fixed-base tables (`SM2_BASE_TABLE_LIMBS` in `csrc/sm2_impl.h`): the comb,
/// 43 windows x 32 points, then the 512 odd multiples of G for verification; 8 limbs a point.
pub(crate) const SM2_BASE_TABLE_LIMBS: usize = 43 * 32 * 8 + 512 * 8;

unsafe extern "C" {
    fn tlsfe_sm2_portable_base_table(table: *mut u64);
    fn tlsfe_sm2_portable_mul_base(out: *mut u8, k: *const u8, table: *const u64) -> i32;
    fn tlsfe_sm2_portable_mul_point(out: *mut u8, k: *const u8, q: *const u8) -> i32;
    fn tlsfe_sm2_portable_exchange(
        public: *mut u8,
        shared: *mut u8,
        k: *const u8,
        q: *const u8,
        table: *const u64,
    ) -> i32;
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
}

#[cfg(target_arch = "x86_64")]
unsafe extern "C" {
    fn tlsfe_sm2_adx_base_table(table: *mut u64);
    fn tlsfe_sm2_adx_mul_base(out: *mut u8, k: *const u8, table: *const u64) -> i32;
    fn tlsfe_sm2_adx_mul_point(out: *mut u8, k: *const u8, q: *const u8) -> i32;
    fn tlsfe_sm2_adx_exchange(
        public: *mut u8,
        shared: *mut u8,
        k: *const u8,
        q: *const u8,
        table: *const u64,
    ) -> i32;
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
    (exchange) => {
        tlsfe_sm2_adx_exchange
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
    (exchange) => {
        tlsfe_sm2_portable_exchange
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

/// `k * G` into `public` and `k * Q` into `shared` (each `x || y`), with one field inversion
/// for both: `Err(())` when `q` is not a curve point, `Ok(false)` when either is infinity.
pub(crate) fn sm2_exchange(
    path: Sm2Path,
    public: &mut [u8; 64],
    shared: &mut [u8; 64],
    k: &[u8; 32],
    q: &[u8; 64],
    table: &[u64],
) -> Result<bool, ()> {
    assert_eq!(table.len(), SM2_BASE_TABLE_LIMBS);
    // SAFETY: fixed-size buffers as the C code expects; the table has its full size.
    let r = unsafe {
        sm2_call!(
            path,
            exchange(
                public.as_mut_ptr(),
                shared.as_mut_ptr(),
                k.as_ptr(),
                q.as_ptr(),
                table.as_ptr()
            )
        )
    };
    match r {
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
pub(crate) fn sm2_fe_ops(path: Sm2Path, a: &[u64; 4], b: &[u64; 4]) -> [[u64; 4]; 6] {
    let mut out = [[0u64; 4]; 6];
    // SAFETY: 24 output limbs, 4 limbs per input.
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

// ---- eight operations at once on AVX-512 IFMA (`csrc/sm2_ifma.c`) ----

/// Limbs in the IFMA fixed-base table: 43 windows x 32 points x 10 limbs (radix 2^52).
pub(crate) const SM2_BASE_TABLE52_LIMBS: usize = 43 * 32 * 10;

/// Proof that the IFMA object may run here (AVX-512 F/BW/VL and IFMA, plus the MULX/ADX/AVX2
/// its scalar parts use).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ifma(());

impl Ifma {
    pub(crate) fn detect(f: Features) -> Option<Self> {
        (cfg!(target_arch = "x86_64")
            && f.has(Feature::Ifma)
            && f.has(Feature::Avx512)
            && Sm2Path::best(f) == Sm2Path::Adx)
            .then_some(Self(()))
    }
}

#[cfg(target_arch = "x86_64")]
unsafe extern "C" {
    fn tlsfe_sm2_ifma_base_table52(t52: *mut u64, t256: *const u64);
    fn tlsfe_sm2_ifma_verify8(
        ok: *mut i32,
        e: *const u8,
        r: *const u8,
        s: *const u8,
        q: *const u8,
        count: i32,
        t256: *const u64,
        t52: *const u64,
    );
    fn tlsfe_sm2_ifma_fe8_ops(out: *mut u64, a: *const u64, b: *const u64);
}

/// What the eight-lane C functions read: at most eight lanes, both tables at full size.
#[cfg(target_arch = "x86_64")]
fn check_batch(count: usize, t256: &[u64], t52: &[u64]) {
    assert!(count <= 8);
    assert_eq!(t256.len(), SM2_BASE_TABLE_LIMBS);
    assert_eq!(t52.len(), SM2_BASE_TABLE52_LIMBS);
}

/// The fixed-base table `t256` (as `sm2_base_table` makes it) in the IFMA representation.
#[cfg(target_arch = "x86_64")]
pub(crate) fn sm2_ifma_base_table52(_: Ifma, t256: &[u64]) -> Box<[u64]> {
    assert_eq!(t256.len(), SM2_BASE_TABLE_LIMBS);
    let mut t52 = vec![0u64; SM2_BASE_TABLE52_LIMBS].into_boxed_slice();
    // SAFETY: both tables have the sizes the C code reads and writes; IFMA was detected.
    unsafe { tlsfe_sm2_ifma_base_table52(t52.as_mut_ptr(), t256.as_ptr()) };
    t52
}

/// Up to eight SM2 verifications at once: lane i checks `(r[i], s[i])` over `e[i]` by
/// `q[i]`; lanes from `count` on are idle. Returns one bool per lane.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sm2_ifma_verify8(
    _: Ifma,
    e: &[[u8; 32]; 8],
    r: &[[u8; 32]; 8],
    s: &[[u8; 32]; 8],
    q: &[[u8; 64]; 8],
    count: usize,
    t256: &[u64],
    t52: &[u64],
) -> [bool; 8] {
    check_batch(count, t256, t52);
    let mut ok = [0i32; 8];
    // SAFETY: eight lanes of fixed-size inputs, contiguous; both tables full size; IFMA was
    // detected.
    unsafe {
        tlsfe_sm2_ifma_verify8(
            ok.as_mut_ptr(),
            e.as_ptr().cast(),
            r.as_ptr().cast(),
            s.as_ptr().cast(),
            q.as_ptr().cast(),
            count as i32,
            t256.as_ptr(),
            t52.as_ptr(),
        )
    };
    ok.map(|v| v == 1)
}

/// The IFMA code's field operations on eight lanes of plain elements below p:
/// `[a b, a^2, a + b, a - b]` mod p, fully reduced. For tests.
#[cfg(target_arch = "x86_64")]
pub(crate) fn sm2_ifma_fe8_ops(
    _: Ifma,
    a: &[[u64; 4]; 8],
    b: &[[u64; 4]; 8],
) -> [[[u64; 4]; 8]; 4] {
    let mut out = [[[0u64; 4]; 8]; 4];
    // SAFETY: 4 x 8 x 4 output limbs, 8 x 4 per input; IFMA was detected.
    unsafe {
        tlsfe_sm2_ifma_fe8_ops(
            out.as_mut_ptr().cast::<u64>(),
            a.as_ptr().cast(),
            b.as_ptr().cast(),
        )
    };
    out
}

#[cfg(target_arch = "x86_64")]
unsafe extern "C" {
    fn tlsfe_sm2_ifma_mul_base8(
        out: *mut u8,
        ok: *mut i32,
        k: *const u8,
        count: i32,
        t256: *const u64,
        t52: *const u64,
    );
    fn tlsfe_sm2_ifma_mul_point8(
        out: *mut u8,
        ok: *mut i32,
        k: *const u8,
        q: *const u8,
        count: i32,
    );
}

/// `k[i] * G` (`x || y`) for the first `count` lanes, constant time in the scalars; `ok[i]`
/// false for infinity and for idle lanes.
#[cfg(target_arch = "x86_64")]
pub(crate) fn sm2_ifma_mul_base8(
    _: Ifma,
    out: &mut [[u8; 64]; 8],
    k: &[[u8; 32]; 8],
    count: usize,
    t256: &[u64],
    t52: &[u64],
) -> [bool; 8] {
    check_batch(count, t256, t52);
    let mut ok = [0i32; 8];
    // SAFETY: eight lanes of fixed-size buffers, contiguous; both tables full size; IFMA was
    // detected.
    unsafe {
        tlsfe_sm2_ifma_mul_base8(
            out.as_mut_ptr().cast(),
            ok.as_mut_ptr(),
            k.as_ptr().cast(),
            count as i32,
            t256.as_ptr(),
            t52.as_ptr(),
        )
    };
    ok.map(|v| v == 1)
}

/// `k[i] * q[i]` (`x || y`) for the first `count` lanes, constant time in the scalars:
/// `Err(())` where `q[i]` is not a curve point, `Ok(false)` for infinity (and idle lanes).
#[cfg(target_arch = "x86_64")]
pub(crate) fn sm2_ifma_mul_point8(
    _: Ifma,
    out: &mut [[u8; 64]; 8],
    k: &[[u8; 32]; 8],
    q: &[[u8; 64]; 8],
    count: usize,
) -> [Result<bool, ()>; 8] {
    assert!(count <= 8);
    let mut ok = [0i32; 8];
    // SAFETY: eight lanes of fixed-size buffers, contiguous; IFMA was detected.
    unsafe {
        tlsfe_sm2_ifma_mul_point8(
            out.as_mut_ptr().cast(),
            ok.as_mut_ptr(),
            k.as_ptr().cast(),
            q.as_ptr().cast(),
            count as i32,
        )
    };
    ok.map(|v| match v {
        -1 => Err(()),
        v => Ok(v == 1),
    })
}
