//! The relay: bytes both ways between the client's TLS stream and the upstream, with
//! back-pressure (a direction reads only after its last write completed), half-close (EOF one
//! way shuts down that way's writer and the other way keeps flowing) and an idle timeout. One
//! fixed buffer per direction, allocated once per connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Buffer per direction: one full TLS record of plaintext.
const BUF: usize = 16 * 1024;

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

/// Copies one direction, from `reader`'s side to the other; an error names the side whose
/// read or write failed.
async fn pump<R, W>(
    mut r: R,
    mut w: W,
    reader: Side,
    count: Arc<AtomicU64>,
    last: Arc<AtomicU64>,
    epoch: Instant,
) -> Result<(), RelayError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; BUF];
    loop {
        let n = r.read(&mut buf).await.map_err(|error| RelayError {
            side: reader,
            error,
        })?;
        if n == 0 {
            // Half-close: pass the EOF on, keep the other direction open.
            let _ = w.shutdown().await;
            return Ok(());
        }
        let wrote = async {
            w.write_all(&buf[..n]).await?;
            w.flush().await
        };
        wrote.await.map_err(|error| RelayError {
            side: reader.other(),
            error,
        })?;
        count.fetch_add(n as u64, Ordering::Relaxed);
        last.store(epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

/// Relays until both directions ended, an error, or `idle` without traffic.
pub async fn relay<C, U>(
    client: C,
    upstream: U,
    idle: Duration,
) -> (Relayed, Result<(), RelayError>)
where
    C: AsyncRead + AsyncWrite + Unpin,
    U: AsyncRead + AsyncWrite + Unpin,
{
    let (cr, cw) = tokio::io::split(client);
    let (ur, uw) = tokio::io::split(upstream);
    let from = Arc::new(AtomicU64::new(0));
    let to = Arc::new(AtomicU64::new(0));
    let epoch = Instant::now();
    let last = Arc::new(AtomicU64::new(0));
    let up = pump(cr, uw, Side::Client, from.clone(), last.clone(), epoch);
    let down = pump(ur, cw, Side::Upstream, to.clone(), last.clone(), epoch);
    // A clean EOF one way half-closes and the other way goes on; an error either way (a
    // reset, a TLS stream cut without close_notify) ends both, dropping both sockets.
    let both = async { tokio::try_join!(up, down).map(|_| ()) };
    tokio::pin!(both);
    let mut idle_timeout = false;
    // Config bounds `idle` to a year; checked anyway, so no clock arithmetic can panic.
    let far = Instant::now() + Duration::from_secs(365 * 86_400);
    let result = loop {
        let since = Duration::from_millis(last.load(Ordering::Relaxed));
        let deadline = epoch
            .checked_add(since)
            .and_then(|t| t.checked_add(idle))
            .unwrap_or(far);
        tokio::select! {
            r = &mut both => break r,
            () = tokio::time::sleep_until(deadline.into()) => {
                let since = Duration::from_millis(last.load(Ordering::Relaxed));
                let due = epoch.checked_add(since).and_then(|t| t.checked_add(idle));
                if due.is_some_and(|d| d <= Instant::now()) {
                    idle_timeout = true;
                    break Ok(());
                }
            }
        }
    };
    (
        Relayed {
            from_client: from.load(Ordering::Relaxed),
            to_client: to.load(Ordering::Relaxed),
            idle_timeout,
        },
        result,
    )
}
