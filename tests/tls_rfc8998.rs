//! RFC 8998 on the wire. No stock peer speaks it on this machine, so our client talks to our
//! server (across backends) and this test reads what they said, with code of its own:
//!
//! - ClientHello and ServerHello carry the RFC's code points: suites 0x00C6/0x00C7, group
//!   curveSM2 (41) with a 65-byte uncompressed key share, signature scheme sm2sig_sm3 (0x0708).
//! - The client's curveSM2 key share is computed here by the test's reference SM2 (plain big
//!   integers, written from GB/T 32918) with the shared secret taken as the x-coordinate, as
//!   RFC 8998 section 3.2.2 says; the handshake can only finish if the server derived the same.
//! - The server's encrypted handshake is decrypted with the logged handshake secret (SM4-GCM
//!   keys from HKDF-Expand-Label over SM3), and its CertificateVerify is checked against RFC
//!   8446 section 4.4.3's context string with the SM2 ID `TLSv1.3+GM+Cipher+Suite` by the
//!   reference SM2 and by the OpenSSL 3 CLI (and shown to fail under the default ID); its
//!   Finished is recomputed from an SM3 transcript hash.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};

use conformance::TestRng;
use conformance::sm2_ref::{Curve, Point};
use conformance::tls::{self, Pair};
use crypto_core::tls::{CURVE_SM2, KxGroup, SM2SIG_SM3, TLS13_SM4_CCM_SM3, TLS13_SM4_GCM_SM3};
use crypto_core::{
    AeadAlg, Backend, Family, HashAlg, KxAlg, Nonce, PrivateKey, Selection, Target, sm2,
};
use num_bigint::BigUint;
use rustls::crypto::{ActiveKeyExchange, SharedSecret, SupportedKxGroup};
use rustls::version::TLS13;
use rustls::{KeyLog, NamedGroup};

/// A TLS reader over a byte slice.
struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        assert!(
            self.0.len() >= n,
            "truncated: want {n}, have {}",
            self.0.len()
        );
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
}

fn u16s(b: &[u8]) -> Vec<u16> {
    b.chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

/// The records of a TLS byte stream: (content type, fragment, header).
fn records(wire: &[u8]) -> Vec<(u8, Vec<u8>, [u8; 5])> {
    let mut r = Rd(wire);
    let mut out = Vec::new();
    while !r.0.is_empty() {
        let hdr: [u8; 5] = r.take(5).try_into().unwrap();
        let len = u16::from_be_bytes([hdr[3], hdr[4]]) as usize;
        out.push((hdr[0], r.take(len).to_vec(), hdr));
    }
    out
}

/// Extensions of a hello: (type, body).
fn extensions(mut r: Rd<'_>) -> Vec<(u16, Vec<u8>)> {
    let mut ext = Rd(r.vec16());
    let mut out = Vec::new();
    while !ext.0.is_empty() {
        let t = ext.u16() as u16;
        out.push((t, ext.vec16().to_vec()));
    }
    out
}

fn ext(exts: &[(u16, Vec<u8>)], t: u16) -> &[u8] {
    &exts
        .iter()
        .find(|(x, _)| *x == t)
        .unwrap_or_else(|| panic!("extension {t} missing"))
        .1
}

/// Handshake messages (whole, with their 4-byte headers) of a byte string.
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

fn hmac_sm3(key: &[u8], data: &[u8]) -> Vec<u8> {
    let m = Backend::RustCrypto.hmac(HashAlg::Sm3).unwrap();
    m.with_key(key).sign(&[data]).as_ref().to_vec()
}

/// HKDF-Expand-Label (RFC 8446 section 7.1) with SM3, for outputs up to one SM3 block.
fn expand_label(secret: &[u8], label: &str, context: &[u8], len: usize) -> Vec<u8> {
    assert!(len <= 32);
    let full = format!("tls13 {label}");
    let mut info = Vec::new();
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push(full.len() as u8);
    info.extend_from_slice(full.as_bytes());
    info.push(context.len() as u8);
    info.extend_from_slice(context);
    info.push(1); // T(1) = HMAC(PRK, info || 0x01)
    hmac_sm3(secret, &info)[..len].to_vec()
}

/// Keeps the secrets rustls logs.
#[derive(Debug, Default)]
struct Secrets(Mutex<Vec<(String, Vec<u8>)>>);

impl KeyLog for Secrets {
    fn log(&self, label: &str, _client_random: &[u8], secret: &[u8]) {
        self.0
            .lock()
            .unwrap()
            .push((label.to_owned(), secret.to_vec()));
    }
    fn will_log(&self, _label: &str) -> bool {
        true
    }
}

/// curveSM2 computed by the reference SM2: the shared secret is the x-coordinate.
#[derive(Debug)]
struct RefCurveSm2(Mutex<TestRng>);

struct RefActive {
    d: BigUint,
    public: Vec<u8>,
}

impl SupportedKxGroup for RefCurveSm2 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        let c = Curve::sm2();
        let d = BigUint::from_bytes_be(&self.0.lock().unwrap().bytes(32)) % (&c.n - 2u32) + 1u32;
        let public = Curve::encode(&c.mul(&d, &c.g()));
        Ok(Box::new(RefActive { d, public }))
    }
    fn name(&self) -> NamedGroup {
        CURVE_SM2
    }
}

impl ActiveKeyExchange for RefActive {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, rustls::Error> {
        assert_eq!(peer.len(), 65, "server key share is not 65 bytes");
        assert_eq!(peer[0], 4, "server key share is not an uncompressed point");
        let c = Curve::sm2();
        let p: Point = Curve::decode(peer);
        assert!(c.on_curve(&p), "server key share is off the curve");
        let shared = c.mul(&self.d, &p);
        let (x, _) = shared.expect("finite");
        Ok(SharedSecret::from(&conformance::sm2_ref::be32(&x)[..]))
    }
    fn pub_key(&self) -> &[u8] {
        &self.public
    }
    fn group(&self) -> NamedGroup {
        CURVE_SM2
    }
}

/// What one RFC 8998 handshake put on the wire.
struct Wire {
    client_hello: Vec<u8>,
    server_hello: Vec<u8>,
    /// The server's decrypted handshake messages after ServerHello.
    server_flight: Vec<Vec<u8>>,
    handshake_secret: Vec<u8>,
}

fn run(client_sel: &Selection, server_sel: &Selection, suite: rustls::CipherSuite) -> Wire {
    let mut client_p = tls::narrow(tls::provider(client_sel), suite, CURVE_SM2, SM2SIG_SM3);
    client_p.kx_groups = vec![Box::leak(Box::new(RefCurveSm2(Mutex::new(TestRng::new(
        41,
    )))))];
    let mut client = tls::client_config(client_p, &[&TLS13]);
    let secrets = Arc::new(Secrets::default());
    client.key_log = secrets.clone();
    let server = tls::server_config(
        crypto_core::tls::provider(server_sel),
        &[&TLS13],
        "sm2-server",
    );
    let mut pair = Pair::new(client, server, "localhost");
    pair.handshake().expect("RFC 8998 handshake");
    pair.exchange(&TestRng::new(7).bytes(100_000))
        .expect("data");
    assert_eq!(
        pair.client.negotiated_cipher_suite().map(|s| s.suite()),
        Some(suite)
    );

    let client_records = records(&pair.client_wire);
    assert_eq!(
        client_records[0].0, 0x16,
        "first client record is a handshake"
    );
    let client_hello = client_records[0].1.clone();
    let server_records = records(&pair.server_wire);
    assert_eq!(
        server_records[0].0, 0x16,
        "first server record is a handshake"
    );
    let server_hello = server_records[0].1.clone();

    let secret = secrets
        .0
        .lock()
        .unwrap()
        .iter()
        .find(|(l, _)| l == "SERVER_HANDSHAKE_TRAFFIC_SECRET")
        .expect("server handshake secret logged")
        .1
        .clone();
    assert_eq!(secret.len(), 32, "SM3-sized secret");
    let aead = if suite == TLS13_SM4_GCM_SM3 {
        AeadAlg::Sm4Gcm
    } else {
        AeadAlg::Sm4Ccm
    };
    let key = Backend::RustCrypto
        .aead(aead, &expand_label(&secret, "key", b"", 16))
        .unwrap();
    let iv = expand_label(&secret, "iv", b"", 12);
    let mut plain = Vec::new();
    let mut seq = 0u64;
    for (typ, frag, hdr) in &server_records[1..] {
        match typ {
            0x14 => continue, // middlebox-compatibility ChangeCipherSpec
            0x17 => {}
            t => panic!("unexpected record type {t}"),
        }
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&iv);
        for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        seq += 1;
        let mut buf = frag.clone();
        let Ok(pt) = key.open_in_place(&Nonce(nonce), hdr, &mut buf) else {
            break; // application data under the next key: the handshake flight is over
        };
        let end = pt.iter().rposition(|&b| b != 0).expect("inner type");
        assert_eq!(pt[end], 0x16, "inner content type is handshake");
        plain.extend_from_slice(&pt[..end]);
    }
    Wire {
        client_hello,
        server_hello,
        server_flight: messages(&plain),
        handshake_secret: secret,
    }
}

fn check(client_sel: &Selection, server_sel: &Selection, what: &str) {
    for suite in [TLS13_SM4_GCM_SM3, TLS13_SM4_CCM_SM3] {
        if crypto_core::tls::tls13_suite(server_sel, crypto_core::tls::Suite13::Sm4CcmSm3).is_none()
            && suite == TLS13_SM4_CCM_SM3
        {
            continue;
        }
        let w = run(client_sel, server_sel, suite);
        let code = u16::from(suite);

        // ClientHello (RFC 8446 section 4.1.2).
        let mut r = Rd(&w.client_hello);
        assert_eq!(r.u8(), 1, "{what}: ClientHello");
        r.u24();
        r.take(2 + 32);
        r.vec8();
        let suites = u16s(r.vec16());
        assert_eq!(suites, vec![code], "{what}: offered suites");
        r.vec8();
        let exts = extensions(r);
        let groups = u16s(&ext(&exts, 10)[2..]);
        assert_eq!(groups, vec![41], "{what}: supported_groups");
        let sigs = u16s(&ext(&exts, 13)[2..]);
        assert!(
            sigs.contains(&0x0708),
            "{what}: signature_algorithms {sigs:x?}"
        );
        let versions = ext(&exts, 43);
        assert!(
            u16s(&versions[1..]).contains(&0x0304),
            "{what}: TLS 1.3 offered"
        );
        let mut ks = Rd(ext(&exts, 51));
        let mut shares = Rd(ks.vec16());
        assert_eq!(shares.u16(), 41, "{what}: key share group");
        let share = shares.vec16();
        assert_eq!((share.len(), share[0]), (65, 4), "{what}: client key share");
        assert!(shares.0.is_empty(), "{what}: one key share");

        // ServerHello.
        let mut r = Rd(&w.server_hello);
        assert_eq!(r.u8(), 2, "{what}: ServerHello");
        r.u24();
        r.take(2 + 32);
        r.vec8();
        assert_eq!(r.u16(), code as usize, "{what}: chosen suite");
        r.u8();
        let exts = extensions(r);
        assert_eq!(u16s(ext(&exts, 43)), vec![0x0304], "{what}: TLS 1.3 chosen");
        let mut ks = Rd(ext(&exts, 51));
        assert_eq!(ks.u16(), 41, "{what}: server key share group");
        let share = ks.vec16();
        assert_eq!((share.len(), share[0]), (65, 4), "{what}: server key share");

        // The server's flight: EncryptedExtensions, Certificate, CertificateVerify, Finished.
        let types: Vec<u8> = w.server_flight.iter().map(|m| m[0]).collect();
        assert_eq!(types, vec![8, 11, 15, 20], "{what}: server flight");
        let transcript = |upto: usize| {
            let mut parts: Vec<&[u8]> = vec![&w.client_hello, &w.server_hello];
            parts.extend(w.server_flight[..upto].iter().map(|m| &m[..]));
            sm3(&parts)
        };
        let cv = &w.server_flight[2];
        let mut r = Rd(&cv[4..]);
        assert_eq!(r.u16(), 0x0708, "{what}: CertificateVerify scheme");
        let sig = r.vec16().to_vec();
        let mut content = vec![0x20u8; 64];
        content.extend_from_slice(b"TLS 1.3, server CertificateVerify\0");
        content.extend_from_slice(&transcript(2));
        let public =
            PrivateKey::from_pem(&std::fs::read(tls::pki_dir().join("sm2-server.key")).unwrap())
                .unwrap();
        verify_reference(public.public_key(), &content, &sig, what);
        verify_openssl(&public, &content, &sig, what);

        // Finished (RFC 8446 section 4.4.4) over the SM3 transcript.
        let finished_key = expand_label(&w.handshake_secret, "finished", b"", 32);
        let expected = hmac_sm3(&finished_key, &transcript(3));
        assert_eq!(&w.server_flight[3][4..], &expected[..], "{what}: Finished");
        println!("{what}: suite {code:#06x} checked on the wire");
    }
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

fn verify_reference(public: &[u8], content: &[u8], sig: &[u8], what: &str) {
    let c = Curve::sm2();
    let p = Curve::decode(public);
    let (r, s) = der_rs(sig);
    assert!(
        c.verify(&p, sm2::TLS13_CERTIFICATE_VERIFY_ID, content, &r, &s),
        "{what}: CertificateVerify does not verify with ID TLSv1.3+GM+Cipher+Suite"
    );
    assert!(
        !c.verify(&p, sm2::DEFAULT_ID, content, &r, &s),
        "{what}: CertificateVerify also verifies with the default ID"
    );
}

fn verify_openssl(key: &PrivateKey, content: &[u8], sig: &[u8], what: &str) {
    use std::process::Command;
    if !conformance::openssl_cli(what) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("rfc8998-{}-{}", std::process::id(), what));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    std::fs::write(p("pub.pem"), key.public_key_spki_pem()).unwrap();
    std::fs::write(p("msg"), content).unwrap();
    std::fs::write(p("sig"), sig).unwrap();
    let verify = |id: &str| {
        Command::new("openssl")
            .args([
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                &p("pub.pem"),
                "-rawin",
            ])
            .args(["-digest", "sm3", "-pkeyopt", &format!("distid:{id}")])
            .args(["-in", &p("msg"), "-sigfile", &p("sig")])
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(
        verify("TLSv1.3+GM+Cipher+Suite"),
        "{what}: OpenSSL rejects CertificateVerify"
    );
    assert!(
        !verify("1234567812345678"),
        "{what}: OpenSSL accepts it under the default ID"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn rustcrypto_to_rustcrypto() {
    let s = Selection::single(Backend::RustCrypto);
    check(&s, &s, "rustcrypto");
}

#[test]
fn to_asm_and_libsm_server() {
    let server = Selection::single(Backend::RustCrypto)
        .with_override(Target::Family(Family::Sm4), Backend::Asm)
        .with_override(Target::Family(Family::Sm2), Backend::Libsm)
        .with_override(Target::Family(Family::Sm3), Backend::Libsm)
        .with_override(Target::Family(Family::CurveSm2), Backend::Libsm);
    check(
        &Selection::single(Backend::RustCrypto),
        &server,
        "asm-libsm",
    );
}

#[test]
fn to_openssl_server() {
    if !Backend::OpenSsl.is_built() {
        println!("openssl backend not built");
        return;
    }
    let server = Selection::single(Backend::OpenSsl)
        .with_override(Target::Family(Family::Sm4), Backend::Asm);
    check(&Selection::single(Backend::RustCrypto), &server, "openssl");
}

#[test]
fn to_asm_server() {
    // The server's curveSM2 share and secret from the asm backend's one-call exchange
    // (`start_and_complete`), its signature and records from asm too.
    let server = Selection::single(Backend::RustCrypto)
        .with_override(Target::Family(Family::Sm4), Backend::Asm)
        .with_override(Target::Family(Family::Sm2), Backend::Asm)
        .with_override(Target::Family(Family::Sm3), Backend::Asm)
        .with_override(Target::Family(Family::CurveSm2), Backend::Asm);
    check(&Selection::single(Backend::RustCrypto), &server, "asm");
}

/// A server's curveSM2 exchange in one call (`SupportedKxGroup::start_and_complete`) on every
/// backend that has the group: the reference SM2 derives the same secret from the server's
/// share; a share of the wrong length, off the curve, with a compressed prefix or the
/// all-zero point is the client's bad key share.
#[test]
fn curve_sm2_start_and_complete_on_every_backend() {
    let c = Curve::sm2();
    let mut rng = TestRng::new(0x8998);
    let mut tried = 0;
    for &b in Backend::ALL {
        let Some(group) = KxGroup::get(KxAlg::CurveSm2, b) else {
            continue;
        };
        tried += 1;
        let d = BigUint::from_bytes_be(&rng.bytes(32)) % (&c.n - 2u32) + 1u32;
        let share = Curve::encode(&c.mul(&d, &c.g()));
        let done = group.start_and_complete(&share).unwrap();
        assert_eq!(done.group, CURVE_SM2);
        assert_eq!(done.pub_key.len(), 65, "{b}");
        let theirs = Curve::decode(&done.pub_key);
        assert!(c.on_curve(&theirs), "{b}: server share off the curve");
        let (x, _) = c.mul(&d, &theirs).expect("finite");
        assert_eq!(
            done.secret.secret_bytes(),
            &conformance::sm2_ref::be32(&x)[..],
            "{b}"
        );
        let mut off = share.clone();
        off[64] ^= 1;
        let mut compressed = share.clone();
        compressed[0] = 2;
        let mut zero = [0u8; 65];
        zero[0] = 4;
        for bad in [&share[..64], &off[..], &compressed[..], &zero[..]] {
            assert_eq!(
                group.start_and_complete(bad).err(),
                Some(rustls::Error::PeerMisbehaved(
                    rustls::PeerMisbehaved::InvalidKeyShare
                )),
                "{b}"
            );
        }
    }
    assert!(tried >= 2, "curveSM2 on {tried} backends");
}
