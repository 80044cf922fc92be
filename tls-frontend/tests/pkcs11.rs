//! Keys in a hardware security module (issue 21, part 2), with real components started by the
//! tests: SoftHSM2 (Debian `softhsm2`) in a token made fresh by the test in its own folder
//! (`SOFTHSM2_CONF`), RSA-2048 and ECDSA P-256 keys generated inside it by OpenSC's
//! `pkcs11-tool` (sensitive, never extractable), certificates for their public keys made with
//! the OpenSSL CLI, and `curl` and `openssl s_client` handshaking through the proxy, which signs
//! through the module.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use support::{InfoUpstream, Proxy, run, scratch};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "483920";

/// Whether SoftHSM2 and pkcs11-tool are here; with `REQUIRE_SOFTHSM` set (CI), their absence
/// fails the test.
fn have_softhsm() -> bool {
    let ok = Path::new(MODULE).exists()
        && Command::new("pkcs11-tool").arg("--help").output().is_ok()
        && Command::new("softhsm2-util").arg("--help").output().is_ok()
        && Command::new("openssl").arg("version").output().is_ok();
    if !ok {
        assert!(
            std::env::var_os("REQUIRE_SOFTHSM").is_none(),
            "SoftHSM2 (softhsm2), pkcs11-tool (opensc) and openssl are required"
        );
        println!("no SoftHSM2 or pkcs11-tool: test skipped");
    }
    ok
}

/// A fresh SoftHSM2 token in `dir`.
struct Hsm {
    dir: PathBuf,
    conf: PathBuf,
}

impl Hsm {
    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.dir).env("SOFTHSM2_CONF", &self.conf);
        c
    }

    fn ok(&self, program: &str, args: &[&str]) -> String {
        let (ok, out) = run(self.cmd(program).args(args), b"");
        assert!(ok, "{program} {args:?}:\n{out}");
        out
    }

    /// Makes the token "tls" with the keys `rsa` (RSA-2048), `ec` and `ec2` (P-256), and a
    /// CA with certificates for hsm-rsa.test (rsa), hsm-ec.test (ec) and other-ec.test (ec2).
    fn new(test: &str) -> Self {
        let dir = scratch(test);
        std::fs::create_dir_all(dir.join("tokens")).unwrap();
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.join("tokens").display()
            ),
        )
        .unwrap();
        let hsm = Self { dir, conf };
        hsm.ok(
            "softhsm2-util",
            &[
                "--init-token",
                "--free",
                "--label",
                "tls",
                "--so-pin",
                "12345678",
                "--pin",
                PIN,
            ],
        );
        for (label, id, kind) in [
            ("rsa", "01", "rsa:2048"),
            ("ec", "02", "EC:prime256v1"),
            ("ec2", "03", "EC:prime256v1"),
        ] {
            hsm.ok(
                "pkcs11-tool",
                &[
                    "--module",
                    MODULE,
                    "--token-label",
                    "tls",
                    "--login",
                    "--pin",
                    PIN,
                    "--keypairgen",
                    "--key-type",
                    kind,
                    "--label",
                    label,
                    "--id",
                    id,
                    "--usage-sign",
                    "--sensitive",
                ],
            );
            hsm.ok(
                "pkcs11-tool",
                &[
                    "--module",
                    MODULE,
                    "--token-label",
                    "tls",
                    "--read-object",
                    "--type",
                    "pubkey",
                    "--label",
                    label,
                    "-o",
                    &format!("{label}.pub.der"),
                ],
            );
            hsm.ok(
                "openssl",
                &[
                    "pkey",
                    "-pubin",
                    "-inform",
                    "DER",
                    "-in",
                    &format!("{label}.pub.der"),
                    "-out",
                    &format!("{label}.pub.pem"),
                ],
            );
        }
        hsm.ok(
            "openssl",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "ca.key",
            ],
        );
        hsm.ok(
            "openssl",
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-out",
                "ca.pem",
                "-subj",
                "/CN=HSM Test CA",
                "-days",
                "30",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            ],
        );
        // A file key for a certificate beside the module's, and the throwaway key of the
        // requests (-force_pubkey puts the module's public key in the certificate).
        hsm.ok(
            "openssl",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "file.key",
            ],
        );
        hsm.ok(
            "openssl",
            &["pkey", "-in", "file.key", "-pubout", "-out", "file.pub.pem"],
        );
        for (name, key, serial) in [
            ("hsm-rsa", "rsa", "11"),
            ("hsm-ec", "ec", "12"),
            ("other-ec", "ec2", "13"),
            ("file", "file", "14"),
        ] {
            std::fs::write(
                hsm.dir.join("ext.cnf"),
                format!("subjectAltName=DNS:{name}.test\n"),
            )
            .unwrap();
            hsm.ok(
                "openssl",
                &[
                    "req",
                    "-new",
                    "-key",
                    "file.key",
                    "-subj",
                    &format!("/CN={name}.test"),
                    "-out",
                    "t.csr",
                ],
            );
            hsm.ok(
                "openssl",
                &[
                    "x509",
                    "-req",
                    "-in",
                    "t.csr",
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-force_pubkey",
                    &format!("{key}.pub.pem"),
                    "-set_serial",
                    serial,
                    "-days",
                    "10",
                    "-extfile",
                    "ext.cnf",
                    "-out",
                    &format!("{name}.pem"),
                ],
            );
        }
        let pin = hsm.dir.join("pin");
        std::fs::write(&pin, format!("{PIN}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pin, std::fs::Permissions::from_mode(0o600)).unwrap();
        hsm
    }

    fn uri(&self, object: &str, pin_file: &str, module: &str) -> String {
        format!(
            "pkcs11:token=tls;object={object};type=private?pin-source=file:{}&module-path={module}",
            self.dir.join(pin_file).display()
        )
    }

    /// A config with `certs` = (name, key) where key is a URI or a file.
    fn config(
        &self,
        upstream: std::net::SocketAddr,
        certs: &[(&str, String)],
        extra: &str,
    ) -> String {
        let mut body = format!(
            "workers = 1\n{extra}\n[[listener]]\naddress = \"127.0.0.1:{{port}}\"\nupstream = \"app\"\n\n\
             [upstream.app]\naddresses = [\"{upstream}\"]\n\n\
             [admin]\naddress = \"127.0.0.1:{{admin}}\"\n\n"
        );
        for (i, (name, key)) in certs.iter().enumerate() {
            body.push_str(&format!(
                "[[certificate]]\nnames = [\"{name}.test\"]\ncert = \"{}\"\nkey = \"{key}\"\n{}\n",
                self.dir.join(format!("{name}.pem")).display(),
                if i == 0 { "default = true\n" } else { "" },
            ));
        }
        body
    }

    fn start(&self, body: &str) -> Proxy {
        let path = self.dir.join("config.toml");
        let port = support::free_port();
        let admin = support::free_port();
        std::fs::write(
            &path,
            body.replace("{port}", &port.to_string())
                .replace("{admin}", &admin.to_string()),
        )
        .unwrap();
        let p = Proxy::start_with_env(
            path,
            port,
            admin,
            &[("SOFTHSM2_CONF", self.conf.as_os_str())],
        );
        // A bounded number of polls, 25 ms apart (no clock read).
        let mut polls = 0;
        while TcpStream::connect(("127.0.0.1", admin)).is_err() {
            polls += 1;
            assert!(polls < 800, "admin did not start");
            std::thread::sleep(Duration::from_millis(25));
        }
        p
    }

    /// `tls-frontend check` on `body` (ports filled in), with the token's configuration.
    fn check(&self, body: &str) -> (bool, String) {
        let path = self.dir.join("check.toml");
        std::fs::write(&path, body.replace("{port}", "1").replace("{admin}", "2")).unwrap();
        run(
            self.cmd(env!("CARGO_BIN_EXE_tls-frontend"))
                .args(["check", "--config"])
                .arg(&path),
            b"",
        )
    }

    fn curl(&self, port: u16, name: &str, extra: &[&str]) -> (bool, String) {
        run(
            self.cmd("curl")
                .args(["-sS", "--max-time", "10", "--cacert", "ca.pem", "--resolve"])
                .arg(format!("{name}:{port}:127.0.0.1"))
                .args(extra)
                .arg(format!("https://{name}:{port}/")),
            b"",
        )
    }

    fn s_client(&self, port: u16, name: &str, extra: &[&str]) -> (bool, String) {
        run(
            self.cmd("openssl")
                .args([
                    "s_client",
                    "-connect",
                    &format!("127.0.0.1:{port}"),
                    "-servername",
                    name,
                    "-CAfile",
                    "ca.pem",
                    "-verify_return_error",
                    "-ign_eof",
                ])
                .args(extra),
            b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        )
    }
}

/// The module signs every handshake (TLS 1.3 RSA-PSS and ECDSA, TLS 1.2 ECDHE-RSA with
/// PKCS#1 v1.5 and PSS, ECDHE-ECDSA) for `curl` and `openssl s_client`; the keys never left
/// the token (pkcs11-tool says so, and the proxy warns about none); `check` names a wrong
/// PIN, a missing module, and a module key of another certificate.
#[test]
fn the_module_signs_and_the_key_stays_in_it() {
    if !have_softhsm() {
        return;
    }
    let hsm = Hsm::new("pkcs11-sign");
    let up = InfoUpstream::start(false);
    let body = hsm.config(
        up.addr,
        &[
            ("hsm-ec", hsm.uri("ec", "pin", MODULE)),
            ("hsm-rsa", hsm.uri("rsa", "pin", MODULE)),
        ],
        "",
    );
    let (ok, out) = hsm.check(&body);
    assert!(ok, "{out}");
    assert!(out.contains("key: in a PKCS#11 module"), "{out}");
    let proxy = hsm.start(&body);
    for (name, extra) in [
        ("hsm-ec.test", &[][..]),
        ("hsm-rsa.test", &[][..]),
        ("hsm-rsa.test", &["--tls-max", "1.2"][..]),
        ("hsm-ec.test", &["--tls-max", "1.2"][..]),
    ] {
        let (ok, out) = hsm.curl(proxy.port, name, extra);
        assert!(ok && out.contains("hello"), "curl {name} {extra:?}:\n{out}");
    }
    for (name, extra, scheme) in [
        ("hsm-rsa.test", &["-tls1_3"][..], "RSA-PSS"),
        (
            "hsm-rsa.test",
            &["-tls1_2", "-sigalgs", "RSA+SHA256"][..],
            "RSA",
        ),
        (
            "hsm-rsa.test",
            &["-tls1_2", "-sigalgs", "RSA-PSS+SHA384"][..],
            "RSA-PSS",
        ),
        ("hsm-ec.test", &["-tls1_3"][..], "ECDSA"),
    ] {
        let (ok, out) = hsm.s_client(proxy.port, name, extra);
        assert!(
            ok && out.contains("hello"),
            "s_client {name} {extra:?}:\n{out}"
        );
        assert!(out.contains("Verification: OK"), "{out}");
        assert!(
            out.lines()
                .any(|l| l == format!("Peer signature type: {scheme}")),
            "{extra:?}: {out}"
        );
    }
    let signed = proxy.metric("tls_frontend_pkcs11_signatures_total{result=\"ok\"}");
    // One signature per handshake (no tickets here: every one is a full handshake).
    assert_eq!(signed, 8.0, "signatures through the module");
    assert_eq!(
        proxy.metric("tls_frontend_pkcs11_signatures_total{result=\"failed\"}"),
        0.0
    );
    // A reload loads the keys again (the module stays loaded; sessions are new).
    let (status, _) = proxy.admin("POST", "/reload");
    assert!(status.contains("200"), "{status}");
    let (ok, out) = hsm.curl(proxy.port, "hsm-rsa.test", &[]);
    assert!(ok && out.contains("hello"), "after reload:\n{out}");
    // The keys never leave the token: sensitive and never extractable, as the token reports.
    let listing = hsm.ok(
        "pkcs11-tool",
        &[
            "--module",
            MODULE,
            "--token-label",
            "tls",
            "--login",
            "--pin",
            PIN,
            "--list-objects",
            "--type",
            "privkey",
        ],
    );
    assert_eq!(listing.matches("never extractable").count(), 3, "{listing}");
    assert!(!proxy.log.lock().unwrap().contains("CKA_EXTRACTABLE"));

    // What check says when something is wrong.
    std::fs::write(hsm.dir.join("wrong-pin"), "000000\n").unwrap();
    let wrong = hsm.config(
        up.addr,
        &[("hsm-ec", hsm.uri("ec", "wrong-pin", MODULE))],
        "",
    );
    let (ok, out) = hsm.check(&wrong);
    assert!(!ok && out.contains("refused the PIN"), "{out}");
    let missing = hsm.config(
        up.addr,
        &[("hsm-ec", hsm.uri("ec", "pin", "/nonexistent/libpkcs11.so"))],
        "",
    );
    let (ok, out) = hsm.check(&missing);
    assert!(
        !ok && out.contains("module /nonexistent/libpkcs11.so"),
        "{out}"
    );
    let other = hsm.config(up.addr, &[("hsm-ec", hsm.uri("ec2", "pin", MODULE))], "");
    let (ok, out) = hsm.check(&other);
    assert!(
        !ok && out.contains("does not belong to the certificate"),
        "{out}"
    );
    let nothing = hsm.config(
        up.addr,
        &[("hsm-ec", hsm.uri("nothing", "pin", MODULE))],
        "",
    );
    let (ok, out) = hsm.check(&nothing);
    assert!(!ok && out.contains("no private key matches"), "{out}");
}

/// A handshake in the module pool never holds up others: with one worker, one pool thread and
/// room for one handshake, a client that stops after the server's signed flight keeps its
/// place in the pool; meanwhile a second module handshake is refused at once
/// (`pkcs11_busy`) and a file-key handshake on the same worker completes; at the pool's
/// timeout the stalled one is cut (`pkcs11_timeout`) and the module serves again.
#[test]
fn the_module_pool_is_bounded_and_other_handshakes_go_on() {
    if !have_softhsm() {
        return;
    }
    let hsm = Hsm::new("pkcs11-pool");
    let up = InfoUpstream::start(false);
    let body = hsm.config(
        up.addr,
        &[
            ("file", hsm.dir.join("file.key").display().to_string()),
            ("hsm-ec", hsm.uri("ec", "pin", MODULE)),
        ],
        "[pkcs11]\nthreads = 1\nqueue = 1\ntimeout = \"3s\"\n",
    );
    let proxy = hsm.start(&body);
    // The stalled client: a ClientHello, the server's whole flight read (its CertificateVerify
    // was signed through the module), and then nothing.
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_file(hsm.dir.join("ca.pem")).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(crypto_core::tls::provider(
        &support::client_selection(),
    )))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), "hsm-ec.test".try_into().unwrap()).unwrap();
    let mut tcp = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    conn.write_tls(&mut tcp).unwrap();
    while conn.is_handshaking() && !conn.wants_write() {
        conn.read_tls(&mut tcp).unwrap();
        conn.process_new_packets().unwrap();
    }
    assert_eq!(proxy.metric("tls_frontend_pkcs11_pool_handshakes"), 1.0);
    // A second module handshake: no room.
    let (ok, out) = hsm.curl(proxy.port, "hsm-ec.test", &[]);
    assert!(!ok, "{out}");
    assert_eq!(
        proxy.metric("tls_frontend_pkcs11_pool_refused_total{reason=\"busy\"}"),
        1.0
    );
    assert!(proxy.metric_sum("tls_frontend_handshakes_total", "result=\"pkcs11_busy\"") >= 1.0);
    // A file-key handshake on the same (only) worker goes through meanwhile.
    let (ok, out) = hsm.curl(proxy.port, "file.test", &[]);
    assert!(ok && out.contains("hello"), "{out}");
    // The stalled one is cut at the pool's deadline...
    let mut rest = Vec::new();
    let _ = tcp.read_to_end(&mut rest);
    // (The close and the counts happen on different threads: poll, boundedly.)
    let counted = || {
        proxy.metric("tls_frontend_pkcs11_pool_refused_total{reason=\"timeout\"}") == 1.0
            && proxy.metric_sum("tls_frontend_handshakes_total", "result=\"pkcs11_timeout\"") >= 1.0
            && proxy.metric("tls_frontend_pkcs11_pool_handshakes") == 0.0
    };
    let mut polls = 0;
    while !counted() {
        polls += 1;
        assert!(polls < 100, "{}", proxy.admin("GET", "/metrics").1);
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = tcp.write_all(b"late");
    // ... and the module serves again.
    let (ok, out) = hsm.curl(proxy.port, "hsm-ec.test", &[]);
    assert!(ok && out.contains("hello"), "{out}");
}

/// `p11-kit server` serving the token over a socket, and its client module.
struct Remote {
    server: std::process::Child,
}

impl Drop for Remote {
    fn drop(&mut self) {
        // The server serves each client from a process of its own: end the whole group.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.server.id())])
            .status();
        let _ = self.server.wait();
    }
}

/// p11-kit's client module, if installed (Debian `p11-kit-modules`).
fn p11_kit_client() -> Option<PathBuf> {
    let found = std::fs::read_dir("/usr/lib")
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join("pkcs11/p11-kit-client.so"))
        .find(|p| p.exists());
    let ok = found.is_some() && Command::new("p11-kit").arg("--help").output().is_ok();
    if !ok {
        assert!(
            std::env::var_os("REQUIRE_SOFTHSM").is_none(),
            "p11-kit and p11-kit-modules are required"
        );
        println!("no p11-kit server or client module: test skipped");
        return None;
    }
    found
}

impl Hsm {
    fn serve_remote(&self, socket: &Path) -> Remote {
        let _ = std::fs::remove_file(socket);
        let server = self
            .cmd("p11-kit")
            .args(["server", "-f", "-n"])
            .arg(socket)
            .args(["--provider", MODULE, "pkcs11:token=tls"])
            .process_group(0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("p11-kit server");
        let mut polls = 0;
        while !socket.exists() {
            polls += 1;
            assert!(polls < 800, "p11-kit server did not start");
            std::thread::sleep(Duration::from_millis(25));
        }
        Remote { server }
    }
}

/// The module fails under the proxy and comes back: the key is served by `p11-kit server`
/// through p11-kit's client module (a module whose device can go away, as a network HSM's
/// can). While the server is gone handshakes fail (counted) and nothing else is touched; once
/// it is back, the proxy reopens its sessions, logs in again and signs, with no reload.
#[test]
fn sessions_are_reopened_after_the_module_fails() {
    if !have_softhsm() {
        return;
    }
    let Some(client) = p11_kit_client() else {
        return;
    };
    let hsm = Hsm::new("pkcs11-remote");
    let socket = hsm.dir.join("p11.sock");
    let remote = hsm.serve_remote(&socket);
    let up = InfoUpstream::start(false);
    let body = hsm.config(
        up.addr,
        &[
            (
                "hsm-ec",
                hsm.uri("ec", "pin", &client.display().to_string()),
            ),
            ("file", hsm.dir.join("file.key").display().to_string()),
        ],
        "",
    );
    let path = hsm.dir.join("config.toml");
    let port = support::free_port();
    let admin = support::free_port();
    std::fs::write(
        &path,
        body.replace("{port}", &port.to_string())
            .replace("{admin}", &admin.to_string()),
    )
    .unwrap();
    let address = format!("unix:path={}", socket.display());
    let proxy = Proxy::start_with_env(
        path,
        port,
        admin,
        &[("P11_KIT_SERVER_ADDRESS", std::ffi::OsStr::new(&address))],
    );
    let (ok, out) = hsm.curl(proxy.port, "hsm-ec.test", &[]);
    assert!(ok && out.contains("hello"), "{out}");
    drop(remote);
    let (ok, out) = hsm.curl(proxy.port, "hsm-ec.test", &[]);
    assert!(!ok, "signed without the module: {out}");
    let (ok, out) = hsm.curl(proxy.port, "file.test", &[]);
    assert!(
        ok && out.contains("hello"),
        "a file key while the module is away: {out}"
    );
    let _remote = hsm.serve_remote(&socket);
    // The proxy initialises a module again at most once a second: a handshake right after
    // one may still fail, so a few tries, a quarter second apart.
    let mut tries = 0;
    let (ok, out) = loop {
        let (ok, out) = hsm.curl(proxy.port, "hsm-ec.test", &[]);
        tries += 1;
        if ok || tries == 20 {
            break (ok, out);
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(
        ok && out.contains("hello"),
        "after the module came back:\n{out}\n{}",
        proxy.log.lock().unwrap()
    );
    // p11-kit's client finds a restarted server only when initialised again.
    proxy.log_line(
        &["PKCS#11 module", "p11-kit-client.so: initialised again"],
        0,
    );
    proxy.log_line(&["PKCS#11 key", "reopening its sessions"], 0);
    assert!(proxy.metric("tls_frontend_pkcs11_signatures_total{result=\"failed\"}") >= 1.0);
}
