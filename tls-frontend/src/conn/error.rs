//! Why a connection ended early: one typed error for every phase of the connection path,
//! whose [`ConnError::kind`] is both the metric label and the access log's `error` field.

use super::{choose, handshake, hello, proxy_proto, relay, tlcp, upstream};

/// Why a connection ended before or during its relay.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConnError {
    /// The handshake (PROXY header included) did not finish within `handshake_timeout`.
    Timeout,
    /// A trusted source sent no valid PROXY header.
    ProxyHeader(String),
    /// The ClientHello broke a rule; the alert was sent.
    ClientHello(hello::HelloError),
    /// No certificate or handshake suits the ClientHello; the alert was sent.
    Refused(choose::Refusal),
    /// The socket failed before a ClientHello was complete.
    Io(std::io::Error),
    /// The TLS engine refused the handshake (it sent its own alert where it could).
    Tls(std::io::Error),
    /// The module pool could not run the handshake.
    Module(crate::config::pkcs11::OffloadError),
    /// The TLCP engine refused the handshake (it sent its alert) or the socket failed.
    Tlcp(tlcp::TlcpError),
    /// The handshake's configuration could not be built.
    Config(rustls::Error),
    /// The listener requires a client certificate and the connection has none.
    NoClientCertificate,
    /// No upstream address could be connected (each failure is counted per address).
    Upstream(upstream::UpstreamError),
    /// The relay ended in an error on one side.
    Relay(relay::RelayError),
}

impl ConnError {
    /// The metric label and the access log's `error` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::ProxyHeader(_) => "proxy_header",
            Self::ClientHello(_) => "bad_client_hello",
            Self::Refused(r) => r.name(),
            // Before a ClientHello arrived, the handshake failed as far as clients can tell.
            Self::Io(_) | Self::Tls(_) => "tls",
            Self::Tlcp(tlcp::TlcpError::Protocol(_)) => "tlcp",
            Self::Tlcp(_) => "tls",
            Self::Config(_) => "config",
            Self::Module(crate::config::pkcs11::OffloadError::Busy) => "pkcs11_busy",
            Self::Module(crate::config::pkcs11::OffloadError::Timeout) => "pkcs11_timeout",
            Self::Module(crate::config::pkcs11::OffloadError::Lost) => "pkcs11_lost",
            Self::NoClientCertificate => "no_client_certificate",
            Self::Upstream(e) => e.kind(),
            Self::Relay(e) => match e.side {
                relay::Side::Client => "client_error",
                relay::Side::Upstream => "upstream_error",
            },
        }
    }
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Timeout => f.write_str("handshake timeout"),
            Self::ProxyHeader(e) => write!(f, "PROXY header: {e}"),
            Self::ClientHello(e) => {
                write!(f, "ClientHello: {} (sent {})", e.reason, e.alert.name())
            }
            Self::Refused(r) => write!(
                f,
                "no certificate for this ClientHello: {} (sent {})",
                r.name(),
                r.alert().name()
            ),
            Self::Io(e) => write!(f, "reading ClientHello: {e}"),
            Self::Tls(e) => write!(f, "{e}"),
            Self::Tlcp(e) => write!(f, "{e}"),
            Self::Config(e) => write!(f, "handshake configuration: {e}"),
            Self::Module(e) => write!(f, "PKCS#11 pool: {e:?}"),
            Self::NoClientCertificate => f.write_str("no client certificate"),
            Self::Upstream(e) => write!(f, "{e}"),
            Self::Relay(e) => write!(f, "relay: {e}"),
        }
    }
}

impl From<proxy_proto::HeaderError> for ConnError {
    fn from(e: proxy_proto::HeaderError) -> Self {
        Self::ProxyHeader(e.0)
    }
}

impl From<hello::ReadError> for ConnError {
    fn from(e: hello::ReadError) -> Self {
        match e {
            hello::ReadError::Refused(e) => Self::ClientHello(e),
            hello::ReadError::Io(e) => Self::Io(e),
        }
    }
}

impl From<handshake::HandshakeError> for ConnError {
    fn from(e: handshake::HandshakeError) -> Self {
        match e {
            handshake::HandshakeError::Config(e) => Self::Config(e),
            handshake::HandshakeError::Module(e) => Self::Module(e),
            handshake::HandshakeError::Tls(e) => Self::Tls(e),
        }
    }
}
