//! A test-only SM2 over *explicit* curve parameters, written from GB/T 32918.2/.4 with plain
//! big integers: variable-time, slow, and never used with real keys.
//!
//! It exists because the standard's worked examples use a test curve that no backend offers.
//! The reference first reproduces those examples exactly (Z, e, r, s; C1, C2, C3), then, on
//! curveSM2, it signs/verifies and encrypts/decrypts against every backend, so the backends are
//! tied to the standard's examples through one small, readable implementation.

#![allow(clippy::expect_used)] // test-only reference: a broken invariant is a failed test

use num_bigint::BigUint;

use crypto_core::{Backend, HashAlg};

/// A short Weierstrass curve y^2 = x^3 + ax + b over F_p with a generator of prime order n.
#[derive(Clone, Debug)]
pub struct Curve {
    /// The field prime.
    pub p: BigUint,
    /// Coefficient a.
    pub a: BigUint,
    /// Coefficient b.
    pub b: BigUint,
    /// The generator's x.
    pub gx: BigUint,
    /// The generator's y.
    pub gy: BigUint,
    /// The generator's order.
    pub n: BigUint,
}

/// An affine point; `None` is the point at infinity.
pub type Point = Option<(BigUint, BigUint)>;

fn big(hex: &str) -> BigUint {
    BigUint::parse_bytes(hex.as_bytes(), 16).expect("hex")
}

/// `v` as exactly 32 big-endian bytes (all curves here are 256-bit).
pub fn be32(v: &BigUint) -> [u8; 32] {
    let b = v.to_bytes_be();
    assert!(b.len() <= 32);
    let mut out = [0u8; 32];
    out[32 - b.len()..].copy_from_slice(&b);
    out
}

fn sm3(parts: &[&[u8]]) -> [u8; 32] {
    let h = Backend::RustCrypto.hash(HashAlg::Sm3).expect("sm3");
    let mut ctx = h.start();
    for p in parts {
        ctx.update(p);
    }
    ctx.finish().as_ref().try_into().expect("32 bytes")
}

impl Curve {
    /// curveSM2 (GB/T 32918.5).
    pub fn sm2() -> Self {
        Self {
            p: big("fffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffff"),
            a: big("fffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffc"),
            b: big("28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93"),
            gx: big("32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7"),
            gy: big("bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0"),
            n: big("fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123"),
        }
    }

    /// A curve from big-endian parameters (as a vector file gives them).
    pub fn from_bytes(p: &[u8], a: &[u8], b: &[u8], gx: &[u8], gy: &[u8], n: &[u8]) -> Self {
        let f = BigUint::from_bytes_be;
        Self {
            p: f(p),
            a: f(a),
            b: f(b),
            gx: f(gx),
            gy: f(gy),
            n: f(n),
        }
    }

    /// The generator.
    pub fn g(&self) -> Point {
        Some((self.gx.clone(), self.gy.clone()))
    }

    fn inv(&self, v: &BigUint, m: &BigUint) -> BigUint {
        v.modpow(&(m - 2u32), m)
    }

    /// Whether `pt` satisfies the curve equation.
    pub fn on_curve(&self, pt: &Point) -> bool {
        match pt {
            None => false,
            Some((x, y)) => {
                let p = &self.p;
                (y * y) % p == (x * x * x + &self.a * x + &self.b) % p
            }
        }
    }

    /// Point addition (affine, textbook formulas).
    pub fn add(&self, a: &Point, b: &Point) -> Point {
        let p = &self.p;
        match (a, b) {
            (None, q) | (q, None) => q.clone(),
            (Some((x1, y1)), Some((x2, y2))) => {
                if x1 == x2 && (y1 + y2) % p == BigUint::ZERO {
                    return None;
                }
                let l = if x1 == x2 {
                    (BigUint::from(3u32) * x1 * x1 + &self.a)
                        * self.inv(&(BigUint::from(2u32) * y1), p)
                        % p
                } else {
                    ((y2 + p - y1) % p) * self.inv(&((x2 + p - x1) % p), p) % p
                };
                let x3 = (&l * &l + p + p - x1 - x2) % p;
                let y3 = (&l * ((x1 + p - &x3) % p) + p - y1) % p;
                Some((x3, y3))
            }
        }
    }

    /// Scalar multiplication by double-and-add.
    pub fn mul(&self, k: &BigUint, pt: &Point) -> Point {
        let mut acc: Point = None;
        for i in (0..k.bits()).rev() {
            acc = self.add(&acc, &acc);
            if k.bit(i) {
                acc = self.add(&acc, pt);
            }
        }
        acc
    }

    /// Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA) (GB/T 32918.2 5.5).
    pub fn z(&self, id: &[u8], public: &Point) -> [u8; 32] {
        let (xa, ya) = public.as_ref().expect("finite public key");
        let entl = u16::try_from(id.len() * 8)
            .expect("ID too long")
            .to_be_bytes();
        sm3(&[
            &entl,
            id,
            &be32(&self.a),
            &be32(&self.b),
            &be32(&self.gx),
            &be32(&self.gy),
            &be32(xa),
            &be32(ya),
        ])
    }

    /// e = SM3(Z_A || M) as an integer.
    pub fn e(&self, id: &[u8], public: &Point, msg: &[u8]) -> BigUint {
        BigUint::from_bytes_be(&sm3(&[&self.z(id, public), msg]))
    }

    /// Signature with a given nonce k (GB/T 32918.2 6.1); `None` when k must be redrawn.
    pub fn sign_with_k(
        &self,
        d: &BigUint,
        id: &[u8],
        msg: &[u8],
        k: &BigUint,
    ) -> Option<(BigUint, BigUint)> {
        let n = &self.n;
        let public = self.mul(d, &self.g());
        let e = self.e(id, &public, msg);
        let (x1, _) = self.mul(k, &self.g())?;
        let r = (e + x1) % n;
        if r == BigUint::ZERO || (&r + k) % n == BigUint::ZERO {
            return None;
        }
        let s = self.inv(&(d + 1u32), n) * ((k + n - (&r * d) % n) % n) % n;
        (s != BigUint::ZERO).then_some((r, s))
    }

    /// Verification (GB/T 32918.2 7.1).
    pub fn verify(&self, public: &Point, id: &[u8], msg: &[u8], r: &BigUint, s: &BigUint) -> bool {
        let n = &self.n;
        let zero = BigUint::ZERO;
        if *r == zero || r >= n || *s == zero || s >= n || !self.on_curve(public) {
            return false;
        }
        let t = (r + s) % n;
        if t == zero {
            return false;
        }
        let e = self.e(id, public, msg);
        match self.add(&self.mul(s, &self.g()), &self.mul(&t, public)) {
            None => false,
            Some((x1, _)) => (e + x1) % n == *r,
        }
    }

    /// KDF of GB/T 32918.4 5.4.3 (SM3, counter from 1).
    pub fn kdf(z: &[u8], len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 32);
        let mut ct = 1u32;
        while out.len() < len {
            out.extend_from_slice(&sm3(&[z, &ct.to_be_bytes()]));
            ct += 1;
        }
        out.truncate(len);
        out
    }

    /// Encryption with a given k; returns (C1 point, C3, C2). Panics where the standard says
    /// to draw another k (an all-zero KDF output, GB/T 32918.4 6.1 A5): for fixed vectors.
    pub fn encrypt_with_k(
        &self,
        public: &Point,
        msg: &[u8],
        k: &BigUint,
    ) -> (Point, [u8; 32], Vec<u8>) {
        self.try_encrypt_with_k(public, msg, k)
            .expect("all-zero KDF output: redraw k")
    }

    /// [`Self::encrypt_with_k`], or `None` where the standard draws another k (an all-zero
    /// KDF output, which a one-byte message meets once in 256 draws).
    pub fn try_encrypt_with_k(
        &self,
        public: &Point,
        msg: &[u8],
        k: &BigUint,
    ) -> Option<(Point, [u8; 32], Vec<u8>)> {
        let c1 = self.mul(k, &self.g());
        let (x2, y2) = self.mul(k, public).expect("finite kP");
        let (x2, y2) = (be32(&x2), be32(&y2));
        let t = Self::kdf(&[x2, y2].concat(), msg.len());
        if t.iter().all(|&b| b == 0) {
            return None;
        }
        let c2: Vec<u8> = msg.iter().zip(&t).map(|(m, t)| m ^ t).collect();
        let c3 = sm3(&[&x2, msg, &y2]);
        Some((c1, c3, c2))
    }

    /// Decryption; `None` when C1 is off the curve or C3 does not match.
    pub fn decrypt(&self, d: &BigUint, c1: &Point, c3: &[u8], c2: &[u8]) -> Option<Vec<u8>> {
        if !self.on_curve(c1) {
            return None;
        }
        let (x2, y2) = self.mul(d, c1)?;
        let (x2, y2) = (be32(&x2), be32(&y2));
        let t = Self::kdf(&[x2, y2].concat(), c2.len());
        let m: Vec<u8> = c2.iter().zip(&t).map(|(c, t)| c ^ t).collect();
        (sm3(&[&x2, &m, &y2]) == c3).then_some(m)
    }

    /// The raw `04 || x || y` encoding.
    pub fn encode(pt: &Point) -> Vec<u8> {
        let (x, y) = pt.as_ref().expect("finite point");
        [&[4u8][..], &be32(x), &be32(y)].concat()
    }

    /// Parses `04 || x || y` (no curve check).
    pub fn decode(bytes: &[u8]) -> Point {
        assert!(bytes.len() == 65 && bytes[0] == 4);
        Some((
            BigUint::from_bytes_be(&bytes[1..33]),
            BigUint::from_bytes_be(&bytes[33..]),
        ))
    }
}
