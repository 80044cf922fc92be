//! Constant-time helpers.

/// Compares two byte strings in time that depends only on their lengths.
pub fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    core::hint::black_box(diff) == 0
}

/// The length of `buf` without its PKCS#7 padding, or `None` if the padding is malformed.
/// `buf` must be one or more whole 16-byte blocks. Every byte of the last block is read
/// whatever the padding says, and no branch depends on the data until the final verdict.
pub fn pkcs7_unpadded_len(buf: &[u8]) -> Option<usize> {
    if buf.is_empty() || !buf.len().is_multiple_of(16) {
        return None;
    }
    let last = &buf[buf.len() - 16..];
    let pad = last[15];
    // bad != 0 when pad is 0 or above 16.
    let mut bad = ct_is_zero(u32::from(pad)) | ct_lt(16, u32::from(pad));
    for (i, &b) in last.iter().enumerate() {
        // Byte i (counting from the end, 1-based) is padding when its position <= pad.
        let pos = 16 - i as u32;
        let in_pad = ct_lt(u32::from(pad), pos) ^ 1; // pos <= pad
        bad |= in_pad & ct_is_nonzero(u32::from(b ^ pad));
    }
    if core::hint::black_box(bad) == 0 {
        Some(buf.len() - usize::from(pad))
    } else {
        None
    }
}

/// 1 if `x == 0`, else 0, without branching.
fn ct_is_zero(x: u32) -> u32 {
    ((!x & x.wrapping_sub(1)) >> 31) & 1
}

/// 1 if `x != 0`, else 0.
fn ct_is_nonzero(x: u32) -> u32 {
    ct_is_zero(x) ^ 1
}

/// 1 if `a < b` (both below 2^31), else 0.
fn ct_lt(a: u32, b: u32) -> u32 {
    (a.wrapping_sub(b) >> 31) & 1
}

// The masks below pass through `black_box`: without it the optimiser sees a comparison in
// the arithmetic and may compile its users to branches. It did: the TLCP CBC dudect check
// (`benches/benches/tlcp_dudect.rs`) saw the padding length through them until they were made
// opaque.

/// All ones if `a < b`, else zero (both below 2^63), without a branch.
pub(crate) fn lt_mask_usize(a: usize, b: usize) -> usize {
    core::hint::black_box(((a.wrapping_sub(b) as isize) >> (usize::BITS - 1)) as usize)
}

/// All ones if `a == b`, else zero, without a branch.
pub(crate) fn eq_mask_usize(a: usize, b: usize) -> usize {
    let x = a ^ b;
    // x | -x has its top bit set exactly when x != 0.
    core::hint::black_box(!((((x | x.wrapping_neg()) as isize) >> (usize::BITS - 1)) as usize))
}

#[cfg(test)]
mod tests {
    #[test]
    fn pkcs7_accepts_exactly_the_valid_paddings() {
        for pad in 1..=16u8 {
            let mut block = [0xaau8; 32];
            block[32 - usize::from(pad)..].fill(pad);
            assert_eq!(
                super::pkcs7_unpadded_len(&block),
                Some(32 - usize::from(pad))
            );
            if pad > 1 {
                // Corrupt the first padding byte: must be refused.
                block[32 - usize::from(pad)] ^= 1;
                assert_eq!(super::pkcs7_unpadded_len(&block), None, "pad {pad}");
            }
        }
        let mut zero = [1u8; 16];
        zero[15] = 0;
        assert_eq!(super::pkcs7_unpadded_len(&zero), None);
        let mut big = [17u8; 16];
        big[15] = 17;
        assert_eq!(super::pkcs7_unpadded_len(&big), None);
        assert_eq!(super::pkcs7_unpadded_len(&[]), None);
        assert_eq!(super::pkcs7_unpadded_len(&[1u8; 15]), None);
    }

    #[test]
    fn eq_compares_every_byte() {
        assert!(super::eq(b"abc", b"abc"));
        assert!(!super::eq(b"abc", b"abd"));
        assert!(!super::eq(b"xbc", b"abc"));
        assert!(!super::eq(b"ab", b"abc"));
        assert!(super::eq(b"", b""));
    }
}
