//! Prometheus metrics, kept in process-wide counters and rendered in the text exposition
//! format for `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Handshake latency histogram bounds, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Labels of one handshake outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct HandshakeLabels {
    /// "TLSv1.3", "TLSv1.2" or "" on failure.
    pub version: String,
    /// Suite name.
    pub suite: String,
    /// Key-exchange group.
    pub group: String,
    /// Signature scheme the server signed with.
    pub scheme: String,
    /// Backend of the suite's AEAD.
    pub backend: String,
    /// "ok", or the failure's kind ("timeout", "tls", "no_certificate", "proxy_header", ...).
    pub result: String,
}

/// Every metric.
#[derive(Debug, Default)]
pub struct Metrics {
    accepted: AtomicU64,
    open: AtomicI64,
    handshakes: Mutex<BTreeMap<HandshakeLabels, u64>>,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    bytes_from_client: AtomicU64,
    bytes_to_client: AtomicU64,
    upstream_errors: Mutex<BTreeMap<(String, String), u64>>,
    reloads: Mutex<BTreeMap<&'static str, u64>>,
    relay_ends: Mutex<BTreeMap<&'static str, u64>>,
    resumed: AtomicU64,
    certificates: Mutex<Vec<(String, String, u64)>>,
    staples: Mutex<Vec<StapleSeries>>,
    pkcs11_ok: AtomicU64,
    pkcs11_failed: AtomicU64,
    pkcs11_pool: std::sync::atomic::AtomicBool,
    pkcs11_in_pool: AtomicI64,
    pkcs11_busy: AtomicU64,
    pkcs11_timeouts: AtomicU64,
}

/// One certificate's OCSP series: (name, key algorithm, its staple).
pub type StapleSeries = (String, String, std::sync::Arc<dyn StapleStatus>);

/// What the OCSP gauges read of a certificate's staple (implemented by the staple itself, so
/// the gauges are as current as the handshakes).
pub trait StapleStatus: Send + Sync + std::fmt::Debug {
    /// The response served at `now`: (thisUpdate, until when it is served).
    fn served(
        &self,
        now: std::time::SystemTime,
    ) -> Option<(std::time::SystemTime, std::time::SystemTime)>;
    /// Failed refreshes so far.
    fn refresh_failures(&self) -> u64;
}

fn unix(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

static METRICS: std::sync::OnceLock<Metrics> = std::sync::OnceLock::new();

/// The process's metrics.
pub fn get() -> &'static Metrics {
    METRICS.get_or_init(Metrics::default)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Metrics {
    /// A connection was accepted.
    pub fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
        self.open.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection closed.
    pub fn closed(&self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }

    /// Open connections now.
    pub fn open(&self) -> i64 {
        self.open.load(Ordering::Relaxed)
    }

    /// A handshake ended.
    pub fn handshake(&self, labels: HandshakeLabels, took: Duration, resumed: bool) {
        *lock(&self.handshakes).entry(labels).or_default() += 1;
        let s = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        if resumed {
            self.resumed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Bytes relayed.
    pub fn bytes(&self, from_client: u64, to_client: u64) {
        self.bytes_from_client
            .fetch_add(from_client, Ordering::Relaxed);
        self.bytes_to_client.fetch_add(to_client, Ordering::Relaxed);
    }

    /// An upstream could not be used.
    pub fn upstream_error(&self, upstream: &str, reason: &str) {
        *lock(&self.upstream_errors)
            .entry((upstream.to_owned(), reason.to_owned()))
            .or_default() += 1;
    }

    /// A relay ended: `clean` (both directions reached EOF), `idle_timeout`, `client_error`
    /// (a reset, a TLS error or a cut without close_notify from the client) or
    /// `upstream_error`.
    pub fn relay_end(&self, how: &'static str) {
        *lock(&self.relay_ends).entry(how).or_default() += 1;
    }

    /// The certificates now served: `(name, key algorithm, notAfter in Unix seconds)`,
    /// replacing the last set (a reload that drops a certificate drops its series).
    pub fn set_certificates(&self, series: Vec<(String, String, u64)>) {
        *lock(&self.certificates) = series;
    }

    /// The certificates that staple OCSP: `(name, key algorithm, staple)`, replacing the last
    /// set.
    pub fn set_staples(&self, staples: Vec<(String, String, std::sync::Arc<dyn StapleStatus>)>) {
        *lock(&self.staples) = staples;
    }

    /// A signature through a PKCS#11 module ended.
    pub fn pkcs11_signature(&self, ok: bool) {
        if ok {
            self.pkcs11_ok.fetch_add(1, Ordering::Relaxed);
        } else {
            self.pkcs11_failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The PKCS#11 pool exists (its metrics are shown from now on).
    pub fn pkcs11_pool_started(&self) {
        self.pkcs11_pool.store(true, Ordering::Relaxed);
    }

    /// A handshake entered (+1) or left (-1) the PKCS#11 pool.
    pub fn pkcs11_in_pool(&self, delta: i64) {
        self.pkcs11_in_pool.fetch_add(delta, Ordering::Relaxed);
    }

    /// The PKCS#11 pool refused a handshake: full (`busy`) or past its deadline.
    pub fn pkcs11_refused(&self, busy: bool) {
        if busy {
            self.pkcs11_busy.fetch_add(1, Ordering::Relaxed);
        } else {
            self.pkcs11_timeouts.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A reload was tried.
    pub fn reload(&self, ok: bool) {
        *lock(&self.reloads)
            .entry(if ok { "ok" } else { "failed" })
            .or_default() += 1;
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let esc = |s: &str| {
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        };
        let _ = writeln!(
            o,
            "# HELP tls_frontend_connections_accepted_total Connections accepted."
        );
        let _ = writeln!(o, "# TYPE tls_frontend_connections_accepted_total counter");
        let _ = writeln!(
            o,
            "tls_frontend_connections_accepted_total {}",
            self.accepted.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            o,
            "# HELP tls_frontend_connections_open Connections open now."
        );
        let _ = writeln!(o, "# TYPE tls_frontend_connections_open gauge");
        let _ = writeln!(o, "tls_frontend_connections_open {}", self.open());
        let _ = writeln!(
            o,
            "# HELP tls_frontend_handshakes_total Handshakes by outcome."
        );
        let _ = writeln!(o, "# TYPE tls_frontend_handshakes_total counter");
        for (l, n) in lock(&self.handshakes).iter() {
            let _ = writeln!(
                o,
                "tls_frontend_handshakes_total{{version=\"{}\",suite=\"{}\",group=\"{}\",scheme=\"{}\",backend=\"{}\",result=\"{}\"}} {n}",
                esc(&l.version),
                esc(&l.suite),
                esc(&l.group),
                esc(&l.scheme),
                esc(&l.backend),
                esc(&l.result)
            );
        }
        let _ = writeln!(
            o,
            "# HELP tls_frontend_resumptions_total Handshakes resumed from a ticket."
        );
        let _ = writeln!(o, "# TYPE tls_frontend_resumptions_total counter");
        let _ = writeln!(
            o,
            "tls_frontend_resumptions_total {}",
            self.resumed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            o,
            "# HELP tls_frontend_handshake_seconds Handshake latency."
        );
        let _ = writeln!(o, "# TYPE tls_frontend_handshake_seconds histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                o,
                "tls_frontend_handshake_seconds_bucket{{le=\"{b}\"}} {}",
                self.latency_buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            o,
            "tls_frontend_handshake_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            o,
            "tls_frontend_handshake_seconds_sum {}",
            self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(o, "tls_frontend_handshake_seconds_count {count}");
        let _ = writeln!(
            o,
            "# HELP tls_frontend_bytes_total Bytes relayed, by direction."
        );
        let _ = writeln!(o, "# TYPE tls_frontend_bytes_total counter");
        let _ = writeln!(
            o,
            "tls_frontend_bytes_total{{direction=\"from_client\"}} {}",
            self.bytes_from_client.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            o,
            "tls_frontend_bytes_total{{direction=\"to_client\"}} {}",
            self.bytes_to_client.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            o,
            "# HELP tls_frontend_upstream_errors_total Upstream failures."
        );
        let _ = writeln!(o, "# TYPE tls_frontend_upstream_errors_total counter");
        for ((u, r), n) in lock(&self.upstream_errors).iter() {
            let _ = writeln!(
                o,
                "tls_frontend_upstream_errors_total{{upstream=\"{}\",reason=\"{}\"}} {n}",
                esc(u),
                esc(r)
            );
        }
        let _ = writeln!(
            o,
            "# HELP tls_frontend_relays_total Relays by how they ended (connections that failed before relaying are counted under handshakes and upstream errors)."
        );
        let _ = writeln!(o, "# TYPE tls_frontend_relays_total counter");
        for (r, n) in lock(&self.relay_ends).iter() {
            let _ = writeln!(o, "tls_frontend_relays_total{{end=\"{r}\"}} {n}");
        }
        let _ = writeln!(
            o,
            "# HELP tls_frontend_reloads_total Configuration reloads."
        );
        let _ = writeln!(o, "# TYPE tls_frontend_reloads_total counter");
        for (r, n) in lock(&self.reloads).iter() {
            let _ = writeln!(o, "tls_frontend_reloads_total{{result=\"{r}\"}} {n}");
        }
        // As the blackbox exporter's probe_ssl_earliest_cert_expiry: a Unix time, so an alert
        // is `tls_frontend_certificate_expiry_seconds - time() < 30 * 86400`.
        let _ = writeln!(
            o,
            "# HELP tls_frontend_certificate_expiry_seconds When each served certificate expires (notAfter), Unix seconds."
        );
        let _ = writeln!(o, "# TYPE tls_frontend_certificate_expiry_seconds gauge");
        for (name, key, at) in lock(&self.certificates).iter() {
            let _ = writeln!(
                o,
                "tls_frontend_certificate_expiry_seconds{{name=\"{}\",key=\"{}\"}} {at}",
                esc(name),
                esc(key)
            );
        }
        if self.pkcs11_pool.load(Ordering::Relaxed) {
            let _ = writeln!(
                o,
                "# HELP tls_frontend_pkcs11_signatures_total Signatures through a PKCS#11 module."
            );
            let _ = writeln!(o, "# TYPE tls_frontend_pkcs11_signatures_total counter");
            let _ = writeln!(
                o,
                "tls_frontend_pkcs11_signatures_total{{result=\"ok\"}} {}",
                self.pkcs11_ok.load(Ordering::Relaxed)
            );
            let _ = writeln!(
                o,
                "tls_frontend_pkcs11_signatures_total{{result=\"failed\"}} {}",
                self.pkcs11_failed.load(Ordering::Relaxed)
            );
            let _ = writeln!(
                o,
                "# HELP tls_frontend_pkcs11_pool_handshakes Handshakes in the PKCS#11 pool now (running or waiting)."
            );
            let _ = writeln!(o, "# TYPE tls_frontend_pkcs11_pool_handshakes gauge");
            let _ = writeln!(
                o,
                "tls_frontend_pkcs11_pool_handshakes {}",
                self.pkcs11_in_pool.load(Ordering::Relaxed)
            );
            let _ = writeln!(
                o,
                "# HELP tls_frontend_pkcs11_pool_refused_total Handshakes the PKCS#11 pool refused: full, or past its timeout."
            );
            let _ = writeln!(o, "# TYPE tls_frontend_pkcs11_pool_refused_total counter");
            let _ = writeln!(
                o,
                "tls_frontend_pkcs11_pool_refused_total{{reason=\"busy\"}} {}",
                self.pkcs11_busy.load(Ordering::Relaxed)
            );
            let _ = writeln!(
                o,
                "tls_frontend_pkcs11_pool_refused_total{{reason=\"timeout\"}} {}",
                self.pkcs11_timeouts.load(Ordering::Relaxed)
            );
        }
        let staples = lock(&self.staples);
        let now = std::time::SystemTime::now();
        let _ = writeln!(
            o,
            "# HELP tls_frontend_ocsp_stapled Whether a current OCSP response is stapled now (1) or not (0), per certificate with ocsp configured."
        );
        let _ = writeln!(o, "# TYPE tls_frontend_ocsp_stapled gauge");
        for (name, key, s) in staples.iter() {
            let _ = writeln!(
                o,
                "tls_frontend_ocsp_stapled{{name=\"{}\",key=\"{}\"}} {}",
                esc(name),
                esc(key),
                u8::from(s.served(now).is_some())
            );
        }
        let _ = writeln!(
            o,
            "# HELP tls_frontend_ocsp_staple_age_seconds Seconds since the stapled response's thisUpdate."
        );
        let _ = writeln!(o, "# TYPE tls_frontend_ocsp_staple_age_seconds gauge");
        for (name, key, s) in staples.iter() {
            if let Some((this_update, _)) = s.served(now) {
                let _ = writeln!(
                    o,
                    "tls_frontend_ocsp_staple_age_seconds{{name=\"{}\",key=\"{}\"}} {}",
                    esc(name),
                    esc(key),
                    now.duration_since(this_update)
                        .unwrap_or_default()
                        .as_secs()
                );
            }
        }
        let _ = writeln!(
            o,
            "# HELP tls_frontend_ocsp_staple_expiry_seconds When the stapled response stops being served (its nextUpdate), Unix seconds."
        );
        let _ = writeln!(o, "# TYPE tls_frontend_ocsp_staple_expiry_seconds gauge");
        for (name, key, s) in staples.iter() {
            if let Some((_, until)) = s.served(now) {
                let _ = writeln!(
                    o,
                    "tls_frontend_ocsp_staple_expiry_seconds{{name=\"{}\",key=\"{}\"}} {}",
                    esc(name),
                    esc(key),
                    unix(until)
                );
            }
        }
        let _ = writeln!(
            o,
            "# HELP tls_frontend_ocsp_refresh_failures_total Failed OCSP fetches (ocsp = \"auto\")."
        );
        let _ = writeln!(o, "# TYPE tls_frontend_ocsp_refresh_failures_total counter");
        for (name, key, s) in staples.iter() {
            let _ = writeln!(
                o,
                "tls_frontend_ocsp_refresh_failures_total{{name=\"{}\",key=\"{}\"}} {}",
                esc(name),
                esc(key),
                s.refresh_failures()
            );
        }
        o
    }
}
