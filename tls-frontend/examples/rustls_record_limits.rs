//! What rustls itself (without the proxy's own ClientHello reader) answers to records and
//! handshake messages that break RFC 8446's limits: a reproducer for the upstream report. Run:
//! `cargo run -p tls-frontend --example rustls_record_limits`.
//!
//! Each case feeds bytes to a fresh `rustls::ServerConnection` and prints its error and the
//! first record it would send back (an alert's description, a ServerHello, or nothing).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

fn server() -> rustls::ServerConnection {
    let sel = crypto_core::Selection::single(crypto_core::Backend::RustCrypto);
    let provider = Arc::new(crypto_core::tls::provider(&sel));
    let pki = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/pki");
    let key = std::fs::read(format!("{pki}/ecdsa-p256-server.key")).unwrap();
    let key = crypto_core::PrivateKey::from_pem_or_der(&key).unwrap();
    let signing = crypto_core::tls::KeyProvider::get(&sel)
        .signing_key(&key)
        .unwrap();
    use rustls::pki_types::pem::PemObject;
    let chain: Vec<_> =
        rustls::pki_types::CertificateDer::pem_file_iter(format!("{pki}/ecdsa-p256-server.pem"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    let certified = Arc::new(rustls::sign::CertifiedKey::new(chain, Arc::new(signing)));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Fixed(certified)));
    rustls::ServerConnection::new(Arc::new(config)).unwrap()
}

#[derive(Debug)]
struct Fixed(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for Fixed {
    fn resolve(
        &self,
        _: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// A TLS 1.3 ClientHello message with a padding extension of `padding` bytes.
fn client_hello(padding: usize) -> Vec<u8> {
    let mut exts = Vec::new();
    let mut ext = |typ: u16, data: &[u8]| {
        exts.extend_from_slice(&typ.to_be_bytes());
        exts.extend_from_slice(&(data.len() as u16).to_be_bytes());
        exts.extend_from_slice(data);
    };
    ext(10, &[0, 2, 0, 0x1d]);
    ext(13, &[0, 2, 4, 3]);
    ext(43, &[2, 3, 4]);
    let mut share = vec![0, 36, 0, 0x1d, 0, 32];
    share.extend_from_slice(&[9; 32]);
    ext(51, &share);
    if padding > 0 {
        ext(21, &vec![0; padding]);
    }
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x42; 32]);
    body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut msg = vec![1];
    msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(&body);
    msg
}

fn records(msg: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in msg.chunks(size) {
        out.extend_from_slice(&[22, 3, 1]);
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

fn case(what: &str, bytes: &[u8]) {
    let mut conn = server();
    let mut input = bytes;
    let mut err = None;
    while !input.is_empty() && err.is_none() {
        if conn.read_tls(&mut input).unwrap_or(0) == 0 {
            break;
        }
        if let Err(e) = conn.process_new_packets() {
            err = Some(e);
        }
    }
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    let answer = match out.first() {
        None => "nothing (the connection is closed without an alert)".to_owned(),
        Some(21) => format!("alert {}", out.get(6).copied().unwrap_or(0)),
        Some(22) => "a ServerHello".to_owned(),
        Some(t) => format!("a record of type {t}"),
    };
    println!("{what}:\n  rustls error: {err:?}\n  sends: {answer}");
}

fn main() {
    for padding in [16_300, 18_500] {
        let hello = client_hello(padding);
        case(
            &format!(
                "a ClientHello in one record of 2^14 + {} bytes (RFC 8446 5.1: record_overflow = alert 22)",
                hello.len() - (1 << 14)
            ),
            &records(&hello, hello.len()),
        );
    }
    let msg = client_hello(0);
    let mut mixed = records(&msg[..40], 40);
    mixed.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
    mixed.extend_from_slice(&records(&msg[40..], 1 << 14));
    case(
        "a change_cipher_spec record inside a fragmented ClientHello (unexpected_message = 10)",
        &mixed,
    );
    let mut huge = vec![1, 0x01, 0x10, 0x00];
    huge.resize(4 + 0x11000, 0);
    case(
        "a handshake message of 69,632 bytes (an alert: RFC 8446 6.2)",
        &records(&huge, 1 << 14),
    );
}
