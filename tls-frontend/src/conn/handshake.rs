//! The TLS handshake engine (rustls): the per-connection server configuration for the chosen
//! certificate and profile, the handshake itself, and what it negotiated. A second engine
//! (TLCP) plugs in beside this one at the ClientHello seam; everything after the handshake is
//! shared.

use rustls::SignatureScheme;

use super::choose::{Choice, Profile};
use super::hello::ClientHello;
use super::negotiated::Negotiated;
use super::prefixed::Prefixed;
use crate::config::certs::Entry;
use crate::config::names;
use crate::config::state::{ListenerState, State, TlsConfigs};
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
    /// The certificate's key is in a module and the module pool could not run the handshake.
    Module(crate::config::pkcs11::OffloadError),
}

/// The rustls handshake with `choice`'s certificate and profile.
pub async fn tls(
    stream: Prefixed,
    l: &ListenerState,
    state: &State,
    hello: &ClientHello,
    choice: Choice<'_>,
) -> Result<Handshaken, HandshakeError> {
    let index = state
        .certs
        .entries()
        .iter()
        .position(|e| std::ptr::eq(e, choice.entry));
    let configs = index.and_then(|i| l.tls.get(i));
    let config = match (choice.profile, configs) {
        (Profile::Gm, Some(TlsConfigs { gm: Some(gm), .. })) => gm,
        (_, Some(c)) => &c.standard,
        (_, None) => {
            return Err(HandshakeError::Config(
                rustls::Error::NoCertificatesPresented,
            ));
        }
    };
    let config = config.clone().map_err(HandshakeError::Config)?;
    let accept = tokio_rustls::TlsAcceptor::from(config).accept(stream);
    let pool = choice
        .entry
        .in_module
        .then(crate::config::pkcs11::pool)
        .flatten();
    let stream = match pool {
        // C_Sign blocks: the handshake runs on the module pool, not on this worker.
        Some(pool) => pool.run(accept).await.map_err(HandshakeError::Module)?,
        None => accept.await,
    }
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
        scheme: if resumed {
            "resumed".into()
        } else {
            signed_with(choice.entry, hello, conn)
                .map(scheme_name)
                .unwrap_or_default()
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
        stream: super::client::ClientConn::Tls(Box::new(stream)),
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

/// RFC 8446 section 4.2.3: TLS 1.3 never signs with a hash older than SHA-256 (code point's
/// first byte 0 none, 1 MD5, 2 SHA-1, 3 SHA-224) nor with RSASSA-PKCS1-v1_5 or DSA (second
/// byte 0 anonymous, 1, 2); as rustls's own rule, a deny list.
fn allowed_in_tls13(s: SignatureScheme) -> bool {
    let [hash, sign] = u16::from(s).to_be_bytes();
    !matches!(hash, 0..=3) && !matches!(sign, 0..=2)
}

/// The scheme a full handshake signed with: what the key chooses from the client's schemes
/// as rustls narrows them (TLS 1.3: the client's schemes that TLS 1.3 allows, in its order;
/// TLS 1.2: the suite's schemes the client offered, in the suite's order). Computed, not
/// recorded, so a listener's configuration is shared by all its connections.
fn signed_with(
    entry: &Entry,
    hello: &ClientHello,
    conn: &rustls::ServerConnection,
) -> Option<SignatureScheme> {
    let offered: Vec<SignatureScheme> = hello
        .signature_schemes
        .iter()
        .map(|&s| SignatureScheme::from(s))
        .collect();
    let offered = match conn.negotiated_cipher_suite()? {
        rustls::SupportedCipherSuite::Tls13(_) => offered
            .into_iter()
            .filter(|s| allowed_in_tls13(*s))
            .collect(),
        rustls::SupportedCipherSuite::Tls12(s) => s.resolve_sig_schemes(&offered),
    };
    entry
        .certified
        .key
        .choose_scheme(&offered)
        .map(|s| s.scheme())
}
