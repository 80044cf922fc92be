//! `tls-frontend tlcp-client`: a TLCP client on the command line, as `openssl s_client` is for
//! TLS. It connects, shakes hands (checking the server's certificates against `--ca` unless
//! told not to), sends a request, prints the reply on stdout and what was negotiated on
//! stderr. `--connections n` connects n times in a row with one session cache, so the second
//! and later ones show resumption.

use std::path::PathBuf;
use std::sync::Arc;

use crypto_core::tlcp::{self, ClientConfig, ServerVerification};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::conn::tlcp::TlcpStream;

/// What to connect to and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// `host:port`.
    pub address: String,
    /// The server name to check and send (default: the address's host).
    pub name: Option<String>,
    /// PEM file with the SM2 root(s); `None` checks nothing (`--insecure`).
    pub ca: Option<PathBuf>,
    /// Suites to offer, in order (default: every one our credentials allow).
    pub suites: Option<Vec<String>>,
    /// Client credentials: signing chain, signing key, encryption certificate, its key.
    pub credentials: Option<[PathBuf; 4]>,
    /// The request sent after the handshake (default: an HTTP/1.1 GET of `/`).
    pub request: Option<String>,
    /// Connections in a row (sharing one session cache).
    pub connections: usize,
    /// The crypto selection (backend per algorithm).
    pub selection: crypto_core::Selection,
}

/// Runs the client; the reply of each connection goes to stdout.
pub async fn run(o: &Options) -> Result<(), String> {
    let host = o.name.clone().unwrap_or_else(|| {
        o.address
            .rsplit_once(':')
            .map_or(o.address.as_str(), |(h, _)| h)
            .trim_matches(['[', ']'])
            .to_owned()
    });
    let verification = match &o.ca {
        Some(ca) => ServerVerification::Roots(crate::config::tlcp::sm2_roots(ca)?),
        None => ServerVerification::DangerousNone,
    };
    let mut config = ClientConfig::new(o.selection.clone(), Vec::new());
    config.verification = verification;
    if let Some(names) = &o.suites {
        config.suites = crate::config::tlcp_suites(names)?;
    }
    if let Some([sc, sk, ec, ek]) = &o.credentials {
        config.credentials = Some(Arc::new(crate::config::tlcp::credentials(sc, sk, ec, ek)?));
    }
    let config = Arc::new(config);
    let request = o
        .request
        .clone()
        .unwrap_or_else(|| format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"));
    for i in 0..o.connections.max(1) {
        let tcp = tokio::net::TcpStream::connect(&o.address)
            .await
            .map_err(|e| format!("{}: {e}", o.address))?;
        let _ = tcp.set_nodelay(true);
        let conn = tlcp::Connection::client(config.clone(), &host).map_err(|e| e.to_string())?;
        let mut s = TlcpStream::new(tcp, conn);
        s.handshake()
            .await
            .map_err(|e| format!("{}: {e}", o.address))?;
        let c = s.connection();
        eprintln!(
            "connection {}: TLCP {}{}, server {}",
            i + 1,
            c.suite().map_or("?", |s| s.name()),
            if c.resumed() { ", resumed" } else { "" },
            host
        );
        s.write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        s.flush().await.map_err(|e| e.to_string())?;
        let mut reply = Vec::new();
        match s.read_to_end(&mut reply).await {
            Ok(_) => {}
            // A server that closes without close_notify still answered.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !reply.is_empty() => {}
            Err(e) => return Err(format!("reading the reply: {e}")),
        }
        let _ = s.shutdown().await;
        // The reply as it came, bytes and all (a file, not only text).
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        out.write_all(&reply)
            .and_then(|()| out.flush())
            .map_err(|e| format!("stdout: {e}"))?;
    }
    Ok(())
}
