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
        KxAlg::CurveSm2 => super::CURVE_SM2,
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
        if peer.len() != self.alg.public_key_len() {
            return Err(PeerMisbehaved::InvalidKeyShare.into());
        }
        // The backends reject points off the curve, the identity and X25519's all-zero output.
        let secret = self
            .key
            .agree(peer)
            .map_err(|_| Error::from(PeerMisbehaved::InvalidKeyShare))?;
        Ok(SharedSecret::from(&secret[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        named_group(self.alg)
    }
}
