//! `tls-frontend demo`: everything needed to see the proxy work, made on the spot. A demo CA
//! and SM2 CA, RSA, ECDSA and SM2 server certificates for `localhost`, a session-ticket key, a
//! small HTTP upstream that reports what the proxy told it (PROXY v2 TLVs), and the proxy on
//! 127.0.0.1:8443 in front of it, until Ctrl-C.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crypto_core::{KeyKind, PrivateKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::conn::proxy_proto::{self, tlv};
use crate::tools::democert::{self as x509, Issuer, Role};

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The demo's files. Dropping it deletes the folder: it holds private keys.
#[derive(Debug)]
pub struct Demo {
    /// The folder holding them.
    pub dir: PathBuf,
    /// The config file.
    pub config: PathBuf,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The most connections the demo's listener may hold with `open_files` descriptors: two per
/// relayed connection (client and upstream) and some to spare for the rest of the process.
pub fn max_connections(open_files: u64) -> usize {
    let spare = 64;
    let n = open_files.saturating_sub(spare) / 2;
    usize::try_from(n.clamp(1, 10_000)).unwrap_or(1)
}

/// Makes the certificates, keys, ticket key and config in a new temporary folder, with the
/// upstream at `upstream` and at most `max_connections` open at once.
pub fn make(
    listen: &str,
    upstream: std::net::SocketAddr,
    max_connections: usize,
) -> Result<Demo, String> {
    let dir = std::env::temp_dir().join(format!("tls-frontend-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let demo = Demo {
        config: dir.join("config.toml"),
        dir: dir.clone(),
    };
    let year = Duration::from_secs(365 * 86_400);
    let e = |e: crypto_core::Error| e.to_string();
    let ca_key = PrivateKey::generate(KeyKind::EcP256).map_err(e)?;
    let ca = x509::issue("tls-frontend demo CA", Role::Ca, &[], &ca_key, None, year).map_err(e)?;
    let sm2_ca_key = PrivateKey::generate(KeyKind::Sm2).map_err(e)?;
    let sm2_ca = x509::issue(
        "tls-frontend demo SM2 CA",
        Role::Ca,
        &[],
        &sm2_ca_key,
        None,
        year,
    )
    .map_err(e)?;
    std::fs::write(dir.join("ca.pem"), x509::pem(&ca) + &x509::pem(&sm2_ca))
        .map_err(|e| e.to_string())?;
    let names = ["localhost", "127.0.0.1"];
    let ca = Issuer {
        cn: "tls-frontend demo CA",
        key: &ca_key,
    };
    let sm2_ca = Issuer {
        cn: "tls-frontend demo SM2 CA",
        key: &sm2_ca_key,
    };
    // A fresh key of `kind` and its certificate for `role` from `issuer`, written as
    // `<stem>.pem` and `<stem>.key` (mode 0600); their paths.
    let issue = |kind: KeyKind, role: Role, stem: &str, issuer: &Issuer<'_>| {
        let key = PrivateKey::generate(kind).map_err(e)?;
        let der = x509::issue(
            &format!("localhost ({stem})"),
            role,
            &names,
            &key,
            Some(issuer),
            year,
        )
        .map_err(e)?;
        let cert = dir.join(format!("{stem}.pem"));
        let keyf = dir.join(format!("{stem}.key"));
        std::fs::write(&cert, x509::pem(&der)).map_err(|e| e.to_string())?;
        write_private(&keyf, &key.to_pkcs8_pem())?;
        Ok::<_, String>((cert, keyf))
    };
    let mut certs = String::new();
    for (kind, stem, issuer) in [
        (KeyKind::EcP256, "ecdsa", &ca),
        (KeyKind::Rsa, "rsa", &ca),
        (KeyKind::Sm2, "sm2", &sm2_ca),
    ] {
        let (cert, keyf) = issue(kind, Role::Server, stem, issuer)?;
        certs.push_str(&format!(
            "[[certificate]]\nnames = [\"localhost\", \"127.0.0.1\"]\ncert = \"{}\"\nkey = \"{}\"\ndefault = true\n\n",
            cert.display(),
            keyf.display()
        ));
    }
    // TLCP: a signing certificate (the SM2 server certificate's role) and an encryption
    // certificate, each with its own key, from the SM2 CA.
    certs.push_str("[[tlcp_certificate]]\nnames = [\"localhost\", \"127.0.0.1\"]\n");
    for (role, stem, field) in [
        (Role::Server, "tlcp-sign", "sign"),
        (Role::Encryption, "tlcp-enc", "enc"),
    ] {
        let (cert, keyf) = issue(KeyKind::Sm2, role, stem, &sm2_ca)?;
        certs.push_str(&format!(
            "{field}_cert = \"{}\"\n{field}_key = \"{}\"\n",
            cert.display(),
            keyf.display()
        ));
    }
    certs.push_str("default = true\n\n");
    let tickets = dir.join("tickets.keys");
    crate::config::tickets::TicketKeys::rotate(&tickets, 3)?;
    let config = &demo.config;
    let text = format!(
        "# Made by `tls-frontend demo`.\n\n\
         drain_timeout = \"2s\"\n\n\
         [[listener]]\naddress = \"{listen}\"\nupstream = \"demo\"\nalpn = [\"http/1.1\"]\ntlcp = true\n\
         max_connections = {max_connections}\n\n\
         {certs}\
         [upstream.demo]\naddresses = [\"{upstream}\"]\nproxy_protocol = \"v2\"\n\n\
         [tickets]\nkey_file = \"{}\"\n\n\
         [crypto]\nbackend = \"auto\"\n\n\
         [admin]\naddress = \"127.0.0.1:0\"\n",
        tickets.display()
    );
    std::fs::write(config, text).map_err(|e| e.to_string())?;
    Ok(demo)
}

/// The demo upstream: reads the PROXY v2 header, then answers every HTTP request with what the
/// proxy said about the client.
pub async fn upstream(listener: TcpListener) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (header, used) = loop {
                match proxy_proto::parse(&buf) {
                    Ok(Some(x)) => break x,
                    Ok(None) => {}
                    Err(_) => return,
                }
                match s.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            };
            buf.drain(..used);
            let mut about = String::new();
            if let Some((src, _)) = header.addresses {
                about.push_str(&format!("client: {src}\n"));
            }
            for (t, v) in &header.tlvs {
                match *t {
                    tlv::AUTHORITY => {
                        about.push_str(&format!("sni: {}\n", String::from_utf8_lossy(v)))
                    }
                    tlv::ALPN => about.push_str(&format!("alpn: {}\n", String::from_utf8_lossy(v))),
                    tlv::SSL if v.len() >= 5 => {
                        for (st, sv) in proxy_proto::parse_tlvs(&v[5..]).unwrap_or_default() {
                            let what = match st {
                                tlv::SSL_VERSION => "tls version",
                                tlv::SSL_CIPHER => "cipher",
                                tlv::SSL_KEY_ALG => "server key",
                                tlv::SSL_CN => "client certificate",
                                _ => continue,
                            };
                            about.push_str(&format!("{what}: {}\n", String::from_utf8_lossy(&sv)));
                        }
                    }
                    _ => {}
                }
            }
            loop {
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    if buf.len() > 65_536 {
                        return;
                    }
                }
                let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                    return;
                };
                let close = wants_close(&buf[..end]);
                buf.drain(..end + 4);
                let body = format!("hello from the demo upstream\n{about}");
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n{}\r\n{body}",
                    body.len(),
                    if close { "connection: close\r\n" } else { "" }
                );
                if s.write_all(resp.as_bytes()).await.is_err() || close {
                    // RFC 9112 section 9.6: after the response to a request that said
                    // `Connection: close`, the server closes the connection.
                    let _ = s.shutdown().await;
                    return;
                }
            }
        });
    }
}

/// Whether an HTTP/1.x request head asks for the connection to close after the response:
/// `Connection: close` (RFC 9112 section 9.6), or HTTP/1.0 without `Connection: keep-alive`.
pub fn wants_close(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut lines = text.split("\r\n");
    let http10 = lines.next().is_some_and(|l| l.ends_with("http/1.0"));
    let mut close = false;
    let mut keep_alive = false;
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && name.trim() == "connection"
        {
            for token in value.split(',') {
                match token.trim() {
                    "close" => close = true,
                    "keep-alive" => keep_alive = true,
                    _ => {}
                }
            }
        }
    }
    close || (http10 && !keep_alive)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_close_is_understood() {
        assert!(wants_close(
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close"
        ));
        assert!(wants_close(
            b"GET / HTTP/1.1\r\nconnection: Keep-Alive, Close"
        ));
        assert!(wants_close(b"GET / HTTP/1.0\r\nHost: x"));
        assert!(!wants_close(b"GET / HTTP/1.0\r\nConnection: keep-alive"));
        assert!(!wants_close(b"GET / HTTP/1.1\r\nHost: x"));
        assert!(!wants_close(b"GET /close HTTP/1.1\r\nX-Connection: close"));
    }

    #[test]
    fn max_connections_fits_the_open_file_limit() {
        assert_eq!(max_connections(20_000), 9_968);
        assert_eq!(max_connections(1_048_576), 10_000);
        assert_eq!(max_connections(1024), 480);
        assert_eq!(max_connections(10), 1);
    }
}
