//! The client's stream after its handshake, whichever engine ran it: rustls (TLS 1.2, 1.3,
//! RFC 8998) or TLCP. The relay and everything after the handshake see one type.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::prefixed::Prefixed;
use super::relay::ClientStream;
use super::tlcp::TlcpStream;

/// A handshaken client stream. Boxed: the engines' states are a kilobyte or more, and a
/// connection's task moves its stream from the handshake into the relay; a pointer moves
/// without a second copy in the task's own state.
#[derive(Debug)]
pub enum ClientConn {
    /// TLS through rustls.
    Tls(Box<tokio_rustls::server::TlsStream<Prefixed>>),
    /// TLCP.
    Tlcp(Box<TlcpStream<Prefixed>>),
}

macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            ClientConn::Tls($s) => {
                let $s = &mut **$s;
                $e
            }
            ClientConn::Tlcp($s) => {
                let $s = &mut **$s;
                $e
            }
        }
    };
}

impl AsyncRead for ClientConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        both!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for ClientConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        both!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        both!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        both!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}

impl ClientStream for ClientConn {
    fn queue_owed(&mut self) {
        match self {
            Self::Tls(s) => s.queue_owed(),
            Self::Tlcp(s) => s.queue_owed(),
        }
    }
}
