//! TLCP (GB/T 38636-2020): our client against our server, every suite, with and without
//! client certificates, with resumption, over every GM backend; and the refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

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
                if suite.is_ecdhe() {
                    // The ClientKeyExchange with the 2-byte length GB/T 38636 writes.
                    let mut c = ClientConfig::new(selection.clone(), sm2_root());
                    c.suites = vec![suite];
                    c.credentials = Some(credentials("client"));
                    c.ecdhe_length_prefix = true;
                    let q = Pair {
                        server: p.server.clone(),
                        client: Arc::new(c),
                    };
                    let (client, _) = exchange(&q, "localhost");
                    assert_eq!(client.suite(), Some(suite));
                } else if creds && auth != ClientAuth::Off {
                    // A client that sends its signing certificate alone.
                    let mut c = ClientConfig::new(selection.clone(), sm2_root());
                    c.suites = vec![suite];
                    c.credentials = Some(credentials("client"));
                    c.send_encryption_certificate = false;
                    let q = Pair {
                        server: p.server.clone(),
                        client: Arc::new(c),
                    };
                    let (_, server) = exchange(&q, "localhost");
                    assert_eq!(
                        server.peer_certificates().len(),
                        2,
                        "signing certificate and CA"
                    );
                }
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

/// Splits a byte stream into records (header and fragment).
fn split_records(mut wire: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while wire.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([wire[3], wire[4]]));
        out.push(wire[..5 + len].to_vec());
        wire = &wire[5 + len..];
    }
    out
}

fn started(suite: Suite) -> (Connection, Connection) {
    let p = pair(
        &Selection::single(Backend::RustCrypto),
        suite,
        ClientAuth::Off,
        false,
    );
    let client = Connection::client(p.client, "localhost").unwrap();
    let server = Connection::server(p.server).unwrap();
    (client, server)
}

/// A ClientKeyExchange that does not decrypt is not reported at once: the server goes on with
/// a random pre-master and the handshake fails where a wrong key would make it fail, at the
/// client's protected Finished, with the same alert.
#[test]
fn a_pre_master_that_does_not_decrypt_fails_at_finished() {
    use conformance::tlcp::feed;
    for suite in [Suite::EccSm4CbcSm3, Suite::EccSm4GcmSm3] {
        let (mut client, mut server) = started(suite);
        let hello = client.take_tls();
        feed(&mut server, &hello, &mut Vec::new()).unwrap();
        let flight = server.take_tls();
        feed(&mut client, &flight, &mut Vec::new()).unwrap();
        let second = client.take_tls();
        let mut records = split_records(&second);
        // The first record is the ClientKeyExchange; corrupt the end of C2 (the last byte of
        // the DER ciphertext), so C3 no longer matches.
        assert_eq!(records[0][5], 16, "ClientKeyExchange first");
        let last = records[0].len() - 1;
        records[0][last] ^= 0x01;
        feed(&mut server, &records[0], &mut Vec::new())
            .expect("the server takes the ClientKeyExchange without a word");
        let rest: Vec<u8> = records[1..].concat();
        let err = feed(&mut server, &rest, &mut Vec::new()).unwrap_err();
        assert_eq!(
            err.alert_to_send(),
            Some(AlertDescription::BadRecordMac),
            "{suite}: the failure shows only at Finished"
        );
    }
}

#[test]
fn tampered_application_data_is_bad_record_mac() {
    use conformance::tlcp::feed;
    for suite in [Suite::EccSm4CbcSm3, Suite::EccSm4GcmSm3] {
        let (mut client, mut server) = started(suite);
        pump(&mut client, &mut server, &mut Received::default()).unwrap();
        client.write_plaintext(b"sixteen bytes!!!").unwrap();
        let mut rec = client.take_tls();
        let n = rec.len();
        rec[n - 20] ^= 0x01;
        let err = feed(&mut server, &rec, &mut Vec::new()).unwrap_err();
        assert_eq!(
            err.alert_to_send(),
            Some(AlertDescription::BadRecordMac),
            "{suite}"
        );
        // The alert goes out, protected, and the client reads it as such.
        let alert = server.take_tls();
        assert_eq!(
            feed(&mut client, &alert, &mut Vec::new()).unwrap_err(),
            Error::PeerAlert(AlertDescription::BadRecordMac)
        );
        // Dead: the same error again, no more processing.
        assert!(server.process_new_packets().is_err());
    }
}

#[test]
fn malformed_first_flights_get_the_right_alert() {
    use conformance::tlcp::feed;
    let cases: [(&str, Vec<u8>, AlertDescription); 5] = [
        (
            "record longer than 2^14 + 2048",
            vec![22, 1, 1, 0x48, 0x01],
            AlertDescription::RecordOverflow,
        ),
        (
            "TLS 1.2 record",
            vec![22, 3, 3, 0, 1, 1],
            AlertDescription::ProtocolVersion,
        ),
        (
            "truncated ClientHello body",
            vec![22, 1, 1, 0, 8, 1, 0, 0, 4, 1, 1, 0, 0],
            AlertDescription::DecodeError,
        ),
        (
            "ChangeCipherSpec first",
            vec![20, 1, 1, 0, 1, 1],
            AlertDescription::UnexpectedMessage,
        ),
        (
            "handshake message longer than 64 KiB",
            vec![22, 1, 1, 0, 4, 1, 0x01, 0x00, 0x01],
            AlertDescription::IllegalParameter,
        ),
    ];
    for (what, bytes, alert) in cases {
        let (_, mut server) = started(Suite::EccSm4GcmSm3);
        let err = feed(&mut server, &bytes, &mut Vec::new()).unwrap_err();
        assert_eq!(err.alert_to_send(), Some(alert), "{what}");
        let out = server.take_tls();
        assert_eq!(
            out,
            [21, 1, 1, 0, 2, 2, alert.to_u8()],
            "{what}: a fatal alert, in clear"
        );
    }
}

/// A server that puts its signing certificate where the encryption certificate belongs: the
/// client refuses it by key usage.
#[test]
fn a_signing_certificate_in_the_encryption_slot_is_refused() {
    use conformance::tlcp::{feed, pem_certs, pem_key};
    // The credentials check refuses it outright.
    let err = crypto_core::tlcp::Credentials::new(
        &pem_certs("sm2-server"),
        pem_key("sm2-server"),
        &pem_certs("sm2-server")[0],
        pem_key("sm2-server"),
    )
    .unwrap_err();
    assert!(err.contains("is it the signing certificate?"), "{err}");
    // On the wire: rewrite the server's Certificate message (sent in clear) to carry the
    // signing certificate twice.
    let (mut client, mut server) = started(Suite::EccSm4GcmSm3);
    let hello = client.take_tls();
    feed(&mut server, &hello, &mut Vec::new()).unwrap();
    let flight = server.take_tls();
    let records = split_records(&flight);
    let body = &records[0][5..];
    let mut messages = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let len = usize::from(rest[1]) << 16 | usize::from(rest[2]) << 8 | usize::from(rest[3]);
        messages.push(rest[..4 + len].to_vec());
        rest = &rest[4 + len..];
    }
    assert_eq!(messages[1][0], 11);
    let sign = pem_certs("sm2-server").remove(0);
    let mut list = Vec::new();
    for c in [&sign, &sign] {
        list.extend_from_slice(&(c.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(c);
    }
    let mut msg = vec![11];
    msg.extend_from_slice(&((list.len() + 3) as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(&(list.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(&list);
    messages[1] = msg;
    let new_body: Vec<u8> = messages.concat();
    let mut rec = vec![22, 1, 1];
    rec.extend_from_slice(&(new_body.len() as u16).to_be_bytes());
    rec.extend_from_slice(&new_body);
    let err = feed(&mut client, &rec, &mut Vec::new()).unwrap_err();
    assert_eq!(
        err.alert_to_send(),
        Some(AlertDescription::UnsupportedCertificate)
    );
}
