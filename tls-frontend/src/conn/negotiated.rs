//! What a handshake negotiated, whichever engine ran it (rustls or TLCP): for metrics, the
//! access log and the PROXY v2 header.

use crate::ops::metrics::HandshakeLabels;

/// What a handshake negotiated, for metrics, the access log and the PROXY v2 header.
#[derive(Debug, Clone, Default)]
pub struct Negotiated {
    /// Metric labels (version, suite, group, scheme, backend; result "ok").
    pub labels: HandshakeLabels,
    /// Resumed from a ticket.
    pub resumed: bool,
    /// The server name the client asked for.
    pub sni: Option<String>,
    /// The ALPN protocol agreed.
    pub alpn: Option<Vec<u8>>,
    /// The client certificate's subject CN.
    pub client_cn: Option<String>,
    /// Whether the client presented a certificate.
    pub client_cert: bool,
    /// The server key's algorithm ("ECDSA-P256", "RSA2048", "SM2").
    pub key_alg: String,
}
