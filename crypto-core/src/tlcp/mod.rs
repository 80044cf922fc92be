//! TLCP, the GM SSL protocol of GB/T 38636-2020 (formerly GM/T 0024-2014): a sans-IO server
//! and client. Bytes in, bytes out, as rustls's `Connection`: feed what the peer sent to
//! [`Connection::read_tls`], call [`Connection::process_new_packets`], send what
//! [`Connection::take_tls`] returns, and read and write plaintext with
//! [`Connection::read_plaintext`] and [`Connection::write_plaintext`].
//!
//! What it implements:
//! - Version 0x0101 in every record and hello; a TLS 1.1/1.2-style record layer (at most 2^14
//!   bytes of plaintext a record).
//! - The suites `ECC_SM4_CBC_SM3` (0xE013), `ECC_SM4_GCM_SM3` (0xE053), `ECDHE_SM4_CBC_SM3`
//!   (0xE011) and `ECDHE_SM4_GCM_SM3` (0xE051). No RSA or IBC suites.
//! - Two certificates a party (signing, encryption); ECC suites: the server signs the two
//!   randoms and its encryption certificate, the client SM2-encrypts a 48-byte pre-master
//!   to it; ECDHE suites: the SM2 key exchange of GB/T 32918.3 with the encryption keys and
//!   both parties' ephemeral keys (the server initiates), which needs client certificates.
//! - Client authentication (CertificateVerify: SM2 over SM3 of the handshake), optional or
//!   required; session resumption by session ID through a bounded [`SessionCache`]; no
//!   renegotiation (a `no_renegotiation` warning answers a request).
//!
//! Where deployed implementations differ, a server accepts both: the ECDHE ClientKeyExchange
//! with or without a 2-byte length before its ECParameters, a client Certificate with the
//! signing certificate alone or with both, the ECC ClientKeyExchange with or without its
//! length, a CertificateVerify with or without its length. The client sends what Tongsuo
//! expects. Unknown ClientHello extensions are ignored.
//!
//! A failed decryption of the pre-master is not observable: the server goes on with a random
//! pre-master and the handshake fails at Finished (RFC 5246 7.4.7.1's lesson). CBC records are
//! opened in constant time with respect to the padding (see `record`).

mod cert;
mod client;
mod codec;
mod conn;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod msgs;
mod prf;
mod record;
mod server;
mod session;

use std::sync::Arc;

pub use cert::{Cert, Credentials, Role};
pub use conn::Connection;
pub use error::{AlertDescription, Error};
pub use record::{MAX_PLAINTEXT, VERSION};
pub use session::SessionCache;

use crate::Selection;

/// A TLCP cipher suite (GB/T 38636-2020 6.4.5.2.1 table 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Suite {
    /// `ECC_SM4_CBC_SM3` (0xE013).
    EccSm4CbcSm3,
    /// `ECC_SM4_GCM_SM3` (0xE053).
    EccSm4GcmSm3,
    /// `ECDHE_SM4_CBC_SM3` (0xE011).
    EcdheSm4CbcSm3,
    /// `ECDHE_SM4_GCM_SM3` (0xE051).
    EcdheSm4GcmSm3,
}

impl Suite {
    /// Every suite, in our default preference: GCM before CBC, ECC before ECDHE (ECDHE needs
    /// client certificates).
    pub const ALL: &'static [Self] = &[
        Self::EccSm4GcmSm3,
        Self::EccSm4CbcSm3,
        Self::EcdheSm4GcmSm3,
        Self::EcdheSm4CbcSm3,
    ];

    /// The code point.
    pub const fn code(self) -> u16 {
        match self {
            Self::EccSm4CbcSm3 => 0xE013,
            Self::EccSm4GcmSm3 => 0xE053,
            Self::EcdheSm4CbcSm3 => 0xE011,
            Self::EcdheSm4GcmSm3 => 0xE051,
        }
    }

    /// The standard's name (`ECC_SM4_CBC_SM3`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::EccSm4CbcSm3 => "ECC_SM4_CBC_SM3",
            Self::EccSm4GcmSm3 => "ECC_SM4_GCM_SM3",
            Self::EcdheSm4CbcSm3 => "ECDHE_SM4_CBC_SM3",
            Self::EcdheSm4GcmSm3 => "ECDHE_SM4_GCM_SM3",
        }
    }

    /// Tongsuo's (OpenSSL-style) name, as its `-cipher` option takes it.
    pub const fn openssl_name(self) -> &'static str {
        match self {
            Self::EccSm4CbcSm3 => "ECC-SM2-SM4-CBC-SM3",
            Self::EccSm4GcmSm3 => "ECC-SM2-SM4-GCM-SM3",
            Self::EcdheSm4CbcSm3 => "ECDHE-SM2-SM4-CBC-SM3",
            Self::EcdheSm4GcmSm3 => "ECDHE-SM2-SM4-GCM-SM3",
        }
    }

    /// Whether the key exchange is the SM2 key exchange protocol (else SM2 encryption).
    pub const fn is_ecdhe(self) -> bool {
        matches!(self, Self::EcdheSm4CbcSm3 | Self::EcdheSm4GcmSm3)
    }

    /// Whether records are SM4-GCM (else SM4-CBC with HMAC-SM3).
    pub const fn is_gcm(self) -> bool {
        matches!(self, Self::EccSm4GcmSm3 | Self::EcdheSm4GcmSm3)
    }

    /// A suite by either name, any case.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| {
            s.name().eq_ignore_ascii_case(name) || s.openssl_name().eq_ignore_ascii_case(name)
        })
    }
}

impl core::fmt::Display for Suite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a server asks for client certificates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// Never (the ECDHE suites, which need the client's encryption certificate, are then
    /// not chosen).
    Off,
    /// Asks; a client without certificates goes on unauthenticated (not with ECDHE).
    Optional,
    /// Asks and refuses a client without valid certificates (`handshake_failure`).
    Required,
}

/// A TLCP server's configuration.
#[derive(Debug)]
pub struct ServerConfig {
    /// The backends that compute each primitive.
    pub selection: Selection,
    /// The signing and encryption certificates and keys.
    pub credentials: Arc<Credentials>,
    /// The suites in the server's preference order.
    pub suites: Vec<Suite>,
    /// Client certificates.
    pub client_auth: ClientAuth,
    /// Trust anchors for client certificates (DER), parsed.
    pub client_roots: Vec<Cert>,
    /// Sessions for resumption (may be shared by several configurations).
    pub sessions: Arc<SessionCache>,
}

impl ServerConfig {
    /// A configuration with every suite, no client authentication and its own session cache.
    pub fn new(selection: Selection, credentials: Arc<Credentials>) -> Self {
        Self {
            selection,
            credentials,
            suites: Suite::ALL.to_vec(),
            client_auth: ClientAuth::Off,
            client_roots: Vec::new(),
            sessions: Arc::new(SessionCache::default()),
        }
    }
}

/// How a client checks the server.
#[derive(Clone, Debug)]
pub enum ServerVerification {
    /// Both certificates must chain to one of these anchors and the signing certificate must
    /// name the server.
    Roots(Vec<Cert>),
    /// No check at all: for tests and benchmarks only; the connection is not authenticated.
    DangerousNone,
}

/// A TLCP client's configuration.
#[derive(Debug)]
pub struct ClientConfig {
    /// The backends that compute each primitive.
    pub selection: Selection,
    /// The suites offered, in order. ECDHE suites are offered only with credentials.
    pub suites: Vec<Suite>,
    /// How the server is checked.
    pub verification: ServerVerification,
    /// Our signing and encryption certificates, sent when the server asks.
    pub credentials: Option<Arc<Credentials>>,
    /// Sessions to resume, by server name.
    pub sessions: Arc<SessionCache>,
    /// Send the ECDHE ClientKeyExchange with a 2-byte length in front (the form GB/T
    /// 38636-2020 6.4.5.8 writes; Tongsuo and Kona send and accept it without, which is the
    /// default).
    pub ecdhe_length_prefix: bool,
    /// Send the encryption certificate after the signing certificate when the server asks
    /// for ours (the default, which Tongsuo requires and ECDHE needs); some deployed servers
    /// take the signing certificate alone, and with ECC suites so can this one.
    pub send_encryption_certificate: bool,
}

impl ClientConfig {
    /// A configuration that checks the server against `roots`, with every suite and its own
    /// session cache.
    pub fn new(selection: Selection, roots: Vec<Cert>) -> Self {
        Self {
            selection,
            suites: Suite::ALL.to_vec(),
            verification: ServerVerification::Roots(roots),
            credentials: None,
            sessions: Arc::new(SessionCache::default()),
            ecdhe_length_prefix: false,
            send_encryption_certificate: true,
        }
    }
}

/// Whether the first bytes a peer sent look like a TLCP ClientHello: a handshake record of
/// version 0x0101 (GB/T 38636-2020 6.3.3.1). Tongsuo's servers decide the same way from the
/// record header alone. `None` while fewer than 3 bytes are known.
pub fn is_tlcp_client_hello(first: &[u8]) -> Option<bool> {
    let h = first.get(..3)?;
    Some(h[0] == 22 && u16::from_be_bytes([h[1], h[2]]) == VERSION)
}
