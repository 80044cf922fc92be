//! Accepting and serving connections: listeners (one SO_REUSEPORT socket per worker), the
//! optional PROXY header in, the ClientHello-driven certificate choice, the handshake under a
//! deadline, the upstream connection with its optional PROXY header out, the relay, and the
//! access-log line. Also reload (SIGHUP or the admin endpoint) and drain (SIGTERM).
//!
//! Every connection runs in its own task and owns everything it touches: one connection's
//! failure never reaches another.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rustls::server::NoServerSessionStorage;
use rustls::{ServerConfig, SignatureScheme};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};

use crate::certs::{Fixed, Recording};
use crate::config::Config;
use crate::metrics::{self, HandshakeLabels};
use crate::proxy_proto::{self, TlsInfo};
use crate::state::{ListenerState, State};
use crate::upstream::ProxyOut;
use crate::{log, relay};

/// The running proxy's shared parts.
#[derive(Debug)]
pub struct Shared {
    state: RwLock<Arc<State>>,
    config_path: std::path::PathBuf,
    draining: AtomicBool,
    open: std::sync::atomic::AtomicUsize,
    all_closed: Notify,
    stop_accepting: Notify,
    reloading: std::sync::Mutex<()>,
}

impl Shared {
    /// The current state.
    pub fn state(&self) -> Arc<State> {
        self.state.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether SIGTERM arrived.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Re-reads the config file and everything it names; on any error the running state stays.
    pub fn reload(&self) -> Result<(), String> {
        // One reload at a time (SIGHUP and POST /reload may race): the later one wins whole.
        let _one = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let result = (|| {
            let text = std::fs::read_to_string(&self.config_path)
                .map_err(|e| format!("{}: {e}", self.config_path.display()))?;
            let config = Config::parse(&text)
                .map_err(|e| format!("{}: {}", self.config_path.display(), e.0))?;
            let old = self.state();
            let addrs = |c: &Config| {
                c.listeners
                    .iter()
                    .map(|l| l.address.clone())
                    .collect::<Vec<_>>()
            };
            if addrs(&config) != addrs(&old.config) {
                return Err("listener addresses cannot change on reload (restart instead)".into());
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

/// Publishes a state's certificate expiry dates and logs a warning for each certificate that
/// is expired, not yet valid or expires soon (on start and on every reload).
fn announce_certificates(state: &State) {
    metrics::get().set_certificates(state.certs.expiry_series());
    for w in state.certs.expiry_warnings(std::time::SystemTime::now()) {
        log::warn(&w);
    }
}

/// A stream with bytes already read in front (what followed a PROXY header).
struct Prefixed {
    prefix: Vec<u8>,
    pos: usize,
    inner: TcpStream,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.pos < self.prefix.len() {
            let n = (self.prefix.len() - self.pos).min(buf.remaining());
            let start = self.pos;
            buf.put_slice(&self.prefix[start..start + n]);
            self.pos += n;
            if self.pos == self.prefix.len() {
                self.prefix = Vec::new();
                self.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Reads a PROXY header; returns the client's address (if it named one) and the stream with
/// whatever followed the header.
async fn read_proxy_header(
    mut tcp: TcpStream,
) -> Result<(Option<(SocketAddr, SocketAddr)>, Prefixed), String> {
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    loop {
        match proxy_proto::parse(&buf) {
            Ok(Some((header, used))) => {
                let rest = buf.split_off(used);
                return Ok((
                    header.addresses,
                    Prefixed {
                        prefix: rest,
                        pos: 0,
                        inner: tcp,
                    },
                ));
            }
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        if buf.len() > 16 + 65_535 {
            return Err("PROXY header too long".into());
        }
        let n = tcp.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("EOF inside the PROXY header".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

static TLS13_ONLY: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];

/// Why no ClientHello came.
enum HelloFailure {
    /// It broke a rule; the alert is owed.
    Refused(crate::hello::HelloError),
    /// The socket failed or closed.
    Io(std::io::Error),
}

/// Reads the first flight (the ClientHello's records) and puts every byte read back in front
/// of the stream, for the handshake engine to read again.
async fn read_client_hello(
    stream: &mut Prefixed,
) -> Result<crate::hello::ClientHello, HelloFailure> {
    let mut buf: Vec<u8> = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    loop {
        match crate::hello::parse_first_flight(&buf) {
            Ok(Some(hello)) => {
                let rest = std::mem::take(&mut stream.prefix);
                buf.extend_from_slice(&rest[stream.pos.min(rest.len())..]);
                stream.prefix = buf;
                stream.pos = 0;
                return Ok(hello);
            }
            Ok(None) => {}
            Err(e) => return Err(HelloFailure::Refused(e)),
        }
        let n = stream.read(&mut chunk).await.map_err(HelloFailure::Io)?;
        if n == 0 {
            return Err(HelloFailure::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Sends a fatal alert in a plaintext record (no keys exist yet) and closes the write side.
async fn send_alert(stream: &mut Prefixed, alert: crate::hello::Alert) {
    let _ = stream.write_all(&alert.record()).await;
    let _ = stream.shutdown().await;
}

fn version_name(v: Option<rustls::ProtocolVersion>) -> String {
    match v {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".into(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".into(),
        Some(v) => format!("{v:?}"),
        None => String::new(),
    }
}

fn suite_name(s: rustls::CipherSuite) -> String {
    match s {
        crypto_core::tls::TLS13_SM4_GCM_SM3 => "TLS_SM4_GCM_SM3".into(),
        crypto_core::tls::TLS13_SM4_CCM_SM3 => "TLS_SM4_CCM_SM3".into(),
        s => s
            .as_str()
            .map(|n| {
                n.strip_prefix("TLS13_")
                    .map_or(n.to_owned(), |r| format!("TLS_{r}"))
            })
            .unwrap_or_else(|| format!("{s:?}")),
    }
}

fn group_name(g: rustls::NamedGroup) -> String {
    if g == crypto_core::tls::CURVE_SM2 {
        "curveSM2".into()
    } else {
        format!("{g:?}")
    }
}

fn scheme_name(s: SignatureScheme) -> String {
    if s == crypto_core::tls::SM2SIG_SM3 {
        "sm2sig_sm3".into()
    } else {
        format!("{s:?}")
    }
}

/// One connection, start to end.
async fn serve_connection(
    shared: Arc<Shared>,
    listener_index: usize,
    tcp: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
) {
    let state = shared.state();
    let Some(l) = state.listeners.get(listener_index) else {
        return;
    };
    let started = Instant::now();
    let mut record = json!({
        "ts": log::now(),
        "listener": l.address.to_string(),
        "peer": peer.to_string(),
    });
    let mut labels = HandshakeLabels {
        version: String::new(),
        suite: String::new(),
        group: String::new(),
        scheme: String::new(),
        backend: String::new(),
        result: "ok".into(),
    };
    let outcome = handshake_and_relay(
        &state,
        l,
        tcp,
        peer,
        local,
        &mut record,
        &mut labels,
        started,
    )
    .await;
    match outcome {
        Ok(()) => record["result"] = json!("ok"),
        Err(e) => {
            record["result"] = json!("error");
            record["error"] = json!(e);
        }
    }
    record["duration_ms"] = json!(started.elapsed().as_millis() as u64);
    if state.config.log.access {
        log::access(&record);
    }
}

#[allow(clippy::too_many_arguments)]
async fn handshake_and_relay(
    state: &State,
    l: &ListenerState,
    tcp: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    record: &mut serde_json::Value,
    labels: &mut HandshakeLabels,
    started: Instant,
) -> Result<(), String> {
    let m = metrics::get();
    let fail = |labels: &mut HandshakeLabels, kind: &str| {
        labels.result = kind.into();
        m.handshake(labels.clone(), started.elapsed(), false);
    };
    let _ = tcp.set_nodelay(true);
    let trusted = l.proxy_from.iter().any(|c| c.contains(peer.ip()));
    let slot: Arc<OnceLock<SignatureScheme>> = Arc::new(OnceLock::new());

    // Everything up to the end of the handshake runs under the listener's deadline.
    let handshake = async {
        let (client_addrs, stream) = if trusted {
            let (addrs, s) = read_proxy_header(tcp)
                .await
                .map_err(|e| ("proxy_header", e))?;
            (addrs, s)
        } else {
            (
                None,
                Prefixed {
                    prefix: Vec::new(),
                    pos: 0,
                    inner: tcp,
                },
            )
        };
        let mut stream = stream;
        let hello = match read_client_hello(&mut stream).await {
            Ok(h) => h,
            Err(HelloFailure::Refused(e)) => {
                send_alert(&mut stream, e.alert).await;
                return Err((
                    "bad_client_hello",
                    format!("ClientHello: {} (sent {})", e.reason, e.alert.name()),
                ));
            }
            Err(HelloFailure::Io(e)) => return Err(("tls", format!("reading ClientHello: {e}"))),
        };
        let sni = hello.server_name.clone();
        let suites: Vec<rustls::CipherSuite> = hello
            .cipher_suites
            .iter()
            .map(|s| rustls::CipherSuite::from(*s))
            .collect();
        let schemes: Vec<SignatureScheme> = hello
            .signature_schemes
            .iter()
            .map(|s| SignatureScheme::from(*s))
            .collect();
        let groups: Vec<rustls::NamedGroup> = hello
            .groups
            .iter()
            .map(|g| rustls::NamedGroup::from(*g))
            .collect();
        let offer = crate::certs::Offer {
            server_name: sni.as_deref(),
            tls13: hello.offers_tls13(),
            tls12: hello.offers_tls12(),
            suites: &suites,
            schemes: &schemes,
            groups: &groups,
        };
        let choice = match state.certs.choose(&offer, &l.caps) {
            Ok(c) => c,
            Err(refusal) => {
                send_alert(&mut stream, refusal.alert()).await;
                return Err((
                    refusal.name(),
                    format!(
                        "no certificate for this ClientHello: {} (sent {})",
                        refusal.name(),
                        refusal.alert().name()
                    ),
                ));
            }
        };
        let key_alg = Some(choice.entry.key_alg.clone());
        let certified = Recording::wrap(choice.entry, slot.clone());
        let (provider, versions) = match (choice.profile, &l.gm_provider) {
            (crate::certs::Profile::Gm, Some(gm)) => (gm.clone(), &TLS13_ONLY[..]),
            _ => (l.caps.standard.clone(), &l.versions[..]),
        };
        let builder = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .map_err(|e| ("config", e.to_string()))?;
        let builder = match &l.client_verifier {
            Some(v) => builder.with_client_cert_verifier(v.clone()),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(Arc::new(Fixed(Some(certified))));
        config.alpn_protocols.clone_from(&l.alpn);
        config.session_storage = Arc::new(NoServerSessionStorage {});
        config.ignore_client_order = l.prefer_server_ciphers;
        if let Some(t) = &l.tickets {
            config.ticketer = t.clone();
        }
        let tls = tokio_rustls::TlsAcceptor::from(Arc::new(config))
            .accept(stream)
            .await
            .map_err(|e| ("tls", e.to_string()))?;
        Ok::<_, (&str, String)>((tls, sni, key_alg, client_addrs))
    };
    let (mut tls, sni, key_alg, client_addrs) =
        match tokio::time::timeout(l.handshake_timeout, handshake).await {
            Err(_) => {
                fail(labels, "timeout");
                return Err("handshake timeout".into());
            }
            Ok(Err((kind, e))) => {
                fail(labels, kind);
                return Err(e);
            }
            Ok(Ok(x)) => x,
        };
    let (src, dst) = client_addrs.unwrap_or((peer, local));
    let (_, conn) = tls.get_ref();
    // Defence in depth: whatever the handshake path (a resumed session included), a listener
    // that requires a client certificate never relays for a connection without one.
    if l.client_cert_required && conn.peer_certificates().is_none_or(<[_]>::is_empty) {
        fail(labels, "no_client_certificate");
        let _ = tls.shutdown().await;
        return Err("no client certificate".into());
    }
    let (_, conn) = tls.get_ref();
    let version = version_name(conn.protocol_version());
    let suite = conn.negotiated_cipher_suite();
    let suite_id = suite.map(|s| s.suite());
    labels.version.clone_from(&version);
    labels.suite = suite_id.map(suite_name).unwrap_or_default();
    labels.group = conn
        .negotiated_key_exchange_group()
        .map(|g| group_name(g.name()))
        .unwrap_or_default();
    let resumed = matches!(conn.handshake_kind(), Some(rustls::HandshakeKind::Resumed));
    labels.scheme = match slot.get() {
        Some(s) => scheme_name(*s),
        None if resumed => "resumed".into(),
        None => String::new(),
    };
    labels.backend = suite_id
        .and_then(crypto_core::tls::suite_aead)
        .map(|aead| {
            state
                .selection
                .backend_for(crypto_core::Algorithm::Aead(aead))
                .name()
                .to_owned()
        })
        .unwrap_or_default();
    m.handshake(labels.clone(), started.elapsed(), resumed);
    let alpn = conn.alpn_protocol().map(<[u8]>::to_vec);
    let client_cn = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|c| crate::x509::subject_cn(c));
    let client_cert = conn.peer_certificates().is_some_and(|c| !c.is_empty());
    record["client"] = json!(src.to_string());
    record["sni"] = json!(sni);
    record["alpn"] = json!(
        alpn.as_ref()
            .map(|a| String::from_utf8_lossy(a).into_owned())
    );
    record["version"] = json!(version);
    record["suite"] = json!(labels.suite);
    record["group"] = json!(labels.group);
    record["scheme"] = json!(labels.scheme);
    record["backend"] = json!(labels.backend);
    record["resumed"] = json!(resumed);
    record["client_cn"] = json!(client_cn);
    record["handshake_ms"] = json!(started.elapsed().as_secs_f64() * 1e3);

    // The upstream.
    let pool = &l.upstream;
    let (mut up, up_addr) = match pool.connect().await {
        Ok(x) => x,
        Err(e) => {
            let _ = tls.shutdown().await;
            return Err(format!("upstream {}: {}", pool.name, e.0));
        }
    };
    record["upstream"] = json!(up_addr);
    if let Some(p) = pool.proxy {
        let header = match p {
            ProxyOut::V1 => proxy_proto::encode_v1(src, dst),
            ProxyOut::V2 => proxy_proto::encode_v2(
                src,
                dst,
                &TlsInfo {
                    version: version.clone(),
                    cipher: labels.suite.clone(),
                    sni: sni.clone(),
                    alpn,
                    client_cn,
                    client_cert,
                    resumed,
                    key_alg,
                },
            ),
        };
        if let Err(e) = up.write_all(&header).await {
            m.upstream_error(&pool.name, "write_error");
            let _ = tls.shutdown().await;
            return Err(format!("upstream {up_addr}: {e}"));
        }
    }
    let (relayed, result) = match &pool.tls {
        None => relay::relay(tls, up, l.idle_timeout).await,
        Some((connector, name)) => {
            match tokio::time::timeout(pool.connect_timeout(), connector.connect(name.clone(), up))
                .await
            {
                Ok(Ok(up_tls)) => relay::relay(tls, up_tls, l.idle_timeout).await,
                Ok(Err(e)) => {
                    m.upstream_error(&pool.name, "tls");
                    let _ = tls.shutdown().await;
                    return Err(format!("upstream TLS {up_addr}: {e}"));
                }
                Err(_) => {
                    m.upstream_error(&pool.name, "tls_timeout");
                    let _ = tls.shutdown().await;
                    return Err(format!("upstream TLS {up_addr}: handshake timeout"));
                }
            }
        }
    };
    m.bytes(relayed.from_client, relayed.to_client);
    m.relay_end(match &result {
        Ok(()) if relayed.idle_timeout => "idle_timeout",
        Ok(()) => "clean",
        Err(e) if e.side == relay::Side::Client => "client_error",
        Err(_) => "upstream_error",
    });
    record["bytes_from_client"] = json!(relayed.from_client);
    record["bytes_to_client"] = json!(relayed.to_client);
    if relayed.idle_timeout {
        record["closed"] = json!("idle_timeout");
    }
    result.map_err(|e| format!("relay: {e}"))
}

/// Binds one socket for `addr`. One accept loop per listener holds the connection limit
/// exactly (at the limit it stops accepting and clients wait in the kernel's backlog); each
/// accepted connection is its own task, run by whichever of the `workers` threads is free.
/// SO_REUSEPORT lets a second instance bind the same address (a restart without downtime, or
/// several instances on one machine sharing the kernel's load spreading).
fn bind(addr: SocketAddr) -> std::io::Result<Vec<std::net::TcpListener>> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    #[cfg(unix)]
    s.set_reuse_port(true)?;
    s.bind(&addr.into())?;
    s.listen(1024)?;
    s.set_nonblocking(true)?;
    Ok(vec![s.into()])
}

/// Binds every listener (sockets are created now, so a bind error stops startup).
pub fn bind_all(state: &State, _workers: usize) -> Result<Vec<Vec<std::net::TcpListener>>, String> {
    state
        .listeners
        .iter()
        .map(|l| bind(l.address).map_err(|e| format!("listen {}: {e}", l.address)))
        .collect()
}

/// Runs the proxy until SIGTERM/SIGINT and the drain. `ready` is called with the bound
/// addresses once accepting.
pub async fn run(
    config_path: std::path::PathBuf,
    state: State,
    sockets: Vec<Vec<std::net::TcpListener>>,
) -> Result<(), String> {
    announce_certificates(&state);
    let drain_timeout = state.drain_timeout;
    let admin_addr = state.config.admin.as_ref().map(|a| a.address.clone());
    let limits: Vec<Arc<Semaphore>> = state
        .listeners
        .iter()
        .map(|l| Arc::new(Semaphore::new(l.max_connections)))
        .collect();
    let shared = Arc::new(Shared {
        state: RwLock::new(Arc::new(state)),
        config_path,
        draining: AtomicBool::new(false),
        open: std::sync::atomic::AtomicUsize::new(0),
        all_closed: Notify::new(),
        stop_accepting: Notify::new(),
        reloading: std::sync::Mutex::new(()),
    });
    let mut accept_tasks = Vec::new();
    for (index, socks) in sockets.into_iter().enumerate() {
        for s in socks {
            let listener = TcpListener::from_std(s).map_err(|e| e.to_string())?;
            let local = listener.local_addr().map_err(|e| e.to_string())?;
            log::info(&format!("listening on {local}"));
            let shared = shared.clone();
            let limit = limits[index].clone();
            accept_tasks.push(tokio::spawn(accept_loop(shared, index, listener, limit)));
        }
    }
    if let Some(addr) = admin_addr {
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|e| format!("admin {addr}: {e}"))?;
        log::info(&format!(
            "admin on {}",
            listener.local_addr().map_err(|e| e.to_string())?
        ));
        tokio::spawn(crate::admin::serve(listener, shared.clone()));
    }

    // Signals: SIGHUP reloads; SIGTERM and SIGINT drain.
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| e.to_string())?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| e.to_string())?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| e.to_string())?;
    loop {
        tokio::select! {
            _ = hup.recv() => {
                let s = shared.clone();
                // Loading keys and certificates is blocking file work.
                let _ = tokio::task::spawn_blocking(move || s.reload()).await;
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    log::info(&format!(
        "stopping: no new connections; waiting up to {drain_timeout:?} for {} open",
        shared.open.load(Ordering::Relaxed)
    ));
    shared.draining.store(true, Ordering::Relaxed);
    shared.stop_accepting.notify_waiters();
    for t in &accept_tasks {
        t.abort();
    }
    let wait = async {
        while shared.open.load(Ordering::Relaxed) > 0 {
            let notified = shared.all_closed.notified();
            if shared.open.load(Ordering::Relaxed) == 0 {
                break;
            }
            notified.await;
        }
    };
    match tokio::time::timeout(drain_timeout, wait).await {
        Ok(()) => log::info("drained: all connections closed"),
        Err(_) => log::warn(&format!(
            "drain deadline passed with {} connections open; closing them",
            shared.open.load(Ordering::Relaxed)
        )),
    }
    Ok(())
}

/// Counts a connection as open until dropped, even if its task panics.
struct OpenGuard {
    shared: Arc<Shared>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        metrics::get().closed();
        if self.shared.open.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.shared.all_closed.notify_waiters();
        }
    }
}

async fn accept_loop(
    shared: Arc<Shared>,
    index: usize,
    listener: TcpListener,
    limit: Arc<Semaphore>,
) {
    let local = listener.local_addr().ok();
    loop {
        // At the limit, stop accepting: further clients wait in the kernel's backlog.
        let Ok(permit) = limit.clone().acquire_owned().await else {
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
        shared.open.fetch_add(1, Ordering::Relaxed);
        let guard = OpenGuard {
            shared: shared.clone(),
            _permit: permit,
        };
        tokio::spawn(async move {
            serve_connection(guard.shared.clone(), index, tcp, peer, local).await;
            drop(guard);
        });
    }
}
