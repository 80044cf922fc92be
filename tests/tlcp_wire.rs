//! TLCP on the wire, read by this test's own code (as `tls_rfc8998.rs` does for RFC 8998):
//!
//! - every record and hello carries version 0x0101, the suites are GB/T 38636-2020's code
//!   points, and the server's Certificate message is the signing certificate, the encryption
//!   certificate, then the CA;
//! - ECC: the ServerKeyExchange signature over `client_random || server_random ||
//!   len24 || encryption certificate` is verified by the reference SM2 (`support/sm2_ref.rs`,
//!   big integers written from GB/T 32918) and by the OpenSSL 3 CLI with the default ID; the
//!   ClientKeyExchange (2-byte length, GM/T 0009 DER) is decrypted by OpenSSL's `pkeyutl
//!   -decrypt` and by the reference SM2 with the server's encryption key: 48 bytes starting
//!   01 01; from that pre-master the test derives the master secret and key block with its own
//!   P_SM3, opens both Finished records (SM4-CBC + HMAC-SM3, or SM4-GCM) and recomputes both
//!   verify_data values from SM3 of the transcript;
//! - ECDHE: the ServerKeyExchange is `03 00 29 41 || point || signature` with the signature
//!   over the randoms and those parameter bytes; the ClientKeyExchange is the 69-byte
//!   ECParameters and point; the client's CertificateVerify is an SM2 signature (default ID)
//!   over SM3 of the handshake so far, verified by the reference SM2;
//! - the SM2 key exchange protocol itself (GB/T 32918.3) matches a reference computation from
//!   the same keys, both roles.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::sync::Arc;

use conformance::sm2_ref::{Curve, be32};
use conformance::tlcp::{credentials, pem_certs, pem_key, sm2_root};
use crypto_core::tlcp::{ClientAuth, ClientConfig, Connection, ServerConfig, Suite};
use crypto_core::{
    AeadAlg, Backend, CipherAlg, HashAlg, KeyKind, Nonce, PrivateKey, Selection, sm2,
};
use num_bigint::BigUint;

struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        assert!(self.0.len() >= n, "truncated");
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn u8(&mut self) -> usize {
        self.take(1)[0] as usize
    }
    fn u16(&mut self) -> usize {
        let b = self.take(2);
        u16::from_be_bytes([b[0], b[1]]) as usize
    }
    fn u24(&mut self) -> usize {
        let b = self.take(3);
        (b[0] as usize) << 16 | (b[1] as usize) << 8 | b[2] as usize
    }
    fn vec8(&mut self) -> &'a [u8] {
        let n = self.u8();
        self.take(n)
    }
    fn vec16(&mut self) -> &'a [u8] {
        let n = self.u16();
        self.take(n)
    }
    fn vec24(&mut self) -> &'a [u8] {
        let n = self.u24();
        self.take(n)
    }
}

/// (type, fragment) of each record, asserting the header's version is 0x0101.
fn records(wire: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut r = Rd(wire);
    let mut out = Vec::new();
    while !r.0.is_empty() {
        let typ = r.u8() as u8;
        assert_eq!(r.u16(), 0x0101, "record version");
        out.push((typ, r.vec16().to_vec()));
    }
    out
}

fn messages(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let len = Rd(&bytes[1..4]).u24();
        out.push(bytes[..4 + len].to_vec());
        bytes = &bytes[4 + len..];
    }
    out
}

fn sm3(parts: &[&[u8]]) -> Vec<u8> {
    let h = Backend::RustCrypto.hash(HashAlg::Sm3).unwrap();
    let mut c = h.start();
    for p in parts {
        c.update(p);
    }
    c.finish().as_ref().to_vec()
}

fn hmac_sm3(key: &[u8], data: &[&[u8]]) -> Vec<u8> {
    let m = Backend::RustCrypto.hmac(HashAlg::Sm3).unwrap();
    m.with_key(key).sign(data).as_ref().to_vec()
}

/// RFC 5246 section 5's P_hash with HMAC-SM3, written out here.
fn p_sm3(secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let seed = [label, seed].concat();
    let mut a = hmac_sm3(secret, &[&seed]);
    let mut out = Vec::new();
    while out.len() < len {
        out.extend(hmac_sm3(secret, &[&a, &seed]));
        a = hmac_sm3(secret, &[&a]);
    }
    out.truncate(len);
    out
}

/// Both directions' bytes of one handshake plus one application message each way.
struct Wire {
    to_server: Vec<u8>,
    to_client: Vec<u8>,
}

fn run(suite: Suite, auth: ClientAuth, client_creds: bool) -> Wire {
    let selection = Selection::single(Backend::RustCrypto);
    let mut s = ServerConfig::new(selection.clone(), credentials("server"));
    s.suites = vec![suite];
    s.client_auth = auth;
    s.client_roots = sm2_root();
    let mut c = ClientConfig::new(selection, sm2_root());
    c.suites = vec![suite];
    if client_creds {
        c.credentials = Some(credentials("client"));
    }
    let mut client = Connection::client(Arc::new(c), "localhost").unwrap();
    let mut server = Connection::server(Arc::new(s)).unwrap();
    let mut wire = Wire {
        to_server: Vec::new(),
        to_client: Vec::new(),
    };
    for _ in 0..20 {
        let a = client.take_tls();
        let b = server.take_tls();
        if a.is_empty() && b.is_empty() {
            break;
        }
        wire.to_server.extend_from_slice(&a);
        wire.to_client.extend_from_slice(&b);
        assert_eq!(server.read_tls(&a), a.len());
        server.process_new_packets().unwrap();
        assert_eq!(client.read_tls(&b), b.len());
        client.process_new_packets().unwrap();
    }
    assert!(!client.is_handshaking() && !server.is_handshaking());
    wire
}

fn ske_signature_checks(cr: &[u8], sr: &[u8], signed: &[u8], sig: &[u8], what: &str) {
    let tbs = [cr, sr, signed].concat();
    let sign_cert = &pem_certs("sm2-server")[0];
    let public = credentials("server")
        .signing_certificate()
        .public_key()
        .to_vec();
    assert_eq!(
        credentials("server").signing_certificate().der(),
        &sign_cert[..]
    );
    let c = Curve::sm2();
    let (r, s) = der_rs(sig);
    assert!(
        c.verify(&Curve::decode(&public), sm2::DEFAULT_ID, &tbs, &r, &s),
        "{what}: the reference SM2 rejects the ServerKeyExchange signature"
    );
    if conformance::openssl_cli(what) {
        let dir = tempdir(what);
        let p = |n: &str| dir.join(n).to_str().unwrap().to_owned();
        std::fs::write(p("cert.pem"), std::fs::read(pki("sm2-server.pem")).unwrap()).unwrap();
        std::fs::write(p("tbs"), &tbs).unwrap();
        std::fs::write(p("sig"), sig).unwrap();
        let out = std::process::Command::new("openssl")
            .args([
                "x509",
                "-in",
                &p("cert.pem"),
                "-pubkey",
                "-noout",
                "-out",
                &p("pub.pem"),
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let ok = std::process::Command::new("openssl")
            .args([
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                &p("pub.pem"),
                "-rawin",
            ])
            .args(["-digest", "sm3", "-pkeyopt", "distid:1234567812345678"])
            .args(["-in", &p("tbs"), "-sigfile", &p("sig")])
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{what}: OpenSSL rejects the ServerKeyExchange"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}

fn pki(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/pki")
        .join(name)
}

fn tempdir(what: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tlcp-wire-{}-{}",
        std::process::id(),
        what.replace(' ', "_")
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn der_rs(sig: &[u8]) -> (BigUint, BigUint) {
    let mut r = Rd(sig);
    assert_eq!(r.u8(), 0x30);
    let mut body = Rd(r.vec8());
    let mut int = || {
        assert_eq!(body.u8(), 2);
        BigUint::from_bytes_be(body.vec8())
    };
    (int(), int())
}

/// The pre-master, decrypted by OpenSSL's CLI (when present) and by the reference SM2.
fn decrypt_pre_master(der: &[u8], what: &str) -> Vec<u8> {
    // Reference: parse SEQUENCE { x, y INTEGER, C3 OCTET STRING, C2 OCTET STRING }.
    let mut r = Rd(der);
    assert_eq!(r.u8(), 0x30);
    let len = r.u8();
    let body = if len & 0x80 != 0 {
        let n = len & 0x7f;
        let l = r.take(n).iter().fold(0usize, |a, &b| a << 8 | b as usize);
        r.take(l)
    } else {
        r.take(len)
    };
    let mut b = Rd(body);
    let mut int = || {
        assert_eq!(b.u8(), 2);
        BigUint::from_bytes_be(b.vec8())
    };
    let (x, y) = (int(), int());
    assert_eq!(b.u8(), 4);
    let c3 = b.vec8().to_vec();
    assert_eq!(b.u8(), 4);
    let c2 = b.vec8().to_vec();
    let key = pem_key("sm2-server-enc");
    let scalar = sec1_scalar(&key);
    let c = Curve::sm2();
    let plain = c
        .decrypt(&BigUint::from_bytes_be(&scalar), &Some((x, y)), &c3, &c2)
        .unwrap_or_else(|| panic!("{what}: the reference SM2 cannot decrypt the pre-master"));
    if conformance::openssl_cli(what) {
        let dir = tempdir(what);
        let p = |n: &str| dir.join(n).to_str().unwrap().to_owned();
        std::fs::write(p("ct"), der).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["pkeyutl", "-decrypt", "-inkey"])
            .arg(pki("sm2-server-enc.key"))
            .args(["-in", &p("ct"), "-out", &p("pt")])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{what}: OpenSSL cannot decrypt: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read(p("pt")).unwrap(),
            plain,
            "{what}: OpenSSL and the reference agree"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
    plain
}

/// The private scalar of an SM2 test key, read from its SEC1 form.
fn sec1_scalar(key: &PrivateKey) -> Vec<u8> {
    let der = key.to_sec1_der().unwrap();
    // ECPrivateKey ::= SEQUENCE { version INTEGER 1, privateKey OCTET STRING, ... }
    let mut r = Rd(&der);
    assert_eq!(r.u8(), 0x30);
    let len = r.u8();
    if len & 0x80 != 0 {
        r.take(len & 0x7f);
    }
    assert_eq!(r.u8(), 2);
    r.vec8();
    assert_eq!(r.u8(), 4);
    r.vec8().to_vec()
}

/// Opens one protected record (the first after ChangeCipherSpec, sequence number 0) with keys
/// from the test's own key block.
fn open_first(
    suite: Suite,
    key_block: &[u8],
    client_side: bool,
    typ: u8,
    fragment: &[u8],
) -> Vec<u8> {
    let (mac_len, iv_len) = if suite.is_gcm() { (0, 4) } else { (32, 16) };
    let off = |i: usize, n: usize| &key_block[i..i + n];
    let mac = if client_side {
        off(0, mac_len)
    } else {
        off(mac_len, mac_len)
    };
    let key = if client_side {
        off(2 * mac_len, 16)
    } else {
        off(2 * mac_len + 16, 16)
    };
    let iv = if client_side {
        off(2 * mac_len + 32, iv_len)
    } else {
        off(2 * mac_len + 32 + iv_len, iv_len)
    };
    let seq = 0u64.to_be_bytes();
    if suite.is_gcm() {
        let explicit = &fragment[..8];
        let body = &fragment[8..fragment.len() - 16];
        let mut n = [0u8; 12];
        n[..4].copy_from_slice(iv);
        n[4..].copy_from_slice(explicit);
        let aad = [&seq[..], &[typ, 1, 1], &(body.len() as u16).to_be_bytes()].concat();
        let aead = Backend::RustCrypto.aead(AeadAlg::Sm4Gcm, key).unwrap();
        let mut buf = fragment[8..].to_vec();
        let plain = aead.open_in_place(&Nonce(n), &aad, &mut buf).unwrap();
        plain.to_vec()
    } else {
        let cbc = Backend::RustCrypto.cipher(CipherAlg::Sm4Cbc, key).unwrap();
        let mut body = fragment[16..].to_vec();
        cbc.decrypt(&fragment[..16], &mut body).unwrap();
        let pad = *body.last().unwrap() as usize;
        assert!(
            body[body.len() - 1 - pad..]
                .iter()
                .all(|&b| b as usize == pad),
            "padding"
        );
        let content_len = body.len() - 1 - pad - 32;
        let (content, rest) = body.split_at(content_len);
        let expected = hmac_sm3(
            mac,
            &[
                &seq,
                &[typ, 1, 1],
                &(content_len as u16).to_be_bytes(),
                content,
            ],
        );
        assert_eq!(&rest[..32], &expected[..], "record MAC");
        content.to_vec()
    }
}

fn check_ecc(suite: Suite) {
    let what = suite.name();
    let w = run(suite, ClientAuth::Off, false);
    let c_records = records(&w.to_server);
    let s_records = records(&w.to_client);
    // Client: ClientHello, ClientKeyExchange, CCS, Finished, data.
    assert_eq!(c_records[0].0, 22);
    let ch = &messages(&c_records[0].1)[0];
    let mut r = Rd(&ch[4..]);
    assert_eq!(r.u16(), 0x0101, "client_version");
    let cr = r.take(32).to_vec();
    r.vec8();
    let suites = r.vec16();
    assert_eq!(
        suites,
        &suite.code().to_be_bytes()[..],
        "{what}: offered suite"
    );
    // Server: one record with ServerHello, Certificate, ServerKeyExchange, ServerHelloDone.
    assert_eq!(s_records[0].0, 22);
    let flight = messages(&s_records[0].1);
    let types: Vec<u8> = flight.iter().map(|m| m[0]).collect();
    assert_eq!(types, [2, 11, 12, 14], "{what}: server flight");
    let mut r = Rd(&flight[0][4..]);
    assert_eq!(r.u16(), 0x0101, "server_version");
    let sr = r.take(32).to_vec();
    r.vec8();
    assert_eq!(r.u16() as u16, suite.code());
    // Certificate: sign, enc, CA.
    let mut r = Rd(&flight[1][4..]);
    let mut list = Rd(r.vec24());
    let certs: Vec<Vec<u8>> =
        std::iter::from_fn(|| (!list.0.is_empty()).then(|| list.vec24().to_vec())).collect();
    assert_eq!(
        certs[0],
        pem_certs("sm2-server")[0],
        "signing certificate first"
    );
    assert_eq!(
        certs[1],
        pem_certs("sm2-server-enc")[0],
        "encryption certificate second"
    );
    assert_eq!(certs[2], pem_certs("sm2-ca")[0], "then the CA");
    // ServerKeyExchange: a 2-byte length and the DER signature, nothing else.
    let mut r = Rd(&flight[2][4..]);
    let sig = r.vec16().to_vec();
    assert!(r.0.is_empty(), "{what}: nothing after the signature");
    let enc = &certs[1];
    let signed = [&(enc.len() as u32).to_be_bytes()[1..], &enc[..]].concat();
    ske_signature_checks(&cr, &sr, &signed, &sig, what);
    // ClientKeyExchange: 2-byte length, then GM/T 0009 DER.
    let cke = &messages(&c_records[1].1)[0];
    assert_eq!(cke[0], 16);
    let mut r = Rd(&cke[4..]);
    let der = r.vec16();
    assert!(r.0.is_empty());
    let pre_master = decrypt_pre_master(der, what);
    assert_eq!(pre_master.len(), 48);
    assert_eq!(
        &pre_master[..2],
        &[1, 1],
        "pre-master starts with the version"
    );
    // Master secret, key block, both Finished.
    let master = p_sm3(
        &pre_master,
        b"master secret",
        &[&cr[..], &sr[..]].concat(),
        48,
    );
    let (mac_len, iv_len) = if suite.is_gcm() { (0, 4) } else { (32, 16) };
    let key_block = p_sm3(
        &master,
        b"key expansion",
        &[&sr[..], &cr[..]].concat(),
        2 * (mac_len + 16 + iv_len),
    );
    assert_eq!(c_records[2], (20, vec![1]), "client ChangeCipherSpec");
    let client_finished = open_first(suite, &key_block, true, 22, &c_records[3].1);
    let mut transcript: Vec<u8> = Vec::new();
    transcript.extend_from_slice(ch);
    for m in &flight {
        transcript.extend_from_slice(m);
    }
    transcript.extend_from_slice(cke);
    let expected = p_sm3(&master, b"client finished", &sm3(&[&transcript]), 12);
    assert_eq!(client_finished[..4], [20, 0, 0, 12]);
    assert_eq!(
        &client_finished[4..],
        &expected[..],
        "{what}: client Finished"
    );
    transcript.extend_from_slice(&client_finished);
    assert_eq!(s_records[1], (20, vec![1]), "server ChangeCipherSpec");
    let server_finished = open_first(suite, &key_block, false, 22, &s_records[2].1);
    let expected = p_sm3(&master, b"server finished", &sm3(&[&transcript]), 12);
    assert_eq!(
        &server_finished[4..],
        &expected[..],
        "{what}: server Finished"
    );
    println!(
        "{what}: hellos, certificates, ServerKeyExchange, pre-master and both Finished checked"
    );
}

#[test]
fn ecc_suites_on_the_wire() {
    check_ecc(Suite::EccSm4CbcSm3);
    check_ecc(Suite::EccSm4GcmSm3);
}

#[test]
fn ecdhe_suites_on_the_wire() {
    for suite in [Suite::EcdheSm4CbcSm3, Suite::EcdheSm4GcmSm3] {
        let what = suite.name();
        let w = run(suite, ClientAuth::Required, true);
        let c_records = records(&w.to_server);
        let s_records = records(&w.to_client);
        let ch = &messages(&c_records[0].1)[0];
        let cr = ch[6..38].to_vec();
        let flight = messages(&s_records[0].1);
        let types: Vec<u8> = flight.iter().map(|m| m[0]).collect();
        assert_eq!(
            types,
            [2, 11, 12, 13, 14],
            "{what}: server flight with CertificateRequest"
        );
        let sr = flight[0][6..38].to_vec();
        // ServerKeyExchange: 03 00 29 41 04 X Y, then the signature.
        let ske = &flight[2][4..];
        assert_eq!(
            &ske[..5],
            &[3, 0x00, 0x29, 65, 4],
            "{what}: ECParameters and point"
        );
        let params = &ske[..4 + 65];
        let mut r = Rd(&ske[69..]);
        let sig = r.vec16().to_vec();
        assert!(r.0.is_empty());
        ske_signature_checks(&cr, &sr, params, &sig, what);
        // CertificateRequest: certificate types, CA names (no signature_algorithms).
        let mut r = Rd(&flight[3][4..]);
        assert_eq!(r.vec8(), &[64]);
        let mut names = Rd(r.vec16());
        assert!(!names.0.is_empty());
        names.vec16();
        assert!(r.0.is_empty());
        // Client: Certificate (sign, enc, CA), ClientKeyExchange, CertificateVerify.
        let client_flight = messages(&c_records[1].1);
        let types: Vec<u8> = client_flight.iter().map(|m| m[0]).collect();
        assert_eq!(types, [11, 16, 15], "{what}: client flight");
        let cke = &client_flight[1];
        assert_eq!(cke.len(), 4 + 69, "{what}: the 69-byte form Tongsuo sends");
        assert_eq!(&cke[4..9], &[3, 0x00, 0x29, 65, 4]);
        let mut transcript: Vec<u8> = Vec::new();
        transcript.extend_from_slice(ch);
        for m in &flight {
            transcript.extend_from_slice(m);
        }
        transcript.extend_from_slice(&client_flight[0]);
        transcript.extend_from_slice(cke);
        let hash = sm3(&[&transcript]);
        let mut r = Rd(&client_flight[2][4..]);
        let cv = r.vec16().to_vec();
        assert!(r.0.is_empty());
        let client_sign = credentials("client")
            .signing_certificate()
            .public_key()
            .to_vec();
        let (rr, ss) = der_rs(&cv);
        assert!(
            Curve::sm2().verify(
                &Curve::decode(&client_sign),
                sm2::DEFAULT_ID,
                &hash,
                &rr,
                &ss
            ),
            "{what}: CertificateVerify is not SM2 over SM3(handshake)"
        );
        println!("{what}: ServerKeyExchange, ClientKeyExchange and CertificateVerify checked");
    }
}

/// GB/T 32918.3-2016 6.1 (steps A1-A8, B1-B7, no confirmation), computed here with the
/// reference big-integer SM2, against `Backend::sm2_key_exchange`, both roles.
#[test]
fn the_sm2_key_exchange_protocol_matches_the_reference() {
    let c = Curve::sm2();
    let n = BigUint::from_bytes_be(&sm2::ORDER);
    let w = 127u32;
    let x_bar = |x: &BigUint| (BigUint::from(1u8) << w) + (x % (BigUint::from(1u8) << w));
    for round in 0..4 {
        let a = PrivateKey::generate(KeyKind::Sm2).unwrap();
        let ra = PrivateKey::generate(KeyKind::Sm2).unwrap();
        let b = PrivateKey::generate(KeyKind::Sm2).unwrap();
        let rb = PrivateKey::generate(KeyKind::Sm2).unwrap();
        let (id_a, id_b): (&[u8], &[u8]) = if round % 2 == 0 {
            (sm2::DEFAULT_ID, sm2::DEFAULT_ID)
        } else {
            (b"ALICE123@YAHOO.COM", b"BILL456@YAHOO.COM")
        };
        // Reference: A's key K_A = KDF(x_U || y_U || Z_A || Z_B).
        let d_a = BigUint::from_bytes_be(&sec1_scalar(&a));
        let r_a = BigUint::from_bytes_be(&sec1_scalar(&ra));
        let (rax, _) = Curve::decode(ra.public_key()).unwrap();
        let t_a = (&d_a + x_bar(&rax) * &r_a) % &n;
        let pb = Curve::decode(b.public_key());
        let rb_pt = Curve::decode(rb.public_key());
        let (rbx, _) = rb_pt.clone().unwrap();
        let sum = c.add(&pb, &c.mul(&x_bar(&rbx), &rb_pt));
        let (ux, uy) = c.mul(&t_a, &sum).unwrap();
        let za = c.z(id_a, &Curve::decode(a.public_key()));
        let zb = c.z(id_b, &pb);
        let z = [&be32(&ux)[..], &be32(&uy), &za, &zb].concat();
        let expected = Curve::kdf(&z, 48);
        let mut ka = vec![0u8; 48];
        let mut kb = vec![0u8; 48];
        Backend::RustCrypto
            .sm2_key_exchange(
                &sm2::KeyExchange {
                    initiator: true,
                    own_static: &a,
                    own_ephemeral: &ra,
                    own_id: id_a,
                    peer_static: b.public_key(),
                    peer_ephemeral: rb.public_key(),
                    peer_id: id_b,
                },
                &mut ka,
            )
            .unwrap();
        Backend::RustCrypto
            .sm2_key_exchange(
                &sm2::KeyExchange {
                    initiator: false,
                    own_static: &b,
                    own_ephemeral: &rb,
                    own_id: id_b,
                    peer_static: a.public_key(),
                    peer_ephemeral: ra.public_key(),
                    peer_id: id_a,
                },
                &mut kb,
            )
            .unwrap();
        assert_eq!(ka, expected, "initiator matches the reference");
        assert_eq!(kb, expected, "responder matches the reference");
    }
}
