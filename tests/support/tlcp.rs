//! TLCP test helpers: credentials from the test PKI, selections per GM backend, and an
//! in-memory pump between a client and a server.
#![allow(clippy::unwrap_used)] // test support: a failed unwrap is a failed test

use std::path::PathBuf;
use std::sync::Arc;

use crypto_core::tlcp::{Cert, Connection, Credentials, Error};
use crypto_core::{Algorithm, Backend, Family, PrivateKey, Selection, Target};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

fn pki(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/pki")
        .join(name)
}

/// The DER certificates in `data/pki/<name>.pem`.
pub fn pem_certs(name: &str) -> Vec<Vec<u8>> {
    CertificateDer::pem_file_iter(pki(&format!("{name}.pem")))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .map(|c| c.unwrap().as_ref().to_vec())
        .collect()
}

/// The key in `data/pki/<name>.key`.
pub fn pem_key(name: &str) -> PrivateKey {
    let bytes = std::fs::read(pki(&format!("{name}.key"))).unwrap();
    PrivateKey::from_pem(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `who` is `server` or `client`: `sm2-<who>` signs, `sm2-<who>-enc` encrypts, sm2-ca issued
/// both.
pub fn credentials(who: &str) -> Arc<Credentials> {
    let mut chain = pem_certs(&format!("sm2-{who}"));
    chain.extend(pem_certs("sm2-ca"));
    Arc::new(
        Credentials::new(
            &chain,
            pem_key(&format!("sm2-{who}")),
            &pem_certs(&format!("sm2-{who}-enc"))[0],
            pem_key(&format!("sm2-{who}-enc")),
        )
        .unwrap(),
    )
}

/// The SM2 test CA as a trust anchor.
pub fn sm2_root() -> Vec<Cert> {
    vec![Cert::parse(&pem_certs("sm2-ca")[0]).unwrap()]
}

/// One selection per GM backend built here, named: SM2, SM3 and SM4 from that backend, and
/// from RustCrypto whatever it lacks (the SM2 key exchange protocol everywhere but RustCrypto;
/// SM4-GCM for OpenSSL 3.0 and libsm).
pub fn gm_selections() -> Vec<(Backend, Selection)> {
    let mut out = Vec::new();
    for backend in [
        Backend::Asm,
        Backend::RustCrypto,
        Backend::OpenSsl,
        Backend::Libsm,
    ] {
        if !backend.is_built() {
            continue;
        }
        let mut s = Selection::single(Backend::RustCrypto);
        for family in [Family::Sm2, Family::Sm3, Family::Sm4, Family::CurveSm2] {
            s = s.with_override(Target::Family(family), backend);
        }
        for alg in Algorithm::all() {
            if alg.is_gm() && !backend.supports(alg) {
                s = s.with_override(Target::Alg(alg), Backend::RustCrypto);
            }
        }
        out.push((backend, s));
    }
    out
}

/// Plaintext each side has received so far.
#[derive(Debug, Default)]
pub struct Received {
    pub client: Vec<u8>,
    pub server: Vec<u8>,
}

/// Moves bytes both ways until neither side has anything to send, collecting plaintext. The
/// first error on either side is returned, with which side it was (`true`: the server).
pub fn pump(
    client: &mut Connection,
    server: &mut Connection,
    got: &mut Received,
) -> Result<(), (bool, Error)> {
    for _ in 0..1000 {
        let to_server = client.take_tls();
        let to_client = server.take_tls();
        if to_server.is_empty() && to_client.is_empty() {
            return Ok(());
        }
        feed(server, &to_server, &mut got.server).map_err(|e| (true, e))?;
        feed(client, &to_client, &mut got.client).map_err(|e| (false, e))?;
    }
    panic!("the connection does not settle");
}

/// Feeds all of `data` to `conn`, processing as it goes and appending its plaintext to `got`.
pub fn feed(conn: &mut Connection, mut data: &[u8], got: &mut Vec<u8>) -> Result<(), Error> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = conn.read_tls(data);
        data = &data[n..];
        conn.process_new_packets()?;
        loop {
            let m = conn.read_plaintext(&mut buf);
            if m == 0 {
                break;
            }
            got.extend_from_slice(&buf[..m]);
        }
        if data.is_empty() && conn.plaintext_available() == 0 {
            return Ok(());
        }
    }
}
