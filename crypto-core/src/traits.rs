//! The small, object-safe traits every backend implements.
//!
//! Each trait has one or two required methods; conveniences are provided on top. Objects are
//! built once per key (the backend and its CPU-specific code are chosen then) and are
//! `Send + Sync`, so one key can serve many threads.

use core::fmt::Debug;

use zeroize::Zeroizing;

use crate::{AeadAlg, Error, HashAlg, KxAlg, SignatureAlg};

/// Length of every nonce our AEADs take.
pub const NONCE_LEN: usize = 12;
/// Length of every tag our AEADs produce.
pub const TAG_LEN: usize = 16;

/// A 96-bit AEAD nonce. It must never repeat under one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nonce(pub [u8; NONCE_LEN]);

/// A 128-bit AEAD authentication tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag(pub [u8; TAG_LEN]);

/// An AEAD key, ready to seal and open (RFC 5116 semantics).
pub trait AeadKey: Send + Sync + Debug {
    /// Which AEAD this key is for.
    fn algorithm(&self) -> AeadAlg;

    /// Encrypts `in_out` in place and returns the tag.
    fn seal_in_place_detached(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<Tag, Error>;

    /// Checks `tag` and decrypts `in_out` in place. On failure `in_out` is zeroed, so no
    /// unauthenticated plaintext is ever visible, and [`Error::DecryptFailed`] is returned.
    fn open_in_place_detached(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        in_out: &mut [u8],
        tag: &Tag,
    ) -> Result<(), Error>;

    /// Encrypts the first `plaintext_len` bytes of `buf` and writes the tag right after them.
    /// Returns the length of ciphertext plus tag.
    fn seal_in_place(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        buf: &mut [u8],
        plaintext_len: usize,
    ) -> Result<usize, Error> {
        let total = plaintext_len
            .checked_add(TAG_LEN)
            .ok_or(Error::InvalidLength)?;
        if buf.len() < total {
            return Err(Error::InvalidLength);
        }
        let (data, rest) = buf.split_at_mut(plaintext_len);
        let tag = self.seal_in_place_detached(nonce, aad, data)?;
        rest[..TAG_LEN].copy_from_slice(&tag.0);
        Ok(total)
    }

    /// Opens `ciphertext || tag` in place; returns the plaintext, a prefix of `buf`.
    fn open_in_place<'a>(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        buf: &'a mut [u8],
    ) -> Result<&'a mut [u8], Error> {
        let ct_len = buf.len().checked_sub(TAG_LEN).ok_or(Error::DecryptFailed)?;
        let (data, tag) = buf.split_at_mut(ct_len);
        let mut t = [0u8; TAG_LEN];
        t.copy_from_slice(tag);
        self.open_in_place_detached(nonce, aad, data, &Tag(t))?;
        Ok(data)
    }
}

/// A digest, an HMAC tag or a PRK: up to 64 bytes, stored inline (no allocation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Output {
    buf: [u8; 64],
    len: usize,
}

impl Output {
    /// Copies `bytes` (at most 64) into a new output.
    ///
    /// # Panics
    /// If `bytes` is longer than 64: only backends call this, with digest-sized inputs.
    pub fn new(bytes: &[u8]) -> Self {
        let mut buf = [0u8; 64];
        buf[..bytes.len()].copy_from_slice(bytes);
        Self {
            buf,
            len: bytes.len(),
        }
    }
}

impl Output {
    /// Overwrites the bytes with zeros. `Output` is `Copy` (so it cannot wipe itself on drop);
    /// callers holding key material in one (an HMAC tag used as a key, a PRK) wipe it.
    pub fn wipe(&mut self) {
        use zeroize::Zeroize;
        self.buf.zeroize();
        self.len = 0;
    }
}

impl AsRef<[u8]> for Output {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Debug for Output {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for b in self.as_ref() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A hash function.
pub trait Hash: Send + Sync + Debug {
    /// Which hash this is.
    fn algorithm(&self) -> HashAlg;
    /// Starts an incremental computation.
    fn start(&self) -> Box<dyn HashContext>;
    /// Hashes `data` in one go, without allocating.
    fn hash(&self, data: &[u8]) -> Output;
}

/// An incremental hash computation.
pub trait HashContext: Send + Sync {
    /// Absorbs more data.
    fn update(&mut self, data: &[u8]);
    /// Returns the digest of everything so far, leaving the context usable.
    fn fork_finish(&self) -> Output;
    /// Returns an independent copy of this context.
    fn fork(&self) -> Box<dyn HashContext>;
    /// Returns the digest and consumes the context.
    fn finish(self: Box<Self>) -> Output;
}

/// HMAC over one hash.
pub trait Hmac: Send + Sync + Debug {
    /// The underlying hash.
    fn algorithm(&self) -> HashAlg;
    /// Prepares a key (any length, per RFC 2104).
    fn with_key(&self, key: &[u8]) -> Box<dyn HmacKey>;
}

/// An HMAC key.
pub trait HmacKey: Send + Sync {
    /// Computes the tag over the concatenation of `data`.
    fn sign(&self, data: &[&[u8]]) -> Output;

    /// Checks a tag, possibly truncated (at least 10 bytes, RFC 2104 5), in constant time.
    fn verify(&self, data: &[&[u8]], tag: &[u8]) -> Result<(), Error> {
        let full = self.sign(data);
        let full = full.as_ref();
        if tag.len() < 10 || tag.len() > full.len() {
            return Err(Error::BadSignature);
        }
        if crate::ct::eq(&full[..tag.len()], tag) {
            Ok(())
        } else {
            Err(Error::BadSignature)
        }
    }
}

/// HKDF (RFC 5869) over one hash.
pub trait Hkdf: Send + Sync + Debug {
    /// The underlying hash.
    fn algorithm(&self) -> HashAlg;
    /// HKDF-Extract: derives a pseudorandom key from `salt` and `ikm`.
    fn extract(&self, salt: &[u8], ikm: &[u8]) -> Box<dyn HkdfPrk>;
}

/// An extracted HKDF pseudorandom key.
pub trait HkdfPrk: Send + Sync {
    /// HKDF-Expand: fills `out` from the concatenation of `info`. Fails with
    /// [`Error::InvalidLength`] for more than 255 hash lengths.
    fn expand(&self, info: &[&[u8]], out: &mut [u8]) -> Result<(), Error>;
}

/// A private key bound to one signature scheme.
pub trait SigningKey: Send + Sync + Debug {
    /// The scheme this key signs with.
    fn algorithm(&self) -> SignatureAlg;
    /// Signs `message` (the backend hashes it).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error>;
    /// The matching public key, in the form [`Verifier::verify`] takes.
    fn public_key(&self) -> &[u8];
}

/// Signature verification for one scheme.
///
/// `public_key` is what an X.509 SubjectPublicKeyInfo's bit string holds: a PKCS#1
/// `RSAPublicKey` for RSA, the SEC1 uncompressed point for ECDSA, 32 bytes for Ed25519.
pub trait Verifier: Send + Sync + Debug {
    /// The scheme verified.
    fn algorithm(&self) -> SignatureAlg;
    /// Checks `signature` over `message` under `public_key`.
    fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Error>;
    /// Checks many signatures: entry i is what [`verify`](Self::verify) says of `items[i]`.
    /// A server verifying the handshakes of many clients can hand them over together, and a
    /// backend that shares work across signatures does so (the asm backend's SM2 runs eight
    /// at once on AVX-512 IFMA); the default checks one after another.
    fn verify_many(&self, items: &[SignedMessage<'_>]) -> Vec<Result<(), Error>> {
        items
            .iter()
            .map(|i| self.verify(i.public_key, i.message, i.signature))
            .collect()
    }
}

/// One signature to check, for [`Verifier::verify_many`].
#[derive(Clone, Copy, Debug)]
pub struct SignedMessage<'a> {
    /// The public key, as [`Verifier::verify`] takes it.
    pub public_key: &'a [u8],
    /// The signed message.
    pub message: &'a [u8],
    /// The signature.
    pub signature: &'a [u8],
}

/// A secret produced by key agreement; zeroized on drop.
pub type SharedSecret = Zeroizing<Vec<u8>>;

/// Key agreement in one group.
pub trait KeyExchange: Send + Sync + Debug {
    /// The group.
    fn algorithm(&self) -> KxAlg;
    /// Generates a fresh key pair.
    fn generate(&self) -> Result<Box<dyn EphemeralKey>, Error>;
    /// Agrees using a caller-supplied private key (big-endian scalar for the NIST curves,
    /// RFC 7748 bytes for X25519). Backends that cannot import private keys for agreement
    /// return [`Error::Unsupported`] with [`Algorithm::KxStatic`](crate::Algorithm::KxStatic).
    fn agree_static(
        &self,
        private_key: &[u8],
        peer_public_key: &[u8],
    ) -> Result<SharedSecret, Error>;
    /// One exchange as a TLS 1.3 server makes it: a fresh key pair and the secret shared with
    /// `peer`, as `(our public key, secret)`; the errors are [`KeyExchange::generate`]'s,
    /// then [`EphemeralKey::agree`]'s. A backend that can share work between the two does
    /// (the asm backend's curveSM2 converts both products to affine coordinates with one
    /// field inversion); the default is `generate` then `agree`.
    fn exchange(&self, peer: &[u8]) -> Result<(Vec<u8>, SharedSecret), Error> {
        let key = self.generate()?;
        let public = key.public_key().to_vec();
        Ok((public, key.agree(peer)?))
    }
    /// One exchange per peer key, as a server answers many handshakes: for each, a fresh key
    /// pair and the secret shared with that peer. Entry i is what
    /// [`exchange`](Self::exchange) gives for `peers[i]`: `(our public key, secret)`, or the
    /// error. A backend that shares work across exchanges does so (the asm backend's curveSM2
    /// runs eight at once on AVX-512 IFMA); the default calls `exchange` for each in turn.
    fn exchange_many(&self, peers: &[&[u8]]) -> Vec<Result<(Vec<u8>, SharedSecret), Error>> {
        peers.iter().map(|peer| self.exchange(peer)).collect()
    }
}

/// A generated key pair, used once.
pub trait EphemeralKey: Send + Sync {
    /// Our public key, to send to the peer.
    fn public_key(&self) -> &[u8];
    /// Computes the shared secret with the peer's public key; consumes the private key.
    fn agree(self: Box<Self>, peer_public_key: &[u8]) -> Result<SharedSecret, Error>;
}

/// A key-encapsulation mechanism: the receiver generates a key pair and publishes the
/// encapsulation key; the sender encapsulates to it, getting a ciphertext and a shared secret;
/// the receiver decapsulates the ciphertext to the same secret.
pub trait Kem: Send + Sync + Debug {
    /// Which KEM.
    fn algorithm(&self) -> crate::KemAlg;
    /// A fresh key pair.
    fn generate(&self) -> Result<Box<dyn KemDecapsulationKey>, Error>;
    /// Encapsulates to `encapsulation_key`: `(ciphertext, shared secret)`. A malformed key
    /// is [`Error::InvalidPeerKey`].
    fn encapsulate(&self, encapsulation_key: &[u8]) -> Result<(Vec<u8>, SharedSecret), Error>;
    /// A decapsulation key from its standard encoding (FIPS 203 `dk`), checked as FIPS 203
    /// section 7.3 asks (length and the embedded hash of the encapsulation key). Its
    /// `encapsulation_key()` is the one embedded in `dk`.
    fn decapsulation_key(&self, dk: &[u8]) -> Result<Box<dyn KemDecapsulationKey>, Error>;
}

/// The receiver's side of a KEM.
pub trait KemDecapsulationKey: Send + Sync {
    /// The encapsulation key to publish.
    fn encapsulation_key(&self) -> &[u8];
    /// Decapsulates. A ciphertext of the wrong length is [`Error::InvalidPeerKey`]; a
    /// well-formed but wrong one yields an unrelated secret (implicit rejection, FIPS 203).
    fn decapsulate(&self, ciphertext: &[u8]) -> Result<SharedSecret, Error>;
}

/// A cryptographically secure random number generator.
pub trait SecureRandom: Send + Sync + Debug {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error>;
}

/// The operating system's random numbers (`getrandom`), whatever backends are built: what
/// needs randomness and has no selected backend to ask (or one without a generator) uses it.
pub fn system_random() -> &'static dyn SecureRandom {
    #[derive(Debug)]
    struct System;
    impl SecureRandom for System {
        fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
            getrandom::fill(dest).map_err(|_| Error::RandomFailed)
        }
    }
    static SYSTEM: System = System;
    &SYSTEM
}

/// Block size of SM4 (and of every [`CipherAlg`](crate::CipherAlg)).
pub const BLOCK_LEN: usize = 16;

/// A key for an unauthenticated block-cipher mode ([`CipherAlg`](crate::CipherAlg)).
///
/// `iv` is empty for ECB, the IV for CBC and the initial counter block for CTR. ECB and CBC
/// take whole blocks only ([`Error::InvalidLength`] otherwise); CTR takes any length. Nothing
/// here authenticates: a protocol using these modes must bring its own MAC.
pub trait CipherKey: Send + Sync + Debug {
    /// Which mode this key is for.
    fn algorithm(&self) -> crate::CipherAlg;

    /// Encrypts `in_out` in place.
    fn encrypt(&self, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error>;

    /// Decrypts `in_out` in place.
    fn decrypt(&self, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error>;

    /// Pads `plaintext` with PKCS#7 (RFC 5652 6.3: always 1 to 16 bytes) and encrypts it.
    /// ECB and CBC only.
    fn encrypt_padded(&self, iv: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        if !self.algorithm().needs_whole_blocks() {
            return Err(Error::InvalidInput("PKCS#7 padding is for ECB and CBC"));
        }
        let pad = BLOCK_LEN - plaintext.len() % BLOCK_LEN;
        let mut buf = Vec::with_capacity(plaintext.len() + pad);
        buf.extend_from_slice(plaintext);
        buf.resize(plaintext.len() + pad, pad as u8);
        self.encrypt(iv, &mut buf)?;
        Ok(buf)
    }

    /// Decrypts and removes PKCS#7 padding. The padding is checked without branching on its
    /// bytes, and every failure is the same [`Error::DecryptFailed`] (no padding oracle from
    /// this function; an unauthenticated CBC channel still needs a MAC checked first).
    fn decrypt_padded(&self, iv: &[u8], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        if !self.algorithm().needs_whole_blocks() {
            return Err(Error::InvalidInput("PKCS#7 padding is for ECB and CBC"));
        }
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK_LEN) {
            return Err(Error::DecryptFailed);
        }
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        self.decrypt(iv, &mut buf)?;
        let len = crate::ct::pkcs7_unpadded_len(&buf).ok_or(Error::DecryptFailed)?;
        buf.truncate(len);
        Ok(buf)
    }
}
