//! The OCSP refresher: for every `ocsp = "auto"` certificate, asks its responder (HTTP POST,
//! RFC 6960 appendix A.1) before the staple is half-way to its `nextUpdate`, with jitter and
//! within `[ocsp] min_delay..max_delay`; keeps the last good response on errors (it is still
//! served until its own `nextUpdate`, never after); retries after `min_delay`. It also drops
//! any staple, fetched or from a file, whose `nextUpdate` passed, and says so.
//!
//! It runs on the main thread's runtime, one task per fetch: a slow responder delays nobody
//! else, and no worker thread ever waits on a responder.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use crate::config::certs::Entry;
use crate::config::ocsp::{CertStatus, Checked, Source};
use crate::config::running::Running;
use crate::config::x509::format_time;
use crate::ops::log;

/// The most a responder's answer may weigh.
const MAX_RESPONSE: usize = 256 * 1024;

/// Asks `url` for the response to `request`.
pub async fn fetch(url: &str, request: &[u8], timeout: Duration) -> Result<Vec<u8>, String> {
    use http_body_util::BodyExt as _;
    let (host, port, path) = crate::config::ocsp::parse_url(url)?;
    let exchange = async {
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| format!("HTTP: {e}"))?;
        let conn = tokio::spawn(conn);
        let host_part = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        let authority = if port == 80 {
            host_part
        } else {
            format!("{host_part}:{port}")
        };
        let req = hyper::Request::post(path.as_str())
            .header(hyper::header::HOST, authority)
            .header(hyper::header::CONTENT_TYPE, "application/ocsp-request")
            .header(hyper::header::ACCEPT, "application/ocsp-response")
            .body(http_body_util::Full::new(bytes::Bytes::copy_from_slice(
                request,
            )))
            .map_err(|e| format!("request: {e}"))?;
        let response = sender
            .send_request(req)
            .await
            .map_err(|e| format!("HTTP: {e}"))?;
        if response.status() != hyper::StatusCode::OK {
            return Err(format!("HTTP status {}", response.status()));
        }
        let body = http_body_util::Limited::new(response.into_body(), MAX_RESPONSE)
            .collect()
            .await
            .map_err(|e| format!("reading the response: {e}"))?
            .to_bytes();
        drop(sender);
        conn.abort();
        Ok(body.to_vec())
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("no answer within {timeout:?}"))?
}

/// When to ask again after `checked` arrived at `now`: half-way to its end, less up to a tenth
/// of the wait at random (so a fleet does not ask in step), within `[min, max]`.
pub fn next_fetch(checked: &Checked, now: SystemTime, min: Duration, max: Duration) -> SystemTime {
    let span = checked
        .valid_until
        .duration_since(checked.this_update)
        .unwrap_or_default();
    let halfway = checked.this_update + span / 2;
    let wait = halfway.duration_since(now).unwrap_or_default();
    let jitter = {
        use std::hash::{BuildHasher as _, RandomState};
        let r = RandomState::new().hash_one(now);
        wait.mul_f64((r % 1000) as f64 / 10_000.0)
    };
    now + (wait - jitter).clamp(min, max)
}

/// One fetch for `entry`, its result installed and counted; returns the response or why not.
pub async fn refresh(entry: &Entry, timeout: Duration) -> Result<Checked, String> {
    let Source::Auto { url, request } = &entry.staple.source else {
        return Err("not fetched".into());
    };
    let der = fetch(url, request, timeout)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    entry
        .staple
        .install(&der, &entry.certified, SystemTime::now())
        .map_err(|e| format!("{url}: the response is refused: {e}"))
}

/// Runs until the process ends.
pub async fn refresher(running: Arc<Running>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let state = running.state();
        let Ok((min, max, timeout)) = state.config.ocsp.durations() else {
            continue;
        };
        let now = SystemTime::now();
        for (i, e) in state.certs.entries().iter().enumerate() {
            let staple = &e.staple;
            if let Some(old) = staple.drop_expired(now) {
                log::warn(&format!(
                    "OCSP staple of {} ({}) expired at {}: not stapled until a fresh response comes{}",
                    e.label(),
                    e.key_alg,
                    format_time(old.valid_until),
                    must_staple_note(e)
                ));
            }
            if !matches!(staple.source, Source::Auto { .. }) {
                continue;
            }
            {
                let next = staple.next_fetch.lock().unwrap_or_else(|e| e.into_inner());
                if *next > now {
                    continue;
                }
            }
            if staple.fetching.swap(true, Ordering::AcqRel) {
                continue;
            }
            let state = state.clone();
            tokio::spawn(async move {
                let e = &state.certs.entries()[i];
                let result = refresh(e, timeout).await;
                let now = SystemTime::now();
                let next = match &result {
                    Ok(checked) => {
                        let line = format!(
                            "OCSP staple of {} ({}) refreshed: {}, thisUpdate {}, next update {}",
                            e.label(),
                            e.key_alg,
                            match checked.status {
                                CertStatus::Good => "good".to_owned(),
                                CertStatus::Revoked(at) =>
                                    format!("REVOKED at {}", format_time(at)),
                            },
                            format_time(checked.this_update),
                            format_time(checked.valid_until)
                        );
                        if matches!(checked.status, CertStatus::Revoked(_)) {
                            log::warn(&line);
                        } else {
                            log::info(&line);
                        }
                        next_fetch(checked, now, min, max)
                    }
                    Err(why) => {
                        e.staple.failures.fetch_add(1, Ordering::Relaxed);
                        let keeping = match e.staple.current() {
                            Some(c) if now < c.valid_until => format!(
                                "; still stapling the last good response until {}",
                                format_time(c.valid_until)
                            ),
                            _ => format!("; nothing stapled{}", must_staple_note(e)),
                        };
                        log::warn(&format!(
                            "OCSP refresh for {} ({}) failed: {why}{keeping}",
                            e.label(),
                            e.key_alg
                        ));
                        now + min
                    }
                };
                *e.staple
                    .next_fetch
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = next;
                e.staple.fetching.store(false, Ordering::Release);
            });
        }
    }
}

/// What a missing staple means for a Must-Staple certificate.
pub fn must_staple_note(e: &Entry) -> &'static str {
    if e.staple.must_staple {
        " (the certificate is Must-Staple: clients that enforce RFC 7633 refuse it without one)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn checked(this: u64, until: u64) -> Checked {
        Checked {
            der: Vec::new(),
            status: CertStatus::Good,
            this_update: UNIX_EPOCH + Duration::from_secs(this),
            valid_until: UNIX_EPOCH + Duration::from_secs(until),
        }
    }

    #[test]
    fn asks_again_half_way_within_the_bounds() {
        let min = Duration::from_secs(300);
        let max = Duration::from_secs(3600);
        let at = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        // A day-long response fetched at once: half-way is 12 h away, so max_delay decides.
        assert_eq!(
            next_fetch(&checked(1000, 1000 + 86_400), at(1000), min, max),
            at(1000 + 3600)
        );
        // Two hours long: half-way is in an hour less up to 6 minutes of jitter.
        for _ in 0..50 {
            let n = next_fetch(&checked(0, 7200), at(0), min, max);
            assert!(n <= at(3600) && n >= at(3600 - 360), "{n:?}");
        }
        // Already past half-way (a response fetched late): min_delay decides.
        assert_eq!(
            next_fetch(&checked(0, 600), at(500), min, max),
            at(500 + 300)
        );
    }
}
