//! The certificate and handshake for a ClientHello: by server name, then by everything the
//! client offered (versions, suites, signature schemes, groups), so that the handshake that
//! follows can succeed. RFC 8998 clients get the SM2 certificate and a strictly-GM handshake;
//! others ECDSA, then Ed25519, then RSA, each only where a suite the client offers can use it.

use crypto_core::KeyKind;
use crypto_core::tls::{CURVE_SM2, SM2SIG_SM3};
use rustls::{CipherSuite, NamedGroup, SignatureScheme};

use super::hello::{Alert, ClientHello};
use crate::config::certs::{Entry, Store};
use crate::config::state::Caps;

/// The certificate and handshake profile for `hello` on a listener that can do `caps`.
pub fn choose<'s>(
    store: &'s Store,
    hello: &ClientHello,
    caps: &Caps,
) -> Result<Choice<'s>, Refusal> {
    let suites: Vec<CipherSuite> = hello
        .cipher_suites
        .iter()
        .map(|s| CipherSuite::from(*s))
        .collect();
    let schemes: Vec<SignatureScheme> = hello
        .signature_schemes
        .iter()
        .map(|s| SignatureScheme::from(*s))
        .collect();
    let groups: Vec<NamedGroup> = hello.groups.iter().map(|g| NamedGroup::from(*g)).collect();
    let offer = Offer {
        server_name: hello.server_name.as_deref(),
        tls13: hello.offers_tls13(),
        tls12: hello.offers_tls12(),
        suites: &suites,
        schemes: &schemes,
        groups: &groups,
    };
    choose_for_offer(store, &offer, caps)
}

/// The certificate and handshake profile for a ClientHello, or why there is none.
///
/// The choice respects everything the client offered. The version is the highest both
/// sides speak. TLS 1.3: an RFC 8998 client (its first suite we have is an SM suite, and
/// it offers sm2sig_sm3 and curveSM2) gets the SM2 certificate with the [`Profile::Gm`]
/// handshake, which allows nothing but SM suites and curveSM2, as strict RFC 8998 peers
/// require; every other client gets the [`Profile::Standard`] handshake, which has no SM
/// suite at all, and a certificate whose key signs one of its schemes (ECDSA, then
/// Ed25519, then RSA, then SM2). TLS 1.2: the certificate must also suit a suite the client
/// offers (ECDHE_ECDSA or ECDHE_RSA).
pub fn choose_for_offer<'s>(
    store: &'s Store,
    offer: &Offer<'_>,
    caps: &Caps,
) -> Result<Choice<'s>, Refusal> {
    let candidates = match offer.server_name.and_then(|s| store.for_name(s)) {
        Some(c) => c,
        None if caps.reject_unknown && offer.server_name.is_some() => {
            return Err(Refusal::UnknownName);
        }
        None => store.entries().iter().filter(|e| e.default).collect(),
    };
    let tls13 = caps.tls13 && offer.tls13;
    let tls12 = caps.tls12 && offer.tls12;
    if !tls13 && !tls12 {
        return Err(Refusal::Version);
    }
    let signs =
        |e: &Entry, schemes: &[SignatureScheme]| e.certified.key.choose_scheme(schemes).is_some();
    let by_kind = |kinds: &[KeyKind], ok: &dyn Fn(&Entry) -> bool| {
        kinds
            .iter()
            .find_map(|k| candidates.iter().copied().find(|e| e.kind == *k && ok(e)))
    };
    if tls13 {
        let schemes: Vec<SignatureScheme> = offer
            .schemes
            .iter()
            .copied()
            .filter(|s| allowed_in_tls13(*s))
            .collect();
        let first_ours = offer.suites.iter().find(|s| {
            caps.gm_suites.contains(s)
                || caps.standard.cipher_suites.iter().any(|x| x.suite() == **s)
        });
        let wants_gm = first_ours.is_some_and(|s| caps.gm_suites.contains(s))
            && offer.schemes.contains(&SM2SIG_SM3)
            && offer.groups.contains(&CURVE_SM2);
        if wants_gm && let Some(e) = by_kind(&[KeyKind::Sm2], &|e| signs(e, &[SM2SIG_SM3])) {
            return Ok(Choice {
                entry: e,
                profile: Profile::Gm,
            });
        }
        let common = caps.standard.cipher_suites.iter().any(|s| {
            s.version().version == rustls::ProtocolVersion::TLSv1_3
                && offer.suites.contains(&s.suite())
        });
        if !common {
            return Err(Refusal::Suites);
        }
        return by_kind(
            &[
                KeyKind::EcP256,
                KeyKind::EcP384,
                KeyKind::Ed25519,
                KeyKind::Rsa,
                KeyKind::Sm2,
            ],
            &|e| signs(e, &schemes),
        )
        .map(|entry| Choice {
            entry,
            profile: Profile::Standard,
        })
        .ok_or(Refusal::Certificate);
    }
    // TLS 1.2: a suite both offer that the key can authenticate, and a scheme of the
    // client's that the key signs and that suite allows.
    let usable = |e: &Entry| {
        let alg = e.certified.key.algorithm();
        caps.standard.cipher_suites.iter().any(|s| {
            let rustls::SupportedCipherSuite::Tls12(s12) = s else {
                return false;
            };
            offer.suites.contains(&s.suite())
                && s.usable_for_signature_algorithm(alg)
                && signs(
                    e,
                    &offer
                        .schemes
                        .iter()
                        .copied()
                        .filter(|x| s12.sign.contains(x))
                        .collect::<Vec<_>>(),
                )
        })
    };
    by_kind(
        &[
            KeyKind::EcP256,
            KeyKind::EcP384,
            KeyKind::Ed25519,
            KeyKind::Rsa,
        ],
        &usable,
    )
    .map(|entry| Choice {
        entry,
        profile: Profile::Standard,
    })
    .ok_or(Refusal::Certificate)
}

/// RFC 8446 section 4.2.3: TLS 1.3 signs with neither RSASSA-PKCS1-v1_5 nor SHA-1, SHA-224 or
/// MD5 (rustls drops the same schemes before it asks a key to choose).
fn allowed_in_tls13(s: SignatureScheme) -> bool {
    let [hash, sign] = u16::from(s).to_be_bytes();
    !(hash <= 3 || sign == 1)
}

/// What a ClientHello offers, in rustls's types.
#[derive(Debug)]
pub struct Offer<'a> {
    /// The server name, lower case.
    pub server_name: Option<&'a str>,
    /// Whether the client speaks TLS 1.3.
    pub tls13: bool,
    /// Whether the client speaks TLS 1.2.
    pub tls12: bool,
    /// Its suites, in its order.
    pub suites: &'a [CipherSuite],
    /// Its signature schemes.
    pub schemes: &'a [SignatureScheme],
    /// Its groups.
    pub groups: &'a [NamedGroup],
}

/// Which handshake a connection gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Every suite but the SM ones, every configured group.
    Standard,
    /// RFC 8998 strictly: SM suites only, curveSM2 only (a HelloRetryRequest for it if the
    /// client sent no curveSM2 share), the SM2 certificate.
    Gm,
}

/// A certificate and the handshake to use it with.
#[derive(Debug)]
pub struct Choice<'a> {
    /// The certificate.
    pub entry: &'a Entry,
    /// The handshake.
    pub profile: Profile,
}

/// Why no certificate suits a ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The name is not served and the listener rejects unknown names.
    UnknownName,
    /// No version both sides speak.
    Version,
    /// No suite both sides have.
    Suites,
    /// No certificate whose key the client can verify with a suite it offers.
    Certificate,
}

impl Refusal {
    /// The alert that answers it.
    pub fn alert(self) -> Alert {
        match self {
            Self::UnknownName => Alert::UnrecognizedName,
            Self::Version => Alert::ProtocolVersion,
            // RFC 8446 section 4.1.1: no acceptable parameters is handshake_failure.
            Self::Suites | Self::Certificate => Alert::HandshakeFailure,
        }
    }

    /// A short name for logs and the metric label.
    pub fn name(self) -> &'static str {
        match self {
            Self::UnknownName => "unknown_name",
            Self::Version => "no_common_version",
            Self::Suites => "no_common_suite",
            Self::Certificate => "no_suitable_certificate",
        }
    }
}
