//! Key-exchange groups for rustls over crypto-core key agreement.

use core::fmt;

use rustls::crypto::{ActiveKeyExchange, SharedSecret, SupportedKxGroup};
use rustls::{Error, NamedGroup, PeerMisbehaved, ProtocolVersion};

use super::intern::{self, Table};
use crate::{Backend, EphemeralKey, KxAlg};

/// One group computed by one backend.
pub struct KxGroup {
    alg: KxAlg,
    backend: Backend,
    kx: &'static dyn crate::KeyExchange,
}

impl fmt::Debug for KxGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KxGroup")
            .field("alg", &self.alg)
            .field("backend", &self.backend)
            .finish()
    }
}

static GROUPS: Table<(KxAlg, Backend), KxGroup> = Table::new();

/// The TLS name of a group.
pub(super) const fn named_group(alg: KxAlg) -> NamedGroup {
    match alg {
        KxAlg::X25519 => NamedGroup::X25519,
        KxAlg::P256 => NamedGroup::secp256r1,
        KxAlg::P384 => NamedGroup::secp384r1,
        KxAlg::CurveSm2 => super::ids::CURVE_SM2,
    }
}

impl KxGroup {
    /// `alg` on `backend`, or `None` if the backend lacks it.
    pub fn get(alg: KxAlg, backend: Backend) -> Option<&'static Self> {
        let kx = backend.kx(alg).ok()?;
        Some(intern::get(&GROUPS, (alg, backend), || Self {
            alg,
            backend,
            kx,
        }))
    }

    /// The backend computing this group.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl SupportedKxGroup for KxGroup {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let key = self
            .kx
            .generate()
            .map_err(|e| Error::General(format!("{} key generation: {e}", self.alg.id())))?;
        let public = key.public_key().to_vec();
        Ok(Box::new(Active {
            alg: self.alg,
            key,
            public,
        }))
    }

    /// A TLS 1.3 server's whole exchange in one call to the backend, which may share work
    /// between key generation and agreement (`KeyExchange::exchange`).
    fn start_and_complete(
        &self,
        peer: &[u8],
    ) -> Result<rustls::crypto::CompletedKeyExchange, Error> {
        check_share_len(peer, self.alg.public_key_len())?;
        // As `start` then `complete` answer: a failed random generator is ours, anything
        // else the peer's bad share.
        let (pub_key, secret) = self.kx.exchange(peer).map_err(|e| match e {
            crate::Error::RandomFailed => {
                Error::General(format!("{} key generation: {e}", self.alg.id()))
            }
            _ => PeerMisbehaved::InvalidKeyShare.into(),
        })?;
        Ok(rustls::crypto::CompletedKeyExchange {
            group: named_group(self.alg),
            pub_key,
            secret: SharedSecret::from(&secret[..]),
        })
    }

    fn name(&self) -> NamedGroup {
        named_group(self.alg)
    }

    fn usable_for_version(&self, version: ProtocolVersion) -> bool {
        // RFC 8998 defines curveSM2 for TLS 1.3 only.
        self.alg != KxAlg::CurveSm2 || version == ProtocolVersion::TLSv1_3
    }
}

struct Active {
    alg: KxAlg,
    key: Box<dyn EphemeralKey>,
    public: Vec<u8>,
}

impl ActiveKeyExchange for Active {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        agree(self.key, peer, self.alg.public_key_len())
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        named_group(self.alg)
    }
}

/// `X25519MLKEM768` (draft-ietf-tls-ecdhe-mlkem, code point 0x11EC): ML-KEM-768 and X25519
/// together. The client's share is the ML-KEM encapsulation key then the X25519 public key
/// (1184 + 32 bytes), the server's the ML-KEM ciphertext then its X25519 public key
/// (1088 + 32), and the secret the ML-KEM secret then the X25519 secret. Each half runs on the
/// backend the selection names for it (`ml-kem-768`, `x25519`).
pub struct HybridGroup {
    kem: &'static dyn crate::Kem,
    x25519: &'static dyn crate::KeyExchange,
    backends: (Backend, Backend),
}

impl fmt::Debug for HybridGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HybridGroup")
            .field("ml_kem", &self.backends.0)
            .field("x25519", &self.backends.1)
            .finish()
    }
}

static HYBRIDS: Table<(Backend, Backend), HybridGroup> = Table::new();

const KEM: crate::KemAlg = crate::KemAlg::MlKem768;
const X25519_LEN: usize = 32;

impl HybridGroup {
    /// The group with ML-KEM on `kem_backend` and X25519 on `x_backend`, if both have them.
    pub fn get(kem_backend: Backend, x_backend: Backend) -> Option<&'static Self> {
        let kem = kem_backend.kem(KEM).ok()?;
        let x25519 = x_backend.kx(KxAlg::X25519).ok()?;
        Some(intern::get(&HYBRIDS, (kem_backend, x_backend), || Self {
            kem,
            x25519,
            backends: (kem_backend, x_backend),
        }))
    }
}

impl SupportedKxGroup for HybridGroup {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let failed = |e: crate::Error| Error::General(format!("X25519MLKEM768: {e}"));
        let dk = self.kem.generate().map_err(failed)?;
        let x = self.x25519.generate().map_err(failed)?;
        let mut public = dk.encapsulation_key().to_vec();
        public.extend_from_slice(x.public_key());
        Ok(Box::new(HybridActive { dk, x, public }))
    }

    fn start_and_complete(
        &self,
        client_share: &[u8],
    ) -> Result<rustls::crypto::CompletedKeyExchange, Error> {
        let ek_len = KEM.encapsulation_key_len();
        check_share_len(client_share, ek_len + X25519_LEN)?;
        let (ek, peer_x) = client_share.split_at(ek_len);
        let invalid = |_| Error::from(PeerMisbehaved::InvalidKeyShare);
        let (ct, kem_secret) = self.kem.encapsulate(ek).map_err(invalid)?;
        let x = self
            .x25519
            .generate()
            .map_err(|e| Error::General(format!("X25519 key generation: {e}")))?;
        let mut pub_key = ct;
        pub_key.extend_from_slice(x.public_key());
        let x_secret = x.agree(peer_x).map_err(invalid)?;
        let mut secret = zeroize::Zeroizing::new(kem_secret.to_vec());
        secret.extend_from_slice(&x_secret);
        Ok(rustls::crypto::CompletedKeyExchange {
            group: NamedGroup::X25519MLKEM768,
            pub_key,
            secret: SharedSecret::from(&secret[..]),
        })
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519MLKEM768
    }

    fn usable_for_version(&self, version: ProtocolVersion) -> bool {
        version == ProtocolVersion::TLSv1_3
    }
}

struct HybridActive {
    dk: Box<dyn crate::KemDecapsulationKey>,
    x: Box<dyn EphemeralKey>,
    public: Vec<u8>,
}

impl ActiveKeyExchange for HybridActive {
    fn complete(self: Box<Self>, server_share: &[u8]) -> Result<SharedSecret, Error> {
        let ct_len = KEM.ciphertext_len();
        check_share_len(server_share, ct_len + X25519_LEN)?;
        let (ct, peer_x) = server_share.split_at(ct_len);
        let invalid = |_| Error::from(PeerMisbehaved::InvalidKeyShare);
        let kem_secret = self.dk.decapsulate(ct).map_err(invalid)?;
        let x_secret = self.x.agree(peer_x).map_err(invalid)?;
        let mut secret = zeroize::Zeroizing::new(kem_secret.to_vec());
        secret.extend_from_slice(&x_secret);
        Ok(SharedSecret::from(&secret[..]))
    }

    /// The X25519 half, so a client can offer it as a separate X25519 share too (saving a
    /// round trip with servers that lack the hybrid).
    fn hybrid_component(&self) -> Option<(NamedGroup, &[u8])> {
        Some((
            NamedGroup::X25519,
            &self.public[KEM.encapsulation_key_len()..],
        ))
    }

    fn complete_hybrid_component(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        agree(self.x, peer, X25519_LEN)
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519MLKEM768
    }
}

/// Agreement with a peer's share of `len` bytes; any failure is the peer's bad key share. The
/// backends reject points off the curve, the identity and X25519's all-zero output.
fn agree(key: Box<dyn EphemeralKey>, peer: &[u8], len: usize) -> Result<SharedSecret, Error> {
    check_share_len(peer, len)?;
    let secret = key
        .agree(peer)
        .map_err(|_| Error::from(PeerMisbehaved::InvalidKeyShare))?;
    Ok(SharedSecret::from(&secret[..]))
}

/// A peer's key share must be `len` bytes; any other length is the peer's bad key share.
fn check_share_len(share: &[u8], len: usize) -> Result<(), Error> {
    if share.len() != len {
        return Err(PeerMisbehaved::InvalidKeyShare.into());
    }
    Ok(())
}
