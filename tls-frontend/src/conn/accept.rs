//! Listening sockets and their accept loops: one socket per listener (SO_REUSEPORT set, so a
//! second instance can bind the same address for a restart without downtime), one accept loop
//! each, which holds the listener's connection limit exactly: at the limit it stops accepting
//! and clients wait in the kernel's backlog. Each accepted connection is its own task, run by
//! whichever of the runtime's worker threads is free.

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

/// Accepts on `listener` (the `index`th configured) until the task is aborted, holding at most
/// `limit` connections open.
pub async fn accept_loop(running: Arc<Running>, index: usize, listener: TcpListener, limit: usize) {
    let local = listener.local_addr().ok();
    let permits = Arc::new(Semaphore::new(limit));
    loop {
        // At the limit, stop accepting: further clients wait in the kernel's backlog.
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: wait a little instead of spinning.
                log::warn(&format!("accept: {e}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let local = tcp.local_addr().ok().or(local).unwrap_or(peer);
        metrics::get().accepted();
        let open = running.opened();
        let running = running.clone();
        tokio::spawn(async move {
            crate::conn::serve(running, index, tcp, peer, local, open).await;
            drop(permit);
        });
    }
}
