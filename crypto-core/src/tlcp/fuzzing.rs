//! Entry points for the TLCP fuzz targets (`fuzz/fuzz_targets/tlcp_*.rs`, bodies in
//! `fuzz-logic`): the record layer and the handshake message decoders, which are private to
//! this module tree. Not API: hidden from the docs, and each function only ever panics on a
//! defect (a panic inside the code under test, or a broken round trip).
#![allow(clippy::expect_used, clippy::missing_panics_doc)]

use super::msgs::{self, ClientHello, ServerHello};
use super::record::{self, Cbc, ContentType, Gcm, HEADER_LEN, Protection};
use crate::{AeadAlg, Algorithm, Backend, CipherAlg, HashAlg};

/// Twin record states with fixed keys: CBC (SM4-CBC, HMAC-SM3) or GCM (SM4-GCM), from any
/// backend built with the pieces; `None` when none is.
fn protection(gcm: bool) -> Option<Protection> {
    if gcm {
        let b = Backend::any_for(Algorithm::Aead(AeadAlg::Sm4Gcm))?;
        Some(Protection::Gcm(Gcm {
            aead: b.aead(AeadAlg::Sm4Gcm, &[7; 16]).ok()?,
            salt: [1, 2, 3, 4],
            seq: 0,
        }))
    } else {
        let c = Backend::any_for(Algorithm::Cipher(CipherAlg::Sm4Cbc))?;
        let h = Backend::any_for(Algorithm::Hmac(HashAlg::Sm3))?;
        Some(Protection::Cbc(Cbc {
            cipher: c.cipher(CipherAlg::Sm4Cbc, &[7; 16]).ok()?,
            mac: h.hmac(HashAlg::Sm3).ok()?.with_key(&[9; 32]),
            ct_mac: super::cbc_mac::CtHmacSm3::new(&[9; 32]),
            random: crate::system_random(),
            seq: 0,
        }))
    }
}

/// The record layer: `data[0]` picks CBC or GCM; the rest is parsed as a stream of protected
/// records (header checks, then opening each fragment) until the first error; and the first
/// 300 bytes, sealed as one record, must open to themselves.
pub fn records(data: &[u8]) {
    let Some((&which, mut rest)) = data.split_first() else {
        return;
    };
    let gcm = which & 1 == 1;
    let (Some(mut rx), Some(mut tx), Some(mut twin)) =
        (protection(gcm), protection(gcm), protection(gcm))
    else {
        return;
    };
    let content = &rest[..rest.len().min(300)];
    let mut sealed = Vec::new();
    tx.seal(ContentType::ApplicationData, content, &mut sealed)
        .expect("sealing a short record");
    let mut frag = sealed[HEADER_LEN..].to_vec();
    let range = twin
        .open(ContentType::ApplicationData, &mut frag)
        .expect("a sealed record opens");
    assert_eq!(&frag[range], content, "round trip");
    while rest.len() >= HEADER_LEN {
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(&rest[..HEADER_LEN]);
        let Ok(header) = record::parse_header(&h) else {
            return;
        };
        let Some(fragment) = rest.get(HEADER_LEN..HEADER_LEN + header.len) else {
            return;
        };
        let mut fragment = fragment.to_vec();
        match rx.open(header.typ, &mut fragment) {
            Ok(range) => assert!(range.end <= fragment.len() && range.start <= range.end),
            Err(_) => return,
        }
        rest = &rest[HEADER_LEN + header.len..];
    }
}

/// Seeds for [`records`]: the selector byte, then `contents` sealed as application-data
/// records under the same fixed keys (so they open, and the fuzzer starts past the MAC).
pub fn sealed_records(gcm: bool, contents: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![u8::from(gcm)];
    let Some(mut tx) = protection(gcm) else {
        return out;
    };
    // The round trip in `records` seals once with its own state first; this state is the
    // receiving twin's sender, so it starts at the same sequence number.
    for c in contents {
        tx.seal(ContentType::ApplicationData, c, &mut out)
            .expect("sealing a seed");
    }
    out
}

/// The handshake message decoders on arbitrary bodies; what decodes re-encodes to a message
/// that decodes to the same value.
pub fn handshake_messages(data: &[u8]) {
    if let Ok(h) = ClientHello::decode(data) {
        let mut out = Vec::new();
        h.encode(&mut out);
        assert_eq!(ClientHello::decode(&out[4..]).ok(), Some(h), "ClientHello");
    }
    if let Ok(h) = ServerHello::decode(data) {
        let mut out = Vec::new();
        h.encode(&mut out);
        assert_eq!(ServerHello::decode(&out[4..]).ok(), Some(h), "ServerHello");
    }
    if let Ok(certs) = msgs::decode_certificates(data) {
        let refs: Vec<&[u8]> = certs.iter().map(Vec::as_slice).collect();
        let mut out = Vec::new();
        msgs::encode_certificates(&refs, &mut out);
        assert_eq!(
            msgs::decode_certificates(&out[4..]).ok(),
            Some(certs),
            "Certificate"
        );
    }
    let _ = msgs::decode_finished(data);
    let _ = super::server::parse_ecdhe_key_exchange(data);
    for c in msgs::decode_certificates(data).unwrap_or_default() {
        let _ = super::Cert::parse(&c);
    }
    let _ = super::Cert::parse(data);
}

/// For the dudect-style timing check (`benches/benches/tlcp_dudect.rs`): CBC record opening
/// with the fixed keys of [`records`] on one backend's SM4-CBC, every open at sequence
/// number 0, so the same fragment can be opened again and again.
pub struct CbcOpener(Protection);

impl core::fmt::Debug for CbcOpener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CbcOpener")
    }
}

impl CbcOpener {
    /// The opener with `backend`'s SM4-CBC (HMAC-SM3 and SM3 from any backend that has them).
    pub fn new(backend: Backend) -> Option<Self> {
        let h = Backend::any_for(Algorithm::Hmac(HashAlg::Sm3))?;
        Some(Self(Protection::Cbc(Cbc {
            cipher: backend.cipher(CipherAlg::Sm4Cbc, &[7; 16]).ok()?,
            mac: h.hmac(HashAlg::Sm3).ok()?.with_key(&[9; 32]),
            ct_mac: super::cbc_mac::CtHmacSm3::new(&[9; 32]),
            random: crate::system_random(),
            seq: 0,
        })))
    }

    /// Opens an application-data fragment (IV, then ciphertext) in place; whether it opened.
    pub fn open(&mut self, fragment: &mut [u8]) -> bool {
        if let Protection::Cbc(c) = &mut self.0 {
            c.seq = 0;
        }
        self.0.open(ContentType::ApplicationData, fragment).is_ok()
    }

    /// A fragment of `len` bytes (IV included; a multiple of 16, at least 64) whose plaintext
    /// is content, its MAC (sequence number 0) and `pad + 1` bytes of padding of value `pad`,
    /// or, with `bad_mac`, the same with one MAC bit flipped.
    pub fn fragment(len: usize, pad: u8, bad_mac: bool, iv: [u8; 16]) -> Option<Vec<u8>> {
        let body = len.checked_sub(16)?;
        let content_len = body.checked_sub(32 + usize::from(pad) + 1)?;
        if !len.is_multiple_of(16) {
            return None;
        }
        let content = vec![0x61u8; content_len];
        let h = Backend::any_for(Algorithm::Hmac(HashAlg::Sm3))?;
        let c = Backend::any_for(Algorithm::Cipher(CipherAlg::Sm4Cbc))?;
        let header = record::pseudo_header(0, ContentType::ApplicationData, content_len);
        let mut mac = h
            .hmac(HashAlg::Sm3)
            .ok()?
            .with_key(&[9; 32])
            .sign(&[&header, &content])
            .as_ref()
            .to_vec();
        if bad_mac {
            mac[5] ^= 1;
        }
        let mut out = iv.to_vec();
        out.extend_from_slice(&content);
        out.extend_from_slice(&mac);
        out.resize(len, pad);
        c.cipher(CipherAlg::Sm4Cbc, &[7; 16])
            .ok()?
            .encrypt(&iv, &mut out[16..])
            .ok()?;
        Some(out)
    }
}
