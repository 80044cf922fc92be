//! Listening sockets and their accept loops: per listener one socket in each worker thread
//! (SO_REUSEPORT: the kernel spreads connections over them, and a second instance can bind
//! the same address for a restart without downtime), one accept loop each; the loops of one
//! listener share its connection limit exactly: at the limit they stop accepting and clients
//! wait in the kernel's backlog. Each accepted connection is its own task on the worker thread
//! that accepted it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::running::Running;
use crate::ops::{log, metrics};

/// Binds one listening socket for `addr`.
pub fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    #[cfg(unix)]
    s.set_reuse_port(true)?;
    s.bind(&addr.into())?;
    s.listen(1024)?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

/// Accepts on `listener` (the `index`th configured) until the task is dropped, holding at
/// most as many connections open as `permits` has (shared by every worker's loop for this
/// listener). A connection is accepted first and then waits for a permit, so a permit is never
/// held by a loop with nothing to accept while another worker's client waits; while it waits,
/// this loop accepts nothing more and further clients wait in the kernel's backlog.
pub async fn accept_loop(
    running: Arc<Running>,
    index: usize,
    listener: TcpListener,
    permits: Arc<Semaphore>,
) {
    let local = listener.local_addr().ok();
    // A listener bound to one address knows every connection's local address; only a
    // wildcard one asks the kernel per connection (a getsockname each).
    let fixed_local = local.filter(|a| !a.ip().is_unspecified());
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: wait a little instead of spinning.
                log::warn(&format!("accept: {e}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let local = match fixed_local {
            Some(a) => a,
            None => tcp.local_addr().ok().or(local).unwrap_or(peer),
        };
        metrics::get().accepted();
        let open = running.opened();
        let running = running.clone();
        tokio::spawn(async move {
            crate::conn::serve(running, index, tcp, peer, local, open).await;
            drop(permit);
        });
    }
}
