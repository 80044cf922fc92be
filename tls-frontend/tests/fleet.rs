//! A fleet on one machine: three proxies sharing one ticket-key file behind a small L4 round
//! robin (this test's own, on 127.0.0.1, which routes only to instances whose `/health` says
//! 200, as a load balancer or a Kubernetes Service does). A client resumes on every instance
//! with tickets another one issued; one instance is drained (SIGTERM with `drain_delay`) and
//! restarted on its port while clients keep connecting, and no connection fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::version::TLS13;
use support::*;

/// The round robin: each accepted connection goes to the next instance marked healthy, bytes
/// copied both ways until each side ends.
struct Balancer {
    port: u16,
    healthy: Arc<Mutex<Vec<bool>>>,
    stop: Arc<AtomicBool>,
}

impl Balancer {
    /// Balances over `backends` (listen ports), checking each one's admin `/health` every
    /// 20 ms.
    fn start(backends: Vec<(u16, u16)>) -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let healthy = Arc::new(Mutex::new(vec![false; backends.len()]));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (healthy, stop, backends) = (healthy.clone(), stop.clone(), backends.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    for (i, (_, admin)) in backends.iter().enumerate() {
                        let ok = health(*admin);
                        healthy.lock().unwrap()[i] = ok;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
        }
        let next = Arc::new(AtomicUsize::new(0));
        {
            let healthy = healthy.clone();
            std::thread::spawn(move || {
                for conn in l.incoming() {
                    let Ok(client) = conn else { continue };
                    let up = {
                        let h = healthy.lock().unwrap();
                        let n = h.len();
                        let start = next.fetch_add(1, Ordering::Relaxed);
                        (0..n).map(|k| (start + k) % n).find(|i| h[*i])
                    };
                    let Some(i) = up else {
                        continue; // none healthy: the client sees the connection closed
                    };
                    let Ok(server) = TcpStream::connect(("127.0.0.1", backends[i].0)) else {
                        continue;
                    };
                    pipe(client, server);
                }
            });
        }
        Self {
            port,
            healthy,
            stop,
        }
    }

    fn healthy(&self) -> Vec<bool> {
        self.healthy.lock().unwrap().clone()
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Copies bytes both ways between `a` and `b`, passing each EOF on.
fn pipe(a: TcpStream, b: TcpStream) {
    let (a2, b2) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    for (mut from, mut to) in [(a, b2), (b, a2)] {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Write);
        });
    }
}

/// Whether the admin endpoint on `port` answers `/health` with 200.
fn health(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut r = String::new();
    let _ = s.read_to_string(&mut r);
    r.starts_with("HTTP/1.1 200")
}

/// One connection through the balancer: the handshake, one request, its answer, a close.
/// Returns whether the handshake resumed a session.
fn one_exchange(cfg: &Arc<rustls::ClientConfig>, port: u16) -> Result<bool, String> {
    let mut c = connect(cfg.clone(), port, "localhost", b"")?;
    let resumed = c.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
    c.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut body = Vec::new();
    match c.read_to_end(&mut body) {
        Ok(_) => {}
        // The upstream closed after answering; a TLS close without close_notify still
        // delivered the answer.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => return Err(format!("read: {e}")),
    }
    let text = String::from_utf8_lossy(&body);
    if !text.contains("hello") {
        return Err(format!("no answer: {text:?}"));
    }
    Ok(resumed)
}

fn instance_config(dir: &std::path::Path, keys: &std::path::Path, upstream: &str) -> String {
    let key = dir.join("server.key");
    std::fs::copy(pki("ecdsa-p256-server.key"), &key).unwrap();
    format!(
        "drain_delay = \"1s\"\ndrain_timeout = \"10s\"\n\n\
         [[listener]]\naddress = \"127.0.0.1:{{port}}\"\nupstream = \"app\"\n\n\
         [[certificate]]\nnames = [\"localhost\"]\ncert = \"{}\"\nkey = \"{}\"\ndefault = true\n\n\
         [upstream.app]\naddresses = [\"{upstream}\"]\n\n\
         [tickets]\nkey_file = \"{}\"\n\n\
         [admin]\naddress = \"127.0.0.1:{{admin}}\"\n",
        pki("ecdsa-p256-server.pem"),
        key.display(),
        keys.display()
    )
}

#[test]
fn three_instances_share_tickets_and_one_restarts_without_a_failed_connection() {
    let dir = scratch("fleet");
    let keys = dir.join("tickets.keys");
    rotate_tickets(&keys);
    let up = InfoUpstream::start(false);
    let mut proxies: Vec<Proxy> = (0..3)
        .map(|i| {
            let d = dir.join(format!("p{i}"));
            std::fs::create_dir_all(&d).unwrap();
            Proxy::start(&d, &instance_config(&d, &keys, &up.addr.to_string()))
        })
        .collect();
    let lb = Balancer::start(proxies.iter().map(|p| (p.port, p.admin)).collect());
    for _ in 0..500 {
        if lb.healthy().iter().all(|h| *h) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(lb.healthy(), vec![true; 3]);

    // Resumption across the fleet: one client, one session cache, nine connections in round
    // robin; every one after the first resumes, and every instance resumed some.
    let cfg = Arc::new(client_config(
        &client_selection(),
        &["ecdsa-ca"],
        &[&TLS13],
        false,
    ));
    for n in 0..9 {
        let resumed = one_exchange(&cfg, lb.port).unwrap();
        assert_eq!(resumed, n > 0, "connection {n}");
    }
    for (i, p) in proxies.iter().enumerate() {
        assert!(
            p.metric("tls_frontend_resumptions_total") >= 1.0,
            "instance {i} resumed nothing"
        );
    }

    // Clients keep connecting (fresh sessions and resumed ones) while instance 1 drains,
    // exits and starts again on its port.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let clients: Vec<_> = (0..4)
        .map(|t| {
            let (stop, done, failures) = (stop.clone(), done.clone(), failures.clone());
            let port = lb.port;
            // Half the clients keep their sessions (resuming), half start fresh each time.
            let shared = Arc::new(client_config(
                &client_selection(),
                &["ecdsa-ca"],
                &[&TLS13],
                false,
            ));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let cfg = if t % 2 == 0 {
                        shared.clone()
                    } else {
                        Arc::new(client_config(
                            &client_selection(),
                            &["ecdsa-ca"],
                            &[&TLS13],
                            false,
                        ))
                    };
                    match one_exchange(&cfg, port) {
                        Ok(_) => {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => failures.lock().unwrap().push(e),
                    }
                }
            })
        })
        .collect();
    let wait_done = |at_least: usize| {
        for _ in 0..1500 {
            if done.load(Ordering::Relaxed) >= at_least {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the clients stalled at {}", done.load(Ordering::Relaxed));
    };
    wait_done(20);
    let before = done.load(Ordering::Relaxed);
    proxies[1].signal("TERM");
    assert!(
        proxies[1].wait_exit(Duration::from_secs(30)),
        "instance 1 did not drain and exit"
    );
    assert!(
        proxies[1]
            .log
            .lock()
            .unwrap()
            .contains("drained: all connections closed"),
        "{}",
        proxies[1].log.lock().unwrap()
    );
    wait_done(before + 20); // served by the other two meanwhile
    let (config, port, admin) = (proxies[1].config.clone(), proxies[1].port, proxies[1].admin);
    proxies[1] = Proxy::start_with(config, port, admin);
    for _ in 0..500 {
        if lb.healthy()[1] {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        lb.healthy()[1],
        "the restarted instance never turned healthy"
    );
    let accepted = proxies[1].metric("tls_frontend_connections_accepted_total");
    let again = done.load(Ordering::Relaxed);
    wait_done(again + 20);
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let failures = failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} of {} connections failed, first: {}",
        failures.len(),
        done.load(Ordering::Relaxed) + failures.len(),
        failures[0]
    );
    assert!(
        proxies[1].metric("tls_frontend_connections_accepted_total") > accepted,
        "the restarted instance served nothing"
    );
}
