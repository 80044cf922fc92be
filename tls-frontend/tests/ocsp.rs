//! OCSP stapling end to end (issue 21, part 1), with real components started by the tests:
//! `openssl ocsp` as the responder (its index says which certificate is revoked, a delegated
//! responder certificate signs), certificates whose authorityInfoAccess points at it, the
//! proxy with `ocsp = "auto"` and `ocsp = FILE`, and `openssl s_client -status` and
//! `curl --cert-status` as the clients.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{InfoUpstream, Proxy, free_port, have, run, scratch};

/// Runs the OpenSSL CLI in `dir`; panics with its output on failure.
fn openssl(dir: &Path, args: &[&str]) -> String {
    let (ok, out) = run(Command::new("openssl").current_dir(dir).args(args), b"");
    assert!(ok, "openssl {args:?}:\n{out}");
    out
}

/// A CA, a delegated OCSP responder, and three ECDSA leaves whose AIA names
/// `http://127.0.0.1:{ocsp_port}/`: good.test (serial 1001), revoked.test (1002, revoked in
/// the index), staple.test (1003, Must-Staple). Each leaf's chain file holds the CA after it.
fn make_pki(dir: &Path, ocsp_port: u16) {
    let ec = |key: &str| {
        openssl(
            dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                key,
            ],
        );
    };
    ec("ca.key");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=OCSP Test CA",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        format!(
            "[good]\nsubjectAltName = DNS:good.test\nauthorityInfoAccess = OCSP;URI:http://127.0.0.1:{ocsp_port}/\n\
             [revoked]\nsubjectAltName = DNS:revoked.test\nauthorityInfoAccess = OCSP;URI:http://127.0.0.1:{ocsp_port}/\n\
             [staple]\nsubjectAltName = DNS:staple.test\nauthorityInfoAccess = OCSP;URI:http://127.0.0.1:{ocsp_port}/\ntlsfeature = status_request\n\
             [responder]\nextendedKeyUsage = OCSPSigning\nkeyUsage = critical,digitalSignature\n"
        ),
    )
    .unwrap();
    let mut index = String::new();
    for (name, serial) in [
        ("good", "1001"),
        ("revoked", "1002"),
        ("staple", "1003"),
        ("responder", "2001"),
    ] {
        ec(&format!("{name}.key"));
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-key",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={name}.test"),
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                &format!("0x{serial}"),
                "-days",
                "10",
                "-extfile",
                "ext.cnf",
                "-extensions",
                name,
                "-out",
                &format!("{name}.pem"),
            ],
        );
        let leaf = std::fs::read_to_string(dir.join(format!("{name}.pem"))).unwrap();
        let ca = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
        std::fs::write(dir.join(format!("{name}-chain.pem")), leaf + &ca).unwrap();
        let status = if name == "revoked" {
            "R\t300101000000Z\t260101000000Z"
        } else {
            "V\t300101000000Z\t"
        };
        index.push_str(&format!("{status}\t{serial}\tunknown\t/CN={name}.test\n"));
    }
    std::fs::write(dir.join("index.txt"), index).unwrap();
}

/// `openssl ocsp` answering on `port`, signing with the delegated responder certificate;
/// responses valid for one minute (`-nmin 1`). Killed when dropped.
struct Responder(Child);

impl Responder {
    fn start(dir: &Path, port: u16) -> Self {
        let mut child = Command::new("openssl")
            .current_dir(dir)
            .args([
                "ocsp",
                "-index",
                "index.txt",
                "-port",
                &port.to_string(),
                "-rsigner",
                "responder.pem",
                "-rkey",
                "responder.key",
                "-CA",
                "ca.pem",
                "-nmin",
                "1",
                "-ignore_err",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("openssl ocsp");
        // Ready when it says so. (Not by connecting to it: OpenSSL 3.0's responder stops
        // answering after a connection that closes without a request.)
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if line.contains("waiting for OCSP client connections") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(20))
            .expect("the OCSP responder did not start");
        Self(child)
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `openssl s_client -status` for `name` (verifying against the test CA), its output.
fn s_client_status(dir: &Path, port: u16, name: &str, extra: &[&str]) -> String {
    let (ok, out) = run(
        Command::new("openssl")
            .current_dir(dir)
            .args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{port}"),
                "-servername",
                name,
                "-CAfile",
                "ca.pem",
                "-verify_return_error",
                "-status",
            ])
            .args(extra),
        b"",
    );
    assert!(ok, "s_client -status {name}:\n{out}");
    out
}

/// `curl --cert-status` to `name` through the proxy: (success, output).
fn curl_cert_status(dir: &Path, port: u16, name: &str) -> (bool, String) {
    run(
        Command::new("curl").current_dir(dir).args([
            "-sS",
            "--max-time",
            "10",
            "--cert-status",
            "--cacert",
            "ca.pem",
            "--resolve",
            &format!("{name}:{port}:127.0.0.1"),
            &format!("https://{name}:{port}/"),
        ]),
        b"",
    )
}

/// Polls `cond` every 100 ms until it holds, at most `polls` times (no clock read: a bounded
/// number of tries).
fn wait_for(proxy: &Proxy, polls: u32, what: &str, mut cond: impl FnMut() -> bool) {
    let mut n = 0;
    while !cond() {
        n += 1;
        assert!(
            n < polls,
            "{what}: not after {polls} polls; the proxy's log:\n{}",
            proxy.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn config(dir: &Path, upstream: std::net::SocketAddr, certs: &[(&str, &str)]) -> String {
    let mut body = format!(
        "[[listener]]\naddress = \"127.0.0.1:{{port}}\"\nupstream = \"app\"\n\n\
         [upstream.app]\naddresses = [\"{upstream}\"]\n\n\
         [admin]\naddress = \"127.0.0.1:{{admin}}\"\n\n\
         [ocsp]\nmin_delay = \"1s\"\nmax_delay = \"2s\"\ntimeout = \"2s\"\n\n"
    );
    for (i, (name, ocsp)) in certs.iter().enumerate() {
        body.push_str(&format!(
            "[[certificate]]\nnames = [\"{name}.test\"]\ncert = \"{}\"\nkey = \"{}\"\n{}{}\n",
            dir.join(format!("{name}-chain.pem")).display(),
            dir.join(format!("{name}.key")).display(),
            if ocsp.is_empty() {
                String::new()
            } else {
                format!("ocsp = \"{ocsp}\"\n")
            },
            if i == 0 { "default = true\n" } else { "" },
        ));
    }
    body
}

fn stapled(proxy: &Proxy, name: &str) -> f64 {
    proxy.metric(&format!(
        "tls_frontend_ocsp_stapled{{name=\"{name}.test\",key=\"ECDSA-P256\"}}"
    ))
}

/// `ocsp = "auto"`: the proxy fetches from the responder in the certificate, staples a good
/// and a revoked status as they are (TLS 1.3 and 1.2; `s_client -status` and
/// `curl --cert-status` read them), and when the responder goes away keeps the last good
/// response, counting the failures, until its nextUpdate, and not a second longer.
#[test]
fn auto_staples_what_the_responder_says_and_outlives_it_until_next_update() {
    if !have("openssl") || !have("curl") {
        return;
    }
    let dir = scratch("ocsp-auto");
    let ocsp_port = free_port();
    make_pki(&dir, ocsp_port);
    let responder = Responder::start(&dir, ocsp_port);
    let up = InfoUpstream::start(false);
    let body = config(
        &dir,
        up.addr,
        &[("good", "auto"), ("revoked", "auto"), ("staple", "auto")],
    );
    let proxy = Proxy::start(&dir, &body);
    for name in ["good", "revoked", "staple"] {
        wait_for(&proxy, 200, name, || stapled(&proxy, name) == 1.0);
    }
    for extra in [&[][..], &["-tls1_2"][..]] {
        let out = s_client_status(&dir, proxy.port, "good.test", extra);
        assert!(out.contains("OCSP Response Status: successful"), "{out}");
        assert!(out.contains("Cert Status: good"), "{out}");
        assert!(out.contains("Responder Id: CN = responder.test"), "{out}");
        let out = s_client_status(&dir, proxy.port, "revoked.test", extra);
        assert!(out.contains("Cert Status: revoked"), "{out}");
    }
    let (ok, out) = curl_cert_status(&dir, proxy.port, "good.test");
    assert!(
        ok && out.contains("hello"),
        "curl --cert-status good.test:\n{out}"
    );
    let (ok, out) = curl_cert_status(&dir, proxy.port, "revoked.test");
    // curl: "(91) SSL certificate revocation reason: ..."
    assert!(
        !ok && out.contains("(91)") && out.contains("revocation"),
        "curl --cert-status revoked.test:\n{out}"
    );
    let (ok, out) = curl_cert_status(&dir, proxy.port, "staple.test");
    assert!(
        ok,
        "curl --cert-status staple.test (Must-Staple, stapled):\n{out}"
    );
    proxy.log_line(&["OCSP staple of revoked.test", "REVOKED"], 0);
    let age =
        proxy.metric("tls_frontend_ocsp_staple_age_seconds{name=\"good.test\",key=\"ECDSA-P256\"}");
    assert!((0.0..=60.0).contains(&age), "age {age}");
    // `check` asks the responder itself.
    let (ok, out) = support::check(&proxy.config);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!(
            "ocsp: fetched from http://127.0.0.1:{ocsp_port}/: good"
        )),
        "{out}"
    );

    // The responder goes away: refreshes fail, the last good response is still stapled.
    let failures =
        "tls_frontend_ocsp_refresh_failures_total{name=\"good.test\",key=\"ECDSA-P256\"}";
    let before = proxy.metric(failures);
    drop(responder);
    wait_for(&proxy, 200, "a failed refresh", || {
        proxy.metric(failures) > before
    });
    proxy.log_line(
        &[
            "OCSP refresh for good.test",
            "still stapling the last good response",
        ],
        0,
    );
    let out = s_client_status(&dir, proxy.port, "good.test", &[]);
    assert!(out.contains("Cert Status: good"), "{out}");
    // A reload keeps it too (the responder cannot give it again).
    let (status, _) = proxy.admin("POST", "/reload");
    assert!(status.contains("200"), "{status}");
    assert_eq!(stapled(&proxy, "good"), 1.0);
    let out = s_client_status(&dir, proxy.port, "good.test", &[]);
    assert!(out.contains("Cert Status: good"), "{out}");
    // ... until its nextUpdate (one minute after its thisUpdate), then nothing.
    wait_for(&proxy, 900, "the staple expiring", || {
        stapled(&proxy, "good") == 0.0
    });
    proxy.log_line(&["OCSP staple of good.test", "expired"], 0);
    let out = s_client_status(&dir, proxy.port, "good.test", &[]);
    assert!(out.contains("OCSP response: no response sent"), "{out}");
    assert!(!out.contains("Cert Status"), "{out}");
}

/// Makes the CA-signed response for `name` into `out` with the OpenSSL CLI.
fn response_file(dir: &Path, name: &str, out: &str) {
    openssl(
        dir,
        &[
            "ocsp",
            "-issuer",
            "ca.pem",
            "-cert",
            &format!("{name}.pem"),
            "-no_nonce",
            "-reqout",
            &format!("{name}.req"),
        ],
    );
    openssl(
        dir,
        &[
            "ocsp",
            "-index",
            "index.txt",
            "-rsigner",
            "ca.pem",
            "-rkey",
            "ca.key",
            "-CA",
            "ca.pem",
            "-reqin",
            &format!("{name}.req"),
            "-ndays",
            "1",
            "-respout",
            out,
        ],
    );
}

/// The "This Update" line `openssl ocsp` prints for a response file.
fn this_update(dir: &Path, file: &str) -> String {
    let out = openssl(dir, &["ocsp", "-respin", file, "-resp_text", "-noverify"]);
    out.lines()
        .find(|l| l.contains("This Update"))
        .unwrap()
        .trim()
        .to_owned()
}

/// `ocsp = FILE`: checked at load (another certificate's response is refused by `check` and by
/// a reload, which keeps the running staple), re-read on reload; a Must-Staple certificate
/// without a response is named by `check` and the log.
#[test]
fn a_response_file_is_checked_and_reread_on_reload() {
    if !have("openssl") {
        return;
    }
    let dir = scratch("ocsp-file");
    make_pki(&dir, 9);
    response_file(&dir, "good", "good.ocsp");
    response_file(&dir, "revoked", "revoked.ocsp");
    let up = InfoUpstream::start(false);
    let body = config(&dir, up.addr, &[("good", "good.ocsp"), ("staple", "")]).replace(
        "\"good.ocsp\"",
        &format!("\"{}\"", dir.join("good.ocsp").display()),
    );
    let proxy = Proxy::start(&dir, &body);
    let first = this_update(&dir, "good.ocsp");
    let out = s_client_status(&dir, proxy.port, "good.test", &[]);
    assert!(
        out.contains("Cert Status: good") && out.contains(&first),
        "{out}"
    );
    proxy.log_line(
        &["staple-chain.pem", "Must-Staple", "no ocsp is configured"],
        0,
    );
    let (ok, out) = support::check(&proxy.config);
    assert!(ok, "{out}");
    assert!(out.contains("WARNING: Must-Staple"), "{out}");

    // Another certificate's response: refused by check and by reload, the old one stays.
    std::fs::copy(dir.join("revoked.ocsp"), dir.join("good.ocsp")).unwrap();
    let (ok, out) = support::check(&proxy.config);
    assert!(
        !ok && out.contains("says nothing about this certificate"),
        "{out}"
    );
    let (status, _) = proxy.admin("POST", "/reload");
    assert!(status.contains("500"), "{status}");
    proxy.log_line(
        &[
            "reload failed",
            "good.ocsp",
            "says nothing about this certificate",
        ],
        0,
    );
    let out = s_client_status(&dir, proxy.port, "good.test", &[]);
    assert!(
        out.contains("Cert Status: good") && out.contains(&first),
        "{out}"
    );

    // A newer response (thisUpdate a second later) is served after the reload.
    std::thread::sleep(Duration::from_millis(1100));
    response_file(&dir, "good", "good.ocsp");
    let second = this_update(&dir, "good.ocsp");
    assert_ne!(first, second);
    let (status, _) = proxy.admin("POST", "/reload");
    assert!(status.contains("200"), "{status}");
    let out = s_client_status(&dir, proxy.port, "good.test", &[]);
    assert!(
        out.contains("Cert Status: good") && out.contains(&second),
        "{out}"
    );

    // "auto" on a certificate without the issuer in its file, or without an OCSP URL.
    let alone = body.replace(
        &format!("\"{}\"", dir.join("good-chain.pem").display()),
        &format!("\"{}\"", dir.join("good.pem").display()),
    );
    let alone = alone.replace(
        &format!("\"{}\"", dir.join("good.ocsp").display()),
        "\"auto\"",
    );
    let path = dir.join("alone.toml");
    std::fs::write(&path, alone.replace("{port}", "1").replace("{admin}", "2")).unwrap();
    let (ok, out) = support::check(&path);
    assert!(!ok && out.contains("needs the issuer certificate"), "{out}");
}
