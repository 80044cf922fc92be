//! DER for keys and SM2 structures: re-wrapping private keys (PKCS#1 or SEC1 into PKCS#8, and
//! back), SubjectPublicKeyInfo, the SM2 ciphertext and signature structures. Everything is
//! written with the RustCrypto `der` crate's encoders (the one DER writer of the project);
//! parsing keys is left to the `der`-based pkcs1, pkcs8 and sec1 crates, and a small strict
//! reader here serves SM2 ciphertexts and signatures.

use der::asn1::{BitStringRef, Null, ObjectIdentifier, OctetStringRef, UintRef};
use der::{Encode, Header, Length, Tag, TagNumber};
use zeroize::Zeroizing;

/// Object identifiers used when wrapping keys (values from RFC 8017, RFC 5480, RFC 8410, and
/// GM/T 0006 for curveSM2).
pub(crate) mod oid {
    use der::asn1::ObjectIdentifier as Oid;
    /// rsaEncryption
    pub(crate) const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    /// id-ecPublicKey
    pub(crate) const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    /// secp256r1
    pub(crate) const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    /// secp384r1
    pub(crate) const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
    /// id-Ed25519
    pub(crate) const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
    /// curveSM2
    pub(crate) const SM2_CURVE: Oid = Oid::new_unwrap("1.2.156.10197.1.301");
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;

/// One value's DER. The `der` crate fails only for lengths it cannot represent (over 256 MiB),
/// which nothing written here comes near: an empty result would surface such a bug at once in
/// every test that parses the output back.
fn encoded(value: &impl Encode) -> Vec<u8> {
    value.to_der().unwrap_or_default()
}

/// A constructed value (SEQUENCE or a context-specific tag) around already-encoded parts.
fn constructed(tag: Tag, parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Zeroizing::new(Vec::with_capacity(len + 6));
    if let Ok(header) = Length::try_from(len).map(|l| Header::new(tag, l)) {
        out.extend_from_slice(&encoded(&header));
        for p in parts {
            out.extend_from_slice(p);
        }
    }
    out
}

fn sequence(parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
    constructed(Tag::Sequence, parts)
}

/// `[n]` EXPLICIT around an encoded value.
fn explicit(n: u8, value: &[u8]) -> Zeroizing<Vec<u8>> {
    constructed(
        Tag::ContextSpecific {
            constructed: true,
            number: TagNumber(n.into()),
        },
        &[value],
    )
}

/// A non-negative INTEGER from a big-endian magnitude (leading zeros allowed).
fn uint(v: &[u8]) -> Vec<u8> {
    UintRef::new(v).map(|u| encoded(&u)).unwrap_or_default()
}

fn octets(v: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(
        OctetStringRef::new(v)
            .map(|o| encoded(&o))
            .unwrap_or_default(),
    )
}

fn bits(v: &[u8]) -> Vec<u8> {
    BitStringRef::from_bytes(v)
        .map(|b| encoded(&b))
        .unwrap_or_default()
}

fn algorithm(oid: ObjectIdentifier, params: Params) -> Vec<u8> {
    let oid = encoded(&oid);
    let params = match params {
        Params::None => Vec::new(),
        Params::Null => encoded(&Null),
        Params::Oid(o) => encoded(&o),
    };
    sequence(&[&oid, &params]).to_vec()
}

/// PKCS#8 v1 `PrivateKeyInfo` (RFC 5208) around an already-encoded private key.
pub(crate) fn pkcs8(
    alg: ObjectIdentifier,
    params: Params,
    private_key: &[u8],
) -> Zeroizing<Vec<u8>> {
    let version = uint(&[0]);
    sequence(&[&version, &algorithm(alg, params), &octets(private_key)])
}

/// Algorithm parameters in an `AlgorithmIdentifier`.
#[derive(Clone, Copy)]
pub(crate) enum Params {
    /// Absent (Ed25519).
    None,
    /// NULL (rsaEncryption).
    Null,
    /// A named curve.
    Oid(ObjectIdentifier),
}

/// SEC1 `ECPrivateKey` (RFC 5915) with the public key and without curve parameters, as it
/// sits inside PKCS#8 (the curve is named in the outer `AlgorithmIdentifier`).
pub(crate) fn sec1(scalar: &[u8], public: &[u8]) -> Zeroizing<Vec<u8>> {
    let version = uint(&[1]);
    sequence(&[&version, &octets(scalar), &explicit(1, &bits(public))])
}

/// SEC1 `ECPrivateKey` with the curve named in `parameters` and the public key, as a
/// stand-alone `EC PRIVATE KEY` file holds it (what `openssl ec` writes).
pub(crate) fn sec1_named(
    scalar: &[u8],
    public: &[u8],
    curve: ObjectIdentifier,
) -> Zeroizing<Vec<u8>> {
    let version = uint(&[1]);
    sequence(&[
        &version,
        &octets(scalar),
        &explicit(0, &encoded(&curve)),
        &explicit(1, &bits(public)),
    ])
}

/// X.509 `SubjectPublicKeyInfo` (RFC 5280 4.1) around an encoded public key.
pub(crate) fn spki(alg: ObjectIdentifier, params: Params, public_key: &[u8]) -> Vec<u8> {
    sequence(&[&algorithm(alg, params), &bits(public_key)]).to_vec()
}

/// The SM2 ciphertext structure of GM/T 0009 7.2 (what OpenSSL writes):
/// `SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING, ciphertext OCTET STRING }`.
pub(crate) fn sm2_cipher(x: &[u8], y: &[u8], hash: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    sequence(&[&uint(x), &uint(y), &octets(hash), &octets(ciphertext)]).to_vec()
}

/// The four fields of an SM2 ciphertext structure: x, y, hash, ciphertext.
pub(crate) type Sm2CipherParts<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8]);

/// Reads an SM2 ciphertext structure strictly (definite minimal lengths, minimal positive
/// integers, nothing trailing); returns `(x, y, hash, ciphertext)` with x and y as written
/// (without a sign byte, possibly shorter than 32 bytes).
pub(crate) fn read_sm2_cipher(input: &[u8]) -> Option<Sm2CipherParts<'_>> {
    let (body, rest) = read_tlv(input, SEQUENCE)?;
    if !rest.is_empty() {
        return None;
    }
    let (x, body) = read_tlv(body, INTEGER)?;
    let (y, body) = read_tlv(body, INTEGER)?;
    let (hash, body) = read_tlv(body, OCTET_STRING)?;
    let (ct, body) = read_tlv(body, OCTET_STRING)?;
    if !body.is_empty() {
        return None;
    }
    Some((unsigned(x)?, unsigned(y)?, hash, ct))
}

/// One TLV with the expected tag: its value and what follows it.
fn read_tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = input.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n || rest[0] == 0 {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        rest = &rest[n..];
        if len < 0x80 {
            return None; // long form for a short length is not DER
        }
        len
    };
    if rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

/// The magnitude of a DER INTEGER that must be non-negative and minimally encoded.
fn unsigned(v: &[u8]) -> Option<&[u8]> {
    match v {
        [] => None,
        [b, ..] if b & 0x80 != 0 => None,
        [0, next, ..] if next & 0x80 == 0 => None,
        [0, rest @ ..] => Some(rest),
        _ => Some(v),
    }
}

/// An OCTET STRING around `bytes` (Ed25519's `CurvePrivateKey`, RFC 8410).
pub(crate) fn octet_string(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    octets(bytes)
}

/// PKCS#1 `RSAPublicKey` from big-endian modulus and exponent (leading zeros allowed).
pub(crate) fn rsa_public_key(n: &[u8], e: &[u8]) -> Vec<u8> {
    sequence(&[&uint(n), &uint(e)]).to_vec()
}

#[cfg(feature = "asm")]
/// An (EC)DSA-style signature `SEQUENCE { r INTEGER, s INTEGER }` (SM2 uses it too,
/// GM/T 0009 7.3), from big-endian magnitudes.
pub(crate) fn rs_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    sequence(&[&uint(r), &uint(s)]).to_vec()
}

#[cfg(feature = "asm")]
/// Reads [`rs_signature`]'s structure strictly; r and s as 32-byte big-endian values (None
/// when either is longer).
pub(crate) fn read_rs_signature(input: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let (body, rest) = read_tlv(input, SEQUENCE)?;
    if !rest.is_empty() {
        return None;
    }
    let (r, body) = read_tlv(body, INTEGER)?;
    let (s, body) = read_tlv(body, INTEGER)?;
    if !body.is_empty() {
        return None;
    }
    let fixed = |v: &[u8]| -> Option<[u8; 32]> {
        let v = unsigned(v)?;
        if v.len() > 32 {
            return None;
        }
        let mut out = [0u8; 32];
        out[32 - v.len()..].copy_from_slice(v);
        Some(out)
    };
    Some((fixed(r)?, fixed(s)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lengths_use_the_minimal_long_form() {
        let out = octets(&[0u8; 300]);
        assert_eq!(&out[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let out = octets(&[0u8; 200]);
        assert_eq!(&out[..3], &[0x04, 0x81, 200]);
        // Unsigned integers get their sign byte; leading zeros go.
        assert_eq!(uint(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(uint(&[0, 0, 5]), [0x02, 0x01, 0x05]);
    }

    #[test]
    fn sm2_cipher_round_trips_and_rejects_non_der() {
        let x = [0x80u8; 32];
        let y = [0x01u8; 32];
        let der = sm2_cipher(&x, &y, &[7; 32], b"hello");
        assert_eq!(
            read_sm2_cipher(&der),
            Some((&x[..], &y[..], &[7u8; 32][..], &b"hello"[..]))
        );
        // Trailing garbage, a truncated body, a negative x: all refused.
        let mut long = der.clone();
        long.push(0);
        assert_eq!(read_sm2_cipher(&long), None);
        assert_eq!(read_sm2_cipher(&der[..der.len() - 1]), None);
        let mut neg = der.clone();
        neg[4] = 0x80; // x's sign byte 0x00 -> 0x80
        assert_eq!(read_sm2_cipher(&neg), None);
    }

    #[cfg(feature = "asm")]
    #[test]
    fn rs_signature_round_trips_and_is_strict() {
        let mut r = [0u8; 32];
        r[31] = 5;
        let s = [0x80u8; 32]; // needs a leading zero byte in DER
        let der = rs_signature(&r, &s);
        assert_eq!(read_rs_signature(&der), Some((r, s)));
        // Trailing bytes, a non-minimal integer and a 33-byte magnitude are refused.
        assert_eq!(read_rs_signature(&[&der[..], &[0]].concat()), None);
        let bad = [0x30, 0x07, 0x02, 0x02, 0x00, 0x05, 0x02, 0x01, 0x05];
        assert_eq!(read_rs_signature(&bad), None);
        let mut long = vec![0x30, 0x26, 0x02, 0x21, 0x01];
        long.extend_from_slice(&[0u8; 32]);
        long.extend_from_slice(&[0x02, 0x01, 0x05]);
        assert_eq!(read_rs_signature(&long), None);
    }
}
