//! The running state every part of a live proxy shares: the current [`State`] (swapped whole on
//! reload), whether it is draining, and how many connections are open. The connection path,
//! the admin endpoint and the process lifecycle all hold an `Arc<Running>`; none of them holds
//! another.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::Notify;

use crate::config::state::State;
use crate::config::{Config, ConfigError};
use crate::ops::{log, metrics};

/// The running proxy's shared parts.
#[derive(Debug)]
pub struct Running {
    state: RwLock<Arc<State>>,
    config_path: std::path::PathBuf,
    draining: AtomicBool,
    open: AtomicUsize,
    all_closed: Notify,
    reloading: Mutex<()>,
}

impl Running {
    /// The running state of a proxy started from `config_path` with `state`; announces its
    /// certificates (expiry gauge and warnings).
    pub fn new(config_path: std::path::PathBuf, state: State) -> Self {
        announce_certificates(&state);
        Self {
            state: RwLock::new(Arc::new(state)),
            config_path,
            draining: AtomicBool::new(false),
            open: AtomicUsize::new(0),
            all_closed: Notify::new(),
            reloading: Mutex::new(()),
        }
    }

    /// The current state.
    pub fn state(&self) -> Arc<State> {
        self.state.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether SIGTERM arrived.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Starts draining: `/health` turns 503 and no new connection is accepted.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Counts a connection as open until the guard drops (even if its task panics).
    pub fn opened(self: &Arc<Self>) -> OpenGuard {
        self.open.fetch_add(1, Ordering::Relaxed);
        OpenGuard(self.clone())
    }

    /// Waits until no connection is open.
    pub async fn all_closed(&self) {
        while self.open() > 0 {
            let notified = self.all_closed.notified();
            if self.open() == 0 {
                break;
            }
            notified.await;
        }
    }

    /// Re-reads the config file and everything it names; on any error the running state stays.
    pub fn reload(&self) -> Result<(), ConfigError> {
        // One reload at a time (SIGHUP and POST /reload may race): the later one wins whole.
        let _one = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        crate::ops::systemd::reloading();
        // Ready again when this returns, with the new configuration or the old one (a drop
        // guard, so even a panic in loading does not leave the manager waiting).
        let _ready = ReadyAgain;
        let result = (|| {
            let config = Config::read(&self.config_path)?;
            let old = self.state();
            let addrs = |c: &Config| {
                c.listeners
                    .iter()
                    .map(|l| l.address.clone())
                    .collect::<Vec<_>>()
            };
            if addrs(&config) != addrs(&old.config) {
                return Err(ConfigError(
                    "listener addresses cannot change on reload (restart instead)".into(),
                ));
            }
            let new = State::load(config, Some(&old))?;
            announce_certificates(&new);
            *self.state.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(new);
            Ok(())
        })();
        metrics::get().reload(result.is_ok());
        match &result {
            Ok(()) => log::info("reloaded configuration"),
            Err(e) => log::error(&format!(
                "reload failed, keeping the running configuration: {e}"
            )),
        }
        result
    }
}

/// Tells the service manager the reload ended, when dropped.
struct ReadyAgain;

impl Drop for ReadyAgain {
    fn drop(&mut self) {
        crate::ops::systemd::notify("READY=1\n");
    }
}

/// One open connection, counted in [`Running::open`] until dropped.
#[derive(Debug)]
pub struct OpenGuard(Arc<Running>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        metrics::get().closed();
        if self.0.open.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.0.all_closed.notify_waiters();
        }
    }
}

/// Publishes a state's certificate expiry dates and logs a warning for each certificate that
/// is expired, not yet valid or expires soon (on start and on every reload).
fn announce_certificates(state: &State) {
    metrics::get().set_certificates(state.certs.expiry_series());
    metrics::get().set_staples(
        state
            .certs
            .entries()
            .iter()
            .filter(|e| e.staple.source != crate::config::ocsp::Source::None)
            .map(|e| {
                let staple: Arc<dyn metrics::StapleStatus> = e.staple.clone();
                (e.label(), e.key_alg.clone(), staple)
            })
            .collect(),
    );
    let now = std::time::SystemTime::now();
    for w in state.certs.expiry_warnings(now) {
        log::warn(&w);
    }
    for e in state.certs.entries() {
        if e.staple.must_staple && e.staple.serve(now).is_none() {
            let why = match &e.staple.source {
                crate::config::ocsp::Source::None => "no ocsp is configured for it",
                crate::config::ocsp::Source::File(_) => "its ocsp file holds no current response",
                crate::config::ocsp::Source::Auto { .. } => {
                    "its response is still to be fetched (ocsp = \"auto\")"
                }
            };
            log::warn(&format!(
                "certificate {} ({}) is Must-Staple (RFC 7633) and has no valid OCSP response: {why}; clients that enforce it refuse the handshake until it has one",
                e.path.display(),
                e.key_alg
            ));
        }
    }
}
