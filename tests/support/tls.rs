//! TLS test helpers: the checked-in test PKI, rustls configs over our provider, and an
//! in-memory client<->server pump.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::sync::Arc;

use crypto_core::tls;
use crypto_core::{Backend, Selection};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{
    ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig, ServerConnection,
    SignatureScheme, SupportedProtocolVersion,
};

/// The folder holding the test PKI (made by `data/pki/make_pki.sh`).
pub fn pki_dir() -> std::path::PathBuf {
    super::data_dir().join("pki")
}

/// Certificates from `data/pki/<name>.pem`.
pub fn certs(name: &str) -> Vec<CertificateDer<'static>> {
    let path = pki_dir().join(format!("{name}.pem"));
    CertificateDer::pem_file_iter(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The private key `data/pki/<name>.key`.
pub fn key(name: &str) -> PrivateKeyDer<'static> {
    let path = pki_dir().join(format!("{name}.key"));
    PrivateKeyDer::from_pem_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A root store holding the named CA certificates.
pub fn roots(cas: &[&str]) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    for ca in cas {
        for c in certs(ca) {
            roots.add(c).unwrap_or_else(|e| panic!("{ca}: {e}"));
        }
    }
    roots
}

/// Every CA of the test PKI.
pub const ALL_CAS: &[&str] = &["rsa-ca", "ecdsa-ca", "sm2-ca"];

/// The server certificate (file stem) that signs with `scheme`.
pub fn server_cert_for(scheme: SignatureScheme) -> &'static str {
    match scheme {
        SignatureScheme::ECDSA_NISTP256_SHA256 => "ecdsa-p256-server",
        SignatureScheme::ECDSA_NISTP384_SHA384 => "ecdsa-p384-server",
        SignatureScheme::ED25519 => "ed25519-server",
        s if s == tls::SM2SIG_SM3 => "sm2-server",
        _ => "rsa-server",
    }
}

/// `provider` reduced to one suite and one group, with handshake signature verification
/// (the `mapping`, which decides what a client offers) reduced to `scheme`. Certificate chain
/// verification (`all`) is left whole.
pub fn narrow(
    mut provider: CryptoProvider,
    suite: rustls::CipherSuite,
    group: rustls::NamedGroup,
    scheme: SignatureScheme,
) -> CryptoProvider {
    provider.cipher_suites.retain(|s| s.suite() == suite);
    provider.kx_groups.retain(|g| g.name() == group);
    let WebPkiSupportedAlgorithms { all, mapping } = provider.signature_verification_algorithms;
    let one: Vec<_> = mapping
        .iter()
        .filter(|(s, _)| *s == scheme)
        .cloned()
        .collect();
    provider.signature_verification_algorithms = WebPkiSupportedAlgorithms {
        all,
        mapping: Box::leak(one.into_boxed_slice()),
    };
    provider
}

/// A server config over `provider` with the named certificate and key.
pub fn server_config(
    provider: CryptoProvider,
    versions: &[&'static SupportedProtocolVersion],
    cert: &str,
) -> ServerConfig {
    ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs(cert), key(cert))
        .unwrap_or_else(|e| panic!("{cert}: {e}"))
}

/// A client config over `provider` trusting every test CA.
pub fn client_config(
    provider: CryptoProvider,
    versions: &[&'static SupportedProtocolVersion],
) -> ClientConfig {
    client_config_trusting(provider, versions, ALL_CAS)
}

/// A client config over `provider` trusting only the named CAs.
pub fn client_config_trusting(
    provider: CryptoProvider,
    versions: &[&'static SupportedProtocolVersion],
    cas: &[&str],
) -> ClientConfig {
    ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .with_root_certificates(roots(cas))
        .with_no_client_auth()
}

/// The provider for a selection.
pub fn provider(sel: &Selection) -> CryptoProvider {
    tls::provider(sel)
}

/// Moves every pending TLS byte from `from` to `to` and lets `to` process it, appending the
/// plaintext `to` receives to `received`. Returns the number of TLS bytes moved; `log`, if
/// given, receives them.
pub fn transfer(
    from: &mut Connection,
    to: &mut Connection,
    log: Option<&mut Vec<u8>>,
    received: &mut Vec<u8>,
) -> Result<usize, rustls::Error> {
    let mut buf = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut buf).expect("write_tls to a Vec");
    }
    if let Some(l) = log {
        l.extend_from_slice(&buf);
    }
    let mut rd = &buf[..];
    while !rd.is_empty() {
        to.read_tls(&mut rd).expect("read_tls from a slice");
        to.process_new_packets()?;
        // Drain the plaintext as it arrives, as an application would.
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match to.reader().read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(rustls::Error::General(format!("read: {e}"))),
            }
        }
    }
    Ok(buf.len())
}

/// A client and a server connected in memory.
#[allow(missing_debug_implementations)]
pub struct Pair {
    /// The client.
    pub client: Connection,
    /// The server.
    pub server: Connection,
    /// Bytes the client sent, in order.
    pub client_wire: Vec<u8>,
    /// Bytes the server sent, in order.
    pub server_wire: Vec<u8>,
}

impl Pair {
    /// A new pair for `server_name`.
    pub fn new(client: ClientConfig, server: ServerConfig, server_name: &str) -> Self {
        let name = ServerName::try_from(server_name.to_owned()).expect("server name");
        Self {
            client: ClientConnection::new(Arc::new(client), name)
                .expect("client connection")
                .into(),
            server: ServerConnection::new(Arc::new(server))
                .expect("server connection")
                .into(),
            client_wire: Vec::new(),
            server_wire: Vec::new(),
        }
    }

    /// Runs the handshake to completion, or returns the first error either side reports.
    pub fn handshake(&mut self) -> Result<(), rustls::Error> {
        for _ in 0..32 {
            if !self.client.is_handshaking() && !self.server.is_handshaking() {
                return Ok(());
            }
            let mut early = Vec::new();
            let a = transfer(
                &mut self.client,
                &mut self.server,
                Some(&mut self.client_wire),
                &mut early,
            )?;
            let b = transfer(
                &mut self.server,
                &mut self.client,
                Some(&mut self.server_wire),
                &mut early,
            )?;
            assert!(early.is_empty(), "no application data was sent");
            if a == 0 && b == 0 && (self.client.is_handshaking() || self.server.is_handshaking()) {
                return Err(rustls::Error::General("handshake stalled".into()));
            }
        }
        Err(rustls::Error::General("handshake did not finish".into()))
    }

    /// Sends `data` from client to server and from server to client, at the same time, and
    /// checks that both arrive byte for byte.
    pub fn exchange(&mut self, data: &[u8]) -> Result<(), rustls::Error> {
        let mut to_server = Vec::with_capacity(data.len());
        let mut to_client = Vec::with_capacity(data.len());
        let (mut c_sent, mut s_sent) = (0, 0);
        while to_server.len() < data.len() || to_client.len() < data.len() {
            if c_sent < data.len() {
                c_sent += self.client.writer().write(&data[c_sent..]).expect("write");
            }
            if s_sent < data.len() {
                s_sent += self.server.writer().write(&data[s_sent..]).expect("write");
            }
            let a = transfer(&mut self.client, &mut self.server, None, &mut to_server)?;
            let b = transfer(&mut self.server, &mut self.client, None, &mut to_client)?;
            if a == 0 && b == 0 && c_sent == data.len() && s_sent == data.len() {
                break;
            }
        }
        assert!(to_server == data, "client->server data differs");
        assert!(to_client == data, "server->client data differs");
        Ok(())
    }
}

/// The single-backend selections for every built backend, plus mixed ones.
pub fn selections() -> Vec<(String, Selection)> {
    use crypto_core::{Family, Target};
    let mut v: Vec<(String, Selection)> = Backend::built()
        .map(|b| (b.name().to_owned(), Selection::single(b)))
        .collect();
    let mixed = Selection::single(Backend::RustCrypto)
        .with_override(Target::Family(Family::Rsa), Backend::AwsLc)
        .with_override(Target::Family(Family::AesGcm), Backend::Ring)
        .with_override(Target::Family(Family::Sm4), Backend::Asm)
        .with_override(Target::Family(Family::Sm2), Backend::Libsm)
        .with_override(Target::Family(Family::Ecdsa), Backend::Ring)
        .with_override(Target::Family(Family::X25519), Backend::Ring)
        .with_override(Target::Family(Family::MlKem), Backend::AwsLc);
    v.push(("mixed".to_owned(), mixed));
    v
}
