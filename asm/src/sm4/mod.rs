//! SM4 (GB/T 32907) and its modes, on the fastest kernel this CPU allows.
//!
//! Kernels, chosen once per key from a [`Features`] witness, fastest first (`csrc/sm4_avx2.c`;
//! sixteen blocks per step in AVX2 registers, no memory lookups):
//! - `GfniAvx2`: the S-box as two GFNI affine instructions;
//! - `VaesAvx2`: the S-box through 256-bit VAESENCLAST between two affine maps (nibble shuffles);
//! - `AesNiAvx2`: the same with 128-bit AESENCLAST (plus a one-block kernel for serial modes);
//! - `Portable`: a computed S-box on packed bytes (`portable.rs`), for every other CPU.
//!
//! Nothing here indexes memory with secret data or branches on it.

mod portable;

use crate::cpu::Features;

/// Which implementation a key uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kernel {
    /// Computed S-box, any CPU.
    Portable,
    /// AES-NI + AVX2: AESENCLAST on 128-bit halves (x86-64).
    AesNiAvx2,
    /// VAES + AVX2: one 256-bit VAESENCLAST per S-box layer.
    VaesAvx2,
    /// GFNI + AVX2: two affine instructions per S-box layer.
    GfniAvx2,
    /// GFNI + AVX-512: sixteen blocks per register, rotates and ternary logic in the linear layer.
    GfniAvx512,
}

impl Kernel {
    /// The best kernel `features` allow.
    pub fn select(features: Features) -> Self {
        Self::select_from(Sm4Token::best(features))
    }

    fn select_from(t: Option<Sm4Token>) -> Self {
        match t.map(Sm4Token::kernel) {
            Some(Sm4Simd::GfniAvx512) => Self::GfniAvx512,
            Some(Sm4Simd::GfniAvx2) => Self::GfniAvx2,
            Some(Sm4Simd::VaesAvx2) => Self::VaesAvx2,
            Some(Sm4Simd::AesNiAvx2) => Self::AesNiAvx2,
            None => Self::Portable,
        }
    }

    /// The feature list that forces this kernel (for `ASM_CPU_FEATURES` and tests).
    pub const fn features(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            Self::AesNiAvx2 => "aesni,avx2",
            Self::VaesAvx2 => "aesni,avx2,vaes",
            Self::GfniAvx2 => "gfni,avx2",
            Self::GfniAvx512 => "gfni,avx2,avx512",
        }
    }

    /// Every kernel this CPU can run, for tests that force each one.
    pub fn available() -> Vec<Self> {
        let hw = Features::get();
        [
            Self::Portable,
            Self::AesNiAvx2,
            Self::VaesAvx2,
            Self::GfniAvx2,
            Self::GfniAvx512,
        ]
        .into_iter()
        .filter(|k| Self::select(hw.restricted_to(k.features())) == *k)
        .collect()
    }

    /// Stable lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            Self::AesNiAvx2 => "aesni-avx2",
            Self::VaesAvx2 => "vaes-avx2",
            Self::GfniAvx2 => "gfni-avx2",
            Self::GfniAvx512 => "gfni-avx512",
        }
    }
}

use zeroize::Zeroize;

use crate::ffi::{self, AesNi1, Gfni1, Sm4Simd, Sm4Token};
use crate::ghash::GhashKey;

/// An SM4 key: round keys for both directions, on one kernel (plus a one-block kernel for the
/// serial modes). Zeroized on drop.
#[derive(Clone)]
pub struct Sm4 {
    enc: [u32; 32],
    dec: [u32; 32],
    simd: Option<Sm4Token>,
    one: Option<One>,
    /// Both directions' keys in the short-input GFNI kernel's basis (zero when unused).
    zenc: [u32; 64],
    zdec: [u32; 64],
}

/// The kernel of serial modes and short inputs, of the same kind of S-box as the main one.
#[derive(Clone, Copy, Debug)]
enum One {
    /// One block with AESENCLAST.
    AesNi(AesNi1),
    /// CBC, CBC-MAC and up to eight blocks with GFNI (`csrc/sm4_gfni1.c`).
    Gfni(Gfni1),
}

impl core::fmt::Debug for Sm4 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sm4")
            .field("kernel", &self.kernel())
            .finish_non_exhaustive()
    }
}

impl Drop for Sm4 {
    fn drop(&mut self) {
        self.enc.zeroize();
        self.dec.zeroize();
        self.zenc.zeroize();
        self.zdec.zeroize();
    }
}

/// Block size.
pub const BLOCK: usize = 16;

/// How a counter block advances: all 128 bits (CTR mode as OpenSSL and SP 800-38A B.1), or the
/// low 32 bits only (GCM's inc32).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// 128-bit big-endian increment.
    Full128,
    /// 32-bit big-endian increment of the last word (GCM).
    Low32,
}

impl Sm4 {
    /// A key on the best kernel for this CPU.
    pub fn new(key: &[u8; 16]) -> Self {
        Self::with_features(key, Features::get())
    }

    /// A key on the best kernel `features` allow (tests pass narrowed features to force each
    /// path; features the CPU lacks are never used, since `Features` only ever narrows).
    pub fn with_features(key: &[u8; 16], features: Features) -> Self {
        let enc = portable::expand_key(key);
        let mut dec = enc;
        dec.reverse();
        let simd = Sm4Token::best(features);
        // The one-block AES-NI kernel only where the main kernel is AES-based too, so that a
        // forced path really runs one kind of S-box.
        let one = match simd.map(Sm4Token::kernel) {
            Some(Sm4Simd::AesNiAvx2 | Sm4Simd::VaesAvx2) => AesNi1::new(features).map(One::AesNi),
            Some(Sm4Simd::GfniAvx2 | Sm4Simd::GfniAvx512) => Gfni1::new(features).map(One::Gfni),
            None => None,
        };
        let (zenc, zdec) = match one {
            Some(One::Gfni(t)) => (
                ffi::sm4_gfni1_prepare(t, &enc),
                ffi::sm4_gfni1_prepare(t, &dec),
            ),
            _ => ([0; 64], [0; 64]),
        };
        Self {
            enc,
            dec,
            simd,
            one,
            zenc,
            zdec,
        }
    }

    /// The kernel in use.
    pub fn kernel(&self) -> Kernel {
        Kernel::select_from(self.simd)
    }

    /// The kernel of the serial modes (CBC encryption, CBC-MAC) and of inputs up to eight
    /// blocks, where there is one beside the main kernel: "aesni1" (one block with AESENCLAST),
    /// "gfni1" (`csrc/sm4_gfni1.c`) or "gfni1-vl" (its AVX-512VL build).
    pub fn serial_kernel(&self) -> Option<&'static str> {
        match self.one? {
            One::AesNi(_) => Some("aesni1"),
            One::Gfni(t) => Some(t.name()),
        }
    }

    fn crypt(&self, rk: &[u32; 32], data: &mut [u8]) {
        if data.is_empty() {
            return;
        }
        match (self.simd, self.one) {
            (_, Some(One::AesNi(t))) if data.len() == BLOCK => {
                let block: &mut [u8; 16] = data.try_into().unwrap_or_else(|_| unreachable!());
                ffi::sm4_aesni1(t, rk, block);
            }
            (_, Some(One::Gfni(t))) if data.len() <= ffi::GFNI1_MAX_BLOCKS * BLOCK => {
                let zk = if core::ptr::eq(rk, &self.enc) {
                    &self.zenc
                } else {
                    &self.zdec
                };
                ffi::sm4_gfni1_ecb(t, zk, data);
            }
            (Some(t), _) => ffi::sm4_simd(t, rk, data),
            (None, _) => portable::crypt_blocks(rk, data),
        }
    }

    /// Encrypts whole blocks in place (ECB). Panics if `data` is not whole blocks: callers check.
    pub fn encrypt_blocks(&self, data: &mut [u8]) {
        self.crypt(&self.enc, data);
    }

    /// Decrypts whole blocks in place (ECB).
    pub fn decrypt_blocks(&self, data: &mut [u8]) {
        self.crypt(&self.dec, data);
    }

    /// XORs the keystream from counter block `ctr` into `data` (any length) and returns the
    /// next counter block.
    pub fn ctr(&self, ctr: &[u8; 16], counter: Counter, data: &mut [u8]) -> [u8; 16] {
        self.ctr_and_block(ctr, counter, data, None)
    }

    /// [`Sm4::ctr`], and `block` (when given) encrypted in place as one ECB block: with the
    /// in-register CTR kernel it rides in the first counter blocks' rounds (GCM's E(J0)),
    /// otherwise it is encrypted on its own first.
    pub fn ctr_and_block(
        &self,
        ctr: &[u8; 16],
        counter: Counter,
        mut data: &mut [u8],
        mut block: Option<&mut [u8; 16]>,
    ) -> [u8; 16] {
        let mut c = u128::from_be_bytes(*ctr);
        // Kernels with in-register counters take whole blocks up to the next carry out of the
        // low 32 bits (GCM's counter never carries; CTR's 128-bit one is split there).
        // Short inputs go to the block kernel (the short-input one, where there is one): the
        // in-register CTR kernel works sixteen blocks at a time.
        let short =
            data.len() <= ffi::GFNI1_MAX_BLOCKS * BLOCK && matches!(self.one, Some(One::Gfni(_)));
        if let Some(t) = self.simd.filter(|t| t.has_ctr32() && !short) {
            while data.len() >= BLOCK {
                let low = c as u32;
                let until_wrap = match counter {
                    Counter::Full128 => (1u64 << 32) - u64::from(low),
                    Counter::Low32 => u64::MAX,
                };
                let blocks =
                    (data.len() / BLOCK).min(usize::try_from(until_wrap).unwrap_or(usize::MAX));
                let (head, rest) = core::mem::take(&mut data).split_at_mut(blocks * BLOCK);
                ffi::sm4_ctr32(t, &self.enc, &c.to_be_bytes(), head, block.take());
                c = match counter {
                    Counter::Full128 => c.wrapping_add(blocks as u128),
                    Counter::Low32 => {
                        (c & !0xffff_ffff) | u128::from(low.wrapping_add(blocks as u32))
                    }
                };
                data = rest;
            }
        }
        if let Some(b) = block {
            self.encrypt_blocks(b);
        }
        self.ctr_generic(&c.to_be_bytes(), counter, data)
    }

    /// CTR with counter blocks built here and encrypted by the block kernel.
    fn ctr_generic(&self, ctr: &[u8; 16], counter: Counter, data: &mut [u8]) -> [u8; 16] {
        // 32 blocks per kernel call: the SIMD kernels run 16 at a time. Short inputs use a
        // buffer of eight blocks (the short-input kernel's most), and only what was used is
        // wiped.
        const CHUNK: usize = 32 * BLOCK;
        const SHORT: usize = ffi::GFNI1_MAX_BLOCKS * BLOCK;
        let mut c = u128::from_be_bytes(*ctr);
        if data.is_empty() {
            // Nothing left after the in-register kernel (a whole number of blocks): no kernel
            // call at all (the short-input kernel would run its 32 rounds on nothing).
            return *ctr;
        }
        if data.len() <= SHORT {
            let mut ks = [0u8; SHORT];
            let n = self.keystream(&mut ks, data.len(), &mut c, counter);
            xor_into(data, &ks);
            ks[..n].zeroize();
            return c.to_be_bytes();
        }
        let mut ks = [0u8; CHUNK];
        for piece in data.chunks_mut(CHUNK) {
            self.keystream(&mut ks, piece.len(), &mut c, counter);
            xor_into(piece, &ks);
        }
        ks.zeroize();
        c.to_be_bytes()
    }

    /// Writes the keystream for `len` bytes into `ks` from counter `c` (advanced past it);
    /// returns the bytes written (whole blocks).
    fn keystream(&self, ks: &mut [u8], len: usize, c: &mut u128, counter: Counter) -> usize {
        let blocks = len.div_ceil(BLOCK);
        for b in 0..blocks {
            ks[b * BLOCK..(b + 1) * BLOCK].copy_from_slice(&c.to_be_bytes());
            *c = match counter {
                Counter::Full128 => c.wrapping_add(1),
                Counter::Low32 => (*c & !0xffff_ffff) | u128::from((*c as u32).wrapping_add(1)),
            };
        }
        self.encrypt_blocks(&mut ks[..blocks * BLOCK]);
        blocks * BLOCK
    }

    /// CBC encryption of whole blocks in place (serial by nature).
    pub fn cbc_encrypt(&self, iv: &[u8; 16], data: &mut [u8]) {
        if let Some(One::Gfni(t)) = self.one {
            let mut chain = *iv;
            let whole = data.len() / BLOCK * BLOCK;
            ffi::sm4_gfni1_cbc(t, &self.zenc, &mut chain, &mut data[..whole]);
            return;
        }
        let mut prev = *iv;
        for block in data.chunks_exact_mut(BLOCK) {
            for (b, p) in block.iter_mut().zip(&prev) {
                *b ^= p;
            }
            self.encrypt_blocks(block);
            prev.copy_from_slice(block);
        }
    }

    /// CBC-MAC over whole blocks: `state = E(state ^ block)` for each block of `data`.
    pub fn cbc_mac(&self, state: &mut [u8; 16], data: &[u8]) {
        if let Some(One::Gfni(t)) = self.one {
            let whole = data.len() / BLOCK * BLOCK;
            ffi::sm4_gfni1_mac(t, &self.zenc, state, &data[..whole]);
            return;
        }
        for block in data.chunks_exact(BLOCK) {
            for (s, b) in state.iter_mut().zip(block) {
                *s ^= b;
            }
            self.encrypt_blocks(state);
        }
    }

    /// CBC decryption of whole blocks in place: blocks are decrypted eight at a time, then
    /// each is XORed with the ciphertext block before it.
    pub fn cbc_decrypt(&self, iv: &[u8; 16], data: &mut [u8]) {
        const CHUNK: usize = 32 * BLOCK;
        let mut prev = *iv;
        let mut saved = [0u8; CHUNK];
        for piece in data.chunks_mut(CHUNK) {
            let n = piece.len();
            saved[..n].copy_from_slice(piece);
            self.decrypt_blocks(piece);
            for (i, block) in piece.chunks_exact_mut(BLOCK).enumerate() {
                let chain: &[u8] = if i == 0 {
                    &prev
                } else {
                    &saved[(i - 1) * BLOCK..i * BLOCK]
                };
                for (b, c) in block.iter_mut().zip(chain) {
                    *b ^= c;
                }
            }
            prev.copy_from_slice(&saved[n - BLOCK..n]);
        }
    }
}

/// `dst ^= src` over `dst.len()` bytes, eight at a time.
#[inline]
fn xor_into(dst: &mut [u8], src: &[u8]) {
    let n = dst.len() & !7;
    for (d, s) in dst[..n].chunks_exact_mut(8).zip(src.chunks_exact(8)) {
        let mut a = [0u8; 8];
        a.copy_from_slice(d);
        let mut b = [0u8; 8];
        b.copy_from_slice(s);
        d.copy_from_slice(&(u64::from_ne_bytes(a) ^ u64::from_ne_bytes(b)).to_ne_bytes());
    }
    for (d, s) in dst[n..].iter_mut().zip(&src[n..]) {
        *d ^= s;
    }
}

/// GCM seals messages up to this size with one kernel call (E(J0) and the keystream together).
const SMALL: usize = 256;

/// GCM seal works in chunks of this many bytes (CTR, then GHASH while the chunk is in L1).
const FUSE: usize = 256 * BLOCK;

/// CCM seals payloads up to this size with one CTR call for the tag's mask and the payload.
const SHORT_CCM: usize = 7 * BLOCK;

/// Length of GCM and CCM nonces and tags here (RFC 8998).
pub const NONCE_LEN: usize = 12;
/// Tag length.
pub const TAG_LEN: usize = 16;

/// Constant-time equality of two tags.
fn tags_equal(a: &[u8; 16], b: &[u8; 16]) -> bool {
    let mut d = 0u8;
    for (x, y) in a.iter().zip(b) {
        d |= x ^ y;
    }
    // The verdict is public by design (the caller learns it anyway).
    ffi::ct_declassify(core::hint::black_box(d)) == 0
}

/// SM4-GCM (NIST SP 800-38D with SM4, as RFC 8998 uses it: 96-bit nonce, 128-bit tag).
#[derive(Clone)]
pub struct Sm4Gcm {
    sm4: Sm4,
    ghash: GhashKey,
}

impl core::fmt::Debug for Sm4Gcm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sm4Gcm")
            .field("kernel", &self.sm4.kernel())
            .finish_non_exhaustive()
    }
}

/// Authentication failed; the buffer was not decrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagMismatch;

/// The input is longer than the mode allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong;

impl Sm4Gcm {
    /// A key on the best kernels for this CPU.
    pub fn new(key: &[u8; 16]) -> Self {
        Self::with_features(key, Features::get())
    }

    /// A key on the kernels `features` allow.
    pub fn with_features(key: &[u8; 16], features: Features) -> Self {
        let sm4 = Sm4::with_features(key, features);
        let mut h = [0u8; 16];
        sm4.encrypt_blocks(&mut h);
        let ghash = GhashKey::new(&h, features);
        h.zeroize();
        Self { sm4, ghash }
    }

    /// The SM4 kernel in use.
    pub fn kernel(&self) -> Kernel {
        self.sm4.kernel()
    }

    /// The GHASH kernel in use: `portable`, `pclmul`, `vpclmul-avx2` or `vpclmul-avx512`.
    pub fn ghash_kernel(&self) -> &'static str {
        self.ghash.name()
    }

    /// J0 = nonce || 0^31 || 1 plus `add` (in the low word), made in registers: built in
    /// memory by a 12-byte copy and a one-byte store, the kernels' wider reads of it could
    /// not be forwarded from those stores and waited for them (measured in a 1 KiB seal).
    fn j0(nonce: &[u8; 12], add: u32) -> [u8; 16] {
        let [a, b, c, d, e, f, g, h, i, j, k, l] = *nonce;
        let hi = u64::from_be_bytes([a, b, c, d, e, f, g, h]);
        let mid = u32::from_be_bytes([i, j, k, l]);
        ((u128::from(hi) << 64) | (u128::from(mid) << 32) | u128::from(1 + add)).to_be_bytes()
    }

    fn tag(&self, j0: &[u8; 16], aad: &[u8], ct: &[u8]) -> [u8; 16] {
        let mut xi = [0u8; 16];
        self.ghash.update_padded(&mut xi, aad);
        self.ghash.update_padded(&mut xi, ct);
        self.finish(j0, xi, aad.len(), ct.len())
    }

    /// Absorbs the length block and masks with E(J0).
    fn finish(&self, j0: &[u8; 16], xi: [u8; 16], aad_len: usize, ct_len: usize) -> [u8; 16] {
        let mut ek0 = *j0;
        self.sm4.encrypt_blocks(&mut ek0);
        self.finish_with(&ek0, xi, aad_len, ct_len)
    }

    /// Absorbs the length block and masks with `ek0` = E(J0).
    fn finish_with(
        &self,
        ek0: &[u8; 16],
        mut xi: [u8; 16],
        aad_len: usize,
        ct_len: usize,
    ) -> [u8; 16] {
        let mut lens = [0u8; 16];
        lens[..8].copy_from_slice(&((aad_len as u64) * 8).to_be_bytes());
        lens[8..].copy_from_slice(&((ct_len as u64) * 8).to_be_bytes());
        self.ghash.update_blocks(&mut xi, &lens);
        for (x, e) in xi.iter_mut().zip(ek0) {
            *x ^= e;
        }
        xi
    }

    /// Encrypts `data` in place and returns the tag. Plaintexts over 2^36 - 32 bytes are refused.
    pub fn seal(&self, nonce: &[u8; 12], aad: &[u8], data: &mut [u8]) -> Result<[u8; 16], TooLong> {
        if data.len() as u64 > (1u64 << 36) - 32 || aad.len() as u64 > (1u64 << 61) - 1 {
            return Err(TooLong);
        }
        let j0 = Self::j0(nonce, 0);
        if data.len() <= SMALL {
            // One kernel call for E(J0) and the keystream together: [0; 16] || data under the
            // counter blocks J0, J0 + 1, ... gives E(J0) then the ciphertext.
            let mut buf = [0u8; SMALL + BLOCK];
            let n = data.len();
            buf[BLOCK..BLOCK + n].copy_from_slice(data);
            self.sm4.ctr(&j0, Counter::Low32, &mut buf[..BLOCK + n]);
            data.copy_from_slice(&buf[BLOCK..BLOCK + n]);
            let mut ek0 = [0u8; 16];
            ek0.copy_from_slice(&buf[..BLOCK]);
            buf.zeroize();
            let mut xi = [0u8; 16];
            self.ghash.update_padded(&mut xi, aad);
            self.ghash.update_padded(&mut xi, data);
            return Ok(self.finish_with(&ek0, xi, aad.len(), n));
        }
        // E(J0) rides with the first chunk's keystream: alone, one block's 32 dependent
        // rounds cost about what 64 counter blocks do (a third of a 1 KiB seal, measured).
        let mut ek0 = j0;
        let mut first = Some(&mut ek0);
        let mut ctr = Self::j0(nonce, 1);
        // Encrypt and hash chunk by chunk, so GHASH reads ciphertext still in L1.
        let mut xi = [0u8; 16];
        self.ghash.update_padded(&mut xi, aad);
        let mut chunks = data.chunks_mut(FUSE);
        for chunk in &mut chunks {
            ctr = self
                .sm4
                .ctr_and_block(&ctr, Counter::Low32, chunk, first.take());
            if chunk.len() == FUSE {
                self.ghash.update_blocks(&mut xi, chunk);
            } else {
                self.ghash.update_padded(&mut xi, chunk);
            }
        }
        let tag = self.finish_with(&ek0, xi, aad.len(), data.len());
        ek0.zeroize();
        Ok(tag)
    }

    /// Checks the tag in constant time, then decrypts in place. On failure `data` is left as
    /// it was (ciphertext): no plaintext is ever written for a forged message.
    pub fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), TagMismatch> {
        if data.len() as u64 > (1u64 << 36) - 32 {
            return Err(TagMismatch);
        }
        let j0 = Self::j0(nonce, 0);
        let expected = self.tag(&j0, aad, data);
        if !tags_equal(&expected, tag) {
            return Err(TagMismatch);
        }
        self.sm4.ctr(&Self::j0(nonce, 1), Counter::Low32, data);
        Ok(())
    }
}

/// SM4-CCM (NIST SP 800-38C / RFC 3610 formatting) with a 12-byte nonce and 16-byte tag, as
/// RFC 8998 uses it. With a 12-byte nonce the length field has 3 bytes: messages up to
/// 2^24 - 1 bytes.
#[derive(Clone, Debug)]
pub struct Sm4Ccm {
    sm4: Sm4,
}

impl Sm4Ccm {
    /// Largest message: 2^24 - 1 bytes (q = 3).
    pub const MAX_LEN: usize = (1 << 24) - 1;

    /// A key on the best kernel for this CPU.
    pub fn new(key: &[u8; 16]) -> Self {
        Self::with_features(key, Features::get())
    }

    /// A key on the kernel `features` allow.
    pub fn with_features(key: &[u8; 16], features: Features) -> Self {
        Self {
            sm4: Sm4::with_features(key, features),
        }
    }

    /// The SM4 kernel in use.
    pub fn kernel(&self) -> Kernel {
        self.sm4.kernel()
    }

    fn counter(nonce: &[u8; 12], i: u32) -> [u8; 16] {
        let mut a = [0u8; 16];
        a[0] = 2; // q - 1 with q = 3
        a[1..13].copy_from_slice(nonce);
        a[13..].copy_from_slice(&i.to_be_bytes()[1..]);
        a
    }

    /// CBC-MAC state after B0 and the encoded AAD (SP 800-38C A.2).
    fn mac_start(&self, nonce: &[u8; 12], aad: &[u8], payload_len: usize) -> CbcMac<'_> {
        let mut x = [0u8; 16];
        x[0] = (u8::from(!aad.is_empty()) << 6) | (((TAG_LEN as u8 - 2) / 2) << 3) | 2;
        x[1..13].copy_from_slice(nonce);
        x[13..].copy_from_slice(&(payload_len as u32).to_be_bytes()[1..]);
        let mut mac = CbcMac::new(&self.sm4);
        mac.update(&x);
        if !aad.is_empty() {
            if aad.len() < 0xff00 {
                mac.update(&(aad.len() as u16).to_be_bytes());
            } else {
                mac.update(&[0xff, 0xfe]);
                mac.update(&(aad.len() as u32).to_be_bytes());
            }
            mac.update(aad);
            mac.pad();
        }
        mac
    }

    /// Encrypts `data` in place and returns the tag.
    pub fn seal(&self, nonce: &[u8; 12], aad: &[u8], data: &mut [u8]) -> Result<[u8; 16], TooLong> {
        if data.len() > Self::MAX_LEN || aad.len() as u64 >= 1 << 32 {
            return Err(TooLong);
        }
        let mut mac = self.mac_start(nonce, aad, data.len());
        mac.update(data);
        let mut t = mac.finish();
        if data.len() <= SHORT_CCM {
            // The tag's mask (counter 0) and the payload's keystream (1..) in one call.
            let mut buf = [0u8; BLOCK + SHORT_CCM];
            let n = BLOCK + data.len();
            buf[..BLOCK].copy_from_slice(&t);
            buf[BLOCK..n].copy_from_slice(data);
            self.sm4
                .ctr(&Self::counter(nonce, 0), Counter::Full128, &mut buf[..n]);
            t.copy_from_slice(&buf[..BLOCK]);
            data.copy_from_slice(&buf[BLOCK..n]);
            buf[..n].zeroize();
            return Ok(t);
        }
        self.sm4
            .ctr(&Self::counter(nonce, 1), Counter::Full128, data);
        self.sm4
            .ctr(&Self::counter(nonce, 0), Counter::Full128, &mut t);
        Ok(t)
    }

    /// Decrypts chunk by chunk into a stack buffer only to feed the CBC-MAC, checks the tag
    /// in constant time, and only then decrypts `data` in place; on failure `data` is
    /// unchanged. No allocation.
    pub fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), TagMismatch> {
        if data.len() > Self::MAX_LEN || aad.len() as u64 >= 1 << 32 {
            return Err(TagMismatch);
        }
        let mut mac = self.mac_start(nonce, aad, data.len());
        let mut buf = [0u8; 8 * BLOCK];
        let mut ctr = Self::counter(nonce, 1);
        for chunk in data.chunks(buf.len()) {
            let piece = &mut buf[..chunk.len()];
            piece.copy_from_slice(chunk);
            ctr = self.sm4.ctr(&ctr, Counter::Full128, piece);
            mac.update(piece);
        }
        buf.zeroize();
        let mut t = mac.finish();
        self.sm4
            .ctr(&Self::counter(nonce, 0), Counter::Full128, &mut t);
        if !tags_equal(&t, tag) {
            return Err(TagMismatch);
        }
        self.sm4
            .ctr(&Self::counter(nonce, 1), Counter::Full128, data);
        Ok(())
    }
}

/// A running CBC-MAC (CCM's authentication half). Input collects in a buffer of eight
/// blocks and goes to the kernel a buffer (or a run of whole blocks) at a time: the serial
/// kernel keeps the chain in registers across one call, and a short message (B0, the AAD, the
/// payload) is one call. The buffer holds plaintext: it is wiped when the MAC is dropped.
struct CbcMac<'a> {
    sm4: &'a Sm4,
    x: [u8; 16],
    buf: [u8; MAC_BUF],
    fill: usize,
    /// How much of `buf` was ever written (what the wipe must cover).
    used: usize,
}

/// The CBC-MAC buffer: eight blocks, what the short-input kernel takes in one call.
const MAC_BUF: usize = 8 * BLOCK;

impl<'a> CbcMac<'a> {
    fn new(sm4: &'a Sm4) -> Self {
        Self {
            sm4,
            x: [0; 16],
            buf: [0; MAC_BUF],
            fill: 0,
            used: 0,
        }
    }

    fn flush(&mut self) {
        debug_assert!(self.fill.is_multiple_of(BLOCK));
        if self.fill > 0 {
            self.sm4.cbc_mac(&mut self.x, &self.buf[..self.fill]);
            self.fill = 0;
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.fill == 0 && data.len() >= MAC_BUF {
                // Whole blocks straight from the input, in one call.
                let whole = data.len() / BLOCK * BLOCK;
                self.sm4.cbc_mac(&mut self.x, &data[..whole]);
                data = &data[whole..];
                continue;
            }
            let n = (MAC_BUF - self.fill).min(data.len());
            self.buf[self.fill..self.fill + n].copy_from_slice(&data[..n]);
            self.fill += n;
            self.used = self.used.max(self.fill);
            data = &data[n..];
            if self.fill == MAC_BUF {
                self.flush();
            }
        }
    }

    /// Zero-pads a partial block.
    fn pad(&mut self) {
        let r = self.fill % BLOCK;
        if r > 0 {
            let n = BLOCK - r;
            self.buf[self.fill..self.fill + n].fill(0);
            self.fill += n;
            self.used = self.used.max(self.fill);
            if self.fill == MAC_BUF {
                self.flush();
            }
        }
    }

    /// The MAC of everything so far (padded).
    fn finish(mut self) -> [u8; 16] {
        self.pad();
        self.flush();
        self.x
    }
}

impl Drop for CbcMac<'_> {
    fn drop(&mut self) {
        self.buf[..self.used].zeroize();
    }
}
