//! GHASH (NIST SP 800-38D 6.4) for GCM: PCLMULQDQ where present, else a portable
//! constant-time bit-serial multiplication (masks, no table, no data-dependent branch).

use zeroize::Zeroize;

use crate::cpu::Features;
use crate::ffi::{self, Pclmul, Vpclmul, WideGhash};

/// A GHASH key (H and whatever the kernel precomputes from it).
#[derive(Clone)]
pub(crate) enum GhashKey {
    Portable(u128),
    Pclmul(Pclmul, [u8; 64]),
    Vpclmul(Vpclmul, Box<[u8; ffi::GHASH_WIDE_TABLE]>),
}

impl Drop for GhashKey {
    fn drop(&mut self) {
        match self {
            Self::Portable(h) => h.zeroize(),
            Self::Pclmul(_, t) => t.zeroize(),
            Self::Vpclmul(_, t) => t.zeroize(),
        }
    }
}

impl GhashKey {
    pub(crate) fn new(h: &[u8; 16], f: Features) -> Self {
        if let Some(t) = Vpclmul::best(f) {
            return Self::Vpclmul(t, ffi::ghash_vpclmul_init(t, h));
        }
        match Pclmul::new(f) {
            Some(t) => Self::Pclmul(t, ffi::ghash_pclmul_init(t, h)),
            None => Self::Portable(u128::from_be_bytes(*h)),
        }
    }

    /// Which kernel: `portable`, `pclmul`, `vpclmul-avx2` or `vpclmul-avx512`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Portable(_) => "portable",
            Self::Pclmul(..) => "pclmul",
            Self::Vpclmul(t, _) => match t.kind() {
                WideGhash::Avx2 => "vpclmul-avx2",
                WideGhash::Avx512 => "vpclmul-avx512",
            },
        }
    }

    /// Absorbs `data` (zero-padded to whole blocks) into `xi`.
    pub(crate) fn update_padded(&self, xi: &mut [u8; 16], data: &[u8]) {
        let whole = data.len() & !15;
        self.update_blocks(xi, &data[..whole]);
        if whole < data.len() {
            let mut last = [0u8; 16];
            last[..data.len() - whole].copy_from_slice(&data[whole..]);
            self.update_blocks(xi, &last);
        }
    }

    pub(crate) fn update_blocks(&self, xi: &mut [u8; 16], blocks: &[u8]) {
        match self {
            Self::Pclmul(t, table) => ffi::ghash_pclmul_update(*t, table, xi, blocks),
            Self::Vpclmul(t, table) => ffi::ghash_vpclmul_update(*t, table, xi, blocks),
            Self::Portable(h) => {
                let mut x = u128::from_be_bytes(*xi);
                for b in blocks.chunks_exact(16) {
                    let mut c = [0u8; 16];
                    c.copy_from_slice(b);
                    x = gf128_mul(x ^ u128::from_be_bytes(c), *h);
                }
                *xi = x.to_be_bytes();
            }
        }
    }
}

/// Multiplication in GF(2^128) with GCM's bit order (SP 800-38D Algorithm 1), branch-free.
fn gf128_mul(x: u128, h: u128) -> u128 {
    const R: u128 = 0xe1 << 120;
    let mut z = 0u128;
    let mut v = h;
    for i in (0..128).rev() {
        let bit = (x >> i) & 1;
        z ^= v & 0u128.wrapping_sub(bit);
        let lsb = v & 1;
        v = (v >> 1) ^ (R & 0u128.wrapping_sub(lsb));
    }
    z
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

    use super::*;
    use crate::ffi::{Pclmul, Vpclmul};

    /// The wide kernel's key table, on any CPU that can make it (PCLMULQDQ suffices for the
    /// table; the token needs VPCLMULQDQ): entry i of the first 256 bytes is H^(i+1) and entry
    /// i from byte 256 is H^(64-i), both byte-reversed, checked against the portable
    /// multiplication; and its first 64 bytes are the 128-bit kernel's table, which takes the
    /// wide kernel's short tails.
    #[test]
    fn wide_table_holds_the_powers_the_kernels_read() {
        let f = Features::get();
        let (Some(v), Some(p)) = (Vpclmul::best(f), Pclmul::new(f)) else {
            eprintln!("no VPCLMULQDQ here: skipped");
            return;
        };
        let h: [u8; 16] = core::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5c);
        let wide = ffi::ghash_vpclmul_init(v, &h);
        let narrow = ffi::ghash_pclmul_init(p, &h);
        assert_eq!(&wide[..64], &narrow[..]);
        let entry = |off: usize| {
            let mut b: [u8; 16] = wide[off..off + 16].try_into().unwrap();
            b.reverse();
            u128::from_be_bytes(b)
        };
        let h1 = u128::from_be_bytes(h);
        let mut power = h1;
        for k in 1..=64 {
            if k <= 16 {
                assert_eq!(entry(16 * (k - 1)), power, "ascending H^{k}");
            }
            assert_eq!(entry(256 + 16 * (64 - k)), power, "descending H^{k}");
            power = gf128_mul(power, h1);
        }
    }
}
