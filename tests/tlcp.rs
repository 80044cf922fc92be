//! TLCP (GB/T 38636-2020): our client against our server, every suite, with and without
//! client certificates, with resumption, over every GM backend; and the refusals.

use std::sync::Arc;

use conformance::tlcp::{Received, credentials, gm_selections, pump, sm2_root};
use crypto_core::tlcp::{
    AlertDescription, ClientAuth, ClientConfig, Connection, Error, ServerConfig, SessionCache,
    Suite,
};
use crypto_core::{Backend, Selection};

struct Pair {
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
}

fn pair(selection: &Selection, suite: Suite, auth: ClientAuth, client_creds: bool) -> Pair {
    let mut server = ServerConfig::new(selection.clone(), credentials("server"));
    server.suites = vec![suite];
    server.client_auth = auth;
    server.client_roots = sm2_root();
    let mut client = ClientConfig::new(selection.clone(), sm2_root());
    client.suites = vec![suite];
    if client_creds {
        client.credentials = Some(credentials("client"));
    }
    Pair {
        server: Arc::new(server),
        client: Arc::new(client),
    }
}

/// A full exchange: handshake, then data both ways (one message longer than a record).
fn exchange(p: &Pair, name: &str) -> (Connection, Connection) {
    let mut client = Connection::client(p.client.clone(), name).unwrap();
    let mut server = Connection::server(p.server.clone()).unwrap();
    let mut got = Received::default();
    pump(&mut client, &mut server, &mut got).unwrap_or_else(|(srv, e)| {
        panic!(
            "handshake failed on the {}: {e}",
            if srv { "server" } else { "client" }
        )
    });
    assert!(!client.is_handshaking() && !server.is_handshaking());
    let up: Vec<u8> = (0..40_000u32).map(|i| (i * 7) as u8).collect();
    client.write_plaintext(&up).unwrap();
    server.write_plaintext(b"hello from the server").unwrap();
    pump(&mut client, &mut server, &mut got).unwrap();
    assert_eq!(got.server, up, "the server received what the client sent");
    assert_eq!(got.client, b"hello from the server");
    (client, server)
}

#[test]
fn every_suite_every_gm_backend_with_and_without_client_certificates_and_resumption() {
    let mut runs = 0;
    for (backend, selection) in gm_selections() {
        for &suite in Suite::ALL {
            // ECDHE needs client certificates: it is offered and chosen only with them.
            let auths: &[(ClientAuth, bool)] = if suite.is_ecdhe() {
                &[(ClientAuth::Optional, true), (ClientAuth::Required, true)]
            } else {
                &[
                    (ClientAuth::Off, false),
                    (ClientAuth::Optional, false),
                    (ClientAuth::Optional, true),
                    (ClientAuth::Required, true),
                ]
            };
            for &(auth, creds) in auths {
                let p = pair(&selection, suite, auth, creds);
                let (client, server) = exchange(&p, "localhost");
                assert_eq!(client.suite(), Some(suite));
                assert_eq!(server.suite(), Some(suite));
                assert!(!client.resumed() && !server.resumed());
                assert_eq!(
                    server.peer_certificates().len(),
                    if creds && auth != ClientAuth::Off {
                        3
                    } else {
                        0
                    },
                    "{backend} {suite} {auth:?}: the client's sign, enc and CA certificates"
                );
                assert_eq!(client.peer_certificates().len(), 3);
                assert_eq!(server.server_name(), Some("localhost"));
                // The same caches: the second connection resumes.
                let (client, server) = exchange(&p, "localhost");
                assert!(
                    client.resumed() && server.resumed(),
                    "{backend} {suite}: resumed"
                );
                assert_eq!(client.suite(), Some(suite));
                runs += 1;
            }
        }
        println!("{backend}: every suite, full and resumed");
    }
    assert!(runs >= 10, "only {runs} runs");
}

#[test]
fn the_client_checks_the_server() {
    let selection = Selection::single(Backend::RustCrypto);
    // Wrong name.
    let p = pair(&selection, Suite::EccSm4GcmSm3, ClientAuth::Off, false);
    let mut client = Connection::client(p.client.clone(), "other.example").unwrap();
    let mut server = Connection::server(p.server.clone()).unwrap();
    let err = pump(&mut client, &mut server, &mut Received::default()).unwrap_err();
    assert_eq!(
        err,
        (
            false,
            Error::Refused {
                alert: AlertDescription::BadCertificate,
                reason: "the server's certificate does not name the server"
            }
        )
    );
    // Unknown CA: the client trusts another root (the ECDSA test CA is no SM2 certificate, so
    // use an empty anchor list).
    let mut c = ClientConfig::new(selection.clone(), Vec::new());
    c.suites = vec![Suite::EccSm4GcmSm3];
    let mut client = Connection::client(Arc::new(c), "localhost").unwrap();
    let mut server = Connection::server(p.server.clone()).unwrap();
    let (side, e) = pump(&mut client, &mut server, &mut Received::default()).unwrap_err();
    assert!(!side);
    assert_eq!(e.alert_to_send(), Some(AlertDescription::UnknownCa));
}

#[test]
fn required_client_certificates_are_required() {
    let selection = Selection::single(Backend::RustCrypto);
    let p = pair(&selection, Suite::EccSm4CbcSm3, ClientAuth::Required, false);
    let mut client = Connection::client(p.client.clone(), "localhost").unwrap();
    let mut server = Connection::server(p.server.clone()).unwrap();
    let (side, e) = pump(&mut client, &mut server, &mut Received::default()).unwrap_err();
    assert!(side, "the server refuses");
    assert_eq!(e.alert_to_send(), Some(AlertDescription::HandshakeFailure));
}

#[test]
fn no_common_suite_is_a_handshake_failure() {
    let selection = Selection::single(Backend::RustCrypto);
    let mut server = ServerConfig::new(selection.clone(), credentials("server"));
    server.suites = vec![Suite::EccSm4CbcSm3];
    let mut client = ClientConfig::new(selection, sm2_root());
    client.suites = vec![Suite::EccSm4GcmSm3];
    let mut c = Connection::client(Arc::new(client), "localhost").unwrap();
    let mut s = Connection::server(Arc::new(server)).unwrap();
    let (side, e) = pump(&mut c, &mut s, &mut Received::default()).unwrap_err();
    assert!(side);
    assert_eq!(e.alert_to_send(), Some(AlertDescription::HandshakeFailure));
    // The client receives the alert.
    let alert = s.take_tls();
    let err = conformance::tlcp::feed(&mut c, &alert, &mut Vec::new()).unwrap_err();
    assert_eq!(err, Error::PeerAlert(AlertDescription::HandshakeFailure));
}

#[test]
fn a_session_cache_is_bounded() {
    let cache = SessionCache::new(2, std::time::Duration::from_secs(60));
    let selection = Selection::single(Backend::RustCrypto);
    let mut server = ServerConfig::new(selection.clone(), credentials("server"));
    server.sessions = Arc::new(cache);
    let server = Arc::new(server);
    for _ in 0..5 {
        let client = Arc::new(ClientConfig::new(selection.clone(), sm2_root()));
        let p = Pair {
            server: server.clone(),
            client,
        };
        exchange(&p, "localhost");
    }
    assert_eq!(server.sessions.len(), 2);
}
