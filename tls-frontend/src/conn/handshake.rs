//! The TLS handshake engine (rustls): the per-connection server configuration for the chosen
//! certificate and profile, the handshake itself, and what it negotiated. A second engine
//! (TLCP) plugs in beside this one at the ClientHello seam; everything after the handshake is
//! shared.

use std::sync::{Arc, OnceLock};

use rustls::server::NoServerSessionStorage;
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{ServerConfig, SignatureAlgorithm, SignatureScheme};

use super::choose::{Choice, Profile};
use super::hello::ClientHello;
use super::negotiated::Negotiated;
use super::prefixed::Prefixed;
use crate::config::certs::Entry;
use crate::config::names;
use crate::config::state::{ListenerState, State};
use crate::ops::metrics::HandshakeLabels;

/// The client's stream after a TLS handshake.
pub type TlsStream = tokio_rustls::server::TlsStream<Prefixed>;

/// A finished handshake: the stream and what was negotiated.
#[derive(Debug)]
pub struct Handshaken {
    /// The client's stream.
    pub stream: super::client::ClientConn,
    /// What was negotiated.
    pub info: Negotiated,
}

/// Why a TLS handshake failed.
#[derive(Debug)]
pub enum HandshakeError {
    /// The per-connection configuration could not be built.
    Config(rustls::Error),
    /// rustls refused the handshake (it sent its own alert where it could) or the socket
    /// failed.
    Tls(std::io::Error),
}

static TLS13_ONLY: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];

/// The rustls handshake with `choice`'s certificate and profile.
pub async fn tls(
    stream: Prefixed,
    l: &ListenerState,
    state: &State,
    hello: &ClientHello,
    choice: Choice<'_>,
) -> Result<Handshaken, HandshakeError> {
    let slot: Arc<OnceLock<SignatureScheme>> = Arc::new(OnceLock::new());
    let certified = Recording::wrap(choice.entry, slot.clone());
    let (provider, versions) = match (choice.profile, &l.gm_provider) {
        (Profile::Gm, Some(gm)) => (gm.clone(), &TLS13_ONLY[..]),
        _ => (l.caps.standard.clone(), &l.versions[..]),
    };
    let builder = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(HandshakeError::Config)?;
    let builder = match &l.client_verifier {
        Some(v) => builder.with_client_cert_verifier(v.clone()),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(Fixed(Some(certified))));
    config.alpn_protocols.clone_from(&l.alpn);
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.ignore_client_order = l.prefer_server_ciphers;
    if let Some(t) = &l.tickets {
        config.ticketer = t.clone();
    }
    let stream = tokio_rustls::TlsAcceptor::from(Arc::new(config))
        .accept(stream)
        .await
        .map_err(HandshakeError::Tls)?;
    let (_, conn) = stream.get_ref();
    let suite = conn.negotiated_cipher_suite().map(|s| s.suite());
    let resumed = matches!(conn.handshake_kind(), Some(rustls::HandshakeKind::Resumed));
    let labels = HandshakeLabels {
        version: version_name(conn.protocol_version()),
        suite: suite.map(names::suite).unwrap_or_default(),
        group: conn
            .negotiated_key_exchange_group()
            .map(|g| group_name(g.name()))
            .unwrap_or_default(),
        scheme: match slot.get() {
            Some(s) => scheme_name(*s),
            None if resumed => "resumed".into(),
            None => String::new(),
        },
        backend: suite
            .and_then(crypto_core::tls::suite_aead)
            .map(|aead| {
                state
                    .selection
                    .backend_for(crypto_core::Algorithm::Aead(aead))
                    .name()
                    .to_owned()
            })
            .unwrap_or_default(),
        result: "ok".into(),
    };
    let peer = conn.peer_certificates();
    let info = Negotiated {
        labels,
        resumed,
        sni: hello.server_name.clone(),
        alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
        client_cn: peer
            .and_then(|c| c.first())
            .and_then(|c| crate::config::x509::subject_cn(c)),
        client_cert: peer.is_some_and(|c| !c.is_empty()),
        key_alg: choice.entry.key_alg.clone(),
    };
    Ok(Handshaken {
        stream: super::client::ClientConn::Tls(stream),
        info,
    })
}

fn version_name(v: Option<rustls::ProtocolVersion>) -> String {
    match v {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".into(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".into(),
        Some(v) => format!("{v:?}"),
        None => String::new(),
    }
}

/// The group's metric label (rustls's spelling; RFC 8998's `curveSM2`).
fn group_name(g: rustls::NamedGroup) -> String {
    if g == crypto_core::tls::CURVE_SM2 {
        "curveSM2".into()
    } else {
        format!("{g:?}")
    }
}

/// The scheme's metric label (rustls's spelling; RFC 8998's `sm2sig_sm3`).
fn scheme_name(s: SignatureScheme) -> String {
    if s == crypto_core::tls::SM2SIG_SM3 {
        "sm2sig_sm3".into()
    } else {
        format!("{s:?}")
    }
}

/// A signing key that remembers the scheme rustls chose (for metrics and the access log).
#[derive(Debug)]
pub struct Recording {
    inner: Arc<dyn SigningKey>,
    /// The scheme, once chosen.
    pub chosen: Arc<OnceLock<SignatureScheme>>,
}

impl Recording {
    /// A per-connection copy of `entry`'s certified key whose scheme choice lands in `slot`.
    pub fn wrap(entry: &Entry, slot: Arc<OnceLock<SignatureScheme>>) -> Arc<CertifiedKey> {
        let key = Arc::new(Self {
            inner: entry.certified.key.clone(),
            chosen: slot,
        });
        let mut ck = CertifiedKey::new(entry.certified.cert.clone(), key);
        ck.ocsp.clone_from(&entry.certified.ocsp);
        Arc::new(ck)
    }
}

impl SigningKey for Recording {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let signer = self.inner.choose_scheme(offered)?;
        let _ = self.chosen.set(signer.scheme());
        Some(signer)
    }

    fn public_key(&self) -> Option<rustls::pki_types::SubjectPublicKeyInfoDer<'_>> {
        self.inner.public_key()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.inner.algorithm()
    }
}

/// Always the same certified key (or none: a handshake failure).
#[derive(Debug)]
pub struct Fixed(pub Option<Arc<CertifiedKey>>);

impl rustls::server::ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.clone()
    }
}
