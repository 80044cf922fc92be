//! SM3 (GB/T 32905-2016): one message at a time, or up to 16 messages at once.
//!
//! One message: `csrc/sm3_avx512vl.c` (the rounds in one XMM lane with VPROLD and
//! VPTERNLOGD), `csrc/sm3_bmi2.c` / `csrc/sm3_bmi2_rounds.c` (RORX rotates) or
//! `csrc/sm3_portable.c`, the same C (`csrc/sm3_impl.h`) compiled for each. Many messages:
//! one message per 32-bit lane, 8 lanes in AVX2 registers or 16 in AVX-512 ones
//! (`csrc/sm3_avx2.c`, `csrc/sm3_avx512.c`), each lane a full SM3; without AVX2, messages are
//! hashed one by one.
//! No table lookups and no branches on the data.

use crate::cpu::Features;
use crate::ffi::{self, Sm3Lanes, Sm3Path};

/// GB/T 32905-2016 4.1.
const IV: [u32; 8] = [
    0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e,
];

/// Digest length in bytes.
pub const DIGEST_LEN: usize = 32;

/// SM3's initial state (GB/T 32905-2016 4.1), for callers that compress blocks themselves.
pub const INITIAL_STATE: [u32; 8] = IV;

/// The raw compression function on the best one-message kernel for this CPU: whole 64-byte
/// blocks into `state` (panics on a partial block). For constructions that must pick, in
/// constant time, which intermediate state to keep (TLCP's CBC record MAC).
pub fn compress(state: &mut [u32; 8], blocks: &[u8]) {
    ffi::sm3_blocks(Kernel::select(Features::get()).path(), state, blocks);
}

/// Which kernel hashes one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kernel {
    /// Plain C, any CPU.
    Portable,
    /// BMI2: RORX rotates (x86-64), the message expansion in SSE registers beside the rounds.
    Bmi2,
    /// BMI2: RORX rotates, the message expansion inside the rounds (chosen on Intel cores
    /// without AVX-512).
    Bmi2Rounds,
    /// AVX-512VL and BMI2: the rounds in one lane of XMM registers (VPROLD, VPTERNLOGD), the
    /// message expansion in general registers beside them.
    Avx512Vl,
}

impl Kernel {
    /// The best kernel `f` allows.
    pub fn select(f: Features) -> Self {
        match Sm3Path::best(f) {
            Sm3Path::Bmi2 => Self::Bmi2,
            Sm3Path::Bmi2Rounds => Self::Bmi2Rounds,
            Sm3Path::Avx512Vl => Self::Avx512Vl,
            Sm3Path::Portable => Self::Portable,
        }
    }

    /// The feature list that forces this kernel.
    pub const fn features(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            Self::Bmi2 => "bmi2",
            Self::Bmi2Rounds => "bmi2,intel",
            Self::Avx512Vl => "bmi2,avx512",
        }
    }

    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            Self::Bmi2 => "bmi2",
            Self::Bmi2Rounds => "bmi2-rounds",
            Self::Avx512Vl => "avx512vl",
        }
    }

    /// Every kernel this CPU can run.
    pub fn available() -> Vec<Self> {
        let hw = Features::get();
        let mut v = vec![Self::Portable];
        if Self::select(hw.restricted_to("bmi2")) == Self::Bmi2 {
            v.push(Self::Bmi2);
            v.push(Self::Bmi2Rounds);
        }
        if Self::select(hw.restricted_to("bmi2,avx512")) == Self::Avx512Vl {
            v.push(Self::Avx512Vl);
        }
        v
    }

    fn path(self) -> Sm3Path {
        match self {
            Self::Portable => Sm3Path::Portable,
            Self::Bmi2 => Sm3Path::Bmi2,
            Self::Bmi2Rounds => Sm3Path::Bmi2Rounds,
            Self::Avx512Vl => Sm3Path::Avx512Vl,
        }
    }
}

/// Which kernel [`digest_many`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManyKernel {
    /// One message after another with the one-message kernel.
    Serial,
    /// 8 messages per step in AVX2 registers.
    Avx2x8,
    /// 16 messages per step in AVX-512 registers.
    Avx512x16,
}

impl ManyKernel {
    /// The best kernel `f` allows. The 16-lane kernel is also required to pass a known-answer
    /// self-test once per process (it could not be run where it was written; see README.md),
    /// and the 8-lane one is used instead if it does not.
    pub fn select(f: Features) -> Self {
        match Sm3Lanes::best(f) {
            Some(Sm3Lanes::Avx512x16) if avx512_self_test() => Self::Avx512x16,
            Some(Sm3Lanes::Avx512x16 | Sm3Lanes::Avx2x8) => Self::Avx2x8,
            None => Self::Serial,
        }
    }

    /// The feature list that forces this kernel.
    pub const fn features(self) -> &'static str {
        match self {
            Self::Serial => "bmi2",
            Self::Avx2x8 => "avx2",
            Self::Avx512x16 => "avx2,avx512",
        }
    }

    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Serial => "serial",
            Self::Avx2x8 => "avx2-x8",
            Self::Avx512x16 => "avx512-x16",
        }
    }

    /// Every kernel this CPU can run.
    pub fn available() -> Vec<Self> {
        let hw = Features::get();
        let mut v = vec![Self::Serial];
        for k in [Self::Avx2x8, Self::Avx512x16] {
            if Self::select(hw.restricted_to(k.features())) == k {
                v.push(k);
            }
        }
        v
    }
}

/// Whether the 16-lane kernel hashes 40 messages of 0..=300 bytes (lanes refilled at
/// different blocks) exactly as the one-message kernel does. Run once, on first selection.
fn avx512_self_test() -> bool {
    static PASSED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PASSED.get_or_init(|| {
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(151) >> 3) as u8)
            .collect();
        let msgs: Vec<&[u8]> = (0..40).map(|i| &data[..(i * 53) % 301]).collect();
        let got = digest_many_with(ManyKernel::Avx512x16, &msgs);
        msgs.iter().zip(&got).all(|(m, d)| Sm3::digest(m) == *d)
    })
}

/// An SM3 computation in progress.
#[derive(Clone)]
pub struct Sm3 {
    state: [u32; 8],
    buf: [u8; 64],
    buf_len: usize,
    /// Bytes of `buf` ever written: only those can hold message data, so only those are
    /// wiped on drop (a short message's context wipes a few bytes, not the whole block).
    buf_high: usize,
    total: u64,
    kernel: Kernel,
}

impl core::fmt::Debug for Sm3 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sm3")
            .field("kernel", &self.kernel)
            .finish_non_exhaustive()
    }
}

impl Default for Sm3 {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Sm3 {
    fn drop(&mut self) {
        // HMAC keys pass through here.
        zeroize::Zeroize::zeroize(&mut self.buf[..self.buf_high]);
        zeroize::Zeroize::zeroize(&mut self.state);
    }
}

impl Sm3 {
    /// A fresh computation on the best kernel for this CPU.
    pub fn new() -> Self {
        Self::with_kernel(Kernel::select(Features::get()))
    }

    /// A fresh computation on the best kernel `f` allows.
    pub fn with_features(f: Features) -> Self {
        Self::with_kernel(Kernel::select(f))
    }

    fn with_kernel(kernel: Kernel) -> Self {
        Self {
            state: IV,
            buf: [0; 64],
            buf_len: 0,
            buf_high: 0,
            total: 0,
            kernel,
        }
    }

    /// The kernel in use.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Absorbs `data`.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.buf_len > 0 {
            let take = (64 - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            self.buf_len += take;
            self.buf_high = self.buf_high.max(self.buf_len);
            data = &data[take..];
            if self.buf_len < 64 {
                return;
            }
            ffi::sm3_blocks(self.kernel.path(), &mut self.state, &self.buf);
            self.buf_len = 0;
        }
        let whole = data.len() / 64 * 64;
        if whole > 0 {
            ffi::sm3_blocks(self.kernel.path(), &mut self.state, &data[..whole]);
        }
        let rest = &data[whole..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
        self.buf_high = self.buf_high.max(self.buf_len);
    }

    /// The digest of everything absorbed, leaving `self` usable for more.
    pub fn fork_finish(&self) -> [u8; DIGEST_LEN] {
        finish_tail(
            self.kernel.path(),
            self.state,
            &self.buf[..self.buf_len],
            self.total,
        )
    }

    /// A computation resumed from a chaining `state` after `total` bytes (whole blocks).
    fn resumed(kernel: Kernel, state: [u32; 8], total: u64) -> Self {
        Self {
            state,
            total,
            ..Self::with_kernel(kernel)
        }
    }

    /// The digest of everything absorbed.
    pub fn finish(self) -> [u8; DIGEST_LEN] {
        self.fork_finish()
    }

    /// The digest of `data`.
    pub fn digest(data: &[u8]) -> [u8; DIGEST_LEN] {
        // One shot: whole blocks straight from `data`, the padded tail from the stack; no
        // context, so no buffer to copy into and wipe (a 16-byte digest spent a sixth of its
        // time there).
        digest_from(Kernel::select(Features::get()).path(), IV, 0, data)
    }
}

/// The digest of a message whose first `done` bytes (whole blocks) left the chaining value
/// `state`, and whose remaining bytes are `data`: the whole blocks straight from `data`, the
/// padded tail from the stack (no context to copy into and wipe).
fn digest_from(path: Sm3Path, mut state: [u32; 8], done: u64, data: &[u8]) -> [u8; DIGEST_LEN] {
    let whole = data.len() / 64 * 64;
    if whole > 0 {
        ffi::sm3_blocks(path, &mut state, &data[..whole]);
    }
    finish_tail(
        path,
        state,
        &data[whole..],
        done.wrapping_add(data.len() as u64),
    )
}

/// Pads the last partial block `rest` of a `total`-byte message, compresses it into `state`
/// and returns the digest; the copy of `rest` in the tail and the state are wiped (the
/// padding and the length are not message data).
fn finish_tail(path: Sm3Path, mut state: [u32; 8], rest: &[u8], total: u64) -> [u8; DIGEST_LEN] {
    let mut tail = [0u8; 128];
    let n = pad(rest, total, &mut tail);
    ffi::sm3_blocks(path, &mut state, &tail[..n]);
    zeroize::Zeroize::zeroize(&mut tail[..rest.len()]);
    let out = words_to_digest(&state);
    zeroize::Zeroize::zeroize(&mut state);
    out
}

/// HMAC-SM3 (RFC 2104 over GB/T 32905) with the key's padded blocks absorbed once: the key
/// keeps only the two chaining states after `K ^ ipad` and `K ^ opad` (each exactly one
/// block), so a tag is the message's blocks plus one or two padded blocks, then one block for
/// the outer hash; nothing allocated per tag (one [`Sm3`] on the stack for the inner hash).
#[derive(Clone)]
pub struct HmacSm3 {
    inner: [u32; 8],
    outer: [u32; 8],
    kernel: Kernel,
}

impl core::fmt::Debug for HmacSm3 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HmacSm3")
            .field("kernel", &self.kernel)
            .finish_non_exhaustive()
    }
}

impl Drop for HmacSm3 {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.inner);
        zeroize::Zeroize::zeroize(&mut self.outer);
    }
}

impl HmacSm3 {
    /// A key (any length; longer than a block is hashed first, RFC 2104 2) on the best
    /// kernel for this CPU.
    pub fn new(key: &[u8]) -> Self {
        Self::with_features(key, Features::get())
    }

    /// A key on the best kernel `f` allows.
    pub fn with_features(key: &[u8], f: Features) -> Self {
        let kernel = Kernel::select(f);
        let mut k = [0u8; 64];
        if key.len() > 64 {
            let mut h = Sm3::with_kernel(kernel);
            h.update(key);
            k[..DIGEST_LEN].copy_from_slice(&h.fork_finish());
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut pad = [0u8; 64];
        let state = |byte: u8, pad: &mut [u8; 64]| {
            for (p, k) in pad.iter_mut().zip(&k) {
                *p = k ^ byte;
            }
            let mut st = IV;
            ffi::sm3_blocks(kernel.path(), &mut st, pad);
            st
        };
        let inner = state(0x36, &mut pad);
        let outer = state(0x5c, &mut pad);
        zeroize::Zeroize::zeroize(&mut pad);
        zeroize::Zeroize::zeroize(&mut k);
        Self {
            inner,
            outer,
            kernel,
        }
    }

    /// The tag over the concatenation of `parts`: the inner hash resumed after the ipad
    /// block, then the opad state finished over the inner digest.
    pub fn sign(&self, parts: &[&[u8]]) -> [u8; DIGEST_LEN] {
        let mut digest = if let [data] = parts {
            // One part (a record, a TLS PRF block): no buffering.
            digest_from(self.kernel.path(), self.inner, 64, data)
        } else {
            let mut inner = Sm3::resumed(self.kernel, self.inner, 64);
            for part in parts {
                inner.update(part);
            }
            inner.fork_finish()
        };
        let tag = finish_tail(
            self.kernel.path(),
            self.outer,
            &digest,
            64 + DIGEST_LEN as u64,
        );
        zeroize::Zeroize::zeroize(&mut digest);
        tag
    }
}

/// Writes the last partial block `rest` plus padding (GB/T 32905 5.2) for a message of
/// `total` bytes into `out`; returns the length (64 or 128).
fn pad(rest: &[u8], total: u64, out: &mut [u8; 128]) -> usize {
    let n = if rest.len() < 56 { 64 } else { 128 };
    out[..rest.len()].copy_from_slice(rest);
    out[rest.len()] = 0x80;
    out[rest.len() + 1..n - 8].fill(0);
    out[n - 8..n].copy_from_slice(&total.wrapping_mul(8).to_be_bytes());
    n
}

fn words_to_digest(state: &[u32; 8]) -> [u8; DIGEST_LEN] {
    let mut out = [0u8; DIGEST_LEN];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// The SM3 digests of several independent messages, computed side by side on the best
/// many-message kernel this CPU has.
pub fn digest_many(messages: &[&[u8]]) -> Vec<[u8; DIGEST_LEN]> {
    digest_many_with(ManyKernel::select(Features::get()), messages)
}

/// [`digest_many`] on the kernel `f` allows (for tests that force each one).
pub fn digest_many_with_features(f: Features, messages: &[&[u8]]) -> Vec<[u8; DIGEST_LEN]> {
    digest_many_with(ManyKernel::select(f), messages)
}

/// One message's blocks: its whole blocks in place, then one or two padded blocks.
struct Job<'a> {
    index: usize,
    body: &'a [u8],
    tail: [u8; 128],
    tail_len: usize,
    /// 0 while in `body`, 1 while in `tail`.
    segment: u8,
    offset: usize,
}

impl<'a> Job<'a> {
    fn new(index: usize, msg: &'a [u8]) -> Self {
        let whole = msg.len() / 64 * 64;
        let mut tail = [0u8; 128];
        let tail_len = pad(&msg[whole..], msg.len() as u64, &mut tail);
        Self {
            index,
            body: &msg[..whole],
            tail,
            tail_len,
            segment: u8::from(whole == 0),
            offset: 0,
        }
    }

    fn current(&self) -> &[u8] {
        if self.segment == 0 {
            &self.body[self.offset..]
        } else {
            &self.tail[self.offset..self.tail_len]
        }
    }

    /// Moves on by `n` blocks; true when the message is done.
    fn advance(&mut self, n: usize) -> bool {
        self.offset += 64 * n;
        if self.current().is_empty() {
            if self.segment == 0 {
                self.segment = 1;
                self.offset = 0;
            } else {
                return true;
            }
        }
        false
    }
}

fn digest_many_with(kernel: ManyKernel, messages: &[&[u8]]) -> Vec<[u8; DIGEST_LEN]> {
    let lanes_kind = match kernel {
        ManyKernel::Serial => None,
        ManyKernel::Avx2x8 => Some(Sm3Lanes::Avx2x8),
        ManyKernel::Avx512x16 => Some(Sm3Lanes::Avx512x16),
    };
    let Some(kind) = lanes_kind else {
        return messages.iter().map(|m| Sm3::digest(m)).collect();
    };
    let lanes = kind.lanes();
    let mut out = vec![[0u8; DIGEST_LEN]; messages.len()];
    let mut state = vec![0u32; 8 * lanes];
    let mut slots: Vec<Option<Job<'_>>> = (0..lanes).map(|_| None).collect();
    let mut next = 0;
    loop {
        for (lane, slot) in slots.iter_mut().enumerate() {
            if slot.is_none() && next < messages.len() {
                *slot = Some(Job::new(next, messages[next]));
                next += 1;
                for (w, iv) in IV.iter().enumerate() {
                    state[lanes * w + lane] = *iv;
                }
            }
        }
        let Some(first) = slots.iter().flatten().next() else {
            break;
        };
        let n = slots
            .iter()
            .flatten()
            .map(|j| j.current().len() / 64)
            .min()
            .unwrap_or(1);
        let filler = first.current();
        let inputs: Vec<&[u8]> = slots
            .iter()
            .map(|s| s.as_ref().map_or(filler, Job::current))
            .collect();
        ffi::sm3_lanes(kind, &mut state, &inputs, n);
        for (lane, slot) in slots.iter_mut().enumerate() {
            if let Some(job) = slot
                && job.advance(n)
            {
                let mut words = [0u32; 8];
                for (w, v) in words.iter_mut().enumerate() {
                    *v = state[lanes * w + lane];
                }
                out[job.index] = words_to_digest(&words);
                *slot = None;
            }
        }
    }
    out
}
