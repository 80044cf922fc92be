//! The TLCP engine's seat in the connection path: a tokio adapter around the sans-IO
//! [`crypto_core::tlcp::Connection`] (the proxy's client side, and the TLCP upstream's), and
//! the server handshake with the `[[tlcp_certificate]]` pair chosen by server name.
//!
//! The adapter reads into a stack buffer and keeps on the heap only what the engine could not
//! take yet (so an idle connection holds no read buffer), and bounds what it queues for the
//! peer ([`MAX_QUEUED`]): a writer waits while more than that is unsent, as the relay's
//! back-pressure expects.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use crypto_core::tlcp;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::hello::ClientHello;
use super::negotiated::Negotiated;
use super::prefixed::Prefixed;
use crate::config::state::{ListenerState, State};
use crate::ops::metrics::HandshakeLabels;

/// The most encrypted bytes queued for the peer before a write waits.
pub const MAX_QUEUED: usize = 64 * 1024;

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024 + 2048 + 5;

/// A TLCP connection over `IO`: plaintext in and out, as `tokio_rustls`'s streams.
pub struct TlcpStream<IO> {
    io: IO,
    conn: tlcp::Connection,
    /// Read from the socket, not yet taken by the engine (empty, unallocated, most of the time).
    incoming: Vec<u8>,
    in_pos: usize,
    /// Encrypted, not yet written to the socket.
    out: Vec<u8>,
    out_pos: usize,
    eof: bool,
    shutdown_sent: bool,
}

impl<IO> std::fmt::Debug for TlcpStream<IO> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlcpStream")
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

fn io_error(e: tlcp::Error) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e)
}

impl<IO: AsyncRead + AsyncWrite + Unpin> TlcpStream<IO> {
    /// Wraps `conn` (a fresh server or client connection) over `io`.
    pub fn new(io: IO, conn: tlcp::Connection) -> Self {
        Self {
            io,
            conn,
            incoming: Vec::new(),
            in_pos: 0,
            out: Vec::new(),
            out_pos: 0,
            eof: false,
            shutdown_sent: false,
        }
    }

    /// The engine (suite, peer certificates, server name, resumption).
    pub fn connection(&self) -> &tlcp::Connection {
        &self.conn
    }

    /// Drives the handshake to its end (queued application data included). On an engine
    /// error the fatal alert it queued is sent before the error is returned.
    pub async fn handshake(&mut self) -> Result<(), TlcpError> {
        std::future::poll_fn(|cx| self.poll_handshake(cx)).await
    }

    fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TlcpError>> {
        loop {
            ready!(self.poll_send(cx)).map_err(TlcpError::Io)?;
            if !self.conn.is_handshaking() {
                return Poll::Ready(Ok(()));
            }
            match ready!(self.poll_receive(cx)) {
                Ok(true) => {}
                Ok(false) => {
                    return Poll::Ready(Err(TlcpError::Io(
                        std::io::ErrorKind::UnexpectedEof.into(),
                    )));
                }
                Err(ReceiveError::Io(e)) => return Poll::Ready(Err(TlcpError::Io(e))),
                Err(ReceiveError::Tlcp(e)) => {
                    // Best effort: the alert, then the error.
                    let _ = self.poll_send(cx);
                    return Poll::Ready(Err(TlcpError::Protocol(e)));
                }
            }
        }
    }

    /// Moves the engine's output into the queue and writes the queue out; `Ready(Ok)` once
    /// all of it is written.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.collect();
        while self.out_pos < self.out.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.out[self.out_pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            self.out_pos += n;
        }
        self.out.clear();
        self.out_pos = 0;
        Poll::Ready(Ok(()))
    }

    fn collect(&mut self) {
        if self.conn.wants_write() {
            if self.out_pos == self.out.len() {
                self.out.clear();
                self.out_pos = 0;
            }
            self.out.extend_from_slice(&self.conn.take_tls());
        }
    }

    /// Feeds the engine: what is buffered first, else one read from the socket; then
    /// processes. `Ok(false)` at the socket's EOF.
    fn poll_receive(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, ReceiveError>> {
        if self.in_pos < self.incoming.len() {
            // What the engine did not take last time (it holds two records at most).
            let taken = self.conn.read_tls(&self.incoming[self.in_pos..]);
            self.in_pos += taken;
            if self.in_pos == self.incoming.len() {
                // Released, so an idle connection holds no read buffer.
                self.incoming = Vec::new();
                self.in_pos = 0;
            }
        } else {
            if self.eof {
                return Poll::Ready(Ok(false));
            }
            // Read on the stack; only what the engine cannot take yet is kept on the heap.
            let mut chunk = [0u8; READ_CHUNK];
            let mut rb = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut self.io).poll_read(cx, &mut rb)).map_err(ReceiveError::Io)?;
            let n = rb.filled().len();
            if n == 0 {
                self.eof = true;
                return Poll::Ready(Ok(false));
            }
            let taken = self.conn.read_tls(&chunk[..n]);
            if taken < n {
                self.incoming = chunk[taken..n].to_vec();
                self.in_pos = 0;
            }
        }
        self.conn
            .process_new_packets()
            .map_err(ReceiveError::Tlcp)?;
        Poll::Ready(Ok(true))
    }
}

enum ReceiveError {
    Io(std::io::Error),
    Tlcp(tlcp::Error),
}

/// Why a TLCP handshake failed.
#[derive(Debug)]
pub enum TlcpError {
    /// The engine refused (its alert was sent).
    Protocol(tlcp::Error),
    /// The socket failed or closed.
    Io(std::io::Error),
    /// No `[[tlcp_certificate]]` serves the name; `handshake_failure` or
    /// `unrecognized_name` was sent.
    NoCertificate,
}

impl std::fmt::Display for TlcpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Protocol(e) => write!(f, "TLCP: {e}"),
            Self::Io(e) => write!(f, "TLCP: {e}"),
            Self::NoCertificate => f.write_str("TLCP: no tlcp_certificate for this name"),
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlcpStream<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.conn.plaintext_available() > 0 {
                let n = this.conn.read_plaintext(buf.initialize_unfilled());
                buf.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.conn.received_close_notify() {
                return Poll::Ready(Ok(()));
            }
            // A warning the engine queued (no_renegotiation) goes out while we wait.
            if let Poll::Ready(Err(e)) = this.poll_send(cx) {
                return Poll::Ready(Err(e));
            }
            match ready!(this.poll_receive(cx)) {
                Ok(true) => {}
                Ok(false) => {
                    return Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "TLCP peer closed without close_notify",
                    )));
                }
                Err(ReceiveError::Io(e)) => return Poll::Ready(Err(e)),
                Err(ReceiveError::Tlcp(e)) => {
                    let _ = this.poll_send(cx);
                    return Poll::Ready(Err(io_error(e)));
                }
            }
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlcpStream<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if this.out.len() - this.out_pos > MAX_QUEUED {
            ready!(this.poll_send(cx))?;
        }
        let n = buf.len().min(tlcp::MAX_PLAINTEXT);
        this.conn.write_plaintext(&buf[..n]).map_err(io_error)?;
        this.collect();
        // Start writing now; what the socket does not take waits for the next call or flush.
        if let Poll::Ready(Err(e)) = this.poll_send(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_send(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if !this.shutdown_sent {
            this.shutdown_sent = true;
            this.conn.send_close_notify();
        }
        ready!(this.poll_send(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> super::relay::ClientStream for TlcpStream<IO> {
    fn queue_owed(&mut self) {
        self.collect();
    }
}

/// The TLCP server handshake on `stream` (the ClientHello still unread in front), with the
/// listener's configuration for the pair that serves `hello`'s server name.
pub async fn serve(
    stream: Prefixed,
    l: &ListenerState,
    state: &State,
    hello: &ClientHello,
) -> Result<(TlcpStream<Prefixed>, Negotiated), (Prefixed, TlcpError)> {
    let Some(t) = &l.tlcp else {
        return Err((stream, TlcpError::NoCertificate));
    };
    let Some(index) = state
        .tlcp
        .choose(hello.server_name.as_deref(), l.caps.reject_unknown)
    else {
        return Err((stream, TlcpError::NoCertificate));
    };
    let config: Arc<tlcp::ServerConfig> = t.configs[index].clone();
    let conn = match tlcp::Connection::server(config) {
        Ok(c) => c,
        Err(e) => return Err((stream, TlcpError::Protocol(e))),
    };
    let mut s = TlcpStream::new(stream, conn);
    if let Err(e) = s.handshake().await {
        return Err((s.io, e));
    }
    let info = negotiated(s.connection(), state, hello.server_name.clone());
    Ok((s, info))
}

/// What a finished TLCP handshake negotiated, in the proxy's terms.
pub fn negotiated(conn: &tlcp::Connection, state: &State, sni: Option<String>) -> Negotiated {
    let suite = conn.suite();
    let resumed = conn.resumed();
    let peer = conn.peer_certificates();
    let cipher = suite.map(|s| {
        if s.is_gcm() {
            crypto_core::Algorithm::Aead(crypto_core::AeadAlg::Sm4Gcm)
        } else {
            crypto_core::Algorithm::Cipher(crypto_core::CipherAlg::Sm4Cbc)
        }
    });
    Negotiated {
        labels: HandshakeLabels {
            version: "TLCP".into(),
            suite: suite.map(|s| s.name().to_owned()).unwrap_or_default(),
            group: match suite {
                Some(s) if s.is_ecdhe() => "SM2-KAP".into(),
                Some(_) => "SM2-ENC".into(),
                None => String::new(),
            },
            scheme: if resumed {
                "resumed".into()
            } else {
                "sm2sig_sm3".into()
            },
            backend: cipher
                .map(|a| state.selection.backend_for(a).name().to_owned())
                .unwrap_or_default(),
            result: "ok".into(),
        },
        resumed,
        sni,
        alpn: None,
        client_cn: peer
            .first()
            .and_then(|c| crate::config::x509::subject_cn(c)),
        client_cert: !peer.is_empty(),
        key_alg: "SM2".into(),
    }
}
