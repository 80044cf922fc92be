//! The admin endpoint: `GET /metrics` (Prometheus text), `GET /health` (200, or 503 while
//! draining), `POST /reload` (200 or 500 with the reason). Plain HTTP/1.1, one request per
//! connection; meant for localhost or a management network.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::config::running::Running;

/// Serves the admin endpoint until the process ends.
pub async fn serve(listener: TcpListener, shared: Arc<Running>) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut req = Vec::with_capacity(1024);
            let mut chunk = [0u8; 1024];
            let read = async {
                while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 8192 {
                    let n = s.read(&mut chunk).await.ok()?;
                    if n == 0 {
                        return None;
                    }
                    req.extend_from_slice(&chunk[..n]);
                }
                Some(())
            };
            if tokio::time::timeout(Duration::from_secs(5), read).await != Ok(Some(())) {
                return;
            }
            let line = String::from_utf8_lossy(&req);
            let first = line.lines().next().unwrap_or("");
            let mut parts = first.split(' ');
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let (status, body) = match (method, path) {
                ("GET", "/metrics") => ("200 OK", super::metrics::get().render()),
                ("GET", "/health") if shared.draining() => {
                    ("503 Service Unavailable", "draining\n".to_owned())
                }
                ("GET", "/health") => ("200 OK", "ok\n".to_owned()),
                ("POST", "/reload") => {
                    let s2 = shared.clone();
                    match tokio::task::spawn_blocking(move || s2.reload()).await {
                        Ok(Ok(())) => ("200 OK", "reloaded\n".to_owned()),
                        Ok(Err(e)) => ("500 Internal Server Error", format!("{e}\n")),
                        Err(e) => ("500 Internal Server Error", format!("{e}\n")),
                    }
                }
                _ => ("404 Not Found", "not found\n".to_owned()),
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes()).await;
            let _ = s.shutdown().await;
        });
    }
}
