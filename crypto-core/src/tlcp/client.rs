//! The client's handshake (GB/T 38636-2020 6.4.4), sending what Tongsuo expects.

use std::sync::Arc;
use std::time::SystemTime;

use zeroize::Zeroizing;

use super::cert::{self, Cert, Role};
use super::codec::{Put, Reader};
use super::config::{ClientConfig, ServerVerification};
use super::engine::Core;
use super::error::{AlertDescription, Error};
use super::msgs::{self, ClientHello, HandshakeType, ServerHello};
use super::record::VERSION;
use super::server::SM2_EC_PARAMS;
use super::session::Session;
use super::suite::Suite;
use crate::sm2::{CiphertextFormat, DEFAULT_ID};
use crate::{KeyKind, PrivateKey};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    ServerHello,
    Certificate,
    ServerKeyExchange,
    CertificateRequestOrDone,
    ServerHelloDone,
    ChangeCipherSpec,
    Finished,
    ResumedChangeCipherSpec,
    ResumedFinished,
    Done,
}

pub(crate) struct Client {
    config: Arc<ClientConfig>,
    state: State,
    client_random: [u8; 32],
    server_random: [u8; 32],
    offered: Vec<Suite>,
    cached: Option<Session>,
    suite: Option<Suite>,
    session_id: Vec<u8>,
    server_sign: Option<Cert>,
    server_enc: Option<Cert>,
    server_ephemeral: Option<Vec<u8>>,
    certificate_requested: bool,
    master: Option<Zeroizing<[u8; 48]>>,
}

impl Client {
    pub(crate) fn start(config: Arc<ClientConfig>, core: &mut Core) -> Result<Self, Error> {
        let has_credentials = config.credentials.is_some();
        let offered: Vec<Suite> = config
            .suites
            .iter()
            .copied()
            .filter(|s| (has_credentials || !s.is_ecdhe()) && core.crypto.can(*s))
            .collect();
        if offered.is_empty() {
            return Err(Error::internal("no TLCP suite to offer"));
        }
        let name = core.server_name.clone().unwrap_or_default();
        let cached = config
            .sessions
            .get(name.as_bytes())
            .filter(|s| offered.contains(&s.suite));
        let mut client_random = [0u8; 32];
        core.crypto.fill(&mut client_random)?;
        // SNI (RFC 6066 3) for a DNS name, never for an IP literal; no other extension
        // (Tongsuo's client sends no more by default, and some TLCP servers abort on
        // extensions they do not know).
        let mut extensions = Vec::new();
        if !name.is_empty() && name.parse::<std::net::IpAddr>().is_err() {
            let mut entry = Vec::new();
            entry.put_u8(0);
            entry.put_vec16(name.as_bytes());
            let mut list = Vec::new();
            list.put_vec16(&entry);
            extensions.push((0u16, list));
        }
        let hello = ClientHello {
            version: VERSION,
            random: client_random,
            session_id: cached.as_ref().map(|s| s.id.clone()).unwrap_or_default(),
            suites: offered.iter().map(|s| s.code()).collect(),
            extensions,
        };
        let mut out = Vec::new();
        hello.encode(&mut out);
        core.send_handshake(&out);
        core.flush_handshake()?;
        Ok(Self {
            config,
            state: State::ServerHello,
            client_random,
            server_random: [0; 32],
            offered,
            cached,
            suite: None,
            session_id: Vec::new(),
            server_sign: None,
            server_enc: None,
            server_ephemeral: None,
            certificate_requested: false,
            master: None,
        })
    }

    pub(crate) fn expects_ccs(&self) -> bool {
        matches!(
            self.state,
            State::ChangeCipherSpec | State::ResumedChangeCipherSpec
        )
    }

    pub(crate) fn got_ccs(&mut self) {
        self.state = match self.state {
            State::ResumedChangeCipherSpec => State::ResumedFinished,
            _ => State::Finished,
        };
    }

    pub(crate) fn handle(
        &mut self,
        core: &mut Core,
        typ: HandshakeType,
        message: &[u8],
    ) -> Result<(), Error> {
        let body = &message[4..];
        if typ == HandshakeType::HelloRequest {
            // Not part of the transcript (6.4.5.1); ignored during a handshake.
            return Ok(());
        }
        match (self.state, typ) {
            (State::ServerHello, HandshakeType::ServerHello) => {
                core.transcript.add(message);
                self.server_hello(core, body)
            }
            (State::Certificate, HandshakeType::Certificate) => {
                core.transcript.add(message);
                self.certificate(core, body)
            }
            (State::ServerKeyExchange, HandshakeType::ServerKeyExchange) => {
                core.transcript.add(message);
                self.server_key_exchange(core, body)
            }
            (State::CertificateRequestOrDone, HandshakeType::CertificateRequest) => {
                core.transcript.add(message);
                certificate_request(body)?;
                self.certificate_requested = true;
                self.state = State::ServerHelloDone;
                Ok(())
            }
            (
                State::CertificateRequestOrDone | State::ServerHelloDone,
                HandshakeType::ServerHelloDone,
            ) => {
                if !body.is_empty() {
                    return Err(Error::decode("ServerHelloDone is not empty"));
                }
                core.transcript.add(message);
                self.second_flight(core)
            }
            (State::Finished | State::ResumedFinished, HandshakeType::Finished) => {
                self.finished(core, body, message)
            }
            _ => Err(Error::alert(
                AlertDescription::UnexpectedMessage,
                "handshake message out of order",
            )),
        }
    }

    fn server_hello(&mut self, core: &mut Core, body: &[u8]) -> Result<(), Error> {
        let hello = ServerHello::decode(body)?;
        let suite = msgs::known_suite(hello.suite)
            .filter(|s| self.offered.contains(s))
            .ok_or(Error::alert(
                AlertDescription::IllegalParameter,
                "server chose a suite we did not offer",
            ))?;
        // We offered only server_name; the server may acknowledge it, nothing else.
        if hello.extensions.iter().any(|(t, _)| *t != 0) {
            return Err(Error::alert(
                AlertDescription::UnsupportedExtension,
                "server sent an extension we did not offer",
            ));
        }
        self.server_random = hello.random;
        self.suite = Some(suite);
        core.suite = Some(suite);
        self.session_id = hello.session_id.clone();
        if let Some(session) = self.cached.take()
            && !hello.session_id.is_empty()
            && hello.session_id == session.id
        {
            if session.suite != suite {
                return Err(Error::alert(
                    AlertDescription::IllegalParameter,
                    "resumed session with another suite",
                ));
            }
            core.resumed = true;
            core.peer_certs = session.peer_certs.clone();
            core.derive_keys(
                suite,
                &session.master,
                &self.client_random,
                &self.server_random,
                true,
            )?;
            self.master = Some(session.master);
            self.state = State::ResumedChangeCipherSpec;
            return Ok(());
        }
        self.state = State::Certificate;
        Ok(())
    }

    fn certificate(&mut self, core: &mut Core, body: &[u8]) -> Result<(), Error> {
        let list = msgs::decode_certificates(body)?;
        if list.len() < 2 {
            return Err(Error::alert(
                AlertDescription::BadCertificate,
                "the server must send a signing and an encryption certificate",
            ));
        }
        let mut parsed = Vec::with_capacity(list.len());
        for der in &list {
            parsed.push(
                Cert::parse(der)
                    .map_err(|reason| Error::alert(AlertDescription::BadCertificate, reason))?,
            );
        }
        let sign = parsed[0].clone();
        let enc = parsed[1].clone();
        if !sign.allows(Role::Signing) {
            return Err(Error::alert(
                AlertDescription::UnsupportedCertificate,
                "the server's first certificate does not allow signatures",
            ));
        }
        if !enc.allows(Role::Encryption) {
            return Err(Error::alert(
                AlertDescription::UnsupportedCertificate,
                "the server's second certificate does not allow encryption (a signing certificate where the encryption one belongs?)",
            ));
        }
        if let ServerVerification::Roots(roots) = &self.config.verification {
            let now = SystemTime::now();
            for leaf in [&sign, &enc] {
                let mut chain = vec![leaf.clone()];
                chain.extend(parsed[2..].iter().cloned());
                cert::verify_chain(&chain, roots, core.crypto.sign, now)
                    .map_err(|alert| Error::alert(alert, "server certificate not trusted"))?;
            }
            if let Some(name) = &core.server_name
                && !sign.names(name)
            {
                return Err(Error::alert(
                    AlertDescription::BadCertificate,
                    "the server's certificate does not name the server",
                ));
            }
        }
        core.peer_certs = list;
        self.server_sign = Some(sign);
        self.server_enc = Some(enc);
        self.state = State::ServerKeyExchange;
        Ok(())
    }

    fn server_key_exchange(&mut self, core: &mut Core, body: &[u8]) -> Result<(), Error> {
        let suite = self.suite.ok_or(Error::internal("no suite"))?;
        let sign = self
            .server_sign
            .as_ref()
            .ok_or(Error::internal("no cert"))?;
        let enc = self.server_enc.as_ref().ok_or(Error::internal("no cert"))?;
        let mut r = Reader::new(body);
        let mut tbs = Vec::with_capacity(64 + 1024);
        tbs.extend_from_slice(&self.client_random);
        tbs.extend_from_slice(&self.server_random);
        if suite.is_ecdhe() {
            let params = r.take(3)?;
            if params != SM2_EC_PARAMS {
                return Err(Error::alert(
                    AlertDescription::IllegalParameter,
                    "server's ECDHE parameters are not curveSM2",
                ));
            }
            let point = r.vec8()?;
            if point.len() != 65 || point[0] != 4 {
                return Err(Error::alert(
                    AlertDescription::IllegalParameter,
                    "server's ECDHE point is not uncompressed",
                ));
            }
            tbs.extend_from_slice(params);
            tbs.put_vec8(point);
            self.server_ephemeral = Some(point.to_vec());
        } else {
            tbs.put_vec24(enc.der());
        }
        let signature = r.vec16()?;
        r.finish()?;
        core.crypto
            .sign
            .sm2_verify(sign.public_key(), DEFAULT_ID, &tbs, signature)
            .map_err(|_| {
                Error::alert(
                    AlertDescription::DecryptError,
                    "ServerKeyExchange signature does not verify",
                )
            })?;
        self.state = State::CertificateRequestOrDone;
        Ok(())
    }

    /// After ServerHelloDone: [Certificate], ClientKeyExchange, [CertificateVerify],
    /// ChangeCipherSpec, Finished.
    fn second_flight(&mut self, core: &mut Core) -> Result<(), Error> {
        let suite = self.suite.ok_or(Error::internal("no suite"))?;
        let creds = self.config.credentials.clone();
        let mut out = Vec::new();
        let sent_certificates = self.certificate_requested && creds.is_some();
        if self.certificate_requested {
            let mut list = creds.as_ref().map(|c| c.wire_list()).unwrap_or_default();
            if !self.config.send_encryption_certificate && list.len() >= 2 && !suite.is_ecdhe() {
                list.remove(1);
            }
            msgs::encode_certificates(&list, &mut out);
            core.send_handshake(&out);
        }
        let mut cke = Vec::new();
        let pre_master = if suite.is_ecdhe() {
            let creds = creds.as_ref().ok_or(Error::alert(
                AlertDescription::HandshakeFailure,
                "ECDHE needs our certificates",
            ))?;
            if !self.certificate_requested {
                return Err(Error::alert(
                    AlertDescription::HandshakeFailure,
                    "ECDHE server did not ask for our certificates",
                ));
            }
            let eph = PrivateKey::generate(KeyKind::Sm2).map_err(Error::crypto)?;
            let mut params = Vec::new();
            params.extend_from_slice(&SM2_EC_PARAMS);
            params.put_vec8(eph.public_key());
            if self.config.ecdhe_length_prefix {
                cke.put_vec16(&params);
            } else {
                cke.extend_from_slice(&params);
            }
            let server_enc = self.server_enc.as_ref().ok_or(Error::internal("no cert"))?;
            let server_eph = self
                .server_ephemeral
                .as_ref()
                .ok_or(Error::internal("no server key"))?;
            let mut pre_master = Zeroizing::new(vec![0u8; 48]);
            core.crypto
                .key_exchange
                .sm2_key_exchange(
                    &crate::sm2::KeyExchange {
                        initiator: false,
                        own_static: &creds.enc_key,
                        own_ephemeral: &eph,
                        own_id: DEFAULT_ID,
                        peer_static: server_enc.public_key(),
                        peer_ephemeral: server_eph,
                        peer_id: DEFAULT_ID,
                    },
                    &mut pre_master,
                )
                .map_err(|e| match e {
                    crate::Error::InvalidPeerKey => Error::alert(
                        AlertDescription::IllegalParameter,
                        "server's ephemeral key is not on curveSM2",
                    ),
                    other => Error::crypto(other),
                })?;
            pre_master
        } else {
            // 6.4.5.8: client_version || 46 random bytes, SM2-encrypted (GM/T 0009 DER) to
            // the server's encryption certificate, after a 2-byte length.
            let mut pre_master = Zeroizing::new(vec![0u8; 48]);
            pre_master[..2].copy_from_slice(&VERSION.to_be_bytes());
            core.crypto.fill(&mut pre_master[2..])?;
            let enc = self.server_enc.as_ref().ok_or(Error::internal("no cert"))?;
            let ciphertext = core
                .crypto
                .encrypt
                .sm2_encrypt(enc.public_key(), &pre_master, CiphertextFormat::Der)
                .map_err(Error::crypto)?;
            cke.put_vec16(&ciphertext);
            pre_master
        };
        out.clear();
        msgs::frame(HandshakeType::ClientKeyExchange, &cke, &mut out);
        core.send_handshake(&out);
        let master = core.master_secret(&pre_master, &self.client_random, &self.server_random);
        core.derive_keys(
            suite,
            &master,
            &self.client_random,
            &self.server_random,
            true,
        )?;

        if sent_certificates && let Some(creds) = &creds {
            // CertificateVerify (6.4.5.7): SM2 (signing key, default ID) over SM3 of the
            // handshake so far.
            let signer = core
                .crypto
                .sign
                .sm2_signing_key(&creds.sign_key, DEFAULT_ID)
                .map_err(Error::crypto)?;
            let signature = signer
                .sign(&core.transcript.hash())
                .map_err(Error::crypto)?;
            let mut cv = Vec::new();
            cv.put_vec16(&signature);
            out.clear();
            msgs::frame(HandshakeType::CertificateVerify, &cv, &mut out);
            core.send_handshake(&out);
        }
        core.send_ccs_and_finished(&master, true)?;
        self.master = Some(master);
        self.state = State::ChangeCipherSpec;
        Ok(())
    }

    fn finished(&mut self, core: &mut Core, body: &[u8], message: &[u8]) -> Result<(), Error> {
        let master = self
            .master
            .clone()
            .ok_or(Error::internal("no master secret"))?;
        core.check_finished(&master, false, body, message)?;
        let suite = self.suite.ok_or(Error::internal("no suite"))?;
        if self.state == State::ResumedFinished {
            core.send_ccs_and_finished(&master, true)?;
        } else if !self.session_id.is_empty() {
            let name = core.server_name.clone().unwrap_or_default();
            self.config.sessions.put(
                name.into_bytes(),
                Session::new(
                    self.session_id.clone(),
                    suite,
                    master,
                    core.peer_certs.clone(),
                ),
            );
        }
        self.state = State::Done;
        core.finish_handshake()
    }
}

/// Checks a CertificateRequest's shape (6.4.5.5): certificate types, then CA names; no
/// signature_algorithms in TLCP.
fn certificate_request(body: &[u8]) -> Result<(), Error> {
    let mut r = Reader::new(body);
    let types = r.vec8()?;
    if types.is_empty() {
        return Err(Error::decode(
            "CertificateRequest without certificate types",
        ));
    }
    let mut names = Reader::new(r.vec16()?);
    while !names.is_empty() {
        names.vec16()?;
    }
    r.finish()
}
