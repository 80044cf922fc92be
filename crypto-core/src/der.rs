//! Just enough DER to re-wrap private keys (PKCS#1 or SEC1 into PKCS#8, and back), write
//! SubjectPublicKeyInfo, and read and write the SM2 ciphertext structure. Parsing keys is left
//! to the RustCrypto `der`-based crates; the small strict reader here serves SM2 ciphertexts.

use zeroize::Zeroizing;

/// Object identifiers used when wrapping keys (values from RFC 8017, RFC 5480, RFC 8410).
pub(crate) mod oid {
    /// rsaEncryption, 1.2.840.113549.1.1.1
    pub(crate) const RSA_ENCRYPTION: &[u8] =
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    /// id-ecPublicKey, 1.2.840.10045.2.1
    pub(crate) const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    /// secp256r1, 1.2.840.10045.3.1.7
    pub(crate) const SECP256R1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    /// secp384r1, 1.3.132.0.34
    pub(crate) const SECP384R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    /// id-Ed25519, 1.3.101.112
    pub(crate) const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    /// curveSM2 (GB/T 33560 / GM/T 0006), 1.2.156.10197.1.301
    pub(crate) const SM2_CURVE: &[u8] = &[0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const NULL: u8 = 0x05;
const OID: u8 = 0x06;

/// Appends one TLV to `out`.
fn tlv(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
}

fn wrap(tag: u8, value: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(value.len() + 6));
    tlv(&mut out, tag, value);
    out
}

/// PKCS#8 v1 `PrivateKeyInfo` (RFC 5208) around an already-encoded private key.
pub(crate) fn pkcs8(alg_oid: &[u8], params: Params<'_>, private_key: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut alg = Vec::new();
    tlv(&mut alg, OID, alg_oid);
    match params {
        Params::None => {}
        Params::Null => tlv(&mut alg, NULL, &[]),
        Params::Oid(o) => tlv(&mut alg, OID, o),
    }
    let mut body = Zeroizing::new(Vec::with_capacity(private_key.len() + 32));
    tlv(&mut body, INTEGER, &[0]);
    tlv(&mut body, SEQUENCE, &alg);
    tlv(&mut body, OCTET_STRING, private_key);
    wrap(SEQUENCE, &body)
}

/// Algorithm parameters in an `AlgorithmIdentifier`.
pub(crate) enum Params<'a> {
    /// Absent (Ed25519).
    None,
    /// NULL (rsaEncryption).
    Null,
    /// A named curve.
    Oid(&'a [u8]),
}

/// SEC1 `ECPrivateKey` (RFC 5915) with the public key and without curve parameters, as it
/// sits inside PKCS#8 (the curve is named in the outer `AlgorithmIdentifier`).
pub(crate) fn sec1(scalar: &[u8], public: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut body = Zeroizing::new(Vec::with_capacity(scalar.len() + public.len() + 32));
    tlv(&mut body, INTEGER, &[1]);
    tlv(&mut body, OCTET_STRING, scalar);
    let mut bits = Vec::with_capacity(public.len() + 1);
    bits.push(0); // no unused bits
    bits.extend_from_slice(public);
    let mut b = Vec::new();
    tlv(&mut b, BIT_STRING, &bits);
    tlv(&mut body, 0xa1, &b);
    wrap(SEQUENCE, &body)
}

/// SEC1 `ECPrivateKey` with the curve named in `parameters` and the public key, as a
/// stand-alone `EC PRIVATE KEY` file holds it (what `openssl ec` writes).
pub(crate) fn sec1_named(scalar: &[u8], public: &[u8], curve_oid: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut body = Zeroizing::new(Vec::with_capacity(scalar.len() + public.len() + 48));
    tlv(&mut body, INTEGER, &[1]);
    tlv(&mut body, OCTET_STRING, scalar);
    let mut o = Vec::new();
    tlv(&mut o, OID, curve_oid);
    tlv(&mut body, 0xa0, &o);
    let mut bits = Vec::with_capacity(public.len() + 1);
    bits.push(0);
    bits.extend_from_slice(public);
    let mut b = Vec::new();
    tlv(&mut b, BIT_STRING, &bits);
    tlv(&mut body, 0xa1, &b);
    wrap(SEQUENCE, &body)
}

/// X.509 `SubjectPublicKeyInfo` (RFC 5280 4.1) around an encoded public key.
pub(crate) fn spki(alg_oid: &[u8], params: Params<'_>, public_key: &[u8]) -> Vec<u8> {
    let mut alg = Vec::new();
    tlv(&mut alg, OID, alg_oid);
    match params {
        Params::None => {}
        Params::Null => tlv(&mut alg, NULL, &[]),
        Params::Oid(o) => tlv(&mut alg, OID, o),
    }
    let mut bits = Vec::with_capacity(public_key.len() + 1);
    bits.push(0);
    bits.extend_from_slice(public_key);
    let mut body = Vec::with_capacity(alg.len() + bits.len() + 8);
    tlv(&mut body, SEQUENCE, &alg);
    tlv(&mut body, BIT_STRING, &bits);
    let mut out = Vec::with_capacity(body.len() + 4);
    tlv(&mut out, SEQUENCE, &body);
    out
}

/// The SM2 ciphertext structure of GM/T 0009 7.2 (what OpenSSL writes):
/// `SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING, ciphertext OCTET STRING }`.
pub(crate) fn sm2_cipher(x: &[u8], y: &[u8], hash: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(x.len() + y.len() + hash.len() + ciphertext.len() + 16);
    positive_integer(&mut body, x);
    positive_integer(&mut body, y);
    tlv(&mut body, OCTET_STRING, hash);
    tlv(&mut body, OCTET_STRING, ciphertext);
    let mut out = Vec::with_capacity(body.len() + 4);
    tlv(&mut out, SEQUENCE, &body);
    out
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

/// A non-negative INTEGER from big-endian magnitude (leading zeros allowed).
fn positive_integer(out: &mut Vec<u8>, mut v: &[u8]) {
    while v.len() > 1 && v[0] == 0 {
        v = &v[1..];
    }
    let mut val = Vec::with_capacity(v.len() + 1);
    if v.is_empty() || v[0] & 0x80 != 0 {
        val.push(0);
    }
    val.extend_from_slice(v);
    tlv(out, INTEGER, &val);
}

/// An OCTET STRING around `bytes` (Ed25519's `CurvePrivateKey`, RFC 8410).
pub(crate) fn octet_string(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    wrap(OCTET_STRING, bytes)
}

/// PKCS#1 `RSAPublicKey` from big-endian modulus and exponent (leading zeros allowed).
pub(crate) fn rsa_public_key(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(n.len() + e.len() + 8);
    positive_integer(&mut body, n);
    positive_integer(&mut body, e);
    let mut out = Vec::with_capacity(body.len() + 4);
    tlv(&mut out, SEQUENCE, &body);
    out
}

#[cfg(feature = "asm")]
/// An (EC)DSA-style signature `SEQUENCE { r INTEGER, s INTEGER }` (SM2 uses it too,
/// GM/T 0009 7.3), from big-endian magnitudes.
pub(crate) fn rs_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(r.len() + s.len() + 6);
    positive_integer(&mut body, r);
    positive_integer(&mut body, s);
    let mut out = Vec::with_capacity(body.len() + 2);
    tlv(&mut out, SEQUENCE, &body);
    out
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
        let mut out = Vec::new();
        tlv(&mut out, OCTET_STRING, &[0u8; 300]);
        assert_eq!(&out[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let mut out = Vec::new();
        tlv(&mut out, OCTET_STRING, &[0u8; 200]);
        assert_eq!(&out[..3], &[0x04, 0x81, 200]);
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
