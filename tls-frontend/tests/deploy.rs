//! Running under a service manager: the systemd unit in `deploy/systemd` passes
//! `systemd-analyze verify` and asks for what the README promises (an unprivileged dynamic
//! user with CAP_NET_BIND_SERVICE only, readiness by notification, SIGHUP reload); the proxy
//! speaks sd_notify's protocol (READY=1 once its listeners are bound, RELOADING=1 with
//! MONOTONIC_USEC and READY=1 around a reload, good or bad, STOPPING=1 on SIGTERM).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::time::Duration;

use support::*;

const UNIT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../deploy/systemd/tls-frontend.service"
);

#[test]
fn the_systemd_unit_verifies() {
    let text = std::fs::read_to_string(UNIT).unwrap();
    for line in [
        "Type=notify",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "DynamicUser=yes",
        "AmbientCapabilities=CAP_NET_BIND_SERVICE",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
    ] {
        assert!(
            text.lines().any(|l| l.trim() == line),
            "the unit lacks {line}"
        );
    }
    // systemd-analyze checks that ExecStart's program exists: point it at this build.
    let dir = scratch("deploy-unit");
    let unit = dir.join("tls-frontend.service");
    std::fs::write(
        &unit,
        text.replace(
            "/usr/local/bin/tls-frontend",
            env!("CARGO_BIN_EXE_tls-frontend"),
        ),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect("systemd-analyze (Debian package systemd) runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Warnings about the unit itself name its file; other units' noise does not fail us.
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("tls-frontend.service"))
        .collect();
    assert!(
        out.status.success() && ours.is_empty(),
        "systemd-analyze verify: {}\n{stderr}",
        out.status
    );
}

/// The next notification, within ten seconds.
fn next(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 4096];
    let n = socket
        .recv(&mut buf)
        .expect("a notification within the read timeout");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn readiness_and_reloads_are_notified() {
    let dir = scratch("deploy-notify");
    let key = dir.join("server.key");
    std::fs::copy(pki("ecdsa-p256-server.key"), &key).unwrap();
    let port = free_port();
    let config = dir.join("config.toml");
    let good = format!(
        "[[listener]]\naddress = \"127.0.0.1:{port}\"\nupstream = \"app\"\n\n\
         [[certificate]]\nnames = [\"localhost\"]\ncert = \"{}\"\nkey = \"{}\"\ndefault = true\n\n\
         [upstream.app]\naddresses = [\"127.0.0.1:9\"]\n",
        pki("ecdsa-p256-server.pem"),
        key.display()
    );
    std::fs::write(&config, &good).unwrap();
    let path = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut proxy = Proxy::start_with_env(
        config.clone(),
        port,
        free_port(),
        &[("NOTIFY_SOCKET", path.as_os_str())],
    );
    assert_eq!(next(&socket), "READY=1\n");

    // A good reload and a bad one: each is announced and each ends ready again.
    for text in [good.clone(), "[[listener\n".to_owned()] {
        std::fs::write(&config, &text).unwrap();
        proxy.signal("HUP");
        let reloading = next(&socket);
        let mut lines = reloading.lines();
        assert_eq!(lines.next(), Some("RELOADING=1"), "{reloading:?}");
        let usec: u64 = lines
            .next()
            .and_then(|l| l.strip_prefix("MONOTONIC_USEC="))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no MONOTONIC_USEC in {reloading:?}"));
        assert!(usec > 0);
        assert_eq!(next(&socket), "READY=1\n");
    }
    proxy.signal("TERM");
    assert_eq!(next(&socket), "STOPPING=1\n");
    assert!(proxy.wait_exit(Duration::from_secs(20)));
}

/// The Kubernetes ConfigMap's `config.toml` (the block under `config.toml: |`) is a
/// configuration the proxy accepts: the manifests cannot drift from the config format.
#[test]
fn the_kubernetes_config_parses() {
    let yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/kubernetes/tls-frontend.yaml"
    ))
    .unwrap();
    let mut lines = yaml.lines().skip_while(|l| l.trim() != "config.toml: |");
    let head = lines.next().expect("a config.toml block in the ConfigMap");
    let indent = head.len() - head.trim_start().len() + 2;
    let block: String = lines
        .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() >= indent)
        .map(|l| format!("{}\n", l.get(indent..).unwrap_or("")))
        .collect();
    assert!(block.contains("[[listener]]"), "{block}");
    let config = tls_frontend::config::Config::parse(&block)
        .unwrap_or_else(|e| panic!("the ConfigMap's config.toml: {}\n{block}", e.0));
    let admin = config
        .admin
        .expect("an admin endpoint for probes and Prometheus");
    assert!(
        admin.token_file.is_some(),
        "a cluster-reachable admin port needs a reload token"
    );
}

/// SIGTERM starts the drain (`/health` 503, accepting for `drain_delay`, then open
/// connections finish); a second SIGTERM during it stops the process at once, as an operator
/// who pressed Ctrl-C twice expects.
#[test]
fn a_second_sigterm_cuts_the_drain_short() {
    let dir = scratch("deploy-twice");
    let key = dir.join("server.key");
    std::fs::copy(pki("ecdsa-p256-server.key"), &key).unwrap();
    let body = format!(
        "drain_delay = \"300s\"\n\n\
         [[listener]]\naddress = \"127.0.0.1:{{port}}\"\nupstream = \"app\"\n\n\
         [[certificate]]\nnames = [\"localhost\"]\ncert = \"{}\"\nkey = \"{}\"\ndefault = true\n\n\
         [upstream.app]\naddresses = [\"127.0.0.1:9\"]\n\n\
         [admin]\naddress = \"127.0.0.1:{{admin}}\"\n",
        pki("ecdsa-p256-server.pem"),
        key.display()
    );
    let mut proxy = Proxy::start(&dir, &body);
    proxy.signal("TERM");
    // The first signal was taken: the drain has begun.
    proxy.log_line(&["still accepting for 300s"], 0);
    let (status, _) = proxy.admin("GET", "/health");
    assert!(status.contains("503"), "{status}");
    let (status, _) = proxy.admin("POST", "/reload");
    assert!(status.contains("503"), "no reload while draining: {status}");
    proxy.signal("TERM");
    assert!(
        proxy.wait_exit(Duration::from_secs(20)),
        "a second SIGTERM did not stop the drain"
    );
    proxy.log_line(&["stopping now (signalled again)"], 0);
}
