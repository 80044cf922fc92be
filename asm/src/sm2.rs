//! SM2 (GB/T 32918-2016) on our own curve arithmetic: signatures (part 2), key agreement as
//! RFC 8998 uses it (the x-coordinate of d * Q), and public-key encryption (part 4), all with
//! SM3 for Z, e, the KDF and C3.
//!
//! The arithmetic is `csrc/sm2_impl.h`, compiled twice: `Adx` (MULX/ADCX/ADOX field products,
//! AVX2 table scans) and `Portable` (plain C). Secrets (private keys, nonces, shared points)
//! only meet constant-time code; verification, whose inputs are all public, uses a faster
//! variable-time double multiplication.

use std::sync::OnceLock;

use zeroize::{Zeroize, Zeroizing};

use crate::cpu::Features;
use crate::ffi::{self, Sm2Path};
use crate::sm3::Sm3;

/// curveSM2's group order n (GB/T 32918.5), big-endian.
pub const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x72, 0x03, 0xdf, 0x6b, 0x21, 0xc6, 0x05, 0x2b, 0x53, 0xbb, 0xf4, 0x09, 0x39, 0xd5, 0x41, 0x23,
];

/// a, b, Gx, Gy of GB/T 32918.5, big-endian, for Z (GB/T 32918.2 5.5).
const CURVE_ABG: [u8; 128] = {
    let hex = b"FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC\
28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93\
32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7\
BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";
    let mut out = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        out[i] = (nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]);
        i += 1;
    }
    out
};

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("not a hex digit"),
    }
}

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A private key outside [1, n-2] (signing) or [1, n-1] (agreement, decryption).
    InvalidPrivateKey,
    /// A point that is not on the curve, or not `04 || x || y`.
    InvalidPoint,
    /// The result was the point at infinity.
    Infinity,
    /// A user ID longer than 8191 bytes (ENTL is 16 bits of bit length).
    IdTooLong,
    /// Decryption failed: C3 did not match, or the KDF output was all zero.
    DecryptFailed,
    /// A ciphertext shorter than C1 || C3.
    ShortCiphertext,
    /// The entropy source gave only unusable nonces (64 in a row).
    NoNonce,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::InvalidPrivateKey => "SM2 private key out of range",
            Self::InvalidPoint => "not a point on curveSM2",
            Self::Infinity => "SM2 result is the point at infinity",
            Self::IdTooLong => "SM2 user ID longer than 8191 bytes",
            Self::DecryptFailed => "SM2 decryption failed",
            Self::ShortCiphertext => "SM2 ciphertext shorter than C1 || C3",
            Self::NoNonce => "no usable SM2 nonce from the entropy source",
        })
    }
}

impl std::error::Error for Error {}

/// Which arithmetic runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kernel {
    /// Plain C, any CPU.
    Portable,
    /// MULX/ADCX/ADOX field products, AVX2 constant-time table scans (x86-64).
    Adx,
}

impl Kernel {
    /// The best kernel `f` allows.
    pub fn select(f: Features) -> Self {
        match Sm2Path::best(f) {
            Sm2Path::Adx => Self::Adx,
            Sm2Path::Portable => Self::Portable,
        }
    }

    /// The feature list that forces this kernel.
    pub const fn features(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            Self::Adx => "bmi2,adx,avx2",
        }
    }

    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            Self::Adx => "mulx-adx-avx2",
        }
    }

    /// Every kernel this CPU can run.
    pub fn available() -> Vec<Self> {
        let hw = Features::get();
        let mut v = vec![Self::Portable];
        if Self::select(hw.restricted_to(Self::Adx.features())) == Self::Adx {
            v.push(Self::Adx);
        }
        v
    }

    fn path(self) -> Sm2Path {
        match self {
            Self::Portable => Sm2Path::Portable,
            Self::Adx => Sm2Path::Adx,
        }
    }
}

/// The fixed-base table (about 88 KiB of public multiples of G), made on first use.
fn base_table() -> &'static [u64] {
    static TABLE: OnceLock<Box<[u64]>> = OnceLock::new();
    TABLE.get_or_init(|| ffi::sm2_base_table(Sm2Path::best(Features::get())))
}

/// Big-endian `a < b` without branches on the bytes.
fn ct_lt(a: &[u8; 32], b: &[u8; 32]) -> u8 {
    let mut borrow = 0u16;
    for (&x, &y) in a.iter().rev().zip(b.iter().rev()) {
        let d = u16::from(x).wrapping_sub(u16::from(y)).wrapping_sub(borrow);
        borrow = (d >> 8) & 1;
    }
    borrow as u8
}

fn ct_is_zero(a: &[u8]) -> u8 {
    let any = a.iter().fold(0u8, |acc, &x| acc | x);
    // 1 when any == 0
    ((u16::from(any).wrapping_sub(1) >> 8) & 1) as u8
}

/// 1 when `d` is in [1, n - 1 - margin] (margin 0 or 1).
fn scalar_ok(d: &[u8; 32], margin: u8) -> bool {
    let mut limit = ORDER;
    limit[31] -= margin;
    let ok = ct_lt(d, &limit) & (ct_is_zero(d) ^ 1);
    ffi::ct_declassify(ok) == 1
}

/// Splits `04 || x || y`.
fn raw_point(p: &[u8]) -> Result<&[u8; 64], Error> {
    match p.split_first() {
        Some((4, rest)) => rest.try_into().map_err(|_| Error::InvalidPoint),
        _ => Err(Error::InvalidPoint),
    }
}

fn uncompressed(xy: &[u8; 64]) -> [u8; 65] {
    let mut out = [0u8; 65];
    out[0] = 4;
    out[1..].copy_from_slice(xy);
    out
}

/// Z_A = SM3(ENTL || ID || a || b || Gx || Gy || xA || yA), GB/T 32918.2 5.5.
pub fn z(id: &[u8], public: &[u8]) -> Result<[u8; 32], Error> {
    let xy = raw_point(public)?;
    if id.len() > 8191 {
        return Err(Error::IdTooLong);
    }
    let bits = (id.len() * 8) as u16; // below 65536: checked above
    let mut h = Sm3::new();
    h.update(&bits.to_be_bytes());
    h.update(id);
    h.update(&CURVE_ABG);
    h.update(xy);
    Ok(h.finish())
}

fn e_digest(z: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    let mut h = Sm3::new();
    h.update(z);
    h.update(msg);
    h.finish()
}

/// `d * G` as `04 || x || y`, for d in [1, n-1].
pub fn public_key(d: &[u8; 32]) -> Result<[u8; 65], Error> {
    public_key_with(Kernel::select(Features::get()), d)
}

fn public_key_with(kernel: Kernel, d: &[u8; 32]) -> Result<[u8; 65], Error> {
    if !scalar_ok(d, 0) {
        return Err(Error::InvalidPrivateKey);
    }
    let mut xy = [0u8; 64];
    if !ffi::sm2_mul_base(kernel.path(), &mut xy, d, base_table()) {
        return Err(Error::Infinity);
    }
    // A public key is public: tell the constant-time check.
    ffi::ct_public(&xy);
    Ok(uncompressed(&xy))
}

/// Draws a scalar in [1, n-1]: SM3 of the secret context and fresh entropy, redrawn (with a
/// new counter) in the rare case it is out of range. Mixing the key and message in means a
/// weak entropy source alone does not expose the key (the hedged construction of RFC 6979
/// 3.6 and draft-irtf-cfrg-det-sigs-with-noise).
fn draw_scalar(
    context: &[&[u8]],
    entropy: &mut dyn FnMut(&mut [u8]),
    counter: &mut u32,
) -> Result<Zeroizing<[u8; 32]>, Error> {
    for _ in 0..64 {
        let mut seed = Zeroizing::new([0u8; 32]);
        entropy(&mut seed[..]);
        let mut h = Sm3::new();
        h.update(b"tlsfe SM2 nonce");
        h.update(&counter.to_be_bytes());
        *counter = counter.wrapping_add(1);
        for part in context {
            h.update(part);
        }
        h.update(&seed[..]);
        let k = Zeroizing::new(h.finish());
        if scalar_ok(&k, 0) {
            return Ok(k);
        }
    }
    Err(Error::NoNonce)
}

/// An SM2 signing key with its user ID: `(1 + d)^-1` and Z are computed once, here.
pub struct SigningKey {
    d: Zeroizing<[u8; 32]>,
    dinv: Zeroizing<[u8; 32]>,
    public: [u8; 65],
    z: [u8; 32],
    kernel: Kernel,
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kernel", &self.kernel)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A key for private scalar `d` (big-endian, in [1, n-2]) and user ID `id`.
    pub fn new(d: &[u8; 32], id: &[u8]) -> Result<Self, Error> {
        Self::with_features(d, id, Features::get())
    }

    /// As [`new`](Self::new), on the kernel `f` allows.
    pub fn with_features(d: &[u8; 32], id: &[u8], f: Features) -> Result<Self, Error> {
        let kernel = Kernel::select(f);
        // d = n - 1 would make 1 + d zero mod n.
        if !scalar_ok(d, 1) {
            return Err(Error::InvalidPrivateKey);
        }
        let public = public_key_with(kernel, d)?;
        let mut dinv = Zeroizing::new([0u8; 32]);
        ffi::sm2_inv_one_plus(kernel.path(), &mut dinv, d);
        Ok(Self {
            d: Zeroizing::new(*d),
            dinv,
            z: z(id, &public)?,
            public,
            kernel,
        })
    }

    /// The public key, `04 || x || y`.
    pub fn public_key(&self) -> &[u8; 65] {
        &self.public
    }

    /// The kernel in use.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Signs `msg` (e = SM3(Z || msg)); returns `(r, s)`. `entropy` fills buffers with
    /// fresh random bytes.
    pub fn sign(
        &self,
        msg: &[u8],
        entropy: &mut dyn FnMut(&mut [u8]),
    ) -> Result<([u8; 32], [u8; 32]), Error> {
        self.sign_digest(&e_digest(&self.z, msg), entropy)
    }

    /// Signs a precomputed e (GB/T 32918.2 6.1 steps A3 to A7).
    pub fn sign_digest(
        &self,
        e: &[u8; 32],
        entropy: &mut dyn FnMut(&mut [u8]),
    ) -> Result<([u8; 32], [u8; 32]), Error> {
        let path = self.kernel.path();
        let mut counter = 0;
        for _ in 0..64 {
            let k = draw_scalar(&[&self.d[..], e], entropy, &mut counter)?;
            let mut xy = Zeroizing::new([0u8; 64]);
            if !ffi::sm2_mul_base(path, &mut xy, &k, base_table()) {
                continue;
            }
            let x1: [u8; 32] = xy[..32].try_into().map_err(|_| Error::Infinity)?;
            let (mut r, mut s) = ([0u8; 32], [0u8; 32]);
            if ffi::sm2_sign_finish(path, &mut r, &mut s, e, &x1, &k, &self.d, &self.dinv) {
                return Ok((r, s));
            }
        }
        Err(Error::NoNonce)
    }
}

/// Verifies `(r, s)` over `msg` for the public key `public` (`04 || x || y`) and user ID.
pub fn verify(public: &[u8], id: &[u8], msg: &[u8], r: &[u8; 32], s: &[u8; 32]) -> bool {
    verify_with_features(Features::get(), public, id, msg, r, s)
}

/// [`verify`] on the kernel `f` allows.
pub fn verify_with_features(
    f: Features,
    public: &[u8],
    id: &[u8],
    msg: &[u8],
    r: &[u8; 32],
    s: &[u8; 32],
) -> bool {
    let Some((e, xy)) = verify_input(public, id, msg) else {
        return false;
    };
    ffi::sm2_verify_vartime(Kernel::select(f).path(), &e, r, s, xy, base_table())
}

/// The digest e and the raw point of a signature to verify; `None` (the signature fails) for
/// a malformed key or an over-long ID.
fn verify_input<'a>(public: &'a [u8], id: &[u8], msg: &[u8]) -> Option<([u8; 32], &'a [u8; 64])> {
    let xy = raw_point(public).ok()?;
    let z = z(id, public).ok()?;
    Some((e_digest(&z, msg), xy))
}

/// One signature of a batch for [`verify_many`].
#[derive(Clone, Copy, Debug)]
pub struct Verification<'a> {
    /// The signer's public key, `04 || x || y`.
    pub public: &'a [u8],
    /// The signer's user ID (hashed into Z).
    pub id: &'a [u8],
    /// The signed message.
    pub msg: &'a [u8],
    /// The signature's r.
    pub r: &'a [u8; 32],
    /// The signature's s.
    pub s: &'a [u8; 32],
}

/// Verifies many signatures: entry i of the result is what [`verify`] says of item i. On a
/// CPU with AVX-512 IFMA, eight verifications run at once, each vector instruction doing the
/// same step of all eight (`csrc/sm2_ifma.c`); the concurrent handshakes of a server give such
/// batches. A last chunk of fewer than [`BATCH_MIN`], and every item elsewhere, runs one at a
/// time.
pub fn verify_many(items: &[Verification<'_>]) -> Vec<bool> {
    verify_many_with_features(Features::get(), items)
}

/// [`verify_many`] on the kernels `f` allows.
pub fn verify_many_with_features(f: Features, items: &[Verification<'_>]) -> Vec<bool> {
    let mut out = vec![false; items.len()];
    #[cfg(target_arch = "x86_64")]
    if let Some(ifma) = ffi::Ifma::detect(f) {
        let t52 = base_table52(ifma);
        let mut lane_of = [0usize; 8];
        let mut e = [[0u8; 32]; 8];
        let mut r = [[0u8; 32]; 8];
        let mut s = [[0u8; 32]; 8];
        let mut q = [[0u8; 64]; 8];
        let mut n = 0;
        let mut run = |n: usize, lane_of: &[usize; 8], e: &_, r: &_, s: &_, q: &_| {
            let ok = ffi::sm2_ifma_verify8(ifma, e, r, s, q, n, base_table(), t52);
            for (lane, item) in lane_of.iter().take(n).enumerate() {
                out[*item] = ok[lane];
            }
        };
        for (i, item) in items.iter().enumerate() {
            // A malformed key or an over-long ID fails here, as in `verify`.
            let Some((digest, xy)) = verify_input(item.public, item.id, item.msg) else {
                continue;
            };
            e[n] = digest;
            r[n] = *item.r;
            s[n] = *item.s;
            q[n] = *xy;
            lane_of[n] = i;
            n += 1;
            if n == 8 {
                run(n, &lane_of, &e, &r, &s, &q);
                n = 0;
            }
        }
        if n >= BATCH_MIN {
            run(n, &lane_of, &e, &r, &s, &q);
        } else {
            for &i in &lane_of[..n] {
                let it = &items[i];
                out[i] = verify_with_features(f, it.public, it.id, it.msg, it.r, it.s);
            }
        }
        return out;
    }
    for (o, item) in out.iter_mut().zip(items) {
        *o = verify_with_features(f, item.public, item.id, item.msg, item.r, item.s);
    }
    out
}

/// One ECDH exchange of [`exchange_many`]: our fresh public key and the shared secret.
pub type Exchange = ([u8; 65], Zeroizing<[u8; 32]>);

/// A batch of fewer exchanges or verifications than this runs one at a time, not on the
/// eight-lane IFMA code. Measured on the Xeon (`tls-frontend speed`): eight IFMA lanes cost
/// about 148 us for verifications and 157 us for exchanges, whole batch or not, against 49
/// and 63 us for one on the MULX/ADX code; so two alone are cheaper one at a time, three
/// are not.
pub const BATCH_MIN: usize = 3;

/// One ECDH exchange as a server makes it: a fresh key pair (d in [1, n-2], as [`generate`]
/// draws it) and the x-coordinate of `d * peer` (as [`agree`]), with the errors those give.
/// Where [`generate`] then [`agree`] convert each product to affine coordinates with its own
/// field inversion, this shares one between them.
pub fn exchange(entropy: &mut dyn FnMut(&mut [u8]), peer: &[u8]) -> Result<Exchange, Error> {
    exchange_with_features(Features::get(), entropy, peer)
}

/// [`exchange`] on the kernel `f` allows.
pub fn exchange_with_features(
    f: Features,
    entropy: &mut dyn FnMut(&mut [u8]),
    peer: &[u8],
) -> Result<Exchange, Error> {
    let d = draw_private_key(entropy, &mut 0)?;
    let q = raw_point(peer)?;
    let mut public = [0u8; 64];
    let mut shared = Zeroizing::new([0u8; 64]);
    let path = Kernel::select(f).path();
    match ffi::sm2_exchange(path, &mut public, &mut shared, &d, q, base_table()) {
        Err(()) => Err(Error::InvalidPoint),
        Ok(false) => Err(Error::Infinity),
        Ok(true) => Ok(exchanged(&public, &shared)),
    }
}

/// An exchange's result from our public key and the shared point (`x || y`): the public key,
/// declassified for the constant-time check (it is sent), and the shared x-coordinate.
fn exchanged(public: &[u8; 64], shared: &[u8; 64]) -> Exchange {
    // A public key is public: tell the constant-time check.
    ffi::ct_public(public);
    let mut x = Zeroizing::new([0u8; 32]);
    x.copy_from_slice(&shared[..32]);
    (uncompressed(public), x)
}

/// Many ECDH exchanges as a server makes them, one per peer key: for each, what [`exchange`]
/// gives. Entry i is for `peers[i]`, or the error `agree` gives for it. On a CPU with
/// AVX-512 IFMA both scalar multiplications run eight at a time (constant time in d), a last
/// chunk of fewer than [`BATCH_MIN`] one at a time; elsewhere all one after another.
pub fn exchange_many(
    entropy: &mut dyn FnMut(&mut [u8]),
    peers: &[&[u8]],
) -> Vec<Result<Exchange, Error>> {
    exchange_many_with_features(Features::get(), entropy, peers)
}

/// [`exchange_many`] on the kernels `f` allows.
pub fn exchange_many_with_features(
    f: Features,
    entropy: &mut dyn FnMut(&mut [u8]),
    peers: &[&[u8]],
) -> Vec<Result<Exchange, Error>> {
    #[cfg(target_arch = "x86_64")]
    if let Some(ifma) = ffi::Ifma::detect(f) {
        let mut out = Vec::with_capacity(peers.len());
        for chunk in peers.chunks(8) {
            if chunk.len() >= BATCH_MIN {
                exchange8(ifma, entropy, chunk, &mut out);
            } else {
                out.extend(
                    chunk
                        .iter()
                        .map(|peer| exchange_with_features(f, entropy, peer)),
                );
            }
        }
        return out;
    }
    peers
        .iter()
        .map(|peer| exchange_with_features(f, entropy, peer))
        .collect()
}

/// Up to eight exchanges of [`exchange_many`] on the IFMA code.
#[cfg(target_arch = "x86_64")]
fn exchange8(
    ifma: ffi::Ifma,
    entropy: &mut dyn FnMut(&mut [u8]),
    peers: &[&[u8]],
    out: &mut Vec<Result<Exchange, Error>>,
) {
    let n = peers.len();
    let mut q = [[0u8; 64]; 8];
    let mut errors: [Option<Error>; 8] = [None; 8];
    for (i, peer) in peers.iter().enumerate() {
        match raw_point(peer) {
            Ok(xy) => q[i] = *xy,
            Err(e) => errors[i] = Some(e),
        }
    }
    let mut d = Zeroizing::new([[0u8; 32]; 8]);
    let publics = keys_and_publics8(ifma, entropy, n, &mut d, &mut errors);
    let mut shared = Zeroizing::new([[0u8; 64]; 8]);
    let agreed = ffi::sm2_ifma_mul_point8(ifma, &mut shared, &d, &q, n);
    for i in 0..n {
        out.push(match (errors[i], agreed[i]) {
            (Some(e), _) => Err(e),
            (None, Err(())) => Err(Error::InvalidPoint),
            (None, Ok(false)) => Err(Error::Infinity),
            (None, Ok(true)) => Ok(exchanged(&publics[i], &shared[i])),
        });
    }
}

/// The keys and public keys of `lanes` (at most eight) lanes of [`exchange8`] or
/// [`generate8`] on the IFMA code: into `d`, each lane's d in [1, n-2], as [`generate`]
/// draws it; returned, `d * G` (not yet declassified). One counter across the lanes: a
/// source that repeats itself still gives each lane its own key. `errors` comes in with what
/// the caller already holds against a lane (a bad peer key) and goes out with each lane's
/// first error: as one at a time, a key that cannot be drawn comes before a bad peer key,
/// and a public key at infinity after both. A lane with an error is computed with d = 1 and
/// thrown away.
#[cfg(target_arch = "x86_64")]
fn keys_and_publics8(
    ifma: ffi::Ifma,
    entropy: &mut dyn FnMut(&mut [u8]),
    lanes: usize,
    d: &mut [[u8; 32]; 8],
    errors: &mut [Option<Error>; 8],
) -> [[u8; 64]; 8] {
    let mut counter = 0;
    for i in 0..lanes {
        match draw_private_key(entropy, &mut counter) {
            Ok(k) => d[i] = *k,
            Err(e) => errors[i] = Some(e),
        }
        if errors[i].is_some() {
            d[i] = [0; 32];
            d[i][31] = 1; // a lane computed and thrown away
        }
    }
    let mut publics = [[0u8; 64]; 8];
    let finite = ffi::sm2_ifma_mul_base8(
        ifma,
        &mut publics,
        d,
        lanes,
        base_table(),
        base_table52(ifma),
    );
    for (error, finite) in errors.iter_mut().zip(finite).take(lanes) {
        if !finite {
            *error = error.or(Some(Error::Infinity));
        }
    }
    publics
}

/// Whether [`verify_many`] runs eight at a time on the CPU features `f`.
pub fn batch_available(f: Features) -> bool {
    ffi::Ifma::detect(f).is_some()
}

/// The fixed-base table in the IFMA code's radix-2^52 form, made on first use.
#[cfg(target_arch = "x86_64")]
fn base_table52(ifma: ffi::Ifma) -> &'static [u64] {
    static TABLE: OnceLock<Box<[u64]>> = OnceLock::new();
    TABLE.get_or_init(|| ffi::sm2_ifma_base_table52(ifma, base_table()))
}

/// ECDH on curveSM2 as RFC 8998 uses it: the x-coordinate of `d * peer`, for `d` in
/// [1, n-1] and `peer` = `04 || x || y` on the curve.
pub fn agree(d: &[u8; 32], peer: &[u8]) -> Result<Zeroizing<[u8; 32]>, Error> {
    agree_with_features(Features::get(), d, peer)
}

/// [`agree`] on the kernel `f` allows.
pub fn agree_with_features(
    f: Features,
    d: &[u8; 32],
    peer: &[u8],
) -> Result<Zeroizing<[u8; 32]>, Error> {
    let (x, _) = mul_point(Kernel::select(f), d, peer)?;
    Ok(x)
}

/// A shared point's coordinates (secret).
type SharedPoint = (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>);

/// `d * peer` as (x, y), constant time in d.
fn mul_point(kernel: Kernel, d: &[u8; 32], peer: &[u8]) -> Result<SharedPoint, Error> {
    let q = raw_point(peer)?;
    if !scalar_ok(d, 0) {
        return Err(Error::InvalidPrivateKey);
    }
    let mut xy = Zeroizing::new([0u8; 64]);
    match ffi::sm2_mul_point(kernel.path(), &mut xy, d, q) {
        Err(()) => Err(Error::InvalidPoint),
        Ok(false) => Err(Error::Infinity),
        Ok(true) => {
            let mut x = Zeroizing::new([0u8; 32]);
            let mut y = Zeroizing::new([0u8; 32]);
            x.copy_from_slice(&xy[..32]);
            y.copy_from_slice(&xy[32..]);
            Ok((x, y))
        }
    }
}

/// A fresh key pair: `(d, 04 || x || y)` with d in [1, n-2], so the key can also sign.
pub fn generate(
    entropy: &mut dyn FnMut(&mut [u8]),
) -> Result<(Zeroizing<[u8; 32]>, [u8; 65]), Error> {
    generate_with_features(Features::get(), entropy)
}

/// [`generate`] on the kernel `f` allows.
pub fn generate_with_features(
    f: Features,
    entropy: &mut dyn FnMut(&mut [u8]),
) -> Result<(Zeroizing<[u8; 32]>, [u8; 65]), Error> {
    let d = draw_private_key(entropy, &mut 0)?;
    let public = public_key_with(Kernel::select(f), &d)?;
    Ok((d, public))
}

/// A key pair of [`generate`]: the private scalar and `04 || x || y`.
pub type KeyPair = (Zeroizing<[u8; 32]>, [u8; 65]);

/// `n` fresh key pairs, each as [`generate`] draws it. On a CPU with AVX-512 IFMA the public
/// keys are computed eight at a time (constant time in d; under a third of the cost of one
/// at a time per key on the Xeon), a last chunk of fewer than [`BATCH_MIN`] one at a time;
/// elsewhere all one at a time. For a pool of ephemeral keys: a key exchange's key does not
/// depend on its peer, so a server can make them ahead, in batches.
pub fn generate_many(entropy: &mut dyn FnMut(&mut [u8]), n: usize) -> Vec<Result<KeyPair, Error>> {
    generate_many_with_features(Features::get(), entropy, n)
}

/// [`generate_many`] on the kernels `f` allows.
pub fn generate_many_with_features(
    f: Features,
    entropy: &mut dyn FnMut(&mut [u8]),
    n: usize,
) -> Vec<Result<KeyPair, Error>> {
    #[cfg(target_arch = "x86_64")]
    if let Some(ifma) = ffi::Ifma::detect(f) {
        let mut out = Vec::with_capacity(n);
        // Chunks of eight, as exchange_many_with_features splits its peers.
        for lanes in (0..n).step_by(8).map(|start| (n - start).min(8)) {
            if lanes >= BATCH_MIN {
                generate8(ifma, entropy, lanes, &mut out);
            } else {
                out.extend((0..lanes).map(|_| generate_with_features(f, entropy)));
            }
        }
        return out;
    }
    (0..n).map(|_| generate_with_features(f, entropy)).collect()
}

/// `lanes` (at most eight) key pairs of [`generate_many`] on the IFMA code.
#[cfg(target_arch = "x86_64")]
fn generate8(
    ifma: ffi::Ifma,
    entropy: &mut dyn FnMut(&mut [u8]),
    lanes: usize,
    out: &mut Vec<Result<KeyPair, Error>>,
) {
    let mut d = Zeroizing::new([[0u8; 32]; 8]);
    let mut errors: [Option<Error>; 8] = [None; 8];
    let publics = keys_and_publics8(ifma, entropy, lanes, &mut d, &mut errors);
    for i in 0..lanes {
        out.push(match errors[i] {
            Some(e) => Err(e),
            None => {
                // A public key is public: tell the constant-time check.
                ffi::ct_public(&publics[i]);
                Ok((Zeroizing::new(d[i]), uncompressed(&publics[i])))
            }
        });
    }
}

/// A private key d in [1, n-2] (so it can also sign), redrawn up to 64 times.
fn draw_private_key(
    entropy: &mut dyn FnMut(&mut [u8]),
    counter: &mut u32,
) -> Result<Zeroizing<[u8; 32]>, Error> {
    for _ in 0..64 {
        let d = draw_scalar(&[], entropy, counter)?;
        if scalar_ok(&d, 1) {
            return Ok(d);
        }
    }
    Err(Error::NoNonce)
}

/// KDF of GB/T 32918.4 5.4.3 over SM3: XORs the key stream for `x2 || y2` into `data`.
/// Returns whether the stream was all zero (the caller must then fail or redraw).
fn kdf_xor(x2: &[u8; 32], y2: &[u8; 32], data: &mut [u8]) -> bool {
    let mut all_zero = 1u8;
    for (i, chunk) in data.chunks_mut(32).enumerate() {
        let mut h = Sm3::new();
        h.update(x2);
        h.update(y2);
        h.update(&(i as u32 + 1).to_be_bytes());
        let mut t = Zeroizing::new(h.finish());
        for (d, k) in chunk.iter_mut().zip(t.iter()) {
            *d ^= k;
        }
        all_zero &= ct_is_zero(&t[..chunk.len()]);
        t.zeroize();
    }
    // Empty messages have no stream to check.
    !data.is_empty() && ffi::ct_declassify(all_zero) == 1
}

fn c3(x2: &[u8; 32], msg: &[u8], y2: &[u8; 32]) -> [u8; 32] {
    let mut h = Sm3::new();
    h.update(x2);
    h.update(msg);
    h.update(y2);
    h.finish()
}

/// SM2 encryption (GB/T 32918.4 6.1) to `public`; returns `C1 || C3 || C2` with C1 as
/// `04 || x1 || y1`. The ephemeral k comes from `entropy` (mixed with the public key and the
/// message, which hide nothing): unlike signing, there is no secret to hedge with, so a broken
/// entropy source exposes the plaintext. An empty message gives an empty C2 (no key stream
/// to check for all zeros), which `decrypt` accepts the same way.
pub fn encrypt(
    public: &[u8],
    msg: &[u8],
    entropy: &mut dyn FnMut(&mut [u8]),
) -> Result<Vec<u8>, Error> {
    let kernel = Kernel::select(Features::get());
    let q = raw_point(public)?;
    if !ffi::sm2_point_check(kernel.path(), q) {
        return Err(Error::InvalidPoint);
    }
    let mut counter = 0;
    for _ in 0..64 {
        let k = draw_scalar(&[public, msg], entropy, &mut counter)?;
        let mut c1 = [0u8; 64];
        if !ffi::sm2_mul_base(kernel.path(), &mut c1, &k, base_table()) {
            continue;
        }
        ffi::ct_public(&c1); // C1 is sent
        let (x2, y2) = mul_point(kernel, &k, public)?;
        let mut c2 = msg.to_vec();
        if kdf_xor(&x2, &y2, &mut c2) {
            continue;
        }
        let mut out = Vec::with_capacity(97 + msg.len());
        out.extend_from_slice(&uncompressed(&c1));
        out.extend_from_slice(&c3(&x2, msg, &y2));
        out.extend_from_slice(&c2);
        return Ok(out);
    }
    Err(Error::NoNonce)
}

/// SM2 decryption (GB/T 32918.4 7.1) of `C1 || C3 || C2` with private key `d`.
pub fn decrypt(d: &[u8; 32], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    decrypt_with_features(Features::get(), d, ciphertext)
}

/// [`decrypt`] on the kernel `f` allows.
pub fn decrypt_with_features(
    f: Features,
    d: &[u8; 32],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    if ciphertext.len() < 97 {
        return Err(Error::ShortCiphertext);
    }
    let (c1, rest) = ciphertext.split_at(65);
    let (c3_given, c2) = rest.split_at(32);
    let (x2, y2) = mul_point(Kernel::select(f), d, c1)?;
    let mut msg = Zeroizing::new(c2.to_vec());
    let zero_stream = kdf_xor(&x2, &y2, &mut msg);
    let u = c3(&x2, &msg, &y2);
    let mut diff = 0u8;
    for (a, b) in u.iter().zip(c3_given) {
        diff |= a ^ b;
    }
    if zero_stream || ffi::ct_declassify(ct_is_zero(&[diff])) != 1 {
        return Err(Error::DecryptFailed);
    }
    Ok(msg)
}

/// Raw scalar multiplications on any 32-byte scalar (no range check), for tests that drive
/// the arithmetic past what the protocol functions accept. Not part of the API.
#[doc(hidden)]
pub mod raw {
    use super::{Kernel, base_table, ffi};

    /// `k * G` as `x || y`, or `None` for infinity.
    pub fn mul_base(kernel: Kernel, k: &[u8; 32]) -> Option<[u8; 64]> {
        let mut out = [0u8; 64];
        ffi::sm2_mul_base(kernel.path(), &mut out, k, base_table()).then_some(out)
    }

    /// `k * Q` as `x || y`: `Err(InvalidPoint)` when Q is off the curve, `Ok(None)` for
    /// infinity.
    pub fn mul_point(
        kernel: Kernel,
        k: &[u8; 32],
        q: &[u8; 64],
    ) -> Result<Option<[u8; 64]>, super::Error> {
        let mut out = [0u8; 64];
        let finite = ffi::sm2_mul_point(kernel.path(), &mut out, k, q)
            .map_err(|()| super::Error::InvalidPoint)?;
        Ok(finite.then_some(out))
    }

    /// One verification on `kernel` from the digest `e` (no SM3 step), so tests can choose
    /// e, r, s and Q that drive the double multiplication into its rare cases.
    pub fn verify_digest(
        kernel: Kernel,
        e: &[u8; 32],
        r: &[u8; 32],
        s: &[u8; 32],
        q: &[u8; 64],
    ) -> bool {
        ffi::sm2_verify_vartime(kernel.path(), e, r, s, q, base_table())
    }

    /// The kernel's field operations mod p on `a`, `b` (< p, little-endian 64-bit limbs):
    /// `[a b 2^-256, a^2 2^-256, a + b, a - b, 2^512 / a, a / 2]`, all mod p (the inverse is 0
    /// for 0).
    pub fn field_ops(kernel: Kernel, a: &[u64; 4], b: &[u64; 4]) -> [[u64; 4]; 6] {
        ffi::sm2_fe_ops(kernel.path(), a, b)
    }

    /// Eight verifications at once on the IFMA code, from the digests e (lanes from `count`
    /// on idle); `None` where the CPU has no AVX-512 IFMA.
    pub fn verify8_digests(
        e: &[[u8; 32]; 8],
        r: &[[u8; 32]; 8],
        s: &[[u8; 32]; 8],
        q: &[[u8; 64]; 8],
        count: usize,
    ) -> Option<[bool; 8]> {
        #[cfg(target_arch = "x86_64")]
        if let Some(ifma) = ffi::Ifma::detect(crate::cpu::Features::get()) {
            let t52 = super::base_table52(ifma);
            return Some(ffi::sm2_ifma_verify8(
                ifma,
                e,
                r,
                s,
                q,
                count,
                base_table(),
                t52,
            ));
        }
        let _ = (e, r, s, q, count);
        None
    }

    /// `k[i] * G` for the first `count` lanes on the IFMA code (`None` in a lane for
    /// infinity or idleness); `None` where the CPU has no AVX-512 IFMA.
    pub fn mul_base8(k: &[[u8; 32]; 8], count: usize) -> Option<[Option<[u8; 64]>; 8]> {
        #[cfg(target_arch = "x86_64")]
        if let Some(ifma) = ffi::Ifma::detect(crate::cpu::Features::get()) {
            let mut out = [[0u8; 64]; 8];
            let t52 = super::base_table52(ifma);
            let ok = ffi::sm2_ifma_mul_base8(ifma, &mut out, k, count, base_table(), t52);
            return Some(core::array::from_fn(|i| ok[i].then_some(out[i])));
        }
        let _ = (k, count);
        None
    }

    /// `k[i] * q[i]` for the first `count` lanes on the IFMA code: per lane as
    /// [`mul_point`]; `None` where the CPU has no AVX-512 IFMA.
    #[allow(clippy::type_complexity)]
    pub fn mul_point8(
        k: &[[u8; 32]; 8],
        q: &[[u8; 64]; 8],
        count: usize,
    ) -> Option<[Result<Option<[u8; 64]>, super::Error>; 8]> {
        #[cfg(target_arch = "x86_64")]
        if let Some(ifma) = ffi::Ifma::detect(crate::cpu::Features::get()) {
            let mut out = [[0u8; 64]; 8];
            let ok = ffi::sm2_ifma_mul_point8(ifma, &mut out, k, q, count);
            return Some(core::array::from_fn(|i| match ok[i] {
                Err(()) => Err(super::Error::InvalidPoint),
                Ok(finite) => Ok(finite.then_some(out[i])),
            }));
        }
        let _ = (k, q, count);
        None
    }

    /// The IFMA code's field operations on eight lanes of elements below p (little-endian
    /// 64-bit limbs): `[a b, a^2, a + b, a - b]` mod p, plain and fully reduced; `None`
    /// where the CPU has no AVX-512 IFMA.
    pub fn field_ops8(a: &[[u64; 4]; 8], b: &[[u64; 4]; 8]) -> Option<[[[u64; 4]; 8]; 4]> {
        #[cfg(target_arch = "x86_64")]
        if let Some(ifma) = ffi::Ifma::detect(crate::cpu::Features::get()) {
            return Some(ffi::sm2_ifma_fe8_ops(ifma, a, b));
        }
        let _ = (a, b);
        None
    }
}
