//! Record protection for rustls over crypto-core AEADs (RFC 8446 section 5.2, RFC 5288, RFC
//! 7905). One seal or open per record, in place, in the buffer rustls hands over: no allocation
//! beyond the record buffer rustls itself asks for.

use rustls::ConnectionTrafficSecrets;
use rustls::crypto::cipher::{
    AeadKey, InboundOpaqueMessage, InboundPlainMessage, Iv, KeyBlockShape, MessageDecrypter,
    MessageEncrypter, Nonce, OutboundOpaqueMessage, OutboundPlainMessage, PrefixedPayload,
    Tls12AeadAlgorithm, Tls13AeadAlgorithm, UnsupportedOperationError, make_tls12_aad,
    make_tls13_aad,
};
use rustls::{ContentType, Error, ProtocolVersion};

use super::intern::{self, Table};
use crate::{AeadAlg, Backend, TAG_LEN, Tag};

/// Largest TLSPlaintext fragment (RFC 8446 section 5.1, RFC 5246 section 6.2.1).
const MAX_FRAGMENT_LEN: usize = 16384;
/// TLS 1.2 AES-GCM's explicit nonce (RFC 5288 section 3).
const GCM_EXPLICIT_NONCE_LEN: usize = 8;

fn key(alg: AeadAlg, backend: Backend, key: &AeadKey) -> Box<dyn crate::AeadKey> {
    // The key length is the suite's own (rustls derives it from `key_len`), and the backend was
    // checked to support the algorithm when the suite was built, so this cannot fail; if it ever
    // did, a key that fails every record is the safe outcome.
    match backend.aead(alg, key.as_ref()) {
        Ok(k) => k,
        Err(_) => Box::new(Broken(alg)),
    }
}

#[derive(Debug)]
struct Broken(AeadAlg);

impl crate::AeadKey for Broken {
    fn algorithm(&self) -> AeadAlg {
        self.0
    }
    fn seal_in_place_detached(
        &self,
        _: &crate::Nonce,
        _: &[u8],
        _: &mut [u8],
    ) -> Result<Tag, crate::Error> {
        Err(crate::Error::Backend("AEAD key could not be built"))
    }
    fn open_in_place_detached(
        &self,
        _: &crate::Nonce,
        _: &[u8],
        in_out: &mut [u8],
        _: &Tag,
    ) -> Result<(), crate::Error> {
        in_out.fill(0);
        Err(crate::Error::DecryptFailed)
    }
}

fn traffic_secrets(
    alg: AeadAlg,
    key: AeadKey,
    iv: Iv,
) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
    match alg {
        AeadAlg::Aes128Gcm => Ok(ConnectionTrafficSecrets::Aes128Gcm { key, iv }),
        AeadAlg::Aes256Gcm => Ok(ConnectionTrafficSecrets::Aes256Gcm { key, iv }),
        AeadAlg::ChaCha20Poly1305 => Ok(ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv }),
        // rustls 0.23 has no variant for SM4 (it only matters for kernel TLS offload).
        _ => Err(UnsupportedOperationError),
    }
}

/// Seals `payload[from..]` and appends the tag.
fn seal(
    key: &dyn crate::AeadKey,
    nonce: Nonce,
    aad: &[u8],
    payload: &mut PrefixedPayload,
    from: usize,
) -> Result<(), Error> {
    let tag = key
        .seal_in_place_detached(&crate::Nonce(nonce.0), aad, &mut payload.as_mut()[from..])
        .map_err(|_| Error::EncryptError)?;
    payload.extend_from_slice(&tag.0);
    Ok(())
}

/// Opens `data || tag` in place; returns the plaintext length.
fn open(
    key: &dyn crate::AeadKey,
    nonce: Nonce,
    aad: &[u8],
    sealed: &mut [u8],
) -> Result<usize, Error> {
    let ct_len = sealed
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(Error::DecryptError)?;
    let (data, tag) = sealed.split_at_mut(ct_len);
    let mut t = [0u8; TAG_LEN];
    t.copy_from_slice(tag);
    key.open_in_place_detached(&crate::Nonce(nonce.0), aad, data, &Tag(t))
        .map_err(|_| Error::DecryptError)?;
    Ok(ct_len)
}

/// A TLS 1.3 AEAD on one backend.
pub(super) struct Tls13Aead {
    alg: AeadAlg,
    backend: Backend,
}

static TLS13: Table<(AeadAlg, Backend), Tls13Aead> = Table::new();

impl Tls13Aead {
    pub(super) fn get(alg: AeadAlg, backend: Backend) -> Option<&'static Self> {
        backend
            .supports(crate::Algorithm::Aead(alg))
            .then(|| intern::get(&TLS13, (alg, backend), || Self { alg, backend }))
    }
}

impl Tls13AeadAlgorithm for Tls13Aead {
    fn encrypter(&self, k: AeadKey, iv: Iv) -> Box<dyn MessageEncrypter> {
        Box::new(Tls13Encrypter {
            key: key(self.alg, self.backend, &k),
            iv,
        })
    }

    fn decrypter(&self, k: AeadKey, iv: Iv) -> Box<dyn MessageDecrypter> {
        Box::new(Tls13Decrypter {
            key: key(self.alg, self.backend, &k),
            iv,
        })
    }

    fn key_len(&self) -> usize {
        self.alg.key_len()
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: Iv,
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        traffic_secrets(self.alg, key, iv)
    }
}

struct Tls13Encrypter {
    key: Box<dyn crate::AeadKey>,
    iv: Iv,
}

impl MessageEncrypter for Tls13Encrypter {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let total = self.encrypted_payload_len(msg.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total);
        payload.extend_from_chunks(&msg.payload);
        payload.extend_from_slice(&msg.typ.to_array());
        let aad = make_tls13_aad(total);
        seal(&*self.key, Nonce::new(&self.iv, seq), &aad, &mut payload, 0)?;
        // TLS 1.3 records carry the legacy version 0x0303 (RFC 8446 section 5.1).
        Ok(OutboundOpaqueMessage::new(
            ContentType::ApplicationData,
            ProtocolVersion::TLSv1_2,
            payload,
        ))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + 1 + TAG_LEN
    }
}

struct Tls13Decrypter {
    key: Box<dyn crate::AeadKey>,
    iv: Iv,
}

impl MessageDecrypter for Tls13Decrypter {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let aad = make_tls13_aad(msg.payload.len());
        let plain_len = open(
            &*self.key,
            Nonce::new(&self.iv, seq),
            &aad,
            &mut msg.payload,
        )?;
        msg.payload.truncate(plain_len);
        msg.into_tls13_unpadded_message()
    }
}

/// A TLS 1.2 AEAD on one backend: AES-GCM with an 8-byte explicit nonce (RFC 5288) or
/// ChaCha20-Poly1305 with the TLS 1.3-style XORed nonce (RFC 7905).
pub(super) struct Tls12Aead {
    alg: AeadAlg,
    backend: Backend,
}

static TLS12: Table<(AeadAlg, Backend), Tls12Aead> = Table::new();

impl Tls12Aead {
    pub(super) fn get(alg: AeadAlg, backend: Backend) -> Option<&'static Self> {
        let tls12 = matches!(
            alg,
            AeadAlg::Aes128Gcm | AeadAlg::Aes256Gcm | AeadAlg::ChaCha20Poly1305
        );
        (tls12 && backend.supports(crate::Algorithm::Aead(alg)))
            .then(|| intern::get(&TLS12, (alg, backend), || Self { alg, backend }))
    }

    fn is_gcm(&self) -> bool {
        self.alg != AeadAlg::ChaCha20Poly1305
    }
}

impl Tls12AeadAlgorithm for Tls12Aead {
    fn encrypter(&self, k: AeadKey, iv: &[u8], extra: &[u8]) -> Box<dyn MessageEncrypter> {
        // GCM: 4-byte salt from the key block + 8 more bytes of key block as the starting
        // explicit nonce, XORed with the sequence number (unique per record, as RFC 5288 asks).
        Box::new(Tls12Encrypter {
            key: key(self.alg, self.backend, &k),
            iv: joined_iv(iv, extra),
            gcm: self.is_gcm(),
        })
    }

    fn decrypter(&self, k: AeadKey, iv: &[u8]) -> Box<dyn MessageDecrypter> {
        Box::new(Tls12Decrypter {
            key: key(self.alg, self.backend, &k),
            iv: joined_iv(iv, &[]),
            gcm: self.is_gcm(),
        })
    }

    fn key_block_shape(&self) -> KeyBlockShape {
        if self.is_gcm() {
            KeyBlockShape {
                enc_key_len: self.alg.key_len(),
                fixed_iv_len: 4,
                explicit_nonce_len: GCM_EXPLICIT_NONCE_LEN,
            }
        } else {
            KeyBlockShape {
                enc_key_len: 32,
                fixed_iv_len: 12,
                explicit_nonce_len: 0,
            }
        }
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: &[u8],
        explicit: &[u8],
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        traffic_secrets(self.alg, key, joined_iv(iv, explicit))
    }
}

/// `fixed || explicit`, at most 12 bytes (4 + 8 for GCM, 12 + 0 for ChaCha20-Poly1305).
fn joined_iv(fixed: &[u8], explicit: &[u8]) -> Iv {
    let mut full = [0u8; 12];
    let n = fixed.len().min(12);
    full[..n].copy_from_slice(&fixed[..n]);
    let m = explicit.len().min(12 - n);
    full[n..n + m].copy_from_slice(&explicit[..m]);
    Iv::new(full)
}

struct Tls12Encrypter {
    key: Box<dyn crate::AeadKey>,
    iv: Iv,
    gcm: bool,
}

impl MessageEncrypter for Tls12Encrypter {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let total = self.encrypted_payload_len(msg.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total);
        let nonce = Nonce::new(&self.iv, seq);
        let aad = make_tls12_aad(seq, msg.typ, msg.version, msg.payload.len());
        let from = if self.gcm {
            payload.extend_from_slice(&nonce.0[4..]);
            GCM_EXPLICIT_NONCE_LEN
        } else {
            0
        };
        payload.extend_from_chunks(&msg.payload);
        seal(&*self.key, nonce, &aad, &mut payload, from)?;
        Ok(OutboundOpaqueMessage::new(msg.typ, msg.version, payload))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + TAG_LEN + if self.gcm { GCM_EXPLICIT_NONCE_LEN } else { 0 }
    }
}

struct Tls12Decrypter {
    key: Box<dyn crate::AeadKey>,
    iv: Iv,
    gcm: bool,
}

impl MessageDecrypter for Tls12Decrypter {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let explicit = if self.gcm { GCM_EXPLICIT_NONCE_LEN } else { 0 };
        let payload_len = msg.payload.len();
        if payload_len < explicit + TAG_LEN {
            return Err(Error::DecryptError);
        }
        let nonce = if self.gcm {
            let mut n = [0u8; 12];
            n[..4].copy_from_slice(&self.iv.as_ref()[..4]);
            n[4..].copy_from_slice(&msg.payload[..GCM_EXPLICIT_NONCE_LEN]);
            Nonce(n)
        } else {
            Nonce::new(&self.iv, seq)
        };
        let aad = make_tls12_aad(seq, msg.typ, msg.version, payload_len - explicit - TAG_LEN);
        let plain_len = open(&*self.key, nonce, &aad, &mut msg.payload[explicit..])?;
        if plain_len > MAX_FRAGMENT_LEN {
            return Err(Error::PeerSentOversizedRecord);
        }
        Ok(msg.into_plain_message_range(explicit..explicit + plain_len))
    }
}
