//! The bodies of the fuzz targets in `fuzz/` (cargo-fuzz, its own workspace), kept in the main
//! workspace so that each target's seed corpus, `fuzz/corpus/<target>/`, replays as an
//! ordinary test on stable Rust (`tests/replay.rs`, part of `cargo test`).
//!
//! Each function takes arbitrary bytes and panics only on a real defect: a panic in the code
//! under test, or backends disagreeing where they must agree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::sync::{Arc, OnceLock};

use crypto_core::sm2::CiphertextFormat;
use crypto_core::{
    AeadAlg, Algorithm, Backend, CipherAlg, HashAlg, KeyKind, Nonce, PrivateKey, Selection,
    SignatureAlg, TAG_LEN,
};

/// A target's body.
pub type Body = fn(&[u8]);

/// Every target: its name (the `fuzz/fuzz_targets/<name>.rs` binary and corpus folder) and
/// its body.
pub const TARGETS: &[(&str, Body)] = &[
    ("config", config),
    ("proxy_protocol", proxy_protocol),
    ("sm2_der", sm2_der),
    ("gm_differential", gm_differential),
    ("aead_differential", aead_differential),
    ("server_handshake", server_handshake),
    ("tlcp_record", tlcp_record),
    ("tlcp_messages", tlcp_messages),
    ("tlcp_server", tlcp_server),
];

/// The proxy's TOML configuration: parsing never panics, and what parses yields a selection
/// (or a clean error).
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = tls_frontend::config::Config::parse(text) {
        let _ = cfg.selection_spec();
    }
}

/// PROXY protocol v1/v2 headers: parsing never panics, a complete header's length lies within
/// the input, and a parsed header with addresses encodes and parses back to the same
/// addresses.
pub fn proxy_protocol(data: &[u8]) {
    use tls_frontend::conn::proxy_proto::{self, TlsInfo};
    let _ = proxy_proto::parse_tlvs(data);
    let Ok(Some((header, len))) = proxy_proto::parse(data) else {
        return;
    };
    assert!(len <= data.len(), "header longer than the input");
    if let Some((src, dst)) = header.addresses {
        for encoded in [
            proxy_proto::encode_v1(src, dst),
            proxy_proto::encode_v2(src, dst, &TlsInfo::default()),
        ] {
            let (again, n) = proxy_proto::parse(&encoded).unwrap().unwrap();
            assert_eq!(n, encoded.len());
            assert_eq!(again.addresses, Some((src, dst)));
        }
    }
}

/// A fixed SM2 key for the DER targets.
pub fn sm2_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::from_ec_scalar(KeyKind::Sm2, &[0x4d; 32]).unwrap())
}

fn backends_for(alg: Algorithm) -> Vec<Backend> {
    Backend::built().filter(|b| b.supports(alg)).collect()
}

/// SM2 DER inputs: ciphertext structures (converted and decrypted), private keys, and
/// signatures. Every backend must give the same verdict on the same signature and the same
/// result for the same ciphertext; conversions round-trip.
pub fn sm2_der(data: &[u8]) {
    if let Ok(raw) = crypto_core::sm2::der_to_raw(data) {
        let der = crypto_core::sm2::raw_to_der(&raw).unwrap();
        assert_eq!(crypto_core::sm2::der_to_raw(&der).unwrap(), raw);
    }
    let _ = PrivateKey::from_pem_or_der(data);
    let key = sm2_key();
    let verdicts: Vec<(Backend, bool)> = backends_for(Algorithm::Signature(SignatureAlg::Sm2Sm3))
        .into_iter()
        .map(|b| {
            (
                b,
                b.sm2_verify(key.public_key(), b"id", b"msg", data).is_ok(),
            )
        })
        .collect();
    assert!(
        verdicts.windows(2).all(|w| w[0].1 == w[1].1),
        "backends disagree on a signature: {verdicts:?}"
    );
    let plain: Vec<(Backend, Option<Vec<u8>>)> = backends_for(Algorithm::Sm2Encryption)
        .into_iter()
        .map(|b| {
            let r = b.sm2_decrypt(key, data, CiphertextFormat::Der);
            (b, r.ok().map(|p| p.to_vec()))
        })
        .collect();
    assert!(
        plain.windows(2).all(|w| w[0].1 == w[1].1),
        "backends disagree on a ciphertext: {:?}",
        plain
            .iter()
            .map(|(b, p)| (b, p.is_some()))
            .collect::<Vec<_>>()
    );
}

/// SM3 and SM4 on every backend and on each of our kernels forced: the same bytes everywhere.
/// The first byte picks SM3 or an SM4 mode; SM4 takes a key and IV from the input.
pub fn gm_differential(data: &[u8]) {
    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    let hw = asm::cpu::Features::get();
    if op % 2 == 0 {
        let want = Backend::RustCrypto.hash(HashAlg::Sm3).unwrap().hash(rest);
        for b in backends_for(Algorithm::Hash(HashAlg::Sm3)) {
            assert_eq!(
                b.hash(HashAlg::Sm3).unwrap().hash(rest).as_ref(),
                want.as_ref(),
                "{b}"
            );
        }
        for k in asm::sm3::Kernel::available() {
            let mut h = asm::sm3::Sm3::with_features(hw.restricted_to(k.features()));
            let half = rest.len() / 2;
            h.update(&rest[..half]);
            h.update(&rest[half..]);
            assert_eq!(&h.finish()[..], want.as_ref(), "{k:?}");
        }
        for k in asm::sm3::ManyKernel::available() {
            let f = hw.restricted_to(k.features());
            let parts: Vec<&[u8]> = rest.chunks(rest.len() / 3 + 1).chain([rest]).collect();
            let got = asm::sm3::digest_many_with_features(f, &parts);
            assert_eq!(&got[got.len() - 1][..], want.as_ref(), "{k:?}");
        }
        return;
    }
    if rest.len() < 32 {
        return;
    }
    let (key, rest) = rest.split_at(16);
    let (iv, rest) = rest.split_at(16);
    let whole = rest.len() / 16 * 16;
    let alg = [CipherAlg::Sm4Ecb, CipherAlg::Sm4Cbc, CipherAlg::Sm4Ctr][usize::from(op / 2) % 3];
    let data = if alg == CipherAlg::Sm4Ctr {
        rest
    } else {
        &rest[..whole]
    };
    let iv: &[u8] = if alg == CipherAlg::Sm4Ecb { &[] } else { iv };
    let mut want: Option<Vec<u8>> = None;
    for b in backends_for(Algorithm::Cipher(alg)) {
        let k = b.cipher(alg, key).unwrap();
        let mut buf = data.to_vec();
        k.encrypt(iv, &mut buf).unwrap();
        match &want {
            None => want = Some(buf.clone()),
            Some(w) => assert_eq!(w, &buf, "{b} {alg:?}"),
        }
        k.decrypt(iv, &mut buf).unwrap();
        assert_eq!(buf, data, "{b} {alg:?} round trip");
    }
}

/// AEADs: every backend seals arbitrary key/nonce/aad/data to the same bytes, opens the
/// others' output, and refuses the same tampered input.
pub fn aead_differential(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let alg = AeadAlg::ALL[usize::from(selector) % AeadAlg::ALL.len()];
    if rest.len() < alg.key_len() + 12 + 1 {
        return;
    }
    let (key, rest) = rest.split_at(alg.key_len());
    let (nonce, rest) = rest.split_at(12);
    let (&aad_len, rest) = rest.split_first().unwrap_or((&0, &[]));
    let aad_len = usize::from(aad_len).min(rest.len());
    let (aad, plaintext) = rest.split_at(aad_len);
    let nonce = Nonce(nonce.try_into().unwrap());
    let backends = backends_for(Algorithm::Aead(alg));
    let mut sealed: Option<Vec<u8>> = None;
    for b in &backends {
        let k = b.aead(alg, key).expect("valid key length");
        let mut buf = plaintext.to_vec();
        buf.resize(plaintext.len() + TAG_LEN, 0);
        k.seal_in_place(&nonce, aad, &mut buf, plaintext.len())
            .expect("seal");
        match &sealed {
            None => sealed = Some(buf),
            Some(s) => assert_eq!(s, &buf, "{b} sealed differently"),
        }
    }
    let Some(sealed) = sealed else { return };
    let flip = usize::from(selector) % (sealed.len() * 8);
    for b in &backends {
        let k = b.aead(alg, key).expect("valid key length");
        let mut buf = sealed.clone();
        assert_eq!(
            k.open_in_place(&nonce, aad, &mut buf).expect("open"),
            plaintext
        );
        let mut bad = sealed.clone();
        bad[flip / 8] ^= 1 << (flip % 8);
        assert!(
            k.open_in_place(&nonce, aad, &mut bad).is_err(),
            "{b} accepted a tampered message"
        );
    }
}

/// The server configs the handshake target drives: one per selection family (ring, aws-lc,
/// rustcrypto with an ECDSA certificate; asm, GM only, with the SM2 certificate).
pub fn server_configs() -> &'static [Arc<rustls::ServerConfig>] {
    static CONFIGS: OnceLock<Vec<Arc<rustls::ServerConfig>>> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        use conformance::tls;
        let versions = rustls::ALL_VERSIONS;
        [
            (Backend::Ring, "ecdsa-p256-server"),
            (Backend::AwsLc, "ecdsa-p256-server"),
            (Backend::RustCrypto, "ecdsa-p256-server"),
            (Backend::Asm, "sm2-server"),
        ]
        .into_iter()
        .map(|(b, cert)| {
            let provider = tls::provider(&Selection::single(b));
            Arc::new(tls::server_config(provider, versions, cert))
        })
        .collect()
    })
}

/// The server side of a handshake fed arbitrary client bytes: never a panic, whatever the
/// bytes. The first byte picks the selection family.
pub fn server_handshake(data: &[u8]) {
    let Some((&which, mut input)) = data.split_first() else {
        return;
    };
    let configs = server_configs();
    let cfg = configs[usize::from(which) % configs.len()].clone();
    let mut conn = rustls::ServerConnection::new(cfg).unwrap();
    let mut sink = Vec::new();
    while !input.is_empty() {
        match conn.read_tls(&mut input) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if conn.process_new_packets().is_err() {
            let _ = conn.write_tls(&mut sink); // the alert
            break;
        }
        while conn.wants_write() {
            if conn.write_tls(&mut sink).is_err() {
                break;
            }
        }
    }
}

/// TLCP's record layer (`crypto_core::tlcp::fuzzing::records`): arbitrary records opened
/// under CBC or GCM, and a seal/open round trip.
pub fn tlcp_record(data: &[u8]) {
    crypto_core::tlcp::fuzzing::records(data);
}

/// TLCP's handshake message decoders, with re-encoding round trips.
pub fn tlcp_messages(data: &[u8]) {
    crypto_core::tlcp::fuzzing::handshake_messages(data);
}

/// TLCP server configurations: client authentication off, optional, required (the seed
/// writer records one conversation with each).
pub fn tlcp_server_configs() -> &'static [Arc<crypto_core::tlcp::ServerConfig>] {
    static CONFIGS: OnceLock<Vec<Arc<crypto_core::tlcp::ServerConfig>>> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        use crypto_core::tlcp::{ClientAuth, ServerConfig};
        [ClientAuth::Off, ClientAuth::Optional, ClientAuth::Required]
            .into_iter()
            .map(|auth| {
                let mut c = ServerConfig::new(
                    Selection::single(Backend::RustCrypto),
                    conformance::tlcp::credentials("server"),
                );
                c.client_auth = auth;
                c.client_roots = conformance::tlcp::sm2_root();
                Arc::new(c)
            })
            .collect()
    })
}

/// The TLCP server state machine fed arbitrary client flights: `data[0]` picks the client
/// authentication mode and how the rest is cut into reads; never a panic, and after an error
/// the connection stays dead.
pub fn tlcp_server(data: &[u8]) {
    let Some((&which, input)) = data.split_first() else {
        return;
    };
    let configs = tlcp_server_configs();
    let cfg = configs[usize::from(which) % configs.len()].clone();
    let chunk = usize::from(which >> 2).max(1) * 7;
    let mut conn = crypto_core::tlcp::Connection::server(cfg).unwrap();
    let mut plain = [0u8; 4096];
    for piece in input.chunks(chunk) {
        let mut piece = piece;
        while !piece.is_empty() {
            let n = conn.read_tls(piece);
            piece = &piece[n..];
            if conn.process_new_packets().is_err() {
                let _ = conn.take_tls(); // the alert
                assert!(conn.process_new_packets().is_err(), "dead after an error");
                assert!(conn.write_plaintext(b"x").is_err());
                return;
            }
            let _ = conn.take_tls();
            while conn.read_plaintext(&mut plain) > 0 {}
            if n == 0 {
                break;
            }
        }
    }
}
