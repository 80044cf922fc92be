//! The process's life as a proxy: listeners bound, one accept loop each, the admin endpoint,
//! signals (SIGHUP reloads; SIGTERM and SIGINT drain), and the drain itself. This is where the
//! rooms are wired together; each connection then lives in `conn`.

use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::ConfigError;
use crate::config::running::Running;
use crate::config::state::State;
use crate::conn::accept;
use crate::ops::{admin, log};

/// Binds every listener (sockets are created now, so a bind error stops startup).
pub fn bind_all(state: &State) -> Result<Vec<std::net::TcpListener>, ConfigError> {
    state
        .listeners
        .iter()
        .map(|l| {
            accept::bind(l.address).map_err(|e| ConfigError(format!("listen {}: {e}", l.address)))
        })
        .collect()
}

/// Runs the proxy until SIGTERM/SIGINT and the drain.
pub async fn run(
    config_path: std::path::PathBuf,
    state: State,
    sockets: Vec<std::net::TcpListener>,
) -> Result<(), ConfigError> {
    let drain_timeout = state.drain_timeout;
    let admin_addr = state.config.admin.as_ref().map(|a| a.address.clone());
    let limits: Vec<usize> = state.listeners.iter().map(|l| l.max_connections).collect();
    let running = Arc::new(Running::new(config_path, state));
    let io = |e: std::io::Error| ConfigError(e.to_string());
    let mut accept_tasks = Vec::new();
    for (index, (socket, limit)) in sockets.into_iter().zip(limits).enumerate() {
        let listener = TcpListener::from_std(socket).map_err(io)?;
        log::info(&format!(
            "listening on {}",
            listener.local_addr().map_err(io)?
        ));
        accept_tasks.push(tokio::spawn(accept::accept_loop(
            running.clone(),
            index,
            listener,
            limit,
        )));
    }
    if let Some(addr) = admin_addr {
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|e| ConfigError(format!("admin {addr}: {e}")))?;
        log::info(&format!("admin on {}", listener.local_addr().map_err(io)?));
        tokio::spawn(admin::serve(listener, running.clone()));
    }

    // Signals: SIGHUP reloads; SIGTERM and SIGINT drain.
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).map_err(io)?;
    let mut term = signal(SignalKind::terminate()).map_err(io)?;
    let mut int = signal(SignalKind::interrupt()).map_err(io)?;
    loop {
        tokio::select! {
            _ = hup.recv() => {
                let r = running.clone();
                // Loading keys and certificates is blocking file work.
                let _ = tokio::task::spawn_blocking(move || r.reload()).await;
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    log::info(&format!(
        "stopping: no new connections; waiting up to {drain_timeout:?} for {} open",
        running.open()
    ));
    running.start_draining();
    for t in &accept_tasks {
        t.abort();
    }
    match tokio::time::timeout(drain_timeout, running.all_closed()).await {
        Ok(()) => log::info("drained: all connections closed"),
        Err(_) => log::warn(&format!(
            "drain deadline passed with {} connections open; closing them",
            running.open()
        )),
    }
    Ok(())
}
