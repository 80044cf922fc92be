//! SM3 (`csrc/sm3_*.c`): the one-message and many-message kernels.

use crate::cpu::{Feature, Features};

unsafe extern "C" {
    fn tlsfe_sm3_portable_blocks(state: *mut u32, data: *const u8, nblocks: usize);
}

#[cfg(target_arch = "x86_64")]
unsafe extern "C" {
    fn tlsfe_sm3_bmi2_blocks(state: *mut u32, data: *const u8, nblocks: usize);
    fn tlsfe_sm3_bmi2r_blocks(state: *mut u32, data: *const u8, nblocks: usize);
    fn tlsfe_sm3_vl_blocks(state: *mut u32, data: *const u8, nblocks: usize);
    fn tlsfe_sm3_avx2_x8(state: *mut u32, ptrs: *const *const u8, nblocks: usize);
    fn tlsfe_sm3_avx512_x16(state: *mut u32, ptrs: *const *const u8, nblocks: usize);
}

/// Which one-message SM3 kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sm3Path {
    Portable,
    Bmi2,
    /// RORX, with the message expansion inside the rounds: faster on Intel cores.
    Bmi2Rounds,
    /// The rounds in one lane of XMM registers (VPROLD, VPTERNLOGD), the expansion with RORX.
    Avx512Vl,
}

impl Sm3Path {
    pub(crate) fn best(f: Features) -> Self {
        if cfg!(target_arch = "x86_64") && f.has(Feature::Bmi2) {
            if f.has(Feature::Avx512) {
                Self::Avx512Vl
            } else if f.has(Feature::Intel) {
                Self::Bmi2Rounds
            } else {
                Self::Bmi2
            }
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
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Sm3Path::Bmi2Rounds => unsafe {
            tlsfe_sm3_bmi2r_blocks(state.as_mut_ptr(), data.as_ptr(), n)
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, and AVX-512F/VL were detected.
        Sm3Path::Avx512Vl => unsafe { tlsfe_sm3_vl_blocks(state.as_mut_ptr(), data.as_ptr(), n) },
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
