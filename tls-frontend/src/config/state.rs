//! The running state built from a config: the crypto selection and provider, certificates,
//! ticket keys, upstream pools and per-listener TLS settings. Built whole or not at all, so a
//! reload either swaps in a complete new state or keeps the old one.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crypto_core::Selection;
use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use rustls::{CipherSuite, NamedGroup, SupportedProtocolVersion};

use crate::config::certs::Store;
use crate::config::tickets::TicketKeys;
use crate::config::upstreams::Pool;
use crate::config::{self, Cidr, Config, ConfigError};

/// Whether this CPU has AES instructions (and carry-less multiplication for GHASH): then
/// AES-GCM is the fastest AEAD a TLS suite offers, else ChaCha20-Poly1305 is.
pub fn aes_hardware() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
            && std::arch::is_aarch64_feature_detected!("pmull")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// The server's suite order: the fastest AEAD first. With AES hardware AES-128-GCM, then
/// AES-256-GCM, then ChaCha20-Poly1305 (as BoringSSL orders them on such CPUs); without it
/// ChaCha20-Poly1305 first. SM suites last, GCM before CCM. The sort is stable, so within one
/// AEAD the provider's own order (TLS 1.3 first, ECDSA before RSA) stays.
pub fn server_order(suites: &mut [rustls::SupportedCipherSuite], aes_hw: bool) {
    use crypto_core::AeadAlg;
    suites.sort_by_key(|s| match crypto_core::tls::suite_aead(s.suite()) {
        Some(AeadAlg::Aes128Gcm) => {
            if aes_hw {
                0
            } else {
                1
            }
        }
        Some(AeadAlg::Aes256Gcm) => {
            if aes_hw {
                1
            } else {
                2
            }
        }
        Some(AeadAlg::ChaCha20Poly1305) => {
            if aes_hw {
                2
            } else {
                0
            }
        }
        Some(AeadAlg::Sm4Gcm) => 3,
        Some(AeadAlg::Sm4Ccm) => 4,
        _ => 5,
    });
}

/// Splits a listener's provider into the standard handshake's (no SM suite) and the strict
/// RFC 8998 one's (SM suites with curveSM2 only), each in the server's suite order. The GM
/// provider exists only where the provider has an SM suite and curveSM2.
pub fn split_gm(
    provider: CryptoProvider,
    aes_hw: bool,
) -> (CryptoProvider, Option<CryptoProvider>) {
    use crypto_core::tls::{CURVE_SM2, TLS13_SM4_CCM_SM3, TLS13_SM4_GCM_SM3};
    let is_sm = |s: &rustls::SupportedCipherSuite| {
        matches!(s.suite(), TLS13_SM4_GCM_SM3 | TLS13_SM4_CCM_SM3)
    };
    let mut standard = provider.clone();
    standard.cipher_suites.retain(|s| !is_sm(s));
    server_order(&mut standard.cipher_suites, aes_hw);
    let mut gm = provider;
    gm.cipher_suites.retain(is_sm);
    server_order(&mut gm.cipher_suites, aes_hw);
    gm.kx_groups.retain(|g| g.name() == CURVE_SM2);
    let gm = (!gm.cipher_suites.is_empty() && !gm.kx_groups.is_empty()).then_some(gm);
    (standard, gm)
}

/// What a listener can do, for the choice.
#[derive(Debug)]
pub struct Caps {
    /// TLS 1.3 is enabled.
    pub tls13: bool,
    /// TLS 1.2 is enabled.
    pub tls12: bool,
    /// The standard handshake's provider (no SM suites).
    pub standard: Arc<CryptoProvider>,
    /// The SM suites the GM handshake offers (empty: none, e.g. no curveSM2 on this listener
    /// or no SM4/SM3 in the selection).
    pub gm_suites: Vec<CipherSuite>,
    /// Unknown names fail the handshake.
    pub reject_unknown: bool,
}

/// One listener's settings.
#[derive(Debug)]
pub struct ListenerState {
    /// Where it listens.
    pub address: SocketAddr,
    /// The standard handshake's provider: its groups narrowed to the listener's, no SM
    /// suites, suites in the server's order. Also what the certificate choice consults.
    pub caps: Caps,
    /// The strict RFC 8998 handshake's provider (SM suites and curveSM2 only), where the
    /// selection and the listener's groups allow it.
    pub gm_provider: Option<Arc<CryptoProvider>>,
    /// The server's suite order decides (else the client's).
    pub prefer_server_ciphers: bool,
    /// TLS versions.
    pub versions: Vec<&'static SupportedProtocolVersion>,
    /// ALPN protocols.
    pub alpn: Vec<Vec<u8>>,
    /// Handshake deadline.
    pub handshake_timeout: Duration,
    /// Relay idle timeout.
    pub idle_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// Sources that send a PROXY header.
    pub proxy_from: Vec<Cidr>,
    /// Client-certificate verification.
    pub client_verifier: Option<Arc<dyn ClientCertVerifier>>,
    /// Whether a client certificate is required.
    pub client_cert_required: bool,
    /// Session tickets, bound to this listener's client-authentication policy.
    pub tickets: Option<Arc<config::tickets::Scoped>>,
    /// The upstream pool.
    pub upstream: Arc<Pool>,
    /// TLCP on this listener (`tlcp = true`).
    pub tlcp: Option<TlcpListener>,
    /// The rustls server configuration per certificate (in the store's order) and profile,
    /// built once per state: a handshake only takes a reference.
    pub tls: Vec<TlsConfigs>,
}

/// One certificate's rustls server configurations on one listener.
#[derive(Debug)]
pub struct TlsConfigs {
    /// The standard handshake (TLS 1.2 and 1.3 as the listener allows, no SM suite).
    pub standard: Result<Arc<rustls::ServerConfig>, rustls::Error>,
    /// The strict RFC 8998 handshake (TLS 1.3, SM suites, curveSM2), where the listener has
    /// one.
    pub gm: Option<Result<Arc<rustls::ServerConfig>, rustls::Error>>,
}

static TLS13_ONLY: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];

/// One certificate: the resolver of a configuration built for it. Its OCSP staple is the one
/// current at the handshake (the refresher replaces it; an expired one is never served).
#[derive(Debug)]
struct Fixed {
    certified: Arc<rustls::sign::CertifiedKey>,
    /// Only for certificates with `ocsp` set: the others' handshakes read no clock or lock.
    staple: Option<Arc<config::ocsp::Staple>>,
}

impl rustls::server::ResolvesServerCert for Fixed {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(
            self.staple
                .as_ref()
                .and_then(|s| s.serve(std::time::SystemTime::now()))
                .unwrap_or_else(|| self.certified.clone()),
        )
    }
}

impl ListenerState {
    /// Builds `tls` for every certificate in `certs`.
    fn build_tls(&mut self, certs: &Store) {
        let build = |provider: Arc<CryptoProvider>,
                     versions: &[&'static SupportedProtocolVersion],
                     entry: &config::certs::Entry|
         -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
            let builder = rustls::ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(versions)?;
            let builder = match &self.client_verifier {
                Some(v) => builder.with_client_cert_verifier(v.clone()),
                None => builder.with_no_client_auth(),
            };
            let mut config = builder.with_cert_resolver(Arc::new(Fixed {
                certified: entry.certified.clone(),
                staple: (entry.staple.source != config::ocsp::Source::None)
                    .then(|| entry.staple.clone()),
            }));
            config.alpn_protocols.clone_from(&self.alpn);
            // Resumption is by ticket only (shared by a fleet); no per-process cache.
            config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
            config.ignore_client_order = self.prefer_server_ciphers;
            if let Some(t) = &self.tickets {
                config.ticketer = t.clone();
            }
            Ok(Arc::new(config))
        };
        self.tls = certs
            .entries()
            .iter()
            .map(|e| TlsConfigs {
                standard: build(self.caps.standard.clone(), &self.versions, e),
                gm: self
                    .gm_provider
                    .as_ref()
                    .map(|gm| build(gm.clone(), &TLS13_ONLY, e)),
            })
            .collect();
    }
}

/// A listener's TLCP side: one server configuration per `[[tlcp_certificate]]` (in the
/// store's order), each with its own bounded session cache, so a session resumes only under
/// the pair (and name) it was made with.
#[derive(Debug)]
pub struct TlcpListener {
    /// Per pair.
    pub configs: Vec<Arc<crypto_core::tlcp::ServerConfig>>,
}

/// Why a state is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// To run (start or reload).
    Serve,
    /// To check a configuration: nothing may be written.
    Check,
}

/// Everything a connection needs.
#[derive(Debug)]
pub struct State {
    /// The parsed config.
    pub config: Config,
    /// The crypto selection.
    pub selection: Selection,
    /// Listeners, in config order.
    pub listeners: Vec<ListenerState>,
    /// Certificates.
    pub certs: Store,
    /// TLCP certificate pairs.
    pub tlcp: super::tlcp::TlcpStore,
    /// Ticket keys.
    pub tickets: Option<Arc<TicketKeys>>,
    /// How long SIGTERM waits.
    pub drain_timeout: Duration,
    /// How long the listeners keep accepting after SIGTERM turned `/health` to 503.
    pub drain_delay: Duration,
    /// The admin endpoint's bearer token for `POST /reload` (`admin.token_file`).
    pub admin_token: Option<Arc<zeroize::Zeroizing<Vec<u8>>>>,
}

/// Reads `admin.token_file`: the token is the file's first line, without surrounding white
/// space; an empty one is refused (it would admit anyone sending `Bearer `).
fn admin_token(path: &std::path::Path) -> Result<Arc<zeroize::Zeroizing<Vec<u8>>>, ConfigError> {
    let bytes = config::certs::read_key_file(path, "admin token")?;
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let token = line.trim_ascii();
    if token.is_empty() {
        return Err(ConfigError(format!(
            "admin token {}: empty (write a long random token on its first line)",
            path.display()
        )));
    }
    if !token.iter().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError(format!(
            "admin token {}: only printable ASCII without spaces can travel in an Authorization header",
            path.display()
        )));
    }
    Ok(Arc::new(zeroize::Zeroizing::new(token.to_vec())))
}

/// `check`'s lines on a certificate's OCSP staple.
fn describe_staple(e: &config::certs::Entry, now: std::time::SystemTime) -> String {
    use config::ocsp::{CertStatus, Source};
    use config::x509::format_time;
    let s = &e.staple;
    let from = match &s.source {
        Source::None => "not configured".to_owned(),
        Source::File(p) => format!("from {}", p.display()),
        Source::Auto { url, .. } => format!("fetched from {url}"),
    };
    let what = match (s.current(), s.serve(now)) {
        (Some(c), Some(_)) => format!(
            ": {}, thisUpdate {}, served until {}",
            match c.status {
                CertStatus::Good => "good".to_owned(),
                CertStatus::Revoked(at) => format!("REVOKED at {}", format_time(at)),
            },
            format_time(c.this_update),
            format_time(c.valid_until)
        ),
        _ if s.source == Source::None => String::new(),
        _ => ": no valid response now".to_owned(),
    };
    let mut out = format!("  ocsp: {from}{what}\n");
    if s.must_staple && s.serve(now).is_none() {
        out.push_str(
            "  WARNING: Must-Staple (RFC 7633) without a valid OCSP response: clients that enforce it refuse the handshake\n",
        );
    }
    out
}

impl State {
    /// Loads everything `config` names. `previous`, on reload, lends its selection when the
    /// `[crypto]` section is unchanged, so a reload does not recalibrate.
    pub fn load(config: Config, previous: Option<&State>) -> Result<Self, ConfigError> {
        Self::load_for(config, previous, Purpose::Serve)
    }

    /// Loads everything `config` names for `tls-frontend check`: the same checks, and nothing
    /// written to disk (a missing `auto` profile is calibrated in memory, not saved).
    pub fn check(config: Config) -> Result<Self, ConfigError> {
        Self::load_for(config, None, Purpose::Check)
    }

    fn load_for(
        config: Config,
        previous: Option<&State>,
        purpose: Purpose,
    ) -> Result<Self, ConfigError> {
        let selection = match previous {
            Some(p) if p.config.selection_spec().ok() == config.selection_spec().ok() => {
                p.selection.clone()
            }
            _ => {
                let spec = config.selection_spec()?;
                match purpose {
                    Purpose::Serve => spec.resolve(),
                    Purpose::Check => spec.resolve_without_writing(),
                }
                .map_err(|e| e.to_string())?
            }
        };
        let base = crypto_core::tls::provider(&selection);
        let shared = Arc::new(base.clone());
        let certs = Store::load(
            &config.certificates,
            crypto_core::tls::KeyProvider::get(&selection),
            base.signature_verification_algorithms,
            previous.map(|p| &p.certs),
            &config.pkcs11.settings()?,
        )?;
        let tlcp_store = super::tlcp::TlcpStore::load(&config.tlcp_certificates)?;
        let tickets = match &config.tickets {
            None => None,
            Some(t) => Some(Arc::new(TicketKeys::load(
                &t.key_file,
                config::duration(&t.lifetime)?,
                &selection,
            )?)),
        };
        let mut pools: BTreeMap<String, Arc<Pool>> = BTreeMap::new();
        for (name, u) in &config.upstreams {
            pools.insert(
                name.clone(),
                Arc::new(Pool::new(name, u, &shared, &selection)?),
            );
        }
        let mut listeners = Vec::new();
        for l in &config.listeners {
            let mut provider = base.clone();
            if let Some(groups) = &l.groups {
                // Config::parse checked every name.
                let wanted: Vec<NamedGroup> = groups
                    .iter()
                    .filter_map(|g| super::names::group_by_name(g))
                    .collect();
                provider.kx_groups.retain(|g| wanted.contains(&g.name()));
                provider
                    .kx_groups
                    .sort_by_key(|g| wanted.iter().position(|w| *w == g.name()));
                if provider.kx_groups.is_empty() {
                    return Err(ConfigError(format!(
                        "listener {}: none of the groups {groups:?} is available with this crypto selection",
                        l.address
                    )));
                }
            }
            let (standard, gm) = split_gm(provider, aes_hardware());
            let provider = Arc::new(standard);
            let versions: Vec<&'static SupportedProtocolVersion> = l
                .versions
                .iter()
                .map(|v| {
                    if v == "1.3" {
                        &rustls::version::TLS13
                    } else {
                        &rustls::version::TLS12
                    }
                })
                .collect();
            let client_verifier = match &l.client_auth {
                None => None,
                Some(auth) => {
                    let mut roots = rustls::RootCertStore::empty();
                    for c in config::certs::read_chain(&auth.ca)? {
                        roots
                            .add(c)
                            .map_err(|e| format!("client CA {}: {e}", auth.ca.display()))?;
                    }
                    let b = rustls::server::WebPkiClientVerifier::builder_with_provider(
                        Arc::new(roots),
                        provider.clone(),
                    );
                    let b = if auth.required {
                        b
                    } else {
                        b.allow_unauthenticated()
                    };
                    Some(b.build().map_err(|e| format!("client auth: {e}"))?)
                }
            };
            // Tickets bind the client-auth policy: none, or required/optional with these CAs.
            let scoped = match &tickets {
                None => None,
                Some(keys) => {
                    let mut policy = b"tls-frontend tickets v1\0".to_vec();
                    match &l.client_auth {
                        None => policy.extend_from_slice(b"no client auth"),
                        Some(a) => {
                            policy.extend_from_slice(if a.required {
                                b"required"
                            } else {
                                b"optional"
                            });
                            policy.extend_from_slice(
                                &std::fs::read(&a.ca)
                                    .map_err(|e| format!("client CA {}: {e}", a.ca.display()))?,
                            );
                        }
                    }
                    let sha256 = crypto_core::Algorithm::Hash(crypto_core::HashAlg::Sha256);
                    let digest = Some(selection.backend_for(sha256))
                        .filter(|b| b.supports(sha256))
                        .or_else(|| crypto_core::Backend::any_for(sha256))
                        .ok_or_else(|| ConfigError("no backend built with SHA-256".into()))?
                        .hash(crypto_core::HashAlg::Sha256)
                        .map_err(|e| e.to_string())?
                        .hash(&policy);
                    let mut context = [0u8; 32];
                    context.copy_from_slice(digest.as_ref());
                    Some(Arc::new(config::tickets::Scoped {
                        keys: keys.clone(),
                        context,
                    }))
                }
            };
            let upstream = pools
                .get(&l.upstream)
                .cloned()
                .ok_or_else(|| format!("no upstream {}", l.upstream))?;
            let caps = Caps {
                tls13: l.versions.iter().any(|v| v == "1.3"),
                tls12: l.versions.iter().any(|v| v == "1.2"),
                standard: provider,
                gm_suites: gm
                    .as_ref()
                    .map(|g| g.cipher_suites.iter().map(|s| s.suite()).collect())
                    .unwrap_or_default(),
                reject_unknown: l.unknown_name == "reject",
            };
            let tlcp = if l.tlcp {
                let suites = match &l.tlcp_suites {
                    Some(names) => config::tlcp_suites(names)?,
                    None => crypto_core::tlcp::Suite::ALL.to_vec(),
                };
                let (client_auth, client_roots) = match &l.client_auth {
                    None => (crypto_core::tlcp::ClientAuth::Off, Vec::new()),
                    Some(a) => (
                        if a.required {
                            crypto_core::tlcp::ClientAuth::Required
                        } else {
                            crypto_core::tlcp::ClientAuth::Optional
                        },
                        super::tlcp::sm2_roots(&a.ca)
                            .map_err(|e| format!("listener {}: client_auth: {e}", l.address))?,
                    ),
                };
                let configs = tlcp_store
                    .entries()
                    .iter()
                    .map(|e| {
                        Arc::new(crypto_core::tlcp::ServerConfig {
                            selection: selection.clone(),
                            credentials: e.credentials.clone(),
                            suites: suites.clone(),
                            client_auth,
                            client_roots: client_roots.clone(),
                            sessions: Arc::new(crypto_core::tlcp::SessionCache::default()),
                        })
                    })
                    .collect();
                Some(TlcpListener { configs })
            } else {
                None
            };
            listeners.push(ListenerState {
                address: l
                    .address
                    .parse()
                    .map_err(|_| format!("bad address {}", l.address))?,
                caps,
                gm_provider: gm.map(Arc::new),
                prefer_server_ciphers: l.prefer_server_ciphers,
                versions,
                alpn: l.alpn.iter().map(|p| p.as_bytes().to_vec()).collect(),
                handshake_timeout: config::duration(&l.handshake_timeout)?,
                idle_timeout: config::duration(&l.idle_timeout)?,
                max_connections: l.max_connections,
                proxy_from: l
                    .proxy_protocol_from
                    .iter()
                    .map(|c| Cidr::parse(c))
                    .collect::<Result<_, _>>()?,
                client_verifier,
                client_cert_required: l.client_auth.as_ref().is_some_and(|a| a.required),
                tickets: scoped,
                upstream,
                tlcp,
                tls: Vec::new(),
            });
            if let Some(l) = listeners.last_mut() {
                l.build_tls(&certs);
            }
        }
        let drain_timeout = config::duration(&config.drain_timeout)?;
        let drain_delay = config::duration(&config.drain_delay)?;
        let admin_token = match config.admin.as_ref().and_then(|a| a.token_file.as_deref()) {
            Some(path) => Some(admin_token(path)?),
            None => None,
        };
        Ok(Self {
            config,
            selection,
            listeners,
            certs,
            tlcp: tlcp_store,
            tickets,
            drain_timeout,
            drain_delay,
            admin_token,
        })
    }

    /// A readable summary for `check`: the selection, each listener with what it offers in
    /// the configuration's own names, each certificate (names, key, issuer, validity), and
    /// warnings: what the configuration asks for that this selection cannot provide, and
    /// certificates that are expired, not yet valid or expire within 30 days.
    pub fn describe(&self, now: std::time::SystemTime) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        out.push_str("crypto selection:\n");
        for line in self.selection.to_string().lines() {
            let _ = writeln!(out, "  {line}");
        }
        for (l, cfg) in self.listeners.iter().zip(&self.config.listeners) {
            let _ = writeln!(
                out,
                "listener {} -> upstream {}",
                l.address, l.upstream.name
            );
            let _ = writeln!(out, "  versions: {}", cfg.versions.join(", "));
            let groups: Vec<&str> = l
                .caps
                .standard
                .kx_groups
                .iter()
                .map(|g| config::names::group(g.name()))
                .collect();
            let _ = writeln!(out, "  groups: {}", groups.join(", "));
            let suites: Vec<String> = l
                .caps
                .standard
                .cipher_suites
                .iter()
                .filter(|s| {
                    let v = s.version().version;
                    (v == rustls::ProtocolVersion::TLSv1_3 && l.caps.tls13)
                        || (v == rustls::ProtocolVersion::TLSv1_2 && l.caps.tls12)
                })
                .map(|s| config::names::suite(s.suite()))
                .collect();
            let _ = writeln!(
                out,
                "  suites ({} order): {}",
                if l.prefer_server_ciphers {
                    "server"
                } else {
                    "client"
                },
                suites.join(", ")
            );
            if l.caps.tls13 && !l.caps.gm_suites.is_empty() {
                let gm: Vec<String> = l
                    .caps
                    .gm_suites
                    .iter()
                    .map(|s| config::names::suite(*s))
                    .collect();
                let _ = writeln!(
                    out,
                    "  RFC 8998 clients: {} with curvesm2 and an SM2 certificate",
                    gm.join(", ")
                );
            }
            let _ = writeln!(
                out,
                "  alpn: {:?}; at most {} connections; handshake timeout {:?}; idle timeout {:?}{}{}",
                l.alpn
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>(),
                l.max_connections,
                l.handshake_timeout,
                l.idle_timeout,
                if l.client_verifier.is_some() {
                    "; client certificates"
                } else {
                    ""
                },
                if l.proxy_from.is_empty() {
                    ""
                } else {
                    "; PROXY header in"
                },
            );
            if let Some(t) = &l.tlcp {
                let suites: Vec<&str> = t
                    .configs
                    .first()
                    .map(|c| c.suites.iter().map(|s| s.name()).collect())
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  TLCP clients (record version 0x0101): {}",
                    suites.join(", ")
                );
            }
        }
        for e in self.certs.entries() {
            let names = if e.names.is_empty() {
                "(none)".to_owned()
            } else {
                e.names.join(", ")
            };
            let _ = writeln!(
                out,
                "certificate {}{}",
                e.path.display(),
                if e.default { " (default)" } else { "" }
            );
            let _ = writeln!(out, "  names: {names}; key: {}", e.key_alg);
            if e.in_module {
                out.push_str(
                    "  key: in a PKCS#11 module (it signs there; the proxy never holds the key)\n",
                );
            }
            match &e.info {
                Some(i) => {
                    let _ = writeln!(out, "  subject: {}", i.subject);
                    let _ = writeln!(out, "  issuer: {}", i.issuer);
                    if !i.alt_names.is_empty() {
                        let _ = writeln!(out, "  alternative names: {}", i.alt_names.join(", "));
                    }
                    let _ = writeln!(
                        out,
                        "  valid from {} until {}",
                        config::x509::format_time(i.not_before),
                        config::x509::format_time(i.not_after)
                    );
                }
                None => out.push_str("  (its X.509 fields could not be read)\n"),
            }
            out.push_str(&describe_staple(e, now));
        }
        for e in self.tlcp.entries() {
            let c = &e.credentials;
            let _ = writeln!(
                out,
                "TLCP pair {}{}",
                e.path.display(),
                if e.default { " (default)" } else { "" }
            );
            let names = if e.names.is_empty() {
                "(none)".to_owned()
            } else {
                e.names.join(", ")
            };
            let _ = writeln!(
                out,
                "  names: {names}; signing: {}; encryption: {}",
                c.signing_certificate().subject(),
                c.encryption_certificate().subject()
            );
            if let Some(i) = &e.info {
                let _ = writeln!(
                    out,
                    "  signing certificate valid from {} until {}",
                    config::x509::format_time(i.not_before),
                    config::x509::format_time(i.not_after)
                );
            }
        }
        if let Some(t) = &self.tickets {
            let _ = writeln!(out, "session tickets: {} key(s)", t.len());
        }
        for w in self
            .certs
            .expiry_warnings(now)
            .into_iter()
            .chain(self.gaps())
        {
            let _ = writeln!(out, "warning: {w}");
        }
        out
    }

    /// What the configuration asks for, or what a TLS peer may ask for, that this selection
    /// cannot provide, in the configuration's own names (`curvesm2`, `1.3`) and the standards'
    /// (suite and signature scheme names), each with the backend that lacks it.
    pub fn gaps(&self) -> Vec<String> {
        use crypto_core::tls::{Suite12, Suite13};
        use crypto_core::{Algorithm, KemAlg, KxAlg};
        let sel = &self.selection;
        let lacking = |algs: &[Algorithm]| -> String {
            algs.iter()
                .filter(|a| !sel.backend_for(**a).supports(**a))
                .map(|a| format!("{a} from {}", sel.backend_for(*a)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = Vec::new();
        for s in Suite13::ALL {
            if crypto_core::tls::tls13_suite(sel, *s).is_none() {
                out.push(format!(
                    "suite {} (1.3) is unavailable: {} lacking",
                    config::names::suite(s.id()),
                    lacking(&[
                        Algorithm::Aead(s.aead()),
                        Algorithm::Hash(s.hash()),
                        Algorithm::Hkdf(s.hash()),
                    ])
                ));
            }
        }
        for s in Suite12::ALL {
            if crypto_core::tls::tls12_suite(sel, *s).is_none() {
                out.push(format!(
                    "suite {} (1.2) is unavailable: {} lacking",
                    config::names::suite(s.id()),
                    lacking(&[
                        Algorithm::Aead(s.aead()),
                        Algorithm::Hash(s.hash()),
                        Algorithm::Hmac(s.hash()),
                    ])
                ));
            }
        }
        for (l, cfg) in self.listeners.iter().zip(&self.config.listeners) {
            let at = format!("listener {}", l.address);
            let have: Vec<NamedGroup> =
                l.caps.standard.kx_groups.iter().map(|g| g.name()).collect();
            let wanted: Vec<String> = match &cfg.groups {
                Some(g) => g.iter().map(|x| x.to_ascii_lowercase()).collect(),
                None => [
                    "x25519mlkem768",
                    "x25519",
                    "secp256r1",
                    "secp384r1",
                    "curvesm2",
                ]
                .iter()
                .map(|x| (*x).to_owned())
                .collect(),
            };
            for name in wanted {
                let Some(group) = super::names::group_by_name(&name) else {
                    continue;
                };
                if have.contains(&group) {
                    continue;
                }
                let algs: Vec<Algorithm> = match config::names::group(group) {
                    "x25519" => vec![Algorithm::Kx(KxAlg::X25519)],
                    "secp256r1" => vec![Algorithm::Kx(KxAlg::P256)],
                    "secp384r1" => vec![Algorithm::Kx(KxAlg::P384)],
                    "curvesm2" => vec![Algorithm::Kx(KxAlg::CurveSm2)],
                    _ => vec![
                        Algorithm::Kem(KemAlg::MlKem768),
                        Algorithm::Kx(KxAlg::X25519),
                    ],
                };
                out.push(format!(
                    "{at}: group {} {}: {} lacking",
                    config::names::group(group),
                    if cfg.groups.is_some() {
                        "is configured but unavailable"
                    } else {
                        "is not offered"
                    },
                    lacking(&algs)
                ));
            }
            for (version, on, v) in [
                ("1.3", l.caps.tls13, rustls::ProtocolVersion::TLSv1_3),
                ("1.2", l.caps.tls12, rustls::ProtocolVersion::TLSv1_2),
            ] {
                let any = l
                    .caps
                    .standard
                    .cipher_suites
                    .iter()
                    .any(|s| s.version().version == v)
                    || (v == rustls::ProtocolVersion::TLSv1_3 && !l.caps.gm_suites.is_empty());
                if on && !any {
                    out.push(format!(
                        "{at}: version {version} is configured but no {version} suite is available"
                    ));
                }
            }
            if l.caps.tls13
                && l.caps.gm_suites.is_empty()
                && self
                    .certs
                    .entries()
                    .iter()
                    .any(|e| e.kind == crypto_core::KeyKind::Sm2)
            {
                out.push(format!(
                    "{at}: an SM2 certificate is configured but RFC 8998 clients cannot be served (no SM suite or no curvesm2 here)"
                ));
            }
        }
        let verifiable = self
            .listeners
            .first()
            .map(|l| {
                l.caps
                    .standard
                    .signature_verification_algorithms
                    .supported_schemes()
            })
            .unwrap_or_default();
        for alg in crypto_core::SignatureAlg::ALL {
            let Some(scheme) = crypto_core::tls::signature_scheme(*alg) else {
                continue;
            };
            if !verifiable.contains(&scheme) {
                out.push(format!(
                    "signature scheme {} cannot be verified (client and upstream certificates signed with it are refused): {} lacking",
                    config::names::scheme(scheme),
                    lacking(&[Algorithm::Signature(*alg)])
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_core::tls::{CURVE_SM2, TLS13_SM4_CCM_SM3, TLS13_SM4_GCM_SM3};
    use rustls::CipherSuite as S;

    fn provider() -> CryptoProvider {
        let sel = Selection::single(crypto_core::Backend::RustCrypto);
        crypto_core::tls::provider(&sel)
    }

    fn order(p: &CryptoProvider) -> Vec<CipherSuite> {
        p.cipher_suites.iter().map(|s| s.suite()).collect()
    }

    #[test]
    fn suites_in_the_servers_order_per_cpu() {
        let (with_aes, gm) = split_gm(provider(), true);
        let o = order(&with_aes);
        let pos = |s| o.iter().position(|x| *x == s).unwrap();
        assert!(pos(S::TLS13_AES_128_GCM_SHA256) < pos(S::TLS13_AES_256_GCM_SHA384));
        assert!(pos(S::TLS13_AES_256_GCM_SHA384) < pos(S::TLS13_CHACHA20_POLY1305_SHA256));
        assert!(
            pos(S::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
                < pos(S::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256)
        );
        assert!(!o.contains(&TLS13_SM4_GCM_SM3) && !o.contains(&TLS13_SM4_CCM_SM3));
        let (without, _) = split_gm(provider(), false);
        let o = order(&without);
        let pos = |s| o.iter().position(|x| *x == s).unwrap();
        assert!(pos(S::TLS13_CHACHA20_POLY1305_SHA256) < pos(S::TLS13_AES_128_GCM_SHA256));
        assert!(
            pos(S::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256)
                < pos(S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
        );
        // The GM provider: SM suites only, GCM first, curveSM2 only.
        let gm = gm.unwrap();
        assert_eq!(order(&gm), [TLS13_SM4_GCM_SM3, TLS13_SM4_CCM_SM3]);
        let groups: Vec<_> = gm.kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(groups, [CURVE_SM2]);
        // No curveSM2 (a listener that left it out): no GM handshake at all.
        let mut p = provider();
        p.kx_groups.retain(|g| g.name() != CURVE_SM2);
        assert!(split_gm(p, true).1.is_none());
    }
}
