//! SM2 specifics shared by every backend: user IDs, the curve, and ciphertext encodings.
//!
//! Signing and verification with any user ID are [`Backend::sm2_signing_key`] and
//! [`Backend::sm2_verify`]; encryption is [`Backend::sm2_encrypt`] and
//! [`Backend::sm2_decrypt`]. Key agreement is [`KxAlg::CurveSm2`](crate::KxAlg::CurveSm2).
//!
//! [`Backend::sm2_signing_key`]: crate::Backend::sm2_signing_key
//! [`Backend::sm2_verify`]: crate::Backend::sm2_verify
//! [`Backend::sm2_encrypt`]: crate::Backend::sm2_encrypt
//! [`Backend::sm2_decrypt`]: crate::Backend::sm2_decrypt

use crate::{Error, PrivateKey};

/// One side of the SM2 key exchange protocol (GB/T 32918.3-2016 clause 6.1, without the
/// optional confirmation values S1/S2/SA/SB): both parties' long-term keys and IDs and one
/// ephemeral key pair each give both the same key. TLCP's ECDHE suites use it with the
/// encryption certificates' keys, the server as initiator (GB/T 38636-2020 6.4.5.8).
#[derive(Clone, Copy, Debug)]
pub struct KeyExchange<'a> {
    /// Whether we are the initiator A (our Z comes first in the KDF input) or responder B.
    pub initiator: bool,
    /// Our long-term SM2 key.
    pub own_static: &'a PrivateKey,
    /// Our ephemeral SM2 key (r and R = [r]G), fresh for this exchange.
    pub own_ephemeral: &'a PrivateKey,
    /// Our user ID.
    pub own_id: &'a [u8],
    /// The peer's long-term public key, a 65-byte uncompressed point.
    pub peer_static: &'a [u8],
    /// The peer's ephemeral public key, a 65-byte uncompressed point.
    pub peer_ephemeral: &'a [u8],
    /// The peer's user ID.
    pub peer_id: &'a [u8],
}

/// The default user ID of GB/T 35276-2017 5.5 and GM/T 0009, used for certificate
/// signatures (RFC 8998 3.2.1 names it too).
pub const DEFAULT_ID: &[u8] = b"1234567812345678";

/// The user ID RFC 8998 3.2.1 fixes for TLS 1.3 CertificateVerify signatures.
pub const TLS13_CERTIFICATE_VERIFY_ID: &[u8] = b"TLSv1.3+GM+Cipher+Suite";

/// Longest user ID: its bit length must fit ENTL's 16 bits (GB/T 32918.2 5.5).
pub const MAX_ID_LEN: usize = 8191;

/// curveSM2's group order n (GB/T 32918.5 clause 3), big-endian.
pub const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x72, 0x03, 0xdf, 0x6b, 0x21, 0xc6, 0x05, 0x2b, 0x53, 0xbb, 0xf4, 0x09, 0x39, 0xd5, 0x41, 0x23,
];

/// How an SM2 ciphertext is laid out (GB/T 32918.4 with the C1C3C2 order of the 2012+
/// standards; the 2010 order C1C2C3 is not produced or accepted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CiphertextFormat {
    /// `04 || x1 || y1 || C3 || C2`: the uncompressed point C1, the 32-byte SM3 check value
    /// C3, then the masked message C2 (as long as the plaintext).
    Raw,
    /// The ASN.1 `SEQUENCE { x, y INTEGER, hash OCTET STRING, ciphertext OCTET STRING }` of
    /// GM/T 0009 7.2, as OpenSSL and GmSSL write it.
    Der,
}

/// Length of C1 (uncompressed point) plus C3 (SM3 digest) in the raw form.
pub const RAW_OVERHEAD: usize = 65 + 32;

/// Converts a raw `C1 || C3 || C2` ciphertext to DER.
pub fn raw_to_der(raw: &[u8]) -> Result<Vec<u8>, Error> {
    if raw.len() < RAW_OVERHEAD || raw[0] != 4 {
        return Err(Error::InvalidInput(
            "SM2 ciphertext shorter than C1 || C3, or C1 not an uncompressed point",
        ));
    }
    Ok(crate::der::sm2_cipher(
        &raw[1..33],
        &raw[33..65],
        &raw[65..97],
        &raw[97..],
    ))
}

/// Converts a DER ciphertext to raw `C1 || C3 || C2`.
pub fn der_to_raw(der: &[u8]) -> Result<Vec<u8>, Error> {
    let bad = Error::InvalidInput("malformed SM2 ciphertext DER");
    let (x, y, hash, ct) = crate::der::read_sm2_cipher(der).ok_or(bad.clone())?;
    if x.len() > 32 || y.len() > 32 || hash.len() != 32 {
        return Err(bad);
    }
    let mut raw = Vec::with_capacity(RAW_OVERHEAD + ct.len());
    raw.push(4);
    raw.extend(core::iter::repeat_n(0, 32 - x.len()));
    raw.extend_from_slice(x);
    raw.extend(core::iter::repeat_n(0, 32 - y.len()));
    raw.extend_from_slice(y);
    raw.extend_from_slice(hash);
    raw.extend_from_slice(ct);
    Ok(raw)
}

/// Converts between the formats.
pub(crate) fn to_raw(ciphertext: &[u8], format: CiphertextFormat) -> Result<Vec<u8>, Error> {
    match format {
        CiphertextFormat::Raw => Ok(ciphertext.to_vec()),
        CiphertextFormat::Der => der_to_raw(ciphertext),
    }
}

/// Checks a user ID's length (ENTL is a 16-bit count of bits).
pub(crate) fn check_id(id: &[u8]) -> Result<(), Error> {
    if id.len() > MAX_ID_LEN {
        Err(Error::InvalidInput("SM2 user ID longer than 8191 bytes"))
    } else {
        Ok(())
    }
}

/// Checks the raw form's outline before a backend sees it: long enough, C1 uncompressed.
pub(crate) fn check_raw(raw: &[u8]) -> Result<(), Error> {
    if raw.len() < RAW_OVERHEAD {
        return Err(Error::InvalidInput(
            "SM2 ciphertext shorter than C1 || C3 (97 bytes)",
        ));
    }
    if raw[0] != 4 {
        return Err(Error::InvalidInput("SM2 C1 is not an uncompressed point"));
    }
    Ok(())
}

#[cfg(feature = "libsm")]
/// Reorders C1 || C2 || C3 (the 2010 draft order some libraries still emit) into
/// C1 || C3 || C2. `raw` must hold at least C1 and C3.
pub(crate) fn c1c2c3_to_c1c3c2(raw: &[u8]) -> Result<Vec<u8>, Error> {
    check_raw(raw)?;
    let c2_len = raw.len() - RAW_OVERHEAD;
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(&raw[..65]);
    out.extend_from_slice(&raw[65 + c2_len..]);
    out.extend_from_slice(&raw[65..65 + c2_len]);
    Ok(out)
}

#[cfg(feature = "libsm")]
/// The inverse of [`c1c2c3_to_c1c3c2`].
pub(crate) fn c1c3c2_to_c1c2c3(raw: &[u8]) -> Result<Vec<u8>, Error> {
    check_raw(raw)?;
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(&raw[..65]);
    out.extend_from_slice(&raw[97..]);
    out.extend_from_slice(&raw[65..97]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_and_raw_convert_both_ways() {
        let mut raw = vec![4u8];
        raw.extend_from_slice(&[0u8; 32]); // x with leading zeros: DER drops them
        raw.extend_from_slice(&[0xffu8; 32]);
        raw.extend_from_slice(&[3u8; 32]);
        raw.extend_from_slice(b"message");
        let der = raw_to_der(&raw).unwrap();
        assert_eq!(der_to_raw(&der).unwrap(), raw);
        assert!(raw_to_der(&raw[..96]).is_err());
    }

    #[cfg(feature = "libsm")]
    #[test]
    fn old_and_new_orders_are_inverse() {
        let raw: Vec<u8> = core::iter::once(4).chain(1..=120).collect();
        let old = c1c3c2_to_c1c2c3(&raw).unwrap();
        assert_eq!(&old[65..65 + 24], &raw[97..]);
        assert_eq!(c1c2c3_to_c1c3c2(&old).unwrap(), raw);
    }
}
