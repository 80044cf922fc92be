//! The TLCP record layer (GB/T 38636-2020 clause 6.3.3, which follows RFC 5246 section 6.2
//! with version 0x0101): framing, and record protection for the two cipher families.
//!
//! - CBC suites (clause 6.3.3.4.2, RFC 5246 6.2.3.2): MAC-then-encrypt. The MAC is HMAC-SM3
//!   over `seq_num(8) || type || version || length || content`; the record is an explicit
//!   16-byte IV followed by SM4-CBC of `content || MAC || padding || padding_length`, every
//!   padding byte equal to `padding_length`.
//! - GCM suites (clause 6.3.3.4.3, RFC 5288): the nonce is the 4-byte implicit salt from the
//!   key block and an 8-byte explicit part sent first in the record (our sequence number); the
//!   additional data is `seq_num || type || version || length` of the plaintext; a 16-byte tag
//!   ends the record.
//!
//! Opening a CBC record does the same work whatever the padding says: the padding is checked
//! over a fixed window, the MAC is copied out of a secret position without a secret-dependent
//! index, and the HMAC is computed over every possible content length in constant time
//! (`cbc_mac`; the Lucky Thirteen countermeasure). `benches/benches/tlcp_dudect.rs` tests that
//! with a timing check. (Its first run found that an HMAC over the content followed by dummy
//! compressions, and masks the optimiser could see through, leaked the padding length:
//! |t| > 100.)

use super::cbc_mac::CtHmacSm3;
use super::error::Error;
use crate::ct::{eq_mask_usize as eq_mask, lt_mask_usize as lt_mask};
use crate::{AeadKey, CipherKey, HmacKey, Nonce, SecureRandom, Tag};

/// The protocol version in every TLCP record and hello (GB/T 38636-2020 6.3.3.1: major 1,
/// minor 1).
pub const VERSION: u16 = 0x0101;
/// The largest plaintext a record may carry (2^14, RFC 5246 6.2.1).
pub const MAX_PLAINTEXT: usize = 1 << 14;
/// The largest protected fragment a peer may send (2^14 + 2048, RFC 5246 6.2.3).
pub(crate) const MAX_FRAGMENT: usize = MAX_PLAINTEXT + 2048;
/// A record header: type, version, length.
pub(crate) const HEADER_LEN: usize = 5;

const MAC_LEN: usize = 32;
const BLOCK: usize = 16;
const GCM_EXPLICIT: usize = 8;
const TAG_LEN: usize = 16;

/// Record content types (RFC 5246 6.2.1; GB/T 38636-2020 6.3.3.1). TLCP defines no others
/// (its site-to-site messages are alerts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContentType {
    ChangeCipherSpec = 20,
    Alert = 21,
    Handshake = 22,
    ApplicationData = 23,
}

impl ContentType {
    pub(crate) fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            20 => Self::ChangeCipherSpec,
            21 => Self::Alert,
            22 => Self::Handshake,
            23 => Self::ApplicationData,
            _ => return None,
        })
    }
}

/// One record's header as read from the wire.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub(crate) typ: ContentType,
    pub(crate) len: usize,
}

/// Parses a record header, refusing what a TLCP peer never sends: an unknown content type
/// (`unexpected_message`), another version (`protocol_version`), or a fragment longer than
/// 2^14 + 2048 (`record_overflow`).
pub(crate) fn parse_header(h: &[u8; HEADER_LEN]) -> Result<Header, Error> {
    let typ = ContentType::from_u8(h[0]).ok_or(Error::alert(
        super::error::AlertDescription::UnexpectedMessage,
        "unknown record type",
    ))?;
    let version = u16::from_be_bytes([h[1], h[2]]);
    if version != VERSION {
        return Err(Error::alert(
            super::error::AlertDescription::ProtocolVersion,
            "record version is not TLCP's 0x0101",
        ));
    }
    let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
    if len > MAX_FRAGMENT {
        return Err(Error::alert(
            super::error::AlertDescription::RecordOverflow,
            "record too long",
        ));
    }
    Ok(Header { typ, len })
}

fn push_header(out: &mut Vec<u8>, typ: ContentType, len: usize) {
    out.push(typ as u8);
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.extend_from_slice(&(len as u16).to_be_bytes());
}

/// `seq_num || type || version || length`: the MAC's and GCM's additional data.
pub(super) fn pseudo_header(seq: u64, typ: ContentType, len: usize) -> [u8; 13] {
    let mut h = [0u8; 13];
    h[..8].copy_from_slice(&seq.to_be_bytes());
    h[8] = typ as u8;
    h[9..11].copy_from_slice(&VERSION.to_be_bytes());
    h[11..].copy_from_slice(&(len as u16).to_be_bytes());
    h
}

/// The protection of one direction.
pub(crate) enum Protection {
    /// Before ChangeCipherSpec.
    Null,
    Cbc(Cbc),
    Gcm(Gcm),
}

/// SM4-CBC with HMAC-SM3.
pub(crate) struct Cbc {
    pub(crate) cipher: Box<dyn CipherKey>,
    /// Seals (the content length is public there).
    pub(crate) mac: Box<dyn HmacKey>,
    /// Opens: the same key, computed in constant time over every possible content length.
    pub(crate) ct_mac: CtHmacSm3,
    pub(crate) random: &'static dyn SecureRandom,
    pub(crate) seq: u64,
}

/// SM4-GCM.
pub(crate) struct Gcm {
    pub(crate) aead: Box<dyn AeadKey>,
    pub(crate) salt: [u8; 4],
    pub(crate) seq: u64,
}

fn next_seq(seq: &mut u64) -> Result<u64, Error> {
    let s = *seq;
    // RFC 5246 6.1: sequence numbers never wrap; renegotiation is not offered, so the
    // connection ends instead.
    *seq = s
        .checked_add(1)
        .ok_or(Error::internal("record sequence number exhausted"))?;
    Ok(s)
}

impl Protection {
    /// Appends one record carrying `content` (at most [`MAX_PLAINTEXT`] bytes) to `out`.
    pub(crate) fn seal(
        &mut self,
        typ: ContentType,
        content: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        debug_assert!(content.len() <= MAX_PLAINTEXT);
        match self {
            Self::Null => {
                push_header(out, typ, content.len());
                out.extend_from_slice(content);
            }
            Self::Cbc(c) => {
                let seq = next_seq(&mut c.seq)?;
                let mac = c
                    .mac
                    .sign(&[&pseudo_header(seq, typ, content.len()), content]);
                // content || MAC || padding, padding_length + 1 bytes of value padding_length.
                let unpadded = content.len() + MAC_LEN + 1;
                let pad = (BLOCK - unpadded % BLOCK) % BLOCK;
                let body = unpadded + pad;
                push_header(out, typ, BLOCK + body);
                let start = out.len();
                let mut iv = [0u8; BLOCK];
                c.random.fill(&mut iv).map_err(Error::crypto)?;
                out.extend_from_slice(&iv);
                out.extend_from_slice(content);
                out.extend_from_slice(mac.as_ref());
                out.resize(out.len() + pad + 1, pad as u8);
                c.cipher
                    .encrypt(&iv, &mut out[start + BLOCK..])
                    .map_err(Error::crypto)?;
            }
            Self::Gcm(g) => {
                let seq = next_seq(&mut g.seq)?;
                let explicit = seq.to_be_bytes();
                push_header(out, typ, GCM_EXPLICIT + content.len() + TAG_LEN);
                out.extend_from_slice(&explicit);
                let start = out.len();
                out.extend_from_slice(content);
                let tag = g
                    .aead
                    .seal_in_place_detached(
                        &gcm_nonce(&g.salt, &explicit),
                        &pseudo_header(seq, typ, content.len()),
                        &mut out[start..],
                    )
                    .map_err(Error::crypto)?;
                out.extend_from_slice(&tag.0);
            }
        }
        Ok(())
    }

    /// Opens one record's fragment in place; returns the range of `fragment` that holds the
    /// plaintext. Any failure is `bad_record_mac` (RFC 5246 7.2.2: the same alert for padding
    /// and MAC, so the two cannot be told apart).
    pub(crate) fn open(
        &mut self,
        typ: ContentType,
        fragment: &mut [u8],
    ) -> Result<core::ops::Range<usize>, Error> {
        let range = match self {
            Self::Null => 0..fragment.len(),
            Self::Cbc(c) => {
                let seq = next_seq(&mut c.seq)?;
                open_cbc(c, seq, typ, fragment)?
            }
            Self::Gcm(g) => {
                let seq = next_seq(&mut g.seq)?;
                if fragment.len() < GCM_EXPLICIT + TAG_LEN {
                    return Err(bad_record_mac());
                }
                let (explicit, rest) = fragment.split_at_mut(GCM_EXPLICIT);
                let (body, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
                let mut t = [0u8; TAG_LEN];
                t.copy_from_slice(tag);
                let mut e = [0u8; GCM_EXPLICIT];
                e.copy_from_slice(explicit);
                g.aead
                    .open_in_place_detached(
                        &gcm_nonce(&g.salt, &e),
                        &pseudo_header(seq, typ, body.len()),
                        body,
                        &Tag(t),
                    )
                    .map_err(|_| bad_record_mac())?;
                GCM_EXPLICIT..GCM_EXPLICIT + body.len()
            }
        };
        if range.len() > MAX_PLAINTEXT {
            return Err(Error::alert(
                super::error::AlertDescription::RecordOverflow,
                "record plaintext longer than 2^14",
            ));
        }
        Ok(range)
    }
}

fn gcm_nonce(salt: &[u8; 4], explicit: &[u8; 8]) -> Nonce {
    let mut n = [0u8; 12];
    n[..4].copy_from_slice(salt);
    n[4..].copy_from_slice(explicit);
    Nonce(n)
}

fn bad_record_mac() -> Error {
    Error::alert(
        super::error::AlertDescription::BadRecordMac,
        "record failed to authenticate",
    )
}

/// The CBC open, without a branch or an index that depends on the padding or the MAC.
fn open_cbc(
    c: &mut Cbc,
    seq: u64,
    typ: ContentType,
    fragment: &mut [u8],
) -> Result<core::ops::Range<usize>, Error> {
    // Public checks on the record's length: an IV and at least one block holding the MAC and
    // the padding-length byte.
    let len = fragment.len();
    if !len.is_multiple_of(BLOCK) || len < BLOCK + (MAC_LEN + 1).next_multiple_of(BLOCK) {
        return Err(bad_record_mac());
    }
    let (iv, body) = fragment.split_at_mut(BLOCK);
    c.cipher.decrypt(iv, body).map_err(|_| bad_record_mac())?;
    let n = body.len();

    // Padding: the last byte says how many bytes before it are padding; each must equal it.
    // Checked over the last 256 bytes (or the whole body), whatever the value.
    let pad = usize::from(body[n - 1]);
    // good = all ones while the padding and the MAC fit in the body.
    let mut good = !lt_mask(n, pad + 1 + MAC_LEN);
    let window = n.min(256);
    for i in 1..=window {
        let b = usize::from(body[n - i]);
        // Bytes n-1-pad .. n-1 (i = 1 ..= pad + 1) are padding.
        let in_pad = lt_mask(i, pad + 2);
        good &= !(in_pad & !eq_mask(b, pad));
    }
    // With bad padding, go on as if there were none, as RFC 5246 6.2.3.2 suggests, so the
    // MAC is still computed over a record of the same length.
    let pad = pad & good;
    let content_len = n - MAC_LEN - 1 - pad;

    // The received MAC sits at body[content_len..content_len + 32]: a secret offset. Copy the
    // window that can hold it into `rotated` with every byte touched, then undo the rotation
    // with five conditional rotations by powers of two.
    let lowest = n.saturating_sub(MAC_LEN + 256).min(n - MAC_LEN - 1);
    let mut rotated = [0u8; MAC_LEN];
    for (i, &b) in body.iter().enumerate().take(n - 1).skip(lowest) {
        let in_mac = !lt_mask(i, content_len) & lt_mask(i, content_len + MAC_LEN);
        rotated[(i - lowest) % MAC_LEN] |= b & in_mac as u8;
    }
    let shift = (content_len - lowest) % MAC_LEN;
    let mut mac = [0u8; MAC_LEN];
    for bit in 0..5 {
        // Opaque to the optimiser, which would otherwise unswitch the loop on this secret bit.
        let take = core::hint::black_box(0usize.wrapping_sub((shift >> bit) & 1) as u8);
        let step = 1 << bit;
        for (k, out) in mac.iter_mut().enumerate() {
            *out = (rotated[(k + step) % MAC_LEN] & take) | (rotated[k] & !take);
        }
        rotated = mac;
    }

    // The MAC over the content, computed over every possible content length in constant
    // time (`cbc_mac`): the Lucky Thirteen countermeasure.
    let header = pseudo_header(seq, typ, content_len);
    let expected = c.ct_mac.mac(&header, &body[..n - MAC_LEN - 1], content_len);
    good &= 0usize.wrapping_sub(usize::from(crate::ct::eq(&expected, &rotated)));
    if core::hint::black_box(good) == usize::MAX {
        Ok(BLOCK..BLOCK + content_len)
    } else {
        body.fill(0);
        Err(bad_record_mac())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(lt_mask(1, 2), usize::MAX);
        assert_eq!(lt_mask(2, 2), 0);
        assert_eq!(lt_mask(3, 2), 0);
        assert_eq!(eq_mask(5, 5), usize::MAX);
        assert_eq!(eq_mask(5, 6), 0);
        assert_eq!(eq_mask(0, 0), usize::MAX);
    }
}

/// Record protection with keys of our own (the RustCrypto backend computes).
#[cfg(all(test, feature = "rustcrypto"))]
#[allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
mod protection_tests {
    use super::*;
    use crate::{AeadAlg, Backend, CipherAlg, HashAlg};

    fn cbc(backend: Backend) -> Protection {
        let hmac = Backend::RustCrypto.hmac(HashAlg::Sm3).unwrap();
        Protection::Cbc(Cbc {
            cipher: backend.cipher(CipherAlg::Sm4Cbc, &[7; 16]).unwrap(),
            mac: hmac.with_key(&[9; 32]),
            ct_mac: CtHmacSm3::new(&[9; 32]),
            random: crate::system_random(),
            seq: 0,
        })
    }

    fn gcm() -> Protection {
        Protection::Gcm(Gcm {
            aead: Backend::RustCrypto.aead(AeadAlg::Sm4Gcm, &[7; 16]).unwrap(),
            salt: [1, 2, 3, 4],
            seq: 0,
        })
    }

    /// Seals with one state and opens with a twin, for every length up to a few blocks past
    /// the largest padding and at the record limit.
    #[test]
    fn records_round_trip() {
        for (mut tx, mut rx) in [
            (cbc(Backend::RustCrypto), cbc(Backend::RustCrypto)),
            (gcm(), gcm()),
        ] {
            for len in (0..300).chain([MAX_PLAINTEXT - 1, MAX_PLAINTEXT]) {
                let content: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let mut out = Vec::new();
                tx.seal(ContentType::ApplicationData, &content, &mut out)
                    .unwrap();
                let mut h = [0u8; HEADER_LEN];
                h.copy_from_slice(&out[..HEADER_LEN]);
                let header = parse_header(&h).unwrap();
                assert_eq!(header.len, out.len() - HEADER_LEN);
                let mut frag = out[HEADER_LEN..].to_vec();
                let range = rx.open(ContentType::ApplicationData, &mut frag).unwrap();
                assert_eq!(&frag[range], &content[..], "length {len}");
            }
        }
    }

    /// CBC: decrypts a sealed record, changes what is under the encryption, re-encrypts with
    /// the same IV and key, and opens it: every tampering is the same `bad_record_mac`, and
    /// the buffer is wiped.
    #[test]
    fn cbc_tampering_is_one_error() {
        let key = Backend::RustCrypto
            .cipher(CipherAlg::Sm4Cbc, &[7; 16])
            .unwrap();
        type Tamper = fn(&mut Vec<u8>);
        let cases: [(&str, Tamper); 5] = [
            ("a padding byte", |b| {
                let n = b.len();
                let pad = usize::from(b[n - 1]);
                assert!(pad >= 1);
                b[n - 2] ^= 1;
            }),
            ("the padding length", |b| {
                let n = b.len();
                b[n - 1] = b[n - 1].wrapping_add(1);
            }),
            ("a padding length past the MAC", |b| {
                let n = b.len();
                b[n - 1] = 255;
            }),
            ("the MAC", |b| {
                let n = b.len();
                let pad = usize::from(b[n - 1]);
                b[n - 2 - pad] ^= 0x80;
            }),
            ("the content", |b| b[0] ^= 1),
        ];
        for (what, tamper) in cases {
            let mut tx = cbc(Backend::RustCrypto);
            let mut rx = cbc(Backend::RustCrypto);
            let mut out = Vec::new();
            // 30 bytes: content + 32 MAC + 1 = 63, so the padding is 1 byte of value 1... use
            // 20 bytes for 11 bytes of padding (20 + 32 + 1 = 53, padded to 64).
            tx.seal(ContentType::ApplicationData, &[0x55; 20], &mut out)
                .unwrap();
            let mut frag = out[HEADER_LEN..].to_vec();
            let (iv, body) = frag.split_at_mut(16);
            key.decrypt(iv, body).unwrap();
            let mut plain = body.to_vec();
            tamper(&mut plain);
            key.encrypt(iv, &mut plain).unwrap();
            body.copy_from_slice(&plain);
            let err = rx
                .open(ContentType::ApplicationData, &mut frag)
                .unwrap_err();
            assert_eq!(
                err.alert_to_send(),
                Some(super::super::error::AlertDescription::BadRecordMac),
                "{what}"
            );
            assert!(frag[16..].iter().all(|&b| b == 0), "{what}: buffer wiped");
        }
    }

    #[test]
    fn malformed_fragments_are_refused() {
        for len in [0, 15, 16, 17, 47, 48 + 1] {
            let mut rx = cbc(Backend::RustCrypto);
            let mut frag = vec![0u8; len];
            assert!(
                rx.open(ContentType::ApplicationData, &mut frag).is_err(),
                "{len}"
            );
        }
        let mut rx = gcm();
        let mut frag = vec![0u8; 23];
        assert!(rx.open(ContentType::ApplicationData, &mut frag).is_err());
        // A wrong type in the header authenticates differently.
        let mut tx = gcm();
        let mut rx = gcm();
        let mut out = Vec::new();
        tx.seal(ContentType::ApplicationData, b"x", &mut out)
            .unwrap();
        let mut frag = out[HEADER_LEN..].to_vec();
        assert!(rx.open(ContentType::Handshake, &mut frag).is_err());
    }

    #[test]
    fn headers_are_checked() {
        assert!(parse_header(&[23, 1, 1, 0x48, 0x00]).is_ok()); // 2^14 + 2048
        let overflow = parse_header(&[23, 1, 1, 0x48, 0x01]).unwrap_err();
        assert_eq!(
            overflow.alert_to_send(),
            Some(super::super::error::AlertDescription::RecordOverflow)
        );
        let version = parse_header(&[22, 3, 3, 0, 5]).unwrap_err();
        assert_eq!(
            version.alert_to_send(),
            Some(super::super::error::AlertDescription::ProtocolVersion)
        );
        let typ = parse_header(&[24, 1, 1, 0, 5]).unwrap_err();
        assert_eq!(
            typ.alert_to_send(),
            Some(super::super::error::AlertDescription::UnexpectedMessage)
        );
    }
}
