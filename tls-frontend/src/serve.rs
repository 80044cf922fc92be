//! The process's life as a proxy: listeners bound, the worker threads and their accept loops,
//! the admin endpoint, signals (SIGHUP reloads; SIGTERM and SIGINT drain), and the drain
//! itself. This is where the rooms are wired together; each connection then lives in `conn`.
//!
//! `workers = N` runs N threads, each with its own single-threaded runtime and, per
//! listener, its own listening socket (SO_REUSEPORT, same address): the kernel spreads new
//! connections over the N sockets, and a connection lives its whole life on the thread that
//! accepted it (no cross-thread wake-ups, no work stealing), as nginx's worker processes do.
//! The admin endpoint and the signals run on the calling thread's runtime.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::config::ConfigError;
use crate::config::running::Running;
use crate::config::state::State;
use crate::conn::accept;
use crate::ops::{admin, log, systemd};

/// The listening sockets: per worker thread, one per configured listener.
#[derive(Debug)]
pub struct Sockets {
    per_worker: Vec<Vec<std::net::TcpListener>>,
}

impl Sockets {
    /// How many worker threads they are for.
    pub fn workers(&self) -> usize {
        self.per_worker.len()
    }

    /// The address of each listener (as bound: a configured port 0 is the one the kernel gave).
    pub fn addresses(&self) -> Vec<std::net::SocketAddr> {
        self.per_worker
            .first()
            .map(|w| w.iter().filter_map(|s| s.local_addr().ok()).collect())
            .unwrap_or_default()
    }
}

/// The worker threads a state asks for (`workers`, by default one per core).
pub fn workers(state: &State) -> usize {
    state.config.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    })
}

/// Binds every listener once per worker (sockets are created now, so a bind error stops
/// startup). The first worker's socket takes the configured address; the others bind the
/// address it got, so a configured port 0 means one port for all.
pub fn bind_all(state: &State) -> Result<Sockets, ConfigError> {
    let n = workers(state).max(1);
    let mut per_worker: Vec<Vec<std::net::TcpListener>> = Vec::with_capacity(n);
    for w in 0..n {
        let mut mine = Vec::with_capacity(state.listeners.len());
        for (i, l) in state.listeners.iter().enumerate() {
            let addr = match per_worker.first() {
                Some(first) if w > 0 => first[i]
                    .local_addr()
                    .map_err(|e| ConfigError(format!("listen {}: {e}", l.address)))?,
                _ => l.address,
            };
            mine.push(
                accept::bind(addr)
                    .map_err(|e| ConfigError(format!("listen {}: {e}", l.address)))?,
            );
        }
        per_worker.push(mine);
    }
    Ok(Sockets { per_worker })
}

/// Where the workers are in the process's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Accepting and serving.
    Serving,
    /// No new connections; open ones finish.
    Draining,
    /// Everything stops (open connections are dropped).
    Stopped,
}

/// One worker thread: its runtime runs its accept loops and every connection they accept
/// until the phase says stop. The runtime is built in the thread that runs it (and dropped
/// there); the thread says whether it could, so a failure stops startup with a reason.
fn start_worker(
    index: usize,
    running: Arc<Running>,
    sockets: Vec<std::net::TcpListener>,
    permits: Vec<Arc<Semaphore>>,
    phase: watch::Receiver<Phase>,
) -> Result<std::thread::JoinHandle<()>, ConfigError> {
    let (started, result) = std::sync::mpsc::channel::<Result<(), String>>();
    let thread = std::thread::Builder::new()
        .name(format!("worker-{index}"))
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = started.send(Err(format!("worker {index}: runtime: {e}")));
                    return;
                }
            };
            let _ = started.send(Ok(()));
            rt.block_on(async move {
                for (i, (socket, permits)) in sockets.into_iter().zip(permits).enumerate() {
                    let listener = match TcpListener::from_std(socket) {
                        Ok(l) => l,
                        Err(e) => {
                            log::error(&format!("worker {index}: listener {i}: {e}"));
                            continue;
                        }
                    };
                    let mut phase = phase.clone();
                    let running = running.clone();
                    tokio::spawn(async move {
                        tokio::select! {
                            () = accept::accept_loop(running, i, listener, permits) => {}
                            _ = phase.wait_for(|p| *p != Phase::Serving) => {}
                        }
                    });
                }
                let mut phase = phase;
                let _ = phase.wait_for(|p| *p == Phase::Stopped).await;
            });
            // Dropping the runtime here drops whatever connection is still open.
        })
        .map_err(|e| ConfigError(format!("worker {index}: thread: {e}")))?;
    match result.recv() {
        Ok(Ok(())) => Ok(thread),
        Ok(Err(e)) => Err(ConfigError(e)),
        Err(_) => Err(ConfigError(format!(
            "worker {index}: exited while starting"
        ))),
    }
}

/// Runs the proxy until SIGTERM/SIGINT and the drain.
pub async fn run(
    config_path: std::path::PathBuf,
    state: State,
    sockets: Sockets,
) -> Result<(), ConfigError> {
    let drain_timeout = state.drain_timeout;
    let drain_delay = state.drain_delay;
    let admin_addr = state.config.admin.as_ref().map(|a| a.address.clone());
    // One connection limit per listener, shared by every worker's accept loop for it.
    let permits: Vec<Arc<Semaphore>> = state
        .listeners
        .iter()
        .map(|l| Arc::new(Semaphore::new(l.max_connections)))
        .collect();
    let running = Arc::new(Running::new(config_path, state));
    let io = |e: std::io::Error| ConfigError(e.to_string());
    let n = sockets.workers();
    for addr in sockets.addresses() {
        log::info(&format!(
            "listening on {addr} ({n} worker{})",
            if n == 1 { "" } else { "s" }
        ));
    }
    let (set_phase, phase) = watch::channel(Phase::Serving);
    let mut threads = Vec::with_capacity(n);
    for (w, mine) in sockets.per_worker.into_iter().enumerate() {
        match start_worker(w, running.clone(), mine, permits.clone(), phase.clone()) {
            Ok(t) => threads.push(t),
            Err(e) => {
                let _ = set_phase.send(Phase::Stopped);
                return Err(e);
            }
        }
    }
    // Signals: SIGHUP reloads; SIGTERM and SIGINT drain, and a second one during the drain
    // stops at once.
    use tokio::signal::unix::{SignalKind, signal};
    let mut signals = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => Some((t, i)),
        (Err(e), _) | (_, Err(e)) => {
            let _ = set_phase.send(Phase::Stopped);
            return Err(io(e));
        }
    };
    let serve = async {
        if let Some(addr) = admin_addr {
            let listener = TcpListener::bind(&addr)
                .await
                .map_err(|e| ConfigError(format!("admin {addr}: {e}")))?;
            log::info(&format!("admin on {}", listener.local_addr().map_err(io)?));
            tokio::spawn(admin::serve(listener, running.clone()));
        }
        tokio::spawn(crate::ops::ocsp::refresher(running.clone()));
        let mut hup = signal(SignalKind::hangup()).map_err(io)?;
        let Some((term, int)) = signals.as_mut() else {
            return Ok(());
        };
        // Listeners bound, workers accepting, admin and signals in place: ready.
        systemd::notify("READY=1\n");
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
        Ok(())
    };
    let result = serve.await;
    systemd::notify("STOPPING=1\n");
    running.start_draining();
    let mut interrupted = false;
    if result.is_ok() && !drain_delay.is_zero() {
        // `/health` says 503 now; keep accepting while load balancers notice.
        log::info(&format!(
            "stopping: /health is 503; still accepting for {drain_delay:?} (drain_delay)"
        ));
        interrupted = !until_signalled(&mut signals, tokio::time::sleep(drain_delay)).await;
    }
    log::info(&format!(
        "stopping: no new connections; waiting up to {drain_timeout:?} for {} open",
        running.open()
    ));
    let _ = set_phase.send(Phase::Draining);
    if result.is_ok() && !interrupted {
        let drained = async {
            match tokio::time::timeout(drain_timeout, running.all_closed()).await {
                Ok(()) => log::info("drained: all connections closed"),
                Err(_) => log::warn(&format!(
                    "drain deadline passed with {} connections open; closing them",
                    running.open()
                )),
            }
        };
        interrupted = !until_signalled(&mut signals, drained).await;
    }
    if interrupted {
        log::warn(&format!(
            "stopping now (signalled again): closing {} open connections",
            running.open()
        ));
    }
    let _ = set_phase.send(Phase::Stopped);
    let _ = tokio::task::spawn_blocking(move || {
        for t in threads {
            let _ = t.join();
        }
    })
    .await;
    result
}

/// Runs `what` to its end (true) unless SIGTERM or SIGINT arrives first (false).
async fn until_signalled(
    signals: &mut Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
    what: impl Future<Output = ()>,
) -> bool {
    let Some((term, int)) = signals.as_mut() else {
        what.await;
        return true;
    };
    tokio::select! {
        () = what => true,
        _ = term.recv() => false,
        _ = int.recv() => false,
    }
}
