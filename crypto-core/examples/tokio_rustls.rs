//! A rustls provider from a `Selection`, used with tokio-rustls: an RFC 8998 server (SM2
//! certificate, TLS_SM4_GCM_SM3, curveSM2) and a client on 127.0.0.1, exchanging one line.
//!
//! `cargo run -p crypto-core --example tokio_rustls`

use std::sync::Arc;

use crypto_core::{SelectionSpec, tls};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const PKI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/pki");

#[tokio::main]
async fn main() -> Result<()> {
    // 1. Which backend computes what: calibrated on this CPU, RSA pinned to aws-lc.
    let spec: SelectionSpec = "backend = \"auto\"\n[override]\nrsa = \"aws-lc\"\n".parse()?;
    let selection = spec.resolve()?;

    // 2. The rustls provider: every suite, group and signature scheme the selection can do.
    let provider = Arc::new(tls::provider(&selection));

    // 3. A server: rustls config as usual, with our provider.
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(
            CertificateDer::pem_file_iter(format!("{PKI}/sm2-server.pem"))?
                .collect::<std::result::Result<_, _>>()?,
            PrivateKeyDer::from_pem_file(format!("{PKI}/sm2-server.key"))?,
        )?;
    let acceptor = TlsAcceptor::from(Arc::new(server));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let served = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = acceptor.accept(tcp).await?;
        let mut line = [0u8; 5];
        tls.read_exact(&mut line).await?;
        tls.write_all(&line).await?;
        tls.shutdown().await?;
        Result::Ok(())
    });

    // 4. A client preferring RFC 8998 (SM suites first, curveSM2 key share).
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(format!("{PKI}/sm2-ca.pem"))? {
        roots.add(ca?)?;
    }
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(tls::prefer_gm(
        tls::provider(&selection),
    )))
    .with_protocol_versions(&[&rustls::version::TLS13])?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(client));
    let tcp = TcpStream::connect(addr).await?;
    let mut tls = connector
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?;
    tls.write_all(b"hello").await?;
    let mut echo = Vec::new();
    tls.read_to_end(&mut echo).await?;
    served.await??;

    let (_, conn) = tls.get_ref();
    println!(
        "{} over {:?} with {:?}: echoed {:?}",
        addr,
        conn.negotiated_cipher_suite().map(|s| s.suite()),
        conn.negotiated_key_exchange_group().map(|g| g.name()),
        String::from_utf8_lossy(&echo)
    );
    assert_eq!(
        conn.negotiated_cipher_suite().map(|s| s.suite()),
        Some(tls::TLS13_SM4_GCM_SM3)
    );
    assert_eq!(echo, b"hello");
    Ok(())
}
