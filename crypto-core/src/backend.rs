//! The `Backend` value: names a crypto implementation and hands out its algorithms.
//!
//! Each call checks the backend's support table first, so an algorithm a backend lacks is always
//! a typed [`Error::Unsupported`], never a panic and never a silent substitute.

use crate::backends::{self, Provider};

use zeroize::Zeroizing;

use crate::sm2::{self, CiphertextFormat};
use crate::{
    AeadAlg, AeadKey, Algorithm, Backend, CipherAlg, CipherKey, Error, Hash, HashAlg, Hkdf, Hmac,
    KeyExchange, KeyKind, KxAlg, PrivateKey, SecureRandom, SignatureAlg, SigningKey, Verifier,
};

impl Backend {
    /// Whether this backend, as built, implements `alg`: its support table lists it.
    pub fn supports(self, alg: Algorithm) -> bool {
        backends::provider(self).is_some_and(|p| p.implements(alg))
    }

    /// The first built backend (in [`Backend::ALL`] order) that implements `alg`.
    pub fn any_for(alg: Algorithm) -> Option<Self> {
        Self::built().find(|b| b.supports(alg))
    }

    fn checked(self, alg: Algorithm) -> Result<&'static Provider, Error> {
        match backends::provider(self) {
            Some(p) if p.implements(alg) => Ok(p),
            _ => Err(Error::Unsupported { alg, backend: self }),
        }
    }

    /// An AEAD key. `key` must be [`AeadAlg::key_len`] bytes.
    pub fn aead(self, alg: AeadAlg, key: &[u8]) -> Result<Box<dyn AeadKey>, Error> {
        if key.len() != alg.key_len() {
            return Err(Error::InvalidKey("wrong AEAD key length"));
        }
        Ok(self.checked(Algorithm::Aead(alg))?.aead(alg, key)?.0)
    }

    /// A hash function.
    pub fn hash(self, alg: HashAlg) -> Result<&'static dyn Hash, Error> {
        self.checked(Algorithm::Hash(alg))?.hash(alg)
    }

    /// HMAC over a hash.
    pub fn hmac(self, alg: HashAlg) -> Result<&'static dyn Hmac, Error> {
        self.checked(Algorithm::Hmac(alg))?.hmac(alg)
    }

    /// HKDF over a hash.
    pub fn hkdf(self, alg: HashAlg) -> Result<&'static dyn Hkdf, Error> {
        self.checked(Algorithm::Hkdf(alg))?.hkdf(alg)
    }

    /// A signing key for `alg` from a loaded private key of the matching kind.
    pub fn signing_key(
        self,
        alg: SignatureAlg,
        key: &PrivateKey,
    ) -> Result<Box<dyn SigningKey>, Error> {
        let p = self.checked(Algorithm::Signature(alg))?;
        if !alg.can_sign() {
            return Err(Error::InvalidInput(
                "this ECDSA curve/hash pairing is for verification only; sign with the curve's own hash",
            ));
        }
        if key.kind() != alg.key_kind() {
            return Err(Error::InvalidKey(
                "key kind does not match the signature scheme",
            ));
        }
        if alg == SignatureAlg::Sm2Sm3 {
            return (p.gm(Algorithm::Signature(alg))?.signing_key)(key, sm2::DEFAULT_ID);
        }
        p.signing_key(alg, key)
    }

    /// An SM2 signing key with user ID `id` (any bytes up to [`sm2::MAX_ID_LEN`]); its
    /// `algorithm()` is [`SignatureAlg::Sm2Sm3`]. Signatures are DER.
    pub fn sm2_signing_key(
        self,
        key: &PrivateKey,
        id: &[u8],
    ) -> Result<Box<dyn SigningKey>, Error> {
        let p = self.checked(Algorithm::Signature(SignatureAlg::Sm2Sm3))?;
        if key.kind() != KeyKind::Sm2 {
            return Err(Error::InvalidKey("not an SM2 key"));
        }
        sm2::check_id(id)?;
        (p.gm(Algorithm::Signature(SignatureAlg::Sm2Sm3))?
            .signing_key)(key, id)
    }

    /// Verifies a DER SM2 signature made with user ID `id` under `public_key` (the 65-byte
    /// uncompressed point). Any failure, including a malformed key or signature, is
    /// [`Error::BadSignature`].
    pub fn sm2_verify(
        self,
        public_key: &[u8],
        id: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let p = self.checked(Algorithm::Signature(SignatureAlg::Sm2Sm3))?;
        sm2::check_id(id)?;
        if public_key.len() != 65 || public_key[0] != 4 {
            return Err(Error::BadSignature);
        }
        (p.gm(Algorithm::Signature(SignatureAlg::Sm2Sm3))?.verify)(
            public_key, id, message, signature,
        )
    }

    /// Encrypts to an SM2 public key (GB/T 32918.4) and returns the ciphertext in `format`.
    /// Messages must not be empty (C2 would be empty and C3 would authenticate nothing).
    pub fn sm2_encrypt(
        self,
        public_key: &[u8],
        plaintext: &[u8],
        format: CiphertextFormat,
    ) -> Result<Vec<u8>, Error> {
        let p = self.checked(Algorithm::Sm2Encryption)?;
        if public_key.len() != 65 || public_key[0] != 4 {
            return Err(Error::InvalidKey(
                "SM2 public key must be a 65-byte uncompressed point",
            ));
        }
        if plaintext.is_empty() {
            return Err(Error::InvalidInput("SM2 cannot encrypt an empty message"));
        }
        let raw = (p.gm(Algorithm::Sm2Encryption)?.encrypt)(public_key, plaintext)?;
        match format {
            CiphertextFormat::Raw => Ok(raw),
            CiphertextFormat::Der => sm2::raw_to_der(&raw),
        }
    }

    /// Decrypts an SM2 ciphertext in `format`. A malformed outline is
    /// [`Error::InvalidInput`], C1 off the curve is [`Error::InvalidPeerKey`], and a C3 that
    /// does not match is [`Error::DecryptFailed`].
    pub fn sm2_decrypt(
        self,
        key: &PrivateKey,
        ciphertext: &[u8],
        format: CiphertextFormat,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let p = self.checked(Algorithm::Sm2Encryption)?;
        if key.kind() != KeyKind::Sm2 {
            return Err(Error::InvalidKey("not an SM2 key"));
        }
        let raw = sm2::to_raw(ciphertext, format)?;
        sm2::check_raw(&raw)?;
        if raw.len() == sm2::RAW_OVERHEAD {
            return Err(Error::InvalidInput("SM2 ciphertext with an empty C2"));
        }
        (p.gm(Algorithm::Sm2Encryption)?.decrypt)(key, &raw)
    }

    /// The SM2 key exchange protocol (GB/T 32918.3): `out.len()` bytes of shared key. Both
    /// long-term keys and both ephemeral keys must be SM2 keys; a peer point off the curve is
    /// [`Error::InvalidPeerKey`].
    pub fn sm2_key_exchange(self, kx: &sm2::KeyExchange<'_>, out: &mut [u8]) -> Result<(), Error> {
        let f = self
            .checked(Algorithm::Sm2KeyExchange)?
            .sm2_key_exchange()?;
        if kx.own_static.kind() != KeyKind::Sm2 || kx.own_ephemeral.kind() != KeyKind::Sm2 {
            return Err(Error::InvalidKey("not an SM2 key"));
        }
        sm2::check_id(kx.own_id)?;
        sm2::check_id(kx.peer_id)?;
        for point in [kx.peer_static, kx.peer_ephemeral] {
            if point.len() != 65 || point[0] != 4 {
                return Err(Error::InvalidPeerKey);
            }
        }
        if out.is_empty() {
            return Err(Error::InvalidLength);
        }
        f(kx, out)
    }

    /// A key for an unauthenticated block-cipher mode.
    pub fn cipher(self, alg: CipherAlg, key: &[u8]) -> Result<Box<dyn CipherKey>, Error> {
        if key.len() != alg.key_len() {
            return Err(Error::InvalidKey("wrong cipher key length"));
        }
        Ok(Box::new(CheckedCipher(
            self.checked(Algorithm::Cipher(alg))?.cipher(alg, key)?,
        )))
    }

    /// Signature verification for `alg`.
    pub fn verifier(self, alg: SignatureAlg) -> Result<&'static dyn Verifier, Error> {
        self.checked(Algorithm::Signature(alg))?.verifier(alg)
    }

    /// Key agreement in a group.
    pub fn kx(self, alg: KxAlg) -> Result<&'static dyn KeyExchange, Error> {
        self.checked(Algorithm::Kx(alg))?;
        checked_kx(self, alg)
    }

    /// A key-encapsulation mechanism.
    pub fn kem(self, alg: crate::KemAlg) -> Result<&'static dyn crate::Kem, Error> {
        self.checked(Algorithm::Kem(alg))?.kem(alg)
    }

    /// The backend's secure random number generator.
    pub fn random(self) -> Result<&'static dyn SecureRandom, Error> {
        self.checked(Algorithm::Random)?.random()
    }
}

/// The key-agreement contract, kept once for every backend: static agreement only where the
/// backend's table lists it (else a typed `Unsupported`), private keys of the group's length
/// (NIST and SM2 scalars left-padded to it, X25519 exactly 32 bytes), and peer keys on the
/// NIST curves and curveSM2 as uncompressed points of the right length (RFC 8446 4.2.8.2).
#[derive(Debug)]
struct CheckedKx {
    backend: Backend,
    static_ok: bool,
    inner: &'static dyn KeyExchange,
}

/// Peer keys: an uncompressed point of the group's length (X25519 keys are any 32 bytes).
fn check_peer(alg: KxAlg, peer: &[u8]) -> Result<(), Error> {
    let point = !matches!(alg, KxAlg::X25519);
    if peer.len() != alg.public_key_len() || (point && peer.first() != Some(&4)) {
        return Err(Error::InvalidPeerKey);
    }
    Ok(())
}

impl KeyExchange for CheckedKx {
    fn algorithm(&self) -> KxAlg {
        self.inner.algorithm()
    }

    fn generate(&self) -> Result<Box<dyn crate::EphemeralKey>, Error> {
        let alg = self.inner.algorithm();
        let inner = self.inner.generate()?;
        Ok(Box::new(CheckedEphemeral { alg, inner }))
    }

    fn agree_static(
        &self,
        private_key: &[u8],
        peer_public_key: &[u8],
    ) -> Result<crate::SharedSecret, Error> {
        let alg = self.inner.algorithm();
        if !self.static_ok {
            return Err(Error::Unsupported {
                alg: Algorithm::KxStatic(alg),
                backend: self.backend,
            });
        }
        let private = match alg {
            KxAlg::X25519 if private_key.len() != 32 => {
                return Err(Error::InvalidKey("X25519 private key must be 32 bytes"));
            }
            KxAlg::X25519 => Zeroizing::new(private_key.to_vec()),
            other => crate::keys::fixed_scalar(private_key, other.private_key_len())?,
        };
        check_peer(alg, peer_public_key)?;
        self.inner.agree_static(&private, peer_public_key)
    }

    fn exchange(&self, peer: &[u8]) -> Result<(Vec<u8>, crate::SharedSecret), Error> {
        check_peer(self.inner.algorithm(), peer)?;
        self.inner.exchange(peer)
    }

    /// Peer keys checked one by one; the well-formed ones go to the backend together.
    fn exchange_many(&self, peers: &[&[u8]]) -> Vec<Result<(Vec<u8>, crate::SharedSecret), Error>> {
        let alg = self.inner.algorithm();
        let checked: Vec<Result<(), Error>> = peers.iter().map(|p| check_peer(alg, p)).collect();
        let good: Vec<&[u8]> = peers
            .iter()
            .zip(&checked)
            .filter(|(_, c)| c.is_ok())
            .map(|(p, _)| *p)
            .collect();
        let mut done = self.inner.exchange_many(&good).into_iter();
        checked
            .into_iter()
            .map(|c| {
                c?;
                done.next().unwrap_or(Err(Error::InvalidInput(
                    "the backend answered fewer exchanges than it was asked",
                )))
            })
            .collect()
    }
}

/// An ephemeral key whose agreement checks the peer key first.
struct CheckedEphemeral {
    alg: KxAlg,
    inner: Box<dyn crate::EphemeralKey>,
}

impl crate::EphemeralKey for CheckedEphemeral {
    fn public_key(&self) -> &[u8] {
        self.inner.public_key()
    }

    fn agree(self: Box<Self>, peer_public_key: &[u8]) -> Result<crate::SharedSecret, Error> {
        check_peer(self.alg, peer_public_key)?;
        self.inner.agree(peer_public_key)
    }
}

/// The checked key exchange for a built backend and group it supports: made once for every
/// such pair, so `Backend::kx` stays a `&'static` lookup.
fn checked_kx(backend: Backend, alg: KxAlg) -> Result<&'static dyn KeyExchange, Error> {
    static ALL: std::sync::OnceLock<Vec<CheckedKx>> = std::sync::OnceLock::new();
    let all = ALL.get_or_init(|| {
        let mut v = Vec::new();
        for b in Backend::built() {
            for &k in KxAlg::ALL {
                if let Some(inner) = backends::provider(b)
                    .filter(|p| p.implements(Algorithm::Kx(k)))
                    .and_then(|p| p.kx(k).ok())
                {
                    v.push(CheckedKx {
                        backend: b,
                        static_ok: b.supports(Algorithm::KxStatic(k)),
                        inner,
                    });
                }
            }
        }
        v
    });
    all.iter()
        .find(|c| c.backend == backend && c.inner.algorithm() == alg)
        .map(|c| c as &'static dyn KeyExchange)
        .ok_or(Error::Unsupported {
            alg: Algorithm::Kx(alg),
            backend,
        })
}

/// Checks IV and length rules once, so backends only see well-formed calls.
#[derive(Debug)]
struct CheckedCipher(Box<dyn CipherKey>);

impl CheckedCipher {
    fn check(&self, iv: &[u8], len: usize) -> Result<(), Error> {
        let alg = self.0.algorithm();
        if iv.len() != alg.iv_len() {
            return Err(Error::InvalidInput("wrong IV length for this mode"));
        }
        if alg.needs_whole_blocks() && !len.is_multiple_of(crate::BLOCK_LEN) {
            return Err(Error::InvalidLength);
        }
        Ok(())
    }
}

impl CipherKey for CheckedCipher {
    fn algorithm(&self) -> CipherAlg {
        self.0.algorithm()
    }

    fn encrypt(&self, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
        self.check(iv, in_out.len())?;
        self.0.encrypt(iv, in_out)
    }

    fn decrypt(&self, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
        self.check(iv, in_out.len())?;
        self.0.decrypt(iv, in_out)
    }
}

/// The backend x algorithm support matrix as a Markdown table, one row per algorithm and one
/// column per backend given ("yes" / "no"); backends not built into this binary show "n/b".
pub fn support_matrix(backends: &[Backend]) -> String {
    let mut out = String::from("| algorithm |");
    for b in backends {
        out.push_str(&format!(" {} |", b.name()));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(backends.len()));
    out.push('\n');
    for alg in Algorithm::all() {
        out.push_str(&format!("| {alg} |"));
        for b in backends {
            let cell = if !b.is_built() {
                "n/b"
            } else if b.supports(alg) {
                "yes"
            } else {
                "no"
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}
