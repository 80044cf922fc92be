//! The upstream phase: a connection from the listener's pool, the PROXY header out (v2 with
//! what the handshake negotiated as TLVs), and TLS towards the upstream where configured.

use std::net::SocketAddr;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::negotiated::Negotiated;
use super::proxy_proto::{self, TlsInfo};
use crate::config::upstreams::{Pool, ProxyOut};
use crate::ops::metrics;

/// The upstream's stream: plain TCP or TLS.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS to the upstream.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// TLCP to the upstream.
    Tlcp(Box<super::tlcp::TlcpStream<TcpStream>>),
}

/// An open upstream connection.
#[derive(Debug)]
pub struct Upstream {
    /// The address it went to.
    pub address: String,
    /// The stream.
    pub stream: Stream,
}

/// Why no upstream could be used (each failed address is also counted per reason).
#[derive(Debug)]
pub enum UpstreamError {
    /// No address of the pool could be connected.
    Connect {
        /// The pool.
        pool: String,
        /// The last address's failure.
        last: String,
    },
    /// Writing the PROXY header failed.
    Write {
        /// The address.
        address: String,
        /// The error.
        error: std::io::Error,
    },
    /// The TLS handshake with the upstream failed.
    Tls {
        /// The address.
        address: String,
        /// The error.
        error: std::io::Error,
    },
    /// The TLS handshake with the upstream did not finish within the connect timeout.
    TlsTimeout {
        /// The address.
        address: String,
    },
}

impl UpstreamError {
    /// The access log's `error` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Connect { .. } => "upstream_connect",
            Self::Write { .. } => "upstream_write",
            Self::Tls { .. } => "upstream_tls",
            Self::TlsTimeout { .. } => "upstream_tls_timeout",
        }
    }
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connect { pool, last } => write!(f, "upstream {pool}: {last}"),
            Self::Write { address, error } => write!(f, "upstream {address}: {error}"),
            Self::Tls { address, error } => write!(f, "upstream TLS {address}: {error}"),
            Self::TlsTimeout { address } => {
                write!(f, "upstream TLS {address}: handshake timeout")
            }
        }
    }
}

/// Connects to the next address of `pool`, sends the PROXY header for the client `src` that
/// reached `dst`, and starts TLS where the pool wants it.
pub async fn open(
    pool: &Pool,
    src: SocketAddr,
    dst: SocketAddr,
    info: &Negotiated,
) -> Result<Upstream, UpstreamError> {
    let m = metrics::get();
    let (mut tcp, address) = pool
        .connect()
        .await
        .map_err(|last| UpstreamError::Connect {
            pool: pool.name.clone(),
            last,
        })?;
    if let Some(p) = pool.proxy {
        let header = match p {
            ProxyOut::V1 => proxy_proto::encode_v1(src, dst),
            ProxyOut::V2 => proxy_proto::encode_v2(
                src,
                dst,
                &TlsInfo {
                    version: info.labels.version.clone(),
                    cipher: info.labels.suite.clone(),
                    sni: info.sni.clone(),
                    alpn: info.alpn.clone(),
                    client_cn: info.client_cn.clone(),
                    client_cert: info.client_cert,
                    resumed: info.resumed,
                    key_alg: Some(info.key_alg.clone()),
                },
            ),
        };
        if let Err(error) = tcp.write_all(&header).await {
            m.upstream_error(&pool.name, "write_error");
            return Err(UpstreamError::Write { address, error });
        }
    }
    if let Some((config, name)) = &pool.tlcp {
        let conn = crypto_core::tlcp::Connection::client(config.clone(), name).map_err(|e| {
            UpstreamError::Tls {
                address: address.clone(),
                error: std::io::Error::other(e),
            }
        })?;
        let mut s = super::tlcp::TlcpStream::new(tcp, conn);
        return match tokio::time::timeout(pool.connect_timeout(), s.handshake()).await {
            Ok(Ok(())) => Ok(Upstream {
                address,
                stream: Stream::Tlcp(Box::new(s)),
            }),
            Ok(Err(e)) => {
                m.upstream_error(&pool.name, "tls");
                Err(UpstreamError::Tls {
                    address,
                    error: std::io::Error::other(e.to_string()),
                })
            }
            Err(_) => {
                m.upstream_error(&pool.name, "tls_timeout");
                Err(UpstreamError::TlsTimeout { address })
            }
        };
    }
    let stream = match &pool.tls {
        None => Stream::Plain(tcp),
        Some((connector, name)) => {
            match tokio::time::timeout(pool.connect_timeout(), connector.connect(name.clone(), tcp))
                .await
            {
                Ok(Ok(tls)) => Stream::Tls(Box::new(tls)),
                Ok(Err(error)) => {
                    m.upstream_error(&pool.name, "tls");
                    return Err(UpstreamError::Tls { address, error });
                }
                Err(_) => {
                    m.upstream_error(&pool.name, "tls_timeout");
                    return Err(UpstreamError::TlsTimeout { address });
                }
            }
        }
    };
    Ok(Upstream { address, stream })
}
