//! Upstream pools, built from `[upstream.*]`: round robin over addresses, skipping ones that
//! failed recently, each connect under a timeout; the TLS client configuration towards the
//! upstream where one is configured.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::config::{self, ConfigError};

/// How long a failed address is skipped.
const DEAD_FOR: Duration = Duration::from_secs(10);

/// A PROXY header version to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyOut {
    /// Text header.
    V1,
    /// Binary header with TLS TLVs.
    V2,
}

/// One pool.
pub struct Pool {
    /// The pool's name (for metrics).
    pub name: String,
    addresses: Vec<String>,
    next: AtomicUsize,
    dead_until: Mutex<Vec<Option<Instant>>>,
    connect_timeout: Duration,
    /// The PROXY header to send first, if any.
    pub proxy: Option<ProxyOut>,
    /// TLS towards the upstream: the client config and the name to verify.
    pub tls: Option<(
        tokio_rustls::TlsConnector,
        rustls::pki_types::ServerName<'static>,
    )>,
    /// TLCP towards the upstream (`tls = { tlcp = true, ... }`): the client config and the
    /// name to verify.
    pub tlcp: Option<(std::sync::Arc<crypto_core::tlcp::ClientConfig>, String)>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.name)
            .field("addresses", &self.addresses)
            .finish()
    }
}

impl Pool {
    /// A pool from its config; `provider` serves upstream TLS.
    pub fn new(
        name: &str,
        cfg: &config::Upstream,
        provider: &std::sync::Arc<rustls::crypto::CryptoProvider>,
        selection: &crypto_core::Selection,
    ) -> Result<Self, ConfigError> {
        let host = |t: &config::UpstreamTls| match &t.server_name {
            Some(n) => n.clone(),
            None => cfg.addresses[0]
                .rsplit_once(':')
                .map_or(cfg.addresses[0].clone(), |(h, _)| {
                    h.trim_matches(['[', ']']).to_owned()
                }),
        };
        let tlcp = match &cfg.tls {
            Some(t) if t.tlcp => {
                let at = |e: String| ConfigError(format!("upstream {name}: {e}"));
                let mut client = crypto_core::tlcp::ClientConfig::new(
                    selection.clone(),
                    super::tlcp::sm2_roots(&t.ca).map_err(at)?,
                );
                if let Some(names) = &t.tlcp_suites {
                    client.suites = config::tlcp_suites(names).map_err(at)?;
                }
                if let (Some(sc), Some(sk), Some(ec), Some(ek)) =
                    (&t.sign_cert, &t.sign_key, &t.enc_cert, &t.enc_key)
                {
                    client.credentials = Some(std::sync::Arc::new(
                        super::tlcp::credentials(sc, sk, ec, ek).map_err(at)?,
                    ));
                }
                Some((std::sync::Arc::new(client), host(t)))
            }
            _ => None,
        };
        let tls = match &cfg.tls {
            Some(t) if !t.tlcp => {
                let mut roots = rustls::RootCertStore::empty();
                for c in super::certs::read_chain(&t.ca)? {
                    roots
                        .add(c)
                        .map_err(|e| format!("upstream {name} CA {}: {e}", t.ca.display()))?;
                }
                let client = rustls::ClientConfig::builder_with_provider(provider.clone())
                    .with_safe_default_protocol_versions()
                    .map_err(|e| format!("upstream {name}: {e}"))?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                let sn = rustls::pki_types::ServerName::try_from(host(t))
                    .map_err(|e| format!("upstream {name}: server name: {e}"))?;
                Some((
                    tokio_rustls::TlsConnector::from(std::sync::Arc::new(client)),
                    sn,
                ))
            }
            _ => None,
        };
        Ok(Self {
            name: name.to_owned(),
            addresses: cfg.addresses.clone(),
            next: AtomicUsize::new(0),
            dead_until: Mutex::new(vec![None; cfg.addresses.len()]),
            connect_timeout: config::duration(&cfg.connect_timeout)?,
            proxy: match cfg.proxy_protocol.as_deref() {
                Some("v1") => Some(ProxyOut::V1),
                Some("v2") => Some(ProxyOut::V2),
                _ => None,
            },
            tls,
            tlcp,
        })
    }

    /// The connect timeout (also bounds the TLS handshake with the upstream).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Connects to the next live address, trying the others in turn (dead ones last); the
    /// error is the last address's failure.
    pub async fn connect(&self) -> Result<(TcpStream, String), String> {
        let n = self.addresses.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let now = Instant::now();
        let mut order: Vec<usize> = (0..n).map(|i| (start + i) % n).collect();
        {
            let dead = self.dead_until.lock().unwrap_or_else(|e| e.into_inner());
            // Live addresses first, keeping round-robin order; dead ones only as a last resort.
            order.sort_by_key(|&i| dead[i].is_some_and(|t| t > now));
        }
        let mut last = String::from("no address");
        for i in order {
            let addr = &self.addresses[i];
            let reason =
                match tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr)).await {
                    Ok(Ok(s)) => {
                        let _ = s.set_nodelay(true);
                        self.dead_until.lock().unwrap_or_else(|e| e.into_inner())[i] = None;
                        return Ok((s, addr.clone()));
                    }
                    Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => "refused",
                    Ok(Err(_)) => "connect_error",
                    Err(_) => "connect_timeout",
                };
            crate::ops::metrics::get().upstream_error(&self.name, reason);
            self.dead_until.lock().unwrap_or_else(|e| e.into_inner())[i] =
                Some(Instant::now() + DEAD_FOR);
            last = format!("{addr}: {reason}");
        }
        Err(last)
    }
}
