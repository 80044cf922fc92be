//! GHASH (`csrc/ghash_*.c`): the PCLMULQDQ and VPCLMULQDQ kernels' tokens and calls.

use crate::cpu::{Feature, Features};

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

/// Bytes of the VPCLMULQDQ GHASH key table (`GHASH_WIDE_TABLE` in `csrc/ghash_vpclmul.c`).
pub(crate) const GHASH_WIDE_TABLE: usize = 1280;

/// H^1..H^16, then H^64 down to H^1, for the VPCLMULQDQ GHASH.
pub(crate) fn ghash_vpclmul_init(_t: Vpclmul, h: &[u8; 16]) -> Box<[u8; GHASH_WIDE_TABLE]> {
    let mut table = Box::new([0u8; GHASH_WIDE_TABLE]);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the token proves PCLMULQDQ exists; `h` is 16 bytes, `table` GHASH_WIDE_TABLE.
    unsafe {
        tlsfe_ghash_vpclmul_init(h.as_ptr(), table.as_mut_ptr());
    }
    table
}

/// Absorbs whole blocks into `xi` with the wide kernel.
pub(crate) fn ghash_vpclmul_update(
    t: Vpclmul,
    table: &[u8; GHASH_WIDE_TABLE],
    xi: &mut [u8; 16],
    data: &[u8],
) {
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
    fn tlsfe_ghash_pclmul_init(h: *const u8, htable: *mut u8);
    fn tlsfe_ghash_pclmul_update(htable: *const u8, xi: *mut u8, data: *const u8, nblocks: usize);
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
