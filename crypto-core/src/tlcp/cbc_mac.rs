//! HMAC-SM3 over a CBC record whose content length is secret (it follows from the padding),
//! in constant time: the Lucky Thirteen countermeasure.
//!
//! A MAC computed over the content alone runs loops whose length is the content's, and
//! padding dummy compressions onto it equalises the count but not the branches and the
//! memory traffic around them: `benches/benches/tlcp_dudect.rs` measured |t| > 100 between
//! padding lengths with that approach. Here every record of one length costs the same
//! compressions over the same bytes: the blocks that hold content whatever the padding are
//! compressed as they are; every block that could hold the end of the message is built byte by
//! byte with masks (content, the 0x80 terminator, zeros, the bit length where it belongs) and
//! compressed, and the state after the block that really ends the message is kept with a mask.
//! The same approach as the TLS 1.2 CBC code of BoringSSL and s2n (described in AlFardan and
//! Paterson, "Lucky Thirteen", 2013, section 6); written here for SM3 (GB/T 32905-2016).

use zeroize::{Zeroize, Zeroizing};

use crate::ct;

const BLOCK: usize = 64;

/// The HMAC-SM3 key as the two SM3 states after `K ^ ipad` and `K ^ opad` (RFC 2104).
pub(crate) struct CtHmacSm3 {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl Drop for CtHmacSm3 {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

/// SM3's compression of whole blocks: our `asm` kernels where built (no table lookups, no
/// branches on data), else the portable code below.
fn compress(state: &mut [u32; 8], blocks: &[u8]) {
    #[cfg(feature = "asm")]
    asm::sm3::compress(state, blocks);
    #[cfg(not(feature = "asm"))]
    portable::compress(state, blocks);
}

/// GB/T 32905-2016 4.1.
const IV: [u32; 8] = [
    0x7380_166f,
    0x4914_b2b9,
    0x1724_42d7,
    0xda8a_0600,
    0xa96f_30bc,
    0x1631_38aa,
    0xe38d_ee4d,
    0xb0fb_0e4e,
];

impl CtHmacSm3 {
    /// The key (at most 64 bytes: TLCP's MAC keys are 32).
    pub(crate) fn new(key: &[u8]) -> Self {
        debug_assert!(key.len() <= BLOCK);
        let mut ipad = Zeroizing::new([0x36u8; BLOCK]);
        let mut opad = Zeroizing::new([0x5cu8; BLOCK]);
        for (i, k) in key.iter().enumerate().take(BLOCK) {
            ipad[i] ^= k;
            opad[i] ^= k;
        }
        let mut inner = IV;
        compress(&mut inner, ipad.as_slice());
        let mut outer = IV;
        compress(&mut outer, opad.as_slice());
        Self { inner, outer }
    }

    /// The MAC of `header || body[..content_len]`, where `content_len` is secret and lies in
    /// `body.len() - 255 ..= body.len()` (clamped at 0), and `header` is the 13-byte pseudo
    /// header (whose length field is also secret). Runs the same compressions over the same
    /// bytes for every `content_len` of one `body.len()`.
    pub(crate) fn mac(&self, header: &[u8; 13], body: &[u8], content_len: usize) -> [u8; 32] {
        let max_len = 13 + body.len(); // the message (header and content) at its longest
        let min_len = 13 + body.len().saturating_sub(255);
        let len = 13 + content_len; // secret
        let byte = |i: usize| -> u8 {
            // Public bounds only: i < max_len.
            if i < 13 { header[i] } else { body[i - 13] }
        };
        let mut state = self.inner;
        // Blocks whole below the shortest message: content whatever the padding.
        let public = min_len / BLOCK;
        let mut block = Zeroizing::new([0u8; BLOCK]);
        if public > 0 {
            // The header and the first 51 bytes, then the rest straight from `body` in one
            // call (64 * public - 13 <= body.len() - 255: all of it content).
            block[..13].copy_from_slice(header);
            block[13..].copy_from_slice(&body[..BLOCK - 13]);
            compress(&mut state, block.as_slice());
            compress(&mut state, &body[BLOCK - 13..BLOCK * public - 13]);
        }
        // Every block that may end the message: the final one holds 0x80 after the message
        // and the bit length (ipad block included) in its last 8 bytes.
        let last = (max_len + 8) / BLOCK;
        let final_block = (len + 8) / BLOCK; // secret
        let bits = ((BLOCK + len) as u64 * 8).to_be_bytes();
        let mut kept = [0u32; 8];
        for k in public..=last {
            let is_final = ct::eq_mask_usize(k, final_block);
            for (j, b) in block.iter_mut().enumerate() {
                let i = k * BLOCK + j;
                let data = if i < max_len { byte(i) } else { 0 };
                let in_msg = ct::lt_mask_usize(i, len) as u8;
                let at_end = ct::eq_mask_usize(i, len) as u8;
                let mut v = (data & in_msg) | (0x80 & at_end);
                if j >= BLOCK - 8 {
                    // The length field, in the final block only (where it never overlaps the
                    // message or its terminator: len + 9 <= 64 * (final_block + 1)).
                    v |= bits[j - (BLOCK - 8)] & is_final as u8;
                }
                *b = v;
            }
            compress(&mut state, block.as_slice());
            for (o, s) in kept.iter_mut().zip(state) {
                *o |= s & is_final as u32;
            }
        }
        state.zeroize();
        // Outer hash: the 32-byte inner digest, 0x80, zeros, the bit length of 64 + 32 bytes.
        let mut outer = self.outer;
        for (w, chunk) in kept.iter().zip(block.chunks_mut(4)) {
            chunk.copy_from_slice(&w.to_be_bytes());
        }
        kept.zeroize();
        block[32] = 0x80;
        block[33..56].fill(0);
        block[56..].copy_from_slice(&((BLOCK as u64 + 32) * 8).to_be_bytes());
        compress(&mut outer, block.as_slice());
        let mut out = [0u8; 32];
        for (w, chunk) in outer.iter().zip(out.chunks_mut(4)) {
            chunk.copy_from_slice(&w.to_be_bytes());
        }
        out
    }
}

/// SM3's compression function in plain Rust (GB/T 32905-2016 5.3): rotations, additions and
/// Boolean functions on words, no tables, no branches on data.
#[cfg_attr(feature = "asm", allow(dead_code))]
mod portable {
    fn p0(x: u32) -> u32 {
        x ^ x.rotate_left(9) ^ x.rotate_left(17)
    }

    fn p1(x: u32) -> u32 {
        x ^ x.rotate_left(15) ^ x.rotate_left(23)
    }

    pub(super) fn compress(state: &mut [u32; 8], blocks: &[u8]) {
        assert!(blocks.len().is_multiple_of(64), "whole blocks only");
        for block in blocks.chunks_exact(64) {
            let mut w = [0u32; 68];
            for (i, c) in block.chunks_exact(4).enumerate() {
                w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
            }
            for j in 16..68 {
                w[j] = p1(w[j - 16] ^ w[j - 9] ^ w[j - 3].rotate_left(15))
                    ^ w[j - 13].rotate_left(7)
                    ^ w[j - 6];
            }
            let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
            for j in 0..64 {
                let t: u32 = if j < 16 { 0x79cc_4519 } else { 0x7a87_9d8a };
                let ss1 = a
                    .rotate_left(12)
                    .wrapping_add(e)
                    .wrapping_add(t.rotate_left(j as u32 % 32))
                    .rotate_left(7);
                let ss2 = ss1 ^ a.rotate_left(12);
                let (ff, gg) = if j < 16 {
                    (a ^ b ^ c, e ^ f ^ g)
                } else {
                    ((a & b) | (a & c) | (b & c), (e & f) | (!e & g))
                };
                let tt1 = ff
                    .wrapping_add(d)
                    .wrapping_add(ss2)
                    .wrapping_add(w[j] ^ w[j + 4]);
                let tt2 = gg.wrapping_add(h).wrapping_add(ss1).wrapping_add(w[j]);
                d = c;
                c = b.rotate_left(9);
                b = a;
                a = tt1;
                h = g;
                g = f.rotate_left(19);
                f = e;
                e = p0(tt2);
            }
            for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
                *s ^= v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The portable compression gives GB/T 32905-2016's example digests.
    #[test]
    fn portable_sm3_matches_the_standard() {
        // Appendix A.1: "abc".
        let mut block = [0u8; 64];
        block[..3].copy_from_slice(b"abc");
        block[3] = 0x80;
        block[63] = 24;
        let mut s = IV;
        portable::compress(&mut s, &block);
        let hex: String = s.iter().map(|w| format!("{w:08x}")).collect();
        assert_eq!(
            hex,
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    /// Every content length a record of a few sizes allows, against RustCrypto's HMAC-SM3.
    #[cfg(feature = "rustcrypto")]
    #[test]
    #[allow(clippy::unwrap_used)]
    fn equals_hmac_sm3_for_every_padding() {
        use crate::{Backend, HashAlg};
        let hmac = Backend::RustCrypto.hmac(HashAlg::Sm3).unwrap();
        let key = [0x0bu8; 32];
        let reference = hmac.with_key(&key);
        let ct = CtHmacSm3::new(&key);
        for body_len in [0usize, 1, 40, 63, 64, 100, 255, 256, 300, 1000, 16_400] {
            let body: Vec<u8> = (0..body_len).map(|i| (i * 7 + 3) as u8).collect();
            for content_len in body_len.saturating_sub(255)..=body_len {
                let mut header = [0u8; 13];
                header[..8].copy_from_slice(&9u64.to_be_bytes());
                header[8] = 23;
                header[9..11].copy_from_slice(&[1, 1]);
                header[11..].copy_from_slice(&(content_len as u16).to_be_bytes());
                let want = reference.sign(&[&header, &body[..content_len]]);
                assert_eq!(
                    &ct.mac(&header, &body, content_len)[..],
                    want.as_ref(),
                    "body {body_len}, content {content_len}"
                );
            }
        }
    }

    /// The kernel in use and the portable code agree.
    #[test]
    fn compressions_agree() {
        let data: Vec<u8> = (0..64 * 5).map(|i| (i * 13) as u8).collect();
        let (mut a, mut b) = (IV, IV);
        compress(&mut a, &data);
        portable::compress(&mut b, &data);
        assert_eq!(a, b);
    }
}
