//! Writes the seed corpora in `fuzz/corpus/<target>/` (run from the repository root):
//! `cargo run -p fuzz-logic --example seeds`. Seeds are valid inputs of each kind, so the
//! fuzzer starts from deep paths; the files are committed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::path::Path;

use crypto_core::Backend;
use crypto_core::sm2::CiphertextFormat;
use tls_frontend::conn::proxy_proto::{self, TlsInfo};

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("fuzz/corpus").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn main() {
    // config: the README's example, a minimal one, and one with every section.
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme.find("```toml\n").unwrap() + 8;
    let end = start + readme[start..].find("```").unwrap();
    write("config", "readme.toml", &readme.as_bytes()[start..end]);
    write(
        "config",
        "minimal.toml",
        b"[[listener]]\naddress = \"127.0.0.1:8443\"\nupstream = \"app\"\n\n[[certificate]]\nnames = [\"*\"]\ncert = \"c.pem\"\nkey = \"k.pem\"\n\n[upstream.app]\naddresses = [\"127.0.0.1:8080\"]\n",
    );
    write(
        "config",
        "crypto.toml",
        b"[crypto]\nbackend = \"auto\"\n\n[crypto.override]\nsm2 = \"asm\"\naes-gcm = \"ring\"\n",
    );

    // proxy_protocol: v1 and v2, IPv4 and IPv6, with TLVs.
    let v4: (SocketAddr, SocketAddr) = (
        "192.0.2.1:1234".parse().unwrap(),
        "198.51.100.2:443".parse().unwrap(),
    );
    let v6: (SocketAddr, SocketAddr) = (
        "[2001:db8::1]:1234".parse().unwrap(),
        "[2001:db8::2]:443".parse().unwrap(),
    );
    let tls = TlsInfo {
        version: "TLSv1.3".into(),
        cipher: "TLS_SM4_GCM_SM3".into(),
        sni: Some("example.com".into()),
        alpn: Some(b"h2".to_vec()),
        client_cn: Some("client".into()),
        ..TlsInfo::default()
    };
    write(
        "proxy_protocol",
        "v1_ipv4",
        &proxy_proto::encode_v1(v4.0, v4.1),
    );
    write(
        "proxy_protocol",
        "v1_ipv6",
        &proxy_proto::encode_v1(v6.0, v6.1),
    );
    write(
        "proxy_protocol",
        "v2_ipv4_tlvs",
        &proxy_proto::encode_v2(v4.0, v4.1, &tls),
    );
    write(
        "proxy_protocol",
        "v2_ipv6",
        &proxy_proto::encode_v2(v6.0, v6.1, &TlsInfo::default()),
    );
    write("proxy_protocol", "v1_unknown", b"PROXY UNKNOWN\r\n");

    // sm2_der: a signature, a ciphertext and the key encodings.
    let key = fuzz_logic::sm2_key();
    let sig = Backend::Asm
        .sm2_signing_key(key, b"id")
        .unwrap()
        .sign(b"msg")
        .unwrap();
    write("sm2_der", "signature.der", &sig);
    let ct = Backend::Asm
        .sm2_encrypt(key.public_key(), b"attack at dawn", CiphertextFormat::Der)
        .unwrap();
    write("sm2_der", "ciphertext.der", &ct);
    write("sm2_der", "key.pkcs8.der", key.pkcs8_der());
    write("sm2_der", "key.sec1.der", &key.to_sec1_der().unwrap());

    // gm_differential: SM3 (even first byte) and each SM4 mode (odd), several lengths.
    for (i, len) in [0usize, 1, 55, 56, 64, 200, 1000].into_iter().enumerate() {
        let body: Vec<u8> = (0..len).map(|j| (j * 31 + i) as u8).collect();
        write(
            "gm_differential",
            &format!("sm3_{len}"),
            &[&[0u8][..], &body].concat(),
        );
        let op = [1u8, 3, 5][i % 3];
        let sm4: Vec<u8> = (0..32 + len).map(|j| (j * 7 + i) as u8).collect();
        write(
            "gm_differential",
            &format!("sm4_{op}_{len}"),
            &[&[op][..], &sm4].concat(),
        );
    }

    // aead_differential: each AEAD with some AAD and data.
    for sel in 0..crypto_core::AeadAlg::ALL.len() as u8 {
        let body: Vec<u8> = (0..120u32)
            .map(|j| (j * 13 + u32::from(sel)) as u8)
            .collect();
        write(
            "aead_differential",
            &format!("aead_{sel}"),
            &[&[sel][..], &body].concat(),
        );
    }

    // server_handshake: a real ClientHello (and the whole first flight) for each family.
    for (i, _) in fuzz_logic::server_configs().iter().enumerate() {
        let sel = match i {
            0 => crypto_core::Selection::single(Backend::Ring),
            1 => crypto_core::Selection::single(Backend::AwsLc),
            2 => crypto_core::Selection::single(Backend::RustCrypto),
            _ => crypto_core::Selection::single(Backend::Asm),
        };
        let provider = conformance::tls::provider(&sel);
        let cfg = conformance::tls::client_config(provider, rustls::ALL_VERSIONS);
        let name = "localhost";
        let mut client = rustls::ClientConnection::new(
            std::sync::Arc::new(cfg),
            rustls::pki_types::ServerName::try_from(name).unwrap(),
        )
        .unwrap();
        let mut hello = vec![i as u8];
        client.write_tls(&mut hello).unwrap();
        write("server_handshake", &format!("client_hello_{i}"), &hello);
    }
    // tlcp_record: records that open (CBC and GCM), one empty, one long, one garbage.
    use crypto_core::tlcp::fuzzing::sealed_records;
    for gcm in [false, true] {
        let kind = if gcm { "gcm" } else { "cbc" };
        write(
            "tlcp_record",
            &format!("{kind}_two"),
            &sealed_records(gcm, &[b"GET / HTTP/1.1\r\n\r\n", b"second"]),
        );
        write(
            "tlcp_record",
            &format!("{kind}_empty_and_long"),
            &sealed_records(gcm, &[b"", &[0x5a; 2000]]),
        );
    }
    write("tlcp_record", "header_only", &[0, 23, 1, 1, 0, 32]);

    // tlcp_messages and tlcp_server: a real conversation per client-auth mode, recorded.
    use conformance::tlcp::{credentials, sm2_root};
    use crypto_core::tlcp::{ClientConfig, Connection, Suite};
    for (i, cfg) in fuzz_logic::tlcp_server_configs().iter().enumerate() {
        for suite in [Suite::EccSm4CbcSm3, Suite::EcdheSm4GcmSm3] {
            let mut cc = ClientConfig::new(
                crypto_core::Selection::single(Backend::RustCrypto),
                sm2_root(),
            );
            cc.suites = vec![suite];
            cc.credentials = Some(credentials("client"));
            let mut client = Connection::client(std::sync::Arc::new(cc), "localhost").unwrap();
            let mut server = Connection::server(cfg.clone()).unwrap();
            let mut from_client = vec![i as u8];
            let mut messages: Vec<Vec<u8>> = Vec::new();
            for _ in 0..6 {
                let c = client.take_tls();
                from_client.extend_from_slice(&c);
                split_handshake(&c, &mut messages);
                server.read_tls(&c);
                if server.process_new_packets().is_err() {
                    break;
                }
                let s = server.take_tls();
                split_handshake(&s, &mut messages);
                client.read_tls(&s);
                if client.process_new_packets().is_err() {
                    break;
                }
            }
            write(
                "tlcp_server",
                &format!("conversation_{i}_{:04x}", suite.code()),
                &from_client,
            );
            for (j, m) in messages.iter().enumerate() {
                write(
                    "tlcp_messages",
                    &format!("{i}_{:04x}_{j}_type{}", suite.code(), m[0]),
                    &m[4..],
                );
            }
        }
    }
    println!("seed corpora written under fuzz/corpus/");
}

/// The plaintext handshake messages in `wire` (records of type 22 before any encryption:
/// the first flights), appended to `out` with their 4-byte headers.
fn split_handshake(mut wire: &[u8], out: &mut Vec<Vec<u8>>) {
    let mut hs = Vec::new();
    while wire.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([wire[3], wire[4]]));
        if wire[0] == 20 {
            break; // ChangeCipherSpec: what follows is encrypted
        }
        if wire[0] == 22 {
            hs.extend_from_slice(&wire[5..5 + len]);
        }
        wire = &wire[5 + len..];
    }
    while hs.len() >= 4 {
        let len = (usize::from(hs[1]) << 16) | (usize::from(hs[2]) << 8) | usize::from(hs[3]);
        if hs.len() < 4 + len {
            break;
        }
        out.push(hs[..4 + len].to_vec());
        hs.drain(..4 + len);
    }
}
