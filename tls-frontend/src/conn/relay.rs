//! The relay: bytes both ways between the client's TLS stream and the upstream, with
//! back-pressure (a direction reads only after its last write completed), half-close (EOF one
//! way shuts down that way's writer and the other way keeps flowing) and an idle timeout.
//!
//! Memory follows the data: a read goes into the worker thread's scratch buffer and is written
//! on at once from there; only bytes the writer cannot take yet are copied into a buffer of the
//! connection's own, freed as soon as they are written. An idle connection holds no relay
//! buffer. Both directions are driven by one future, so a read from the client can flush what
//! the TLS engine owes the client.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The scratch buffer a read goes into: four full TLS records of plaintext, so a busy
/// direction moves 64 KiB per read and per (vectored) write, not 16.
const BUF: usize = 64 * 1024;

thread_local! {
    /// Per worker thread, shared by every relay it drives: a relay borrows it only inside one
    /// synchronous `poll_copy` call, never across a suspension.
    static SCRATCH: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0u8; BUF].into_boxed_slice());
}

/// What a relay did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Relayed {
    /// Bytes from the client to the upstream.
    pub from_client: u64,
    /// Bytes from the upstream to the client.
    pub to_client: u64,
    /// Whether it ended for idleness.
    pub idle_timeout: bool,
}

/// Which peer a relay error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The TLS client.
    Client,
    /// The upstream.
    Upstream,
}

impl Side {
    /// The peer at the other end of the relay.
    fn other(self) -> Side {
        match self {
            Side::Client => Side::Upstream,
            Side::Upstream => Side::Client,
        }
    }

    /// The metric label.
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Upstream => "upstream",
        }
    }
}

/// A relay error and the peer whose socket (or TLS stream) gave it.
#[derive(Debug)]
pub struct RelayError {
    /// Who failed.
    pub side: Side,
    /// What failed.
    pub error: std::io::Error,
}

impl std::fmt::Display for RelayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.side.name(), self.error)
    }
}

/// One direction's state: bytes read and not yet written (held only while the writer cannot
/// take them), and how far the direction has come.
struct Half {
    /// Unwritten bytes; empty (no allocation) whenever the writer has taken everything.
    pending: Vec<u8>,
    start: usize,
    /// The reader gave EOF.
    eof: bool,
    /// The writer was flushed since the last write.
    flushed: bool,
    /// The writer was shut down (EOF passed on): this direction is done.
    done: bool,
    bytes: u64,
}

/// Writes `buf` to `w` until all is written or `w` would block; returns how much was written.
fn poll_write_all<W: AsyncWrite + Unpin>(
    cx: &mut Context<'_>,
    w: &mut W,
    buf: &[u8],
) -> Result<usize, std::io::Error> {
    let mut at = 0;
    while at < buf.len() {
        match Pin::new(&mut *w).poll_write(cx, &buf[at..]) {
            Poll::Ready(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
            Poll::Ready(Ok(n)) => at += n,
            Poll::Ready(Err(e)) => return Err(e),
            Poll::Pending => break,
        }
    }
    Ok(at)
}

impl Half {
    fn new() -> Self {
        Self {
            pending: Vec::new(),
            start: 0,
            eof: false,
            flushed: true,
            done: false,
            bytes: 0,
        }
    }

    /// Moves bytes from `r` to `w` until either would block or the direction ends. `reader`
    /// names the side `r` reads from (errors are blamed on the side whose call failed).
    /// Returns whether any byte was read (activity, for the idle timer).
    fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        r: &mut R,
        w: &mut W,
        reader: Side,
    ) -> Result<bool, RelayError>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let err = |side: Side| move |error: std::io::Error| RelayError { side, error };
        let mut active = false;
        loop {
            if self.done {
                return Ok(active);
            }
            // Write out what an earlier wake-up could not.
            if self.start < self.pending.len() {
                let n = poll_write_all(cx, w, &self.pending[self.start..])
                    .map_err(err(reader.other()))?;
                self.start += n;
                self.bytes += n as u64;
                if n > 0 {
                    self.flushed = false;
                }
                if self.start < self.pending.len() {
                    return Ok(active);
                }
                // All written: the buffer goes back to the allocator.
                self.pending = Vec::new();
                self.start = 0;
            }
            // Push it through the writer (a TLS stream holds records until flushed).
            if !self.flushed {
                match Pin::new(&mut *w).poll_flush(cx) {
                    Poll::Ready(Ok(())) => self.flushed = true,
                    Poll::Ready(Err(e)) => return Err(err(reader.other())(e)),
                    Poll::Pending => return Ok(active),
                }
            }
            if self.eof {
                // Half-close: pass the EOF on; the other direction keeps flowing.
                return match Pin::new(&mut *w).poll_shutdown(cx) {
                    Poll::Ready(_) => {
                        self.done = true;
                        Ok(active)
                    }
                    Poll::Pending => Ok(active),
                };
            }
            // Back-pressure: read only once everything before was written. The read lands in
            // the thread's scratch buffer and goes on to the writer from there; what the
            // writer cannot take now is kept.
            let step = SCRATCH.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                let mut rb = ReadBuf::new(&mut scratch[..]);
                match Pin::new(&mut *r).poll_read(cx, &mut rb) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => return Err(err(reader)(e)),
                    Poll::Pending => return Ok(false),
                }
                let n = rb.filled().len();
                if n == 0 {
                    self.eof = true;
                    return Ok(true);
                }
                active = true;
                let written = poll_write_all(cx, w, &scratch[..n]).map_err(err(reader.other()))?;
                self.bytes += written as u64;
                if written > 0 {
                    self.flushed = false;
                }
                if written < n {
                    self.pending = scratch[written..n].to_vec();
                    self.start = 0;
                }
                Ok(true)
            })?;
            if !step {
                return Ok(active);
            }
        }
    }
}

/// The client's side of a relay: a stream whose protocol engine may owe the client an answer
/// that it would only send along with the next write. rustls queues its reply to a KeyUpdate
/// with update_requested that way (RFC 8446 section 4.6.3 allows it up to the next
/// application-data record), so a client waiting for the reply would wait for the upstream.
pub trait ClientStream: AsyncRead + AsyncWrite + Unpin {
    /// Moves every owed answer into the send queue, for the next flush to send.
    fn queue_owed(&mut self) {}
}

impl<S: AsyncRead + AsyncWrite + Unpin> ClientStream for tokio_rustls::server::TlsStream<S> {
    fn queue_owed(&mut self) {
        // An empty write sends no record but releases a queued KeyUpdate (rustls appends it
        // ahead of any plaintext it is given).
        let _ = std::io::Write::write(&mut self.get_mut().1.writer(), &[]);
    }
}

/// Relays until both directions ended, an error, or `idle` without traffic.
///
/// One task drives both directions over the client's stream as a whole (not split in two), so
/// that after every read from the client whatever the TLS engine queued in answer (a KeyUpdate
/// reply, a `no_renegotiation` warning) is flushed at once, not when the upstream next sends
/// data.
pub async fn relay<C, U>(
    mut client: C,
    mut upstream: U,
    idle: Duration,
) -> (Relayed, Result<(), RelayError>)
where
    C: ClientStream,
    U: AsyncRead + AsyncWrite + Unpin,
{
    let mut up = Half::new();
    let mut down = Half::new();
    let sleep = tokio::time::sleep(idle);
    tokio::pin!(sleep);
    let mut idle_timeout = false;
    let result = std::future::poll_fn(|cx| {
        let step = (|| {
            let read_client = up.poll_copy(cx, &mut client, &mut upstream, Side::Client)?;
            let read_upstream = down.poll_copy(cx, &mut upstream, &mut client, Side::Upstream)?;
            // A read from the client may have made the engine queue an answer even when it
            // gave no plaintext (a KeyUpdate is consumed whole inside the read), so the
            // client is flushed on every wake-up; with nothing queued that is a no-op.
            if !down.done {
                client.queue_owed();
                match Pin::new(&mut client).poll_flush(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(error)) => {
                        return Err(RelayError {
                            side: Side::Client,
                            error,
                        });
                    }
                    Poll::Pending => {}
                }
            }
            Ok(read_client || read_upstream)
        })();
        match step {
            Err(e) => return Poll::Ready(Err(e)),
            Ok(_) if up.done && down.done => return Poll::Ready(Ok(())),
            Ok(true) => {
                // Config bounds `idle` to a year, so the deadline cannot overflow.
                sleep.as_mut().reset(tokio::time::Instant::now() + idle);
            }
            Ok(false) => {}
        }
        if sleep.as_mut().poll(cx).is_ready() {
            idle_timeout = true;
            return Poll::Ready(Ok(()));
        }
        Poll::Pending
    })
    .await;
    (
        Relayed {
            from_client: up.bytes,
            to_client: down.bytes,
            idle_timeout,
        },
        result,
    )
}
