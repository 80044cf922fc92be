//! The server's handshake (GB/T 38636-2020 6.4.4, figures 2 and 3: full and resumed).

use std::sync::Arc;
use std::time::SystemTime;

use zeroize::Zeroizing;

use super::cert::{self, Cert, Role};
use super::codec::{Put, Reader};
use super::config::{ClientAuth, ServerConfig};
use super::engine::Core;
use super::error::{AlertDescription, Error};
use super::msgs::{self, ClientHello, HandshakeType, ServerHello};
use super::record::VERSION;
use super::session::Session;
use super::suite::Suite;
use crate::sm2::{CiphertextFormat, DEFAULT_ID};
use crate::{KeyKind, PrivateKey, SigningKey};

/// ECParameters for curveSM2 in the ECDHE ServerKeyExchange: curve_type named_curve (3) and
/// NamedCurve 41 (curveSM2, as RFC 8998 numbers it and Tongsuo sends it).
pub(crate) const SM2_EC_PARAMS: [u8; 3] = [3, 0x00, 0x29];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    ClientHello,
    Certificate,
    ClientKeyExchange,
    CertificateVerify,
    ChangeCipherSpec,
    Finished,
    /// Resumed: our Finished is sent, the client's CCS comes next.
    ResumedChangeCipherSpec,
    ResumedFinished,
    Done,
}

pub(crate) struct Server {
    config: Arc<ServerConfig>,
    signer: Box<dyn SigningKey>,
    state: State,
    client_random: [u8; 32],
    server_random: [u8; 32],
    session_id: Vec<u8>,
    suite: Option<Suite>,
    ephemeral: Option<PrivateKey>,
    client_sign: Option<Cert>,
    client_enc: Option<Cert>,
    master: Option<Zeroizing<[u8; 48]>>,
}

impl Server {
    pub(crate) fn new(config: Arc<ServerConfig>, core: &Core) -> Result<Self, Error> {
        let signer = core
            .crypto
            .sign
            .sm2_signing_key(&config.credentials.sign_key, DEFAULT_ID)
            .map_err(Error::crypto)?;
        Ok(Self {
            config,
            signer,
            state: State::ClientHello,
            client_random: [0; 32],
            server_random: [0; 32],
            session_id: Vec::new(),
            suite: None,
            ephemeral: None,
            client_sign: None,
            client_enc: None,
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
        match (self.state, typ) {
            (State::ClientHello, HandshakeType::ClientHello) => {
                core.transcript.add(message);
                self.client_hello(core, body)
            }
            (State::Certificate, HandshakeType::Certificate) => {
                core.transcript.add(message);
                self.certificate(core, body)
            }
            (State::ClientKeyExchange, HandshakeType::ClientKeyExchange) => {
                core.transcript.add(message);
                self.client_key_exchange(core, body)
            }
            (State::CertificateVerify, HandshakeType::CertificateVerify) => {
                self.certificate_verify(core, body)?;
                core.transcript.add(message);
                self.state = State::ChangeCipherSpec;
                Ok(())
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

    fn client_hello(&mut self, core: &mut Core, body: &[u8]) -> Result<(), Error> {
        let hello = ClientHello::decode(body)?;
        if hello.version != VERSION {
            return Err(Error::alert(
                AlertDescription::ProtocolVersion,
                "ClientHello version is not TLCP's 0x0101",
            ));
        }
        self.client_random = hello.random;
        core.server_name = server_name(&hello);
        core.crypto.fill(&mut self.server_random)?;

        // Resume when the client names a session we hold whose suite it still offers.
        if !hello.session_id.is_empty()
            && let Some(session) = self.config.sessions.get(&hello.session_id)
            && hello.suites.contains(&session.suite.code())
            && core.crypto.can(session.suite)
        {
            return self.resume(core, session);
        }

        let ecdhe_ok = self.config.client_auth != ClientAuth::Off;
        let suite = self
            .config
            .suites
            .iter()
            .copied()
            .find(|s| {
                hello.suites.contains(&s.code())
                    && (ecdhe_ok || !s.is_ecdhe())
                    && core.crypto.can(*s)
            })
            .ok_or(Error::alert(
                AlertDescription::HandshakeFailure,
                "no TLCP suite in common",
            ))?;
        self.suite = Some(suite);
        core.suite = Some(suite);
        if self.config.sessions.enabled() {
            self.session_id = vec![0u8; 32];
            core.crypto.fill(&mut self.session_id)?;
        }

        let mut out = Vec::new();
        ServerHello {
            random: self.server_random,
            session_id: self.session_id.clone(),
            suite: suite.code(),
            extensions: Vec::new(),
        }
        .encode(&mut out);
        core.send_handshake(&out);

        let creds = &self.config.credentials;
        out.clear();
        msgs::encode_certificates(&creds.wire_list(), &mut out);
        core.send_handshake(&out);

        // ServerKeyExchange (6.4.5.4), always sent: an SM2 signature (signing key, default ID)
        // over the randoms and, for ECC, the encryption certificate with its 3-byte length;
        // for ECDHE, the curve and our ephemeral point, which are also sent.
        let mut params = Vec::new();
        let mut tbs = Vec::with_capacity(64 + 1024);
        tbs.extend_from_slice(&self.client_random);
        tbs.extend_from_slice(&self.server_random);
        if suite.is_ecdhe() {
            let eph = PrivateKey::generate(KeyKind::Sm2).map_err(Error::crypto)?;
            params.extend_from_slice(&SM2_EC_PARAMS);
            params.put_vec8(eph.public_key());
            tbs.extend_from_slice(&params);
            self.ephemeral = Some(eph);
        } else {
            tbs.put_vec24(creds.enc.der());
        }
        let signature = self.signer.sign(&tbs).map_err(Error::crypto)?;
        let mut ske = params;
        ske.put_vec16(&signature);
        out.clear();
        msgs::frame(HandshakeType::ServerKeyExchange, &ske, &mut out);
        core.send_handshake(&out);

        if self.config.client_auth != ClientAuth::Off {
            // CertificateRequest (6.4.5.5): certificate types (ecdsa_sign, which TLCP uses
            // for SM2) and the acceptable CAs' names; no signature_algorithms in TLCP.
            let mut cr = Vec::new();
            cr.put_vec8(&[64]);
            let mut names = Vec::new();
            for root in &self.config.client_roots {
                if let Ok(subject) = root_subject(root) {
                    names.put_vec16(&subject);
                }
            }
            cr.put_vec16(&names);
            out.clear();
            msgs::frame(HandshakeType::CertificateRequest, &cr, &mut out);
            core.send_handshake(&out);
            self.state = State::Certificate;
        } else {
            self.state = State::ClientKeyExchange;
        }
        out.clear();
        msgs::frame(HandshakeType::ServerHelloDone, &[], &mut out);
        core.send_handshake(&out);
        core.flush_handshake()
    }

    /// The abbreviated handshake: ServerHello with the session's ID, then at once our
    /// ChangeCipherSpec and Finished.
    fn resume(&mut self, core: &mut Core, session: Session) -> Result<(), Error> {
        self.suite = Some(session.suite);
        core.suite = Some(session.suite);
        core.resumed = true;
        core.peer_certs = session.peer_certs.clone();
        self.session_id = session.id.clone();
        let mut out = Vec::new();
        ServerHello {
            random: self.server_random,
            session_id: session.id.clone(),
            suite: session.suite.code(),
            extensions: Vec::new(),
        }
        .encode(&mut out);
        core.send_handshake(&out);
        core.derive_keys(
            session.suite,
            &session.master,
            &self.client_random,
            &self.server_random,
            false,
        )?;
        core.send_ccs_and_finished(&session.master, false)?;
        self.master = Some(session.master);
        self.state = State::ResumedChangeCipherSpec;
        Ok(())
    }

    fn certificate(&mut self, core: &mut Core, body: &[u8]) -> Result<(), Error> {
        let suite = self.suite.ok_or(Error::internal("no suite"))?;
        let list = msgs::decode_certificates(body)?;
        if list.is_empty() {
            if suite.is_ecdhe() {
                return Err(Error::alert(
                    AlertDescription::HandshakeFailure,
                    "ECDHE needs the client's certificates",
                ));
            }
            if self.config.client_auth == ClientAuth::Required {
                return Err(Error::alert(
                    AlertDescription::HandshakeFailure,
                    "client certificate required",
                ));
            }
            self.state = State::ClientKeyExchange;
            return Ok(());
        }
        let mut parsed = Vec::with_capacity(list.len());
        for der in &list {
            parsed.push(
                Cert::parse(der)
                    .map_err(|reason| Error::alert(AlertDescription::BadCertificate, reason))?,
            );
        }
        // The signing certificate, then the encryption certificate unless the client sent
        // the signing certificate alone (deployed clients do both); CA certificates after.
        let sign = parsed[0].clone();
        let enc = parsed.get(1).filter(|c| !c.is_ca()).cloned();
        let rest: Vec<Cert> = parsed[1 + usize::from(enc.is_some())..].to_vec();
        if !sign.allows(Role::Signing) {
            return Err(Error::alert(
                AlertDescription::BadCertificate,
                "the client's signing certificate does not allow signatures",
            ));
        }
        if let Some(enc) = &enc
            && !enc.allows(Role::Encryption)
        {
            return Err(Error::alert(
                AlertDescription::BadCertificate,
                "the client's encryption certificate does not allow encryption",
            ));
        }
        let now = SystemTime::now();
        let roots = &self.config.client_roots;
        let chain_of = |leaf: &Cert| {
            let mut c = vec![leaf.clone()];
            c.extend(rest.iter().cloned());
            c
        };
        cert::verify_chain(&chain_of(&sign), roots, core.crypto.sign, now)
            .map_err(|alert| Error::alert(alert, "client certificate not trusted"))?;
        if let Some(enc) = &enc {
            cert::verify_chain(&chain_of(enc), roots, core.crypto.sign, now).map_err(|alert| {
                Error::alert(alert, "client encryption certificate not trusted")
            })?;
        }
        if suite.is_ecdhe() && enc.is_none() {
            return Err(Error::alert(
                AlertDescription::HandshakeFailure,
                "ECDHE needs the client's encryption certificate",
            ));
        }
        core.peer_certs = list;
        self.client_sign = Some(sign);
        self.client_enc = enc;
        self.state = State::ClientKeyExchange;
        Ok(())
    }

    fn client_key_exchange(&mut self, core: &mut Core, body: &[u8]) -> Result<(), Error> {
        let suite = self.suite.ok_or(Error::internal("no suite"))?;
        let pre_master = if suite.is_ecdhe() {
            self.key_exchange(core, body)?
        } else {
            self.decrypt_pre_master(core, body)?
        };
        let master = core.master_secret(&pre_master, &self.client_random, &self.server_random);
        core.derive_keys(
            suite,
            &master,
            &self.client_random,
            &self.server_random,
            false,
        )?;
        self.master = Some(master);
        self.state = if self.client_sign.is_some() {
            State::CertificateVerify
        } else {
            State::ChangeCipherSpec
        };
        Ok(())
    }

    /// ECC: the pre-master, SM2-encrypted to our encryption key (6.4.5.8), GM/T 0009 DER,
    /// after a 2-byte length (Tongsuo) or alone. A decryption that fails, or yields other than
    /// 48 bytes, is not reported: a random pre-master takes its place without a branch on the
    /// outcome, and the handshake fails at Finished (RFC 5246 7.4.7.1).
    fn decrypt_pre_master(
        &mut self,
        core: &mut Core,
        body: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let ciphertext = if body.first() == Some(&0x30) {
            body
        } else {
            let mut r = Reader::new(body);
            let c = r.vec16()?;
            r.finish()?;
            c
        };
        let mut random = Zeroizing::new([0u8; 48]);
        core.crypto.fill(&mut random[..])?;
        let decrypted = core.crypto.encrypt.sm2_decrypt(
            &self.config.credentials.enc_key,
            ciphertext,
            CiphertextFormat::Der,
        );
        let (ok, plain) = match &decrypted {
            Ok(p) if p.len() == 48 => (0xffu8, &p[..]),
            _ => (0u8, &random[..]),
        };
        let ok = core::hint::black_box(ok);
        let mut pre_master = Zeroizing::new(vec![0u8; 48]);
        for i in 0..48 {
            pre_master[i] = (plain[i] & ok) | (random[i] & !ok);
        }
        // The first two bytes are the client's version (6.4.5.8), taken from the hello we
        // received, never from the decryption.
        pre_master[..2].copy_from_slice(&VERSION.to_be_bytes());
        Ok(pre_master)
    }

    /// ECDHE: the client's ephemeral point (6.4.5.8), with or without a 2-byte length in front
    /// of the ECParameters; then the SM2 key exchange with our encryption key and the
    /// client's, we the initiator (as Tongsuo computes it), 48 bytes of pre-master.
    fn key_exchange(&mut self, core: &mut Core, body: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        let point = parse_ecdhe_key_exchange(body)?;
        let eph = self
            .ephemeral
            .as_ref()
            .ok_or(Error::internal("no ephemeral key"))?;
        let enc = self.client_enc.as_ref().ok_or(Error::alert(
            AlertDescription::HandshakeFailure,
            "no client encryption certificate",
        ))?;
        let mut pre_master = Zeroizing::new(vec![0u8; 48]);
        core.crypto
            .key_exchange
            .sm2_key_exchange(
                &crate::sm2::KeyExchange {
                    initiator: true,
                    own_static: &self.config.credentials.enc_key,
                    own_ephemeral: eph,
                    own_id: DEFAULT_ID,
                    peer_static: enc.public_key(),
                    peer_ephemeral: point,
                    peer_id: DEFAULT_ID,
                },
                &mut pre_master,
            )
            .map_err(|e| match e {
                crate::Error::InvalidPeerKey => Error::alert(
                    AlertDescription::IllegalParameter,
                    "client's ephemeral key is not on curveSM2",
                ),
                other => Error::crypto(other),
            })?;
        self.ephemeral = None;
        Ok(pre_master)
    }

    /// CertificateVerify (6.4.5.7): an SM2 signature (the client's signing key, default ID)
    /// whose message is SM3 of the handshake messages so far, after a 2-byte length (or
    /// alone, as some GmSSL builds send it).
    fn certificate_verify(&mut self, core: &mut Core, body: &[u8]) -> Result<(), Error> {
        let sign = self
            .client_sign
            .as_ref()
            .ok_or(Error::internal("no client certificate"))?;
        let signature = if body.first() == Some(&0x30) {
            body
        } else {
            let mut r = Reader::new(body);
            let s = r.vec16()?;
            r.finish()?;
            s
        };
        let hash = core.transcript.hash();
        core.crypto
            .sign
            .sm2_verify(sign.public_key(), DEFAULT_ID, &hash, signature)
            .map_err(|_| {
                Error::alert(
                    AlertDescription::DecryptError,
                    "CertificateVerify signature does not verify",
                )
            })
    }

    fn finished(&mut self, core: &mut Core, body: &[u8], message: &[u8]) -> Result<(), Error> {
        let master = self
            .master
            .clone()
            .ok_or(Error::internal("no master secret"))?;
        core.check_finished(&master, true, body, message)?;
        let suite = self.suite.ok_or(Error::internal("no suite"))?;
        if self.state == State::Finished {
            core.send_ccs_and_finished(&master, false)?;
            if !self.session_id.is_empty() {
                self.config.sessions.put(
                    self.session_id.clone(),
                    Session::new(
                        self.session_id.clone(),
                        suite,
                        master,
                        core.peer_certs.clone(),
                    ),
                );
            }
        }
        self.state = State::Done;
        core.finish_handshake()
    }
}

/// The host name of a ClientHello's server_name extension (RFC 6066 3), if any.
fn server_name(hello: &ClientHello) -> Option<String> {
    let (_, data) = hello.extensions.iter().find(|(t, _)| *t == 0)?;
    let mut r = Reader::new(data);
    let mut list = Reader::new(r.vec16().ok()?);
    while !list.is_empty() {
        let kind = list.u8().ok()?;
        let name = list.vec16().ok()?;
        if kind == 0 {
            return String::from_utf8(name.to_vec()).ok();
        }
    }
    None
}

fn root_subject(root: &Cert) -> Result<Vec<u8>, ()> {
    use x509_cert::der::{Decode, Encode};
    let c = x509_cert::Certificate::from_der(root.der()).map_err(|_| ())?;
    c.tbs_certificate().subject().to_der().map_err(|_| ())
}

/// The ECDHE ClientKeyExchange's point: `ECParameters || ECPoint` (curve_type 3, NamedCurve
/// 41, then a 1-byte-length point), with or without an outer 2-byte length.
pub(crate) fn parse_ecdhe_key_exchange(body: &[u8]) -> Result<&[u8], Error> {
    let inner = if body.first() == Some(&3) {
        body
    } else {
        let mut r = Reader::new(body);
        let v = r.vec16()?;
        r.finish()?;
        v
    };
    let mut r = Reader::new(inner);
    let params = r.take(3)?;
    if params != SM2_EC_PARAMS {
        return Err(Error::alert(
            AlertDescription::IllegalParameter,
            "ECDHE key exchange is not on curveSM2",
        ));
    }
    let point = r.vec8()?;
    r.finish()?;
    if point.len() != 65 || point[0] != 4 {
        return Err(Error::alert(
            AlertDescription::IllegalParameter,
            "ECDHE point is not an uncompressed curveSM2 point",
        ));
    }
    Ok(point)
}
