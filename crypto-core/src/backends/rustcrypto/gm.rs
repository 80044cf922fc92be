//! The RustCrypto backend's GM half: sm2, sm3 and sm4, with SM4-GCM from `aes-gcm`'s generic
//! GCM, SM4-CCM from `ccm`, CBC from `cbc` and CTR from `ctr`.

use crate::backends::provider::Gm;
use crate::backends::provider::debug_fields;
use core::fmt;

use aes_gcm::aead::KeyInit;
use aes_gcm::aead::consts::U16;
use ctr::cipher::{
    Array, BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, InnerIvInit,
    StreamCipher,
};
use sm2::dsa::signature::{RandomizedSigner, Verifier as _};
use zeroize::Zeroizing;

use crate::keys::Material;
use crate::{
    CipherAlg, CipherKey, EphemeralKey, Error, KeyExchange, KeyKind, KxAlg, PrivateKey,
    SharedSecret, SignatureAlg, SigningKey, Verifier, sm2 as gm,
};

/// The GM extras, for the provider table.
pub(super) static GM: Gm = Gm::new(cipher, signing_key, verify, encrypt, decrypt);

pub(super) fn cipher(alg: CipherAlg, key: &[u8]) -> Result<Box<dyn CipherKey>, Error> {
    let cipher =
        sm4::Sm4::new_from_slice(key).map_err(|_| Error::InvalidKey("SM4 key rejected"))?;
    Ok(Box::new(Sm4Key { alg, cipher }))
}

struct Sm4Key {
    alg: CipherAlg,
    cipher: sm4::Sm4,
}

debug_fields!(Sm4Key, alg);

/// Whole blocks as `cipher` wants them (the caller checked the length).
fn blocks(buf: &mut [u8]) -> &mut [Array<u8, U16>] {
    Array::slice_as_chunks_mut(buf).0
}

fn iv16(iv: &[u8]) -> Result<&Array<u8, U16>, Error> {
    iv.try_into()
        .map_err(|_| Error::InvalidInput("wrong IV length for this mode"))
}

impl CipherKey for Sm4Key {
    fn algorithm(&self) -> CipherAlg {
        self.alg
    }

    fn encrypt(&self, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
        match self.alg {
            CipherAlg::Sm4Ecb => self.cipher.encrypt_blocks(blocks(in_out)),
            CipherAlg::Sm4Cbc => {
                cbc::Encryptor::inner_iv_init(self.cipher.clone(), iv16(iv)?)
                    .encrypt_blocks(blocks(in_out));
            }
            CipherAlg::Sm4Ctr => ctr_apply(&self.cipher, iv, in_out)?,
        }
        Ok(())
    }

    fn decrypt(&self, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
        match self.alg {
            CipherAlg::Sm4Ecb => self.cipher.decrypt_blocks(blocks(in_out)),
            CipherAlg::Sm4Cbc => {
                cbc::Decryptor::inner_iv_init(self.cipher.clone(), iv16(iv)?)
                    .decrypt_blocks(blocks(in_out));
            }
            CipherAlg::Sm4Ctr => ctr_apply(&self.cipher, iv, in_out)?,
        }
        Ok(())
    }
}

fn ctr_apply(cipher: &sm4::Sm4, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
    let core =
        ctr::CtrCore::<sm4::Sm4, ctr::flavors::Ctr128BE>::inner_iv_init(cipher.clone(), iv16(iv)?);
    ctr::Ctr128BE::from_core(core)
        .try_apply_keystream(in_out)
        .map_err(|_| Error::InvalidLength)
}

fn utf8_id(id: &[u8]) -> Result<&str, Error> {
    core::str::from_utf8(id)
        .map_err(|_| Error::InvalidInput("the rustcrypto backend takes only UTF-8 SM2 user IDs"))
}

pub(super) fn signing_key(key: &PrivateKey, id: &[u8]) -> Result<Box<dyn SigningKey>, Error> {
    let Material::Ec { scalar, public, .. } = key.material() else {
        return Err(Error::InvalidKey("not an SM2 key"));
    };
    let inner = sm2::dsa::SigningKey::from_slice(utf8_id(id)?, scalar)
        .map_err(|_| Error::InvalidKey("SM2 private key rejected by backend"))?;
    Ok(Box::new(Sm2Signer {
        inner,
        public: public.clone(),
    }))
}

struct Sm2Signer {
    inner: sm2::dsa::SigningKey,
    public: Vec<u8>,
}

impl fmt::Debug for Sm2Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sm2Signer")
            .field("id", &self.inner.distid())
            .finish_non_exhaustive()
    }
}

impl SigningKey for Sm2Signer {
    fn algorithm(&self) -> SignatureAlg {
        SignatureAlg::Sm2Sm3
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        // RFC 6979-style nonce derivation with fresh randomness mixed in (the sm2 crate's
        // randomized signer), so a weak RNG alone cannot leak the key.
        let sig: sm2::dsa::Signature = self
            .inner
            .try_sign_with_rng(&mut getrandom::SysRng, message)
            .map_err(|_| Error::Backend("SM2 signing failed"))?;
        Ok(sm2::dsa::DerSignature::from(sig).to_vec())
    }

    fn public_key(&self) -> &[u8] {
        &self.public
    }
}

pub(super) fn verify(pk: &[u8], id: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
    let bad = |_| Error::BadSignature;
    let key = sm2::dsa::VerifyingKey::from_sec1_bytes(utf8_id(id)?, pk).map_err(bad)?;
    let der = sm2::dsa::DerSignature::from_bytes(sig).map_err(bad)?;
    let sig = sm2::dsa::Signature::try_from(der).map_err(bad)?;
    key.verify(msg, &sig).map_err(bad)
}

/// SM2 with the default ID, as the [`Verifier`] for [`SignatureAlg::Sm2Sm3`].
#[derive(Debug)]
pub(super) struct Sm2Verifier;

impl Verifier for Sm2Verifier {
    fn algorithm(&self) -> SignatureAlg {
        SignatureAlg::Sm2Sm3
    }

    fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Error> {
        if public_key.len() != 65 || public_key[0] != 4 {
            return Err(Error::BadSignature);
        }
        verify(public_key, gm::DEFAULT_ID, message, signature)
    }
}

pub(super) fn encrypt(pk: &[u8], msg: &[u8]) -> Result<Vec<u8>, Error> {
    let key = sm2::PublicKey::from_sec1_bytes(pk)
        .map_err(|_| Error::InvalidKey("SM2 public key not on the curve"))?;
    sm2::pke::EncryptingKey::new_with_mode(key, sm2::pke::Mode::C1C3C2)
        .encrypt(&mut getrandom::SysRng, msg)
        .map_err(|_| Error::Backend("SM2 encryption failed"))
}

pub(super) fn decrypt(key: &PrivateKey, raw: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    let Material::Ec { scalar, .. } = key.material() else {
        return Err(Error::InvalidKey("not an SM2 key"));
    };
    // C1 is public: say plainly when it is not a curve point.
    sm2::PublicKey::from_sec1_bytes(&raw[..65]).map_err(|_| Error::InvalidPeerKey)?;
    let secret = sm2::SecretKey::from_slice(scalar)
        .map_err(|_| Error::InvalidKey("SM2 private key rejected by backend"))?;
    sm2::pke::DecryptingKey::new_with_mode(secret.to_nonzero_scalar(), sm2::pke::Mode::C1C3C2)
        .decrypt(raw)
        .map(Zeroizing::new)
        .map_err(|_| Error::DecryptFailed)
}

/// ECDH on curveSM2: the x-coordinate of d * Q.
pub(super) fn agree(private: &[u8], peer: &[u8]) -> Result<SharedSecret, Error> {
    if peer.len() != 65 || peer[0] != 4 {
        return Err(Error::InvalidPeerKey);
    }
    let public = sm2::PublicKey::from_sec1_bytes(peer).map_err(|_| Error::InvalidPeerKey)?;
    let secret = sm2::SecretKey::from_slice(private)
        .map_err(|_| Error::InvalidKey("private scalar out of range"))?;
    let shared =
        elliptic_curve::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
    Ok(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
}

#[derive(Debug)]
pub(super) struct Sm2Kx;

impl KeyExchange for Sm2Kx {
    fn algorithm(&self) -> KxAlg {
        KxAlg::CurveSm2
    }

    fn generate(&self) -> Result<Box<dyn EphemeralKey>, Error> {
        let key = PrivateKey::generate(KeyKind::Sm2)?;
        let Material::Ec { scalar, public, .. } = key.material() else {
            return Err(Error::Backend("generated key is not EC"));
        };
        Ok(Box::new(Sm2Ephemeral {
            private: scalar.clone(),
            public: public.clone(),
        }))
    }

    fn agree_static(&self, private_key: &[u8], peer: &[u8]) -> Result<SharedSecret, Error> {
        agree(&crate::keys::fixed_scalar(private_key, 32)?, peer)
    }
}

struct Sm2Ephemeral {
    private: Zeroizing<Vec<u8>>,
    public: Vec<u8>,
}

impl EphemeralKey for Sm2Ephemeral {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn agree(self: Box<Self>, peer_public_key: &[u8]) -> Result<SharedSecret, Error> {
        agree(&self.private, peer_public_key)
    }
}

/// a, b, Gx, Gy of curveSM2 (GB/T 32918.5-2017 clause 3), big-endian: part of Z.
const CURVE_ABG: [[u8; 32]; 4] = [
    hex32(b"FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"),
    hex32(b"28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"),
    hex32(b"32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"),
    hex32(b"BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"),
];

const fn hex32(h: &[u8; 64]) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("not a hex digit"),
        }
    }
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(h[2 * i]) << 4) | nibble(h[2 * i + 1]);
        i += 1;
    }
    out
}

/// Z = SM3(ENTL || ID || a || b || Gx || Gy || x || y) (GB/T 32918.2 clause 5.5); the ID's
/// length was checked by the caller.
fn z(id: &[u8], public: &[u8]) -> [u8; 32] {
    use sm3::Digest;
    let mut h = sm3::Sm3::new();
    h.update(((id.len() * 8) as u16).to_be_bytes());
    h.update(id);
    for part in &CURVE_ABG {
        h.update(part);
    }
    h.update(&public[1..]);
    h.finalize().into()
}

/// A point from its uncompressed encoding, checked to be on the curve.
fn point(encoded: &[u8]) -> Result<sm2::ProjectivePoint, Error> {
    let key = sm2::PublicKey::from_sec1_bytes(encoded).map_err(|_| Error::InvalidPeerKey)?;
    Ok(key.to_projective())
}

/// A scalar from a key's big-endian bytes (a loaded key is already in [1, n-1]).
fn scalar(key: &PrivateKey) -> Result<sm2::NonZeroScalar, Error> {
    let Material::Ec { scalar, .. } = key.material() else {
        return Err(Error::InvalidKey("not an SM2 key"));
    };
    let secret = sm2::SecretKey::from_slice(scalar)
        .map_err(|_| Error::InvalidKey("private scalar out of range"))?;
    Ok(secret.to_nonzero_scalar())
}

/// x̄ = 2^w + (x mod 2^w) with w = ceil(ceil(log2 n) / 2) - 1 = 127 (GB/T 32918.3 6.1 A4):
/// the low 127 bits of the point's x with bit 127 set.
fn x_bar(encoded: &[u8]) -> sm2::Scalar {
    use elliptic_curve::ff::PrimeField;
    let mut repr = sm2::FieldBytes::default();
    repr[16..].copy_from_slice(&encoded[17..33]);
    repr[16] |= 0x80;
    // Below 2^128 < n: always a canonical scalar.
    sm2::Scalar::from_repr(repr).unwrap()
}

/// The SM2 key exchange protocol, GB/T 32918.3-2016 clause 6.1 steps A1-A8 / B1-B7 (no
/// optional confirmation): t = d + x̄·r, U = [h·t](P_peer + [x̄_peer]R_peer) with h = 1,
/// K = KDF(x_U || y_U || Z_A || Z_B, klen).
pub(super) fn key_exchange(kx: &gm::KeyExchange<'_>, out: &mut [u8]) -> Result<(), Error> {
    use elliptic_curve::group::Group;
    use elliptic_curve::sec1::ToSec1Point;
    let d = scalar(kx.own_static)?;
    let r = scalar(kx.own_ephemeral)?;
    let own_r_public = kx.own_ephemeral.public_key();
    let t = *d + x_bar(own_r_public) * *r;
    let peer = point(kx.peer_static)?;
    let peer_r = point(kx.peer_ephemeral)?;
    let u = (peer + peer_r * x_bar(kx.peer_ephemeral)) * t;
    if bool::from(u.is_identity()) {
        return Err(Error::InvalidPeerKey);
    }
    let u = u.to_affine().to_sec1_point(false);
    let own_z = z(kx.own_id, kx.own_static.public_key());
    let peer_z = z(kx.peer_id, kx.peer_static);
    let (z_a, z_b) = if kx.initiator {
        (own_z, peer_z)
    } else {
        (peer_z, own_z)
    };
    let mut shared = Zeroizing::new([0u8; 128]);
    shared[..64].copy_from_slice(&u.as_bytes()[1..]);
    shared[64..96].copy_from_slice(&z_a);
    shared[96..].copy_from_slice(&z_b);
    kdf(&shared[..], out);
    Ok(())
}

/// The SM2 KDF (GB/T 32918.4 clause 5.4.3): SM3(Z || ct) for ct = 1, 2, ... as 32-bit
/// big-endian, concatenated and cut to the output's length.
fn kdf(z: &[u8], out: &mut [u8]) {
    use sm3::Digest;
    for (i, chunk) in out.chunks_mut(32).enumerate() {
        let mut h = sm3::Sm3::new();
        h.update(z);
        h.update((i as u32 + 1).to_be_bytes());
        let block = h.finalize();
        chunk.copy_from_slice(&block[..chunk.len()]);
    }
}
