//! The admin endpoint, served with hyper (HTTP/1.1):
//! - `GET /metrics` (Prometheus text) and `GET /health` (200, or 503 while draining) are open
//!   to whoever reaches the port: Prometheus and an orchestrator's probes must.
//! - `POST /reload` re-reads the configuration and every file it names. It is allowed from a
//!   loopback peer only, unless `admin.token_file` is set: then every caller, loopback too,
//!   must send `Authorization: Bearer <token>` (compared in constant time). One reload at a
//!   time: another one asked for meanwhile is answered 429. A failed reload's reason (file
//!   paths, parse errors) goes to the log; the answer says only that it failed.
//!
//! At most [`MAX_CONNECTIONS`] admin connections are served at once, one request each, with
//! deadlines for the request head (5 s) and the whole connection (15 s), so slow clients
//! cannot hold the slots for long. While draining, `POST /reload` is refused (503).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;

use crate::config::running::Running;

/// Admin connections served at once; more wait in the kernel's backlog.
pub const MAX_CONNECTIONS: usize = 64;

/// How long one admin connection may live.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(15);

/// What the endpoint serves: the running proxy, or a stand-in in tests.
pub trait Endpoint: Send + Sync + 'static {
    /// The metrics page.
    fn metrics(&self) -> String;
    /// Whether the process is draining (`/health` answers 503).
    fn draining(&self) -> bool;
    /// The current bearer token for `POST /reload`, if one is configured.
    fn token(&self) -> Option<Arc<zeroize::Zeroizing<Vec<u8>>>>;
    /// Reloads (blocking file work); the error is logged by the implementation.
    fn reload(&self) -> Result<(), String>;
}

impl Endpoint for Running {
    fn metrics(&self) -> String {
        super::metrics::get().render()
    }
    fn draining(&self) -> bool {
        Running::draining(self)
    }
    fn token(&self) -> Option<Arc<zeroize::Zeroizing<Vec<u8>>>> {
        self.state().admin_token.clone()
    }
    fn reload(&self) -> Result<(), String> {
        // `Running::reload` logs the reason of a failure itself.
        Running::reload(self).map_err(|e| e.0)
    }
}

/// Whether a caller may reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Yes.
    Allowed,
    /// No token is configured and the peer is not on loopback: 403.
    NotLoopback,
    /// A token is configured and the request lacks it or carries another: 401.
    BadToken,
}

/// The rule for `POST /reload`: with a token configured, the request's `Authorization` must be
/// `Bearer <token>` (scheme case-insensitive, RFC 9110 section 11.1), whoever sends it;
/// without one, only loopback peers (127.0.0.0/8, ::1, and IPv4-mapped loopback).
pub fn reload_access(peer: IpAddr, token: Option<&[u8]>, authorization: Option<&[u8]>) -> Access {
    match token {
        None => {
            let loopback = match peer {
                IpAddr::V4(a) => a.is_loopback(),
                IpAddr::V6(a) => {
                    a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
                }
            };
            if loopback {
                Access::Allowed
            } else {
                Access::NotLoopback
            }
        }
        Some(token) => {
            let presented = authorization.and_then(|h| {
                let (scheme, rest) = h.split_at(h.iter().position(|b| *b == b' ')?);
                scheme
                    .eq_ignore_ascii_case(b"bearer")
                    .then(|| rest.trim_ascii())
            });
            match presented {
                // Constant time in the token's contents (a length mismatch shows, as with any
                // comparison of secrets of public length).
                Some(p) if crypto_core::ct::eq(p, token) => Access::Allowed,
                _ => Access::BadToken,
            }
        }
    }
}

/// The endpoint's shared parts: what it serves and the one-reload-at-a-time flag.
#[derive(Debug)]
pub struct Admin<E> {
    endpoint: Arc<E>,
    reloading: Arc<AtomicBool>,
}

/// Clears the reloading flag when the reload itself ends, however it ends (it lives in the
/// blocking task, so a client that hangs up mid-reload does not clear it early).
struct Reloading(Arc<AtomicBool>);

impl Drop for Reloading {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl<E: Endpoint> Admin<E> {
    /// The endpoint over `endpoint`.
    pub fn new(endpoint: Arc<E>) -> Arc<Self> {
        Arc::new(Self {
            endpoint,
            reloading: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The answer to `method path` from `peer` with the request's `Authorization` header.
    pub async fn answer(
        &self,
        method: &Method,
        path: &str,
        peer: IpAddr,
        authorization: Option<&[u8]>,
    ) -> (StatusCode, String) {
        match (method, path) {
            (&Method::GET, "/metrics") => (StatusCode::OK, self.endpoint.metrics()),
            (&Method::GET, "/health") if self.endpoint.draining() => {
                (StatusCode::SERVICE_UNAVAILABLE, "draining\n".into())
            }
            (&Method::GET, "/health") => (StatusCode::OK, "ok\n".into()),
            (&Method::POST, "/reload") if self.endpoint.draining() => (
                StatusCode::SERVICE_UNAVAILABLE,
                "draining: no reload\n".into(),
            ),
            (&Method::POST, "/reload") => {
                let token = self.endpoint.token();
                match reload_access(peer, token.as_ref().map(|t| t.as_slice()), authorization) {
                    Access::Allowed => {}
                    Access::NotLoopback => {
                        return (
                            StatusCode::FORBIDDEN,
                            "reload is allowed from loopback only (or set admin.token_file)\n"
                                .into(),
                        );
                    }
                    Access::BadToken => {
                        return (
                            StatusCode::UNAUTHORIZED,
                            "a valid bearer token is required\n".into(),
                        );
                    }
                }
                if self
                    .reloading
                    .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_err()
                {
                    return (
                        StatusCode::TOO_MANY_REQUESTS,
                        "a reload is already running\n".into(),
                    );
                }
                let flag = Reloading(self.reloading.clone());
                let endpoint = self.endpoint.clone();
                let reload = move || {
                    let _flag = flag;
                    endpoint.reload()
                };
                match tokio::task::spawn_blocking(reload).await {
                    Ok(Ok(())) => (StatusCode::OK, "reloaded\n".into()),
                    // The reason (paths, parse errors) is in the log, not in the answer.
                    Ok(Err(_)) | Err(_) => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "reload failed; the running configuration stays (the reason is in the log)\n"
                            .into(),
                    ),
                }
            }
            (_, "/metrics" | "/health" | "/reload") => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed\n".into(),
            ),
            _ => (StatusCode::NOT_FOUND, "not found\n".into()),
        }
    }
}

/// Serves the admin endpoint on `listener` until the process ends.
pub async fn serve(listener: TcpListener, running: Arc<Running>) {
    serve_endpoint(listener, Admin::new(running)).await;
}

/// Serves `admin` on `listener`.
pub async fn serve_endpoint<E: Endpoint>(listener: TcpListener, admin: Arc<Admin<E>>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let Ok((stream, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let admin = admin.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let admin = admin.clone();
                async move {
                    let auth = req
                        .headers()
                        .get(hyper::header::AUTHORIZATION)
                        .map(|v| v.as_bytes().to_vec());
                    let (status, body) = admin
                        .answer(req.method(), req.uri().path(), peer.ip(), auth.as_deref())
                        .await;
                    let mut resp = Response::new(Full::new(Bytes::from(body)));
                    *resp.status_mut() = status;
                    resp.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
                    );
                    if status == StatusCode::UNAUTHORIZED {
                        resp.headers_mut().insert(
                            hyper::header::WWW_AUTHENTICATE,
                            hyper::header::HeaderValue::from_static("Bearer"),
                        );
                    }
                    Ok::<_, std::convert::Infallible>(resp)
                }
            });
            // One request per connection, so a client cannot hold a slot by trickling
            // requests over a kept-alive connection.
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(5))
                .keep_alive(false)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            // A connection lives at most this long, whatever its client does (a reload it
            // started goes on without it).
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, conn).await;
            drop(slot);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A stand-in endpoint: reloads succeed or fail as told, and can be held in progress.
    struct Fake {
        token: Option<Arc<zeroize::Zeroizing<Vec<u8>>>>,
        fail: bool,
        draining: AtomicBool,
        reloads: Mutex<u32>,
    }

    impl Endpoint for Fake {
        fn metrics(&self) -> String {
            "m 1\n".into()
        }
        fn draining(&self) -> bool {
            self.draining.load(Ordering::Relaxed)
        }
        fn token(&self) -> Option<Arc<zeroize::Zeroizing<Vec<u8>>>> {
            self.token.clone()
        }
        fn reload(&self) -> Result<(), String> {
            *self.reloads.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            if self.fail {
                Err("/etc/secret/path.pem: bad".into())
            } else {
                Ok(())
            }
        }
    }

    fn admin(token: Option<&str>, fail: bool) -> Arc<Admin<Fake>> {
        Admin::new(Arc::new(Fake {
            token: token.map(|t| Arc::new(zeroize::Zeroizing::new(t.as_bytes().to_vec()))),
            fail,
            draining: AtomicBool::new(false),
            reloads: Mutex::new(0),
        }))
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"))
    }

    const LOOPBACK: [&str; 3] = ["127.0.0.1", "::1", "::ffff:127.0.0.1"];
    const REMOTE: [&str; 3] = ["10.1.2.3", "2001:db8::1", "::ffff:10.1.2.3"];

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn without_a_token_only_loopback_reloads() {
        for p in LOOPBACK {
            assert_eq!(reload_access(ip(p), None, None), Access::Allowed, "{p}");
        }
        for p in REMOTE {
            assert_eq!(reload_access(ip(p), None, None), Access::NotLoopback, "{p}");
            // A header does not stand in for a token nobody configured.
            assert_eq!(
                reload_access(ip(p), None, Some(b"Bearer x")),
                Access::NotLoopback
            );
        }
    }

    #[test]
    fn with_a_token_everyone_needs_it() {
        let t = Some(&b"s3cret-token"[..]);
        for p in LOOPBACK.iter().chain(&REMOTE) {
            let p = ip(p);
            assert_eq!(reload_access(p, t, None), Access::BadToken);
            assert_eq!(
                reload_access(p, t, Some(b"Bearer s3cret-tokeN")),
                Access::BadToken
            );
            assert_eq!(
                reload_access(p, t, Some(b"Bearer s3cret-toke")),
                Access::BadToken
            );
            assert_eq!(
                reload_access(p, t, Some(b"Basic s3cret-token")),
                Access::BadToken
            );
            assert_eq!(reload_access(p, t, Some(b"s3cret-token")), Access::BadToken);
            assert_eq!(reload_access(p, t, Some(b"Bearer ")), Access::BadToken);
            assert_eq!(
                reload_access(p, t, Some(b"Bearer s3cret-token")),
                Access::Allowed
            );
            assert_eq!(
                reload_access(p, t, Some(b"bearer  s3cret-token")),
                Access::Allowed
            );
        }
    }

    #[test]
    fn answers_by_rule() {
        rt().block_on(async {
            let open = admin(None, false);
            let lo = ip("127.0.0.1");
            let remote = ip("10.1.2.3");
            assert_eq!(
                open.answer(&Method::GET, "/metrics", remote, None).await.0,
                StatusCode::OK
            );
            assert_eq!(
                open.answer(&Method::GET, "/health", remote, None).await.0,
                StatusCode::OK
            );
            assert_eq!(
                open.answer(&Method::POST, "/reload", remote, None).await.0,
                StatusCode::FORBIDDEN
            );
            assert_eq!(
                open.answer(&Method::POST, "/reload", lo, None).await.0,
                StatusCode::OK
            );
            assert_eq!(
                open.answer(&Method::GET, "/reload", lo, None).await.0,
                StatusCode::METHOD_NOT_ALLOWED
            );
            assert_eq!(
                open.answer(&Method::GET, "/x", lo, None).await.0,
                StatusCode::NOT_FOUND
            );
            assert_eq!(
                *open
                    .endpoint
                    .reloads
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()),
                1
            );

            let guarded = admin(Some("tok"), false);
            assert_eq!(
                guarded
                    .answer(&Method::GET, "/metrics", remote, None)
                    .await
                    .0,
                StatusCode::OK,
                "metrics stay open with a token"
            );
            assert_eq!(
                guarded.answer(&Method::POST, "/reload", lo, None).await.0,
                StatusCode::UNAUTHORIZED
            );
            assert_eq!(
                guarded
                    .answer(&Method::POST, "/reload", remote, Some(b"Bearer tok"))
                    .await
                    .0,
                StatusCode::OK
            );
            assert_eq!(
                *guarded
                    .endpoint
                    .reloads
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()),
                1
            );
        });
    }

    #[test]
    fn one_reload_at_a_time() {
        rt().block_on(async {
            let a = admin(None, false);
            let lo = ip("127.0.0.1");
            // A reload in progress (the flag as `answer` sets it): another is refused, and
            // does not run.
            a.reloading.store(true, Ordering::Release);
            let (status, _) = a.answer(&Method::POST, "/reload", lo, None).await;
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(
                *a.endpoint.reloads.lock().unwrap_or_else(|e| e.into_inner()),
                0
            );
            // Once it ends, the next one runs; and the flag is cleared after it.
            a.reloading.store(false, Ordering::Release);
            assert_eq!(
                a.answer(&Method::POST, "/reload", lo, None).await.0,
                StatusCode::OK
            );
            assert_eq!(
                a.answer(&Method::POST, "/reload", lo, None).await.0,
                StatusCode::OK
            );
            assert_eq!(
                *a.endpoint.reloads.lock().unwrap_or_else(|e| e.into_inner()),
                2
            );
        });
    }

    #[test]
    fn no_reload_while_draining() {
        rt().block_on(async {
            let a = admin(None, false);
            a.endpoint.draining.store(true, Ordering::Relaxed);
            let lo = ip("127.0.0.1");
            assert_eq!(
                a.answer(&Method::POST, "/reload", lo, None).await.0,
                StatusCode::SERVICE_UNAVAILABLE
            );
            assert_eq!(
                a.answer(&Method::GET, "/health", lo, None).await.0,
                StatusCode::SERVICE_UNAVAILABLE
            );
            assert_eq!(
                *a.endpoint.reloads.lock().unwrap_or_else(|e| e.into_inner()),
                0
            );
        });
    }

    #[test]
    fn a_failed_reload_keeps_its_reason_out_of_the_answer() {
        rt().block_on(async {
            let a = admin(None, true);
            let (status, body) = a
                .answer(&Method::POST, "/reload", ip("127.0.0.1"), None)
                .await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(body.contains("failed") && !body.contains("/etc"), "{body}");
            assert!(
                !a.reloading.load(Ordering::Acquire),
                "flag cleared after a failure"
            );
        });
    }
}
