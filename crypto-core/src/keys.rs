//! Private-key loading: PKCS#8, SEC1 and PKCS#1, in DER or PEM.
//!
//! A key is parsed once, checked (curve, sizes, public key consistent with the private one), and
//! kept in every form a backend may want, each zeroized on drop.

use core::fmt;

use zeroize::Zeroizing;

use crate::der as enc;
use crate::{Error, KeyKind};

/// A parsed private key of any supported kind.
pub struct PrivateKey {
    pub(crate) material: Material,
}

pub(crate) enum Material {
    Rsa {
        #[cfg_attr(not(feature = "rustcrypto"), allow(dead_code))]
        pkcs1: Zeroizing<Vec<u8>>,
        pkcs8: Zeroizing<Vec<u8>>,
        public: Vec<u8>,
        bits: usize,
    },
    Ec {
        kind: KeyKind,
        scalar: Zeroizing<Vec<u8>>,
        public: Vec<u8>,
        pkcs8: Zeroizing<Vec<u8>>,
    },
    Ed25519 {
        #[cfg_attr(
            not(any(
                feature = "ring",
                feature = "aws-lc",
                feature = "rustcrypto",
                feature = "openssl"
            )),
            allow(dead_code)
        )]
        seed: Zeroizing<[u8; 32]>,
        public: [u8; 32],
        pkcs8: Zeroizing<Vec<u8>>,
    },
}

/// Smallest and largest RSA moduli accepted, in bits.
pub const RSA_BITS: core::ops::RangeInclusive<usize> = 2048..=8192;

impl PrivateKey {
    /// What kind of key this is.
    pub fn kind(&self) -> KeyKind {
        match &self.material {
            Material::Rsa { .. } => KeyKind::Rsa,
            Material::Ec { kind, .. } => *kind,
            Material::Ed25519 { .. } => KeyKind::Ed25519,
        }
    }

    /// The public key, in the form [`Verifier::verify`](crate::Verifier::verify) takes.
    pub fn public_key(&self) -> &[u8] {
        match &self.material {
            Material::Rsa { public, .. } | Material::Ec { public, .. } => public,
            Material::Ed25519 { public, .. } => public,
        }
    }

    /// RSA modulus size in bits, for RSA keys.
    pub fn rsa_bits(&self) -> Option<usize> {
        match &self.material {
            Material::Rsa { bits, .. } => Some(*bits),
            _ => None,
        }
    }

    /// The key as PKCS#8 DER (with the public key included for EC keys).
    pub fn pkcs8_der(&self) -> &[u8] {
        match &self.material {
            Material::Rsa { pkcs8, .. }
            | Material::Ec { pkcs8, .. }
            | Material::Ed25519 { pkcs8, .. } => pkcs8,
        }
    }

    /// The key as a PKCS#8 PEM (`PRIVATE KEY`) file.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        pem("PRIVATE KEY", self.pkcs8_der())
    }

    /// The key as SEC1 `ECPrivateKey` DER with the curve named and the public key included
    /// (what `openssl ec` writes); `None` for keys that are not EC or SM2.
    pub fn to_sec1_der(&self) -> Option<Zeroizing<Vec<u8>>> {
        match &self.material {
            Material::Ec {
                kind,
                scalar,
                public,
                ..
            } => Some(enc::sec1_named(scalar, public, curve_oid(*kind))),
            _ => None,
        }
    }

    /// The key as a SEC1 PEM (`EC PRIVATE KEY`) file; `None` for keys that are not EC or SM2.
    pub fn to_sec1_pem(&self) -> Option<Zeroizing<String>> {
        self.to_sec1_der().map(|der| pem("EC PRIVATE KEY", &der))
    }

    /// The public key as an X.509 `SubjectPublicKeyInfo` (DER), as `openssl pkey -pubout`
    /// writes it. SM2 keys use id-ecPublicKey with the curveSM2 parameter (GB/T 35276 / RFC
    /// 8998 usage; OpenSSL 3 does the same).
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        match &self.material {
            Material::Rsa { public, .. } => {
                enc::spki(enc::oid::RSA_ENCRYPTION, enc::Params::Null, public)
            }
            Material::Ec { kind, public, .. } => enc::spki(
                enc::oid::EC_PUBLIC_KEY,
                enc::Params::Oid(curve_oid(*kind)),
                public,
            ),
            Material::Ed25519 { public, .. } => {
                enc::spki(enc::oid::ED25519, enc::Params::None, public)
            }
        }
    }

    /// The public key as a `PUBLIC KEY` PEM file.
    pub fn public_key_spki_pem(&self) -> String {
        pem("PUBLIC KEY", &self.public_key_spki_der()).to_string()
    }

    pub(crate) fn material(&self) -> &Material {
        &self.material
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("PrivateKey")
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

/// Splits a big-endian private scalar given with or without leading zeros into exactly `len`
/// bytes, as known-answer tests and SEC1 encoders vary.
pub(crate) fn fixed_scalar(bytes: &[u8], len: usize) -> Result<Zeroizing<Vec<u8>>, Error> {
    let mut v = bytes;
    while v.len() > len && v[0] == 0 {
        v = &v[1..];
    }
    if v.len() > len {
        return Err(Error::InvalidKey("private scalar too long"));
    }
    let mut out = Zeroizing::new(vec![0u8; len]);
    out[len - v.len()..].copy_from_slice(v);
    Ok(out)
}

/// Whether the big-endian scalar `s` is in [1, n), for `s` and `n` of the same length, without
/// branching on `s`'s bytes.
pub(crate) fn scalar_in_range(s: &[u8], n: &[u8]) -> bool {
    if s.len() != n.len() {
        return false;
    }
    // Borrow of s - n, computed from the least significant byte up: 1 when s < n.
    let mut borrow = 0u16;
    let mut any = 0u8;
    for (&a, &b) in s.iter().rev().zip(n.iter().rev()) {
        let d = u16::from(a).wrapping_sub(u16::from(b)).wrapping_sub(borrow);
        borrow = (d >> 8) & 1;
        any |= a;
    }
    core::hint::black_box(borrow) == 1 && core::hint::black_box(any) != 0
}

pub(crate) fn pem(label: &str, der: &[u8]) -> Zeroizing<String> {
    // Encoding to a String cannot fail for a valid label; an empty string would surface any
    // bug loudly in every test that parses it back.
    Zeroizing::new(
        pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).unwrap_or_default(),
    )
}

pub(crate) fn trim_leading_zeros(mut v: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = v {
        v = rest;
    }
    v
}

pub(crate) fn curve_oid(kind: KeyKind) -> der::asn1::ObjectIdentifier {
    match kind {
        KeyKind::EcP256 => enc::oid::SECP256R1,
        KeyKind::EcP384 => enc::oid::SECP384R1,
        _ => enc::oid::SM2_CURVE,
    }
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    #[test]
    fn scalar_range_is_one_to_n_minus_one() {
        let n = [0x10u8, 0x00];
        assert!(!super::scalar_in_range(&[0, 0], &n));
        assert!(super::scalar_in_range(&[0, 1], &n));
        assert!(super::scalar_in_range(&[0x0f, 0xff], &n));
        assert!(!super::scalar_in_range(&[0x10, 0x00], &n));
        assert!(!super::scalar_in_range(&[0xff, 0xff], &n));
        assert!(!super::scalar_in_range(&[1], &n));
    }
}
