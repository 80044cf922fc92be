//! The connection path: one accepted connection, start to end, in phases with a seam between
//! each:
//!
//! `accept` -> [`proxy_proto`] header (trusted sources) -> [`hello`]: the ClientHello, read by
//! the proxy itself (the seam where the first record decides the handshake engine) -> [`choose`]
//! the certificate and handshake profile -> [`handshake`] (rustls) -> [`upstream`] (connect,
//! PROXY header out, optional TLS) -> [`relay`] -> the access-log line.
//!
//! Every phase fails with a [`ConnError`], whose [`ConnError::kind`] is both the metric label
//! and the access log's `error` field. Every connection runs in its own task and owns
//! everything it touches: one connection's failure never reaches another.

pub mod accept;
pub mod choose;
pub mod client;
pub mod error;
pub mod handshake;
pub mod hello;
pub mod negotiated;
pub mod prefixed;
pub mod proxy_proto;
pub mod relay;
pub mod tlcp;
pub mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::config::running::Running;
use crate::config::state::{ListenerState, State};
use crate::ops::log;
use crate::ops::metrics::{self, HandshakeLabels};
pub use error::ConnError;
use prefixed::Prefixed;

/// One access-log line: built up as the phases go, serialised once when the connection ends.
#[derive(Debug, Default, Serialize)]
pub struct AccessLine {
    ts: f64,
    listener: String,
    peer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sni: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alpn: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    suite: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    group: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    scheme: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    backend: String,
    resumed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_cn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    handshake_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream: Option<String>,
    bytes_from_client: u64,
    bytes_to_client: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    closed: Option<&'static str>,
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    duration_ms: u64,
}

/// Serves one accepted connection, start to end; `_open` counts it until it returns.
pub async fn serve(
    running: Arc<Running>,
    listener_index: usize,
    tcp: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    _open: crate::config::running::OpenGuard,
) {
    let state = running.state();
    let Some(l) = state.listeners.get(listener_index) else {
        return;
    };
    let started = Instant::now();
    let mut line = AccessLine {
        ts: log::now(),
        listener: l.address.to_string(),
        peer: peer.to_string(),
        result: "ok",
        ..AccessLine::default()
    };
    if let Err(e) = phases(&state, l, tcp, peer, local, &mut line, started).await {
        line.result = "error";
        line.error = Some(e.kind());
        line.detail = Some(e.to_string());
    }
    line.duration_ms = started.elapsed().as_millis() as u64;
    if state.config.log.access {
        log::access(&line);
    }
}

/// The phases after accept.
async fn phases(
    state: &State,
    l: &ListenerState,
    tcp: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    line: &mut AccessLine,
    started: Instant,
) -> Result<(), ConnError> {
    let m = metrics::get();
    let _ = tcp.set_nodelay(true);
    let trusted = l.proxy_from.iter().any(|c| c.contains(peer.ip()));
    // Everything up to the end of the handshake runs under the listener's deadline.
    let until_handshaken = async {
        let (client_addrs, mut stream) = if trusted {
            proxy_proto::read_header(tcp).await?
        } else {
            (None, Prefixed::new(tcp))
        };
        let hello = hello::read(&mut stream).await?;
        if hello.tlcp {
            let done = serve_tlcp(stream, l, state, &hello).await?;
            return Ok::<_, ConnError>((done, client_addrs));
        }
        let choice = choose::choose(&state.certs, &hello, &l.caps);
        let choice = match choice {
            Ok(c) => c,
            Err(refusal) => {
                hello::send_alert(&mut stream, refusal.alert(), false).await;
                return Err(ConnError::Refused(refusal));
            }
        };
        let done = handshake::tls(stream, l, state, &hello, choice).await?;
        Ok::<_, ConnError>((done, client_addrs))
    };
    // The handshake's futures (rustls's accept state, the ClientHello, TLCP's engine) live on
    // the heap only until it ends: the connection's task keeps only what the relay needs. A
    // timed-out handshake's socket closes when that future is dropped, which is after its
    // metric is counted, so whoever sees the close also sees the count.
    let mut handshake = Box::pin(tokio::time::timeout(l.handshake_timeout, until_handshaken));
    let outcome = (&mut handshake).await;
    let (mut done, client_addrs) = match outcome {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            m.handshake(failed(&e), started.elapsed(), false);
            return Err(e);
        }
        Err(_) => {
            let e = ConnError::Timeout;
            m.handshake(failed(&e), started.elapsed(), false);
            return Err(e);
        }
    };
    drop(handshake);
    // Defence in depth: whatever the handshake path (a resumed session included), a listener
    // that requires a client certificate never relays for a connection without one.
    if l.client_cert_required && !done.info.client_cert {
        let e = ConnError::NoClientCertificate;
        m.handshake(failed(&e), started.elapsed(), false);
        let _ = done.stream.shutdown().await;
        return Err(e);
    }
    let info = &done.info;
    m.handshake(info.labels.clone(), started.elapsed(), info.resumed);
    let (src, dst) = client_addrs.unwrap_or((peer, local));
    line.client = Some(src.to_string());
    line.sni.clone_from(&info.sni);
    line.alpn = info
        .alpn
        .as_ref()
        .map(|a| String::from_utf8_lossy(a).into_owned());
    line.version.clone_from(&info.labels.version);
    line.suite.clone_from(&info.labels.suite);
    line.group.clone_from(&info.labels.group);
    line.scheme.clone_from(&info.labels.scheme);
    line.backend.clone_from(&info.labels.backend);
    line.resumed = info.resumed;
    line.client_cn.clone_from(&info.client_cn);
    line.handshake_ms = Some(started.elapsed().as_secs_f64() * 1e3);

    let up = match Box::pin(upstream::open(&l.upstream, src, dst, info)).await {
        Ok(up) => up,
        Err(e) => {
            let _ = done.stream.shutdown().await;
            return Err(ConnError::Upstream(e));
        }
    };
    line.upstream = Some(up.address.clone());
    let (relayed, result) = match up.stream {
        upstream::Stream::Plain(s) => relay::relay(done.stream, s, l.idle_timeout).await,
        // Encrypted upstreams are the rarer case: their larger relay state is boxed, so the
        // common (plain) one sizes every connection's task.
        upstream::Stream::Tls(s) => Box::pin(relay::relay(done.stream, *s, l.idle_timeout)).await,
        upstream::Stream::Tlcp(s) => Box::pin(relay::relay(done.stream, *s, l.idle_timeout)).await,
    };
    m.bytes(relayed.from_client, relayed.to_client);
    m.relay_end(match &result {
        Ok(()) if relayed.idle_timeout => "idle_timeout",
        Ok(()) => "clean",
        Err(e) if e.side == relay::Side::Client => "client_error",
        Err(_) => "upstream_error",
    });
    line.bytes_from_client = relayed.from_client;
    line.bytes_to_client = relayed.to_client;
    if relayed.idle_timeout {
        line.closed = Some("idle_timeout");
    }
    result.map_err(ConnError::Relay)
}

/// The TLCP side of a listener: the handshake with the pair that serves the client's name.
/// A listener without `tlcp = true` answers a TLCP ClientHello with `protocol_version`, as
/// it did before TLCP existed.
async fn serve_tlcp(
    mut stream: Prefixed,
    l: &ListenerState,
    state: &State,
    hello: &hello::ClientHello,
) -> Result<handshake::Handshaken, ConnError> {
    if l.tlcp.is_none() {
        let r = choose::Refusal::Version;
        hello::send_alert(&mut stream, r.alert(), true).await;
        return Err(ConnError::Refused(r));
    }
    match tlcp::serve(stream, l, state, hello).await {
        Ok((s, info)) => Ok(handshake::Handshaken {
            stream: client::ClientConn::Tlcp(Box::new(s)),
            info,
        }),
        Err((mut stream, tlcp::TlcpError::NoCertificate)) => {
            let r = if hello.server_name.is_some() {
                choose::Refusal::UnknownName
            } else {
                choose::Refusal::Certificate
            };
            hello::send_alert(&mut stream, r.alert(), true).await;
            Err(ConnError::Refused(r))
        }
        Err((_, e)) => Err(ConnError::Tlcp(e)),
    }
}

/// The labels of a handshake that failed with `e`.
fn failed(e: &ConnError) -> HandshakeLabels {
    HandshakeLabels {
        result: e.kind().into(),
        ..HandshakeLabels::default()
    }
}
