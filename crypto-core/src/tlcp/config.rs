//! The TLCP server's and client's configurations.

use std::sync::Arc;

use super::cert::{Cert, Credentials};
use super::record::VERSION;
use super::session::SessionCache;
use super::suite::Suite;
use crate::Selection;

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
