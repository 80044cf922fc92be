//! The connection: record framing in and out, alerts, the handshake transcript, application
//! data, and the dispatch of handshake messages to the server's or the client's state machine.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::client::Client;
use super::msgs::{HandshakeType, MAX_HANDSHAKE};
use super::record::{self, ContentType, HEADER_LEN, MAX_FRAGMENT, MAX_PLAINTEXT, Protection};
use super::server::Server;
use super::{AlertDescription, ClientConfig, Error, ServerConfig, Suite, prf};
use crate::{
    AeadAlg, Algorithm, Backend, CipherAlg, Hash, HashAlg, HashContext, Hmac, SecureRandom,
    Selection,
};

/// How much undecrypted input we hold: two whole records.
const MAX_INCOMING: usize = 2 * (HEADER_LEN + MAX_FRAGMENT);
/// Decrypted application data held for the reader before we stop decrypting more.
const MAX_PLAINTEXT_BACKLOG: usize = 64 * 1024;
/// Empty records and warning alerts tolerated in a row (a peer cannot spin us forever).
const MAX_EMPTY_IN_A_ROW: u32 = 32;

/// The backends a connection computes with, resolved once from its Selection.
pub(crate) struct Crypto {
    pub(crate) sm3: &'static dyn Hash,
    pub(crate) hmac: &'static dyn Hmac,
    /// SM2 signatures.
    pub(crate) sign: Backend,
    /// SM2 encryption.
    pub(crate) encrypt: Backend,
    /// The SM2 key exchange protocol.
    pub(crate) key_exchange: Backend,
    pub(crate) cbc: Backend,
    pub(crate) gcm: Backend,
    pub(crate) random: &'static dyn SecureRandom,
}

impl Crypto {
    pub(crate) fn new(selection: &Selection) -> Result<Self, Error> {
        let at = |alg| selection.backend_for(alg);
        let sm3_backend = at(Algorithm::Hash(HashAlg::Sm3));
        let random = at(Algorithm::Random)
            .random()
            .unwrap_or_else(|_| crate::system_random());
        Ok(Self {
            sm3: sm3_backend.hash(HashAlg::Sm3).map_err(Error::crypto)?,
            hmac: at(Algorithm::Hmac(HashAlg::Sm3))
                .hmac(HashAlg::Sm3)
                .map_err(Error::crypto)?,
            sign: at(Algorithm::Signature(crate::SignatureAlg::Sm2Sm3)),
            encrypt: at(Algorithm::Sm2Encryption),
            key_exchange: at(Algorithm::Sm2KeyExchange),
            cbc: at(Algorithm::Cipher(CipherAlg::Sm4Cbc)),
            gcm: at(Algorithm::Aead(AeadAlg::Sm4Gcm)),
            random,
        })
    }

    /// Whether a suite's record protection and key exchange are all available.
    pub(crate) fn can(&self, suite: Suite) -> bool {
        let records = if suite.is_gcm() {
            self.gcm.supports(Algorithm::Aead(AeadAlg::Sm4Gcm))
        } else {
            self.cbc.supports(Algorithm::Cipher(CipherAlg::Sm4Cbc))
        };
        let kx = if suite.is_ecdhe() {
            self.key_exchange.supports(Algorithm::Sm2KeyExchange)
        } else {
            self.encrypt.supports(Algorithm::Sm2Encryption)
        };
        records && kx
    }

    pub(crate) fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        self.random.fill(buf).map_err(Error::crypto)
    }
}

/// SM3 over the handshake messages so far (GB/T 38636-2020 6.4.5.9: every handshake message
/// from ClientHello on, headers included; HelloRequest excluded).
pub(crate) struct Transcript(Box<dyn HashContext>);

impl Transcript {
    pub(crate) fn add(&mut self, message: &[u8]) {
        self.0.update(message);
    }

    pub(crate) fn hash(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.0.fork_finish().as_ref());
        out
    }
}

/// What the two sides share.
pub(crate) struct Core {
    pub(crate) crypto: Crypto,
    pub(crate) transcript: Transcript,
    rx: Protection,
    tx: Protection,
    pending_rx: Option<Protection>,
    pending_tx: Option<Protection>,
    incoming: Vec<u8>,
    outgoing: Vec<u8>,
    hs_in: Vec<u8>,
    hs_out: Vec<u8>,
    plain_in: Vec<u8>,
    plain_pos: usize,
    plain_out_pending: Vec<u8>,
    pub(crate) handshake_done: bool,
    error: Option<Error>,
    close_sent: bool,
    close_received: bool,
    empty_in_a_row: u32,
    pub(crate) suite: Option<Suite>,
    pub(crate) resumed: bool,
    pub(crate) peer_certs: Vec<Vec<u8>>,
    pub(crate) server_name: Option<String>,
}

impl Core {
    fn new(selection: &Selection) -> Result<Self, Error> {
        let crypto = Crypto::new(selection)?;
        let transcript = Transcript(crypto.sm3.start());
        Ok(Self {
            crypto,
            transcript,
            rx: Protection::Null,
            tx: Protection::Null,
            pending_rx: None,
            pending_tx: None,
            incoming: Vec::new(),
            outgoing: Vec::new(),
            hs_in: Vec::new(),
            hs_out: Vec::new(),
            plain_in: Vec::new(),
            plain_pos: 0,
            plain_out_pending: Vec::new(),
            handshake_done: false,
            error: None,
            close_sent: false,
            close_received: false,
            empty_in_a_row: 0,
            suite: None,
            resumed: false,
            peer_certs: Vec::new(),
            server_name: None,
        })
    }

    /// Queues a handshake message (type, length, body) and adds it to the transcript.
    pub(crate) fn send_handshake(&mut self, message: &[u8]) {
        self.transcript.add(message);
        self.hs_out.extend_from_slice(message);
    }

    /// Seals the queued handshake messages into records.
    pub(crate) fn flush_handshake(&mut self) -> Result<(), Error> {
        let out = core::mem::take(&mut self.hs_out);
        for chunk in out.chunks(MAX_PLAINTEXT) {
            self.tx
                .seal(ContentType::Handshake, chunk, &mut self.outgoing)?;
        }
        Ok(())
    }

    /// Flushes the handshake and sends ChangeCipherSpec; our records are protected from now.
    pub(crate) fn send_change_cipher_spec(&mut self) -> Result<(), Error> {
        self.flush_handshake()?;
        self.tx
            .seal(ContentType::ChangeCipherSpec, &[1], &mut self.outgoing)?;
        self.tx = self
            .pending_tx
            .take()
            .ok_or(Error::internal("no keys for ChangeCipherSpec"))?;
        Ok(())
    }

    /// Derives the key block and holds both directions' protection until ChangeCipherSpec.
    pub(crate) fn derive_keys(
        &mut self,
        suite: Suite,
        master: &[u8; 48],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        is_client: bool,
    ) -> Result<(), Error> {
        // GB/T 38636-2020 6.5.2 / RFC 5246 6.3: client_write_MAC_key, server_write_MAC_key,
        // client_write_key, server_write_key, client_write_IV, server_write_IV. CBC: 32-byte
        // MAC keys, 16-byte keys and IVs; GCM: no MAC keys, 4-byte implicit IVs.
        let (mac_len, iv_len) = if suite.is_gcm() { (0, 4) } else { (32, 16) };
        let len = 2 * (mac_len + 16 + iv_len);
        let block = prf::key_block(self.crypto.hmac, master, client_random, server_random, len);
        let (client_mac, rest) = block.split_at(mac_len);
        let (server_mac, rest) = rest.split_at(mac_len);
        let (client_key, rest) = rest.split_at(16);
        let (server_key, rest) = rest.split_at(16);
        let (client_iv, server_iv) = rest.split_at(iv_len);
        let client = self.protection(suite, client_mac, client_key, client_iv)?;
        let server = self.protection(suite, server_mac, server_key, server_iv)?;
        let (rx, tx) = if is_client {
            (server, client)
        } else {
            (client, server)
        };
        self.pending_rx = Some(rx);
        self.pending_tx = Some(tx);
        Ok(())
    }

    fn protection(
        &self,
        suite: Suite,
        mac: &[u8],
        key: &[u8],
        iv: &[u8],
    ) -> Result<Protection, Error> {
        Ok(if suite.is_gcm() {
            let mut salt = [0u8; 4];
            salt.copy_from_slice(iv);
            Protection::Gcm(record::Gcm {
                aead: self
                    .crypto
                    .gcm
                    .aead(AeadAlg::Sm4Gcm, key)
                    .map_err(Error::crypto)?,
                salt,
                seq: 0,
            })
        } else {
            Protection::Cbc(record::Cbc {
                cipher: self
                    .crypto
                    .cbc
                    .cipher(CipherAlg::Sm4Cbc, key)
                    .map_err(Error::crypto)?,
                mac: self.crypto.hmac.with_key(mac),
                sm3: self.crypto.sm3,
                random: self.crypto.random,
                seq: 0,
            })
        })
    }

    fn send_alert(&mut self, fatal: bool, alert: AlertDescription) {
        let level = if fatal { 2 } else { 1 };
        // Best effort: a failure to seal the alert leaves only the error to report.
        let _ = self.tx.seal(
            ContentType::Alert,
            &[level, alert.to_u8()],
            &mut self.outgoing,
        );
    }

    /// The handshake is over: flush what the application wrote early.
    pub(crate) fn finish_handshake(&mut self) -> Result<(), Error> {
        self.handshake_done = true;
        let pending = core::mem::take(&mut self.plain_out_pending);
        self.seal_application(&pending)
    }

    fn seal_application(&mut self, data: &[u8]) -> Result<(), Error> {
        for chunk in data.chunks(MAX_PLAINTEXT) {
            self.tx
                .seal(ContentType::ApplicationData, chunk, &mut self.outgoing)?;
        }
        Ok(())
    }

    /// The master secret for a pre-master (GB/T 38636-2020 6.5.1).
    pub(crate) fn master_secret(
        &self,
        pre_master: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Zeroizing<[u8; 48]> {
        prf::master_secret(self.crypto.hmac, pre_master, client_random, server_random)
    }

    /// A Finished value over the transcript so far.
    pub(crate) fn finished(&self, master: &[u8; 48], client: bool) -> [u8; 12] {
        let label = if client {
            prf::CLIENT_FINISHED
        } else {
            prf::SERVER_FINISHED
        };
        prf::verify_data(self.crypto.hmac, master, label, &self.transcript.hash())
    }
}

enum Side {
    Server(Box<Server>),
    Client(Box<Client>),
}

/// A TLCP connection, server or client side.
pub struct Connection {
    core: Core,
    side: Side,
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("server", &matches!(self.side, Side::Server(_)))
            .field("suite", &self.core.suite)
            .field("handshaking", &!self.core.handshake_done)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A server connection, waiting for the client's hello.
    pub fn server(config: Arc<ServerConfig>) -> Result<Self, Error> {
        let core = Core::new(&config.selection)?;
        let server = Server::new(config, &core)?;
        Ok(Self {
            core,
            side: Side::Server(Box::new(server)),
        })
    }

    /// A client connection to `server_name` (checked against the server's signing certificate
    /// and sent as SNI when it is a DNS name); its ClientHello is queued at once.
    pub fn client(config: Arc<ClientConfig>, server_name: &str) -> Result<Self, Error> {
        let mut core = Core::new(&config.selection)?;
        core.server_name = Some(server_name.to_owned());
        let client = Client::start(config, &mut core)?;
        Ok(Self {
            core,
            side: Side::Client(Box::new(client)),
        })
    }

    /// Takes bytes the peer sent; returns how many were taken (fewer when enough is buffered
    /// already: process and read first).
    pub fn read_tls(&mut self, data: &[u8]) -> usize {
        let room = MAX_INCOMING.saturating_sub(self.core.incoming.len());
        let n = room.min(data.len());
        self.core.incoming.extend_from_slice(&data[..n]);
        n
    }

    /// Processes every complete record taken so far. After an error the connection is dead:
    /// the same error comes back, and a fatal alert is queued for the peer (send
    /// [`take_tls`](Self::take_tls) before closing).
    pub fn process_new_packets(&mut self) -> Result<(), Error> {
        if let Some(e) = &self.error_state() {
            return Err(e.clone());
        }
        match self.process() {
            Ok(()) => Ok(()),
            Err(e) => {
                if let Some(alert) = e.alert_to_send() {
                    self.core.send_alert(true, alert);
                }
                self.core.error = Some(e.clone());
                Err(e)
            }
        }
    }

    fn error_state(&self) -> Option<Error> {
        self.core.error.clone()
    }

    fn process(&mut self) -> Result<(), Error> {
        loop {
            if self.core.plain_in.len() - self.core.plain_pos > MAX_PLAINTEXT_BACKLOG {
                return Ok(());
            }
            if self.core.incoming.len() < HEADER_LEN {
                return Ok(());
            }
            let mut h = [0u8; HEADER_LEN];
            h.copy_from_slice(&self.core.incoming[..HEADER_LEN]);
            let header = record::parse_header(&h)?;
            if self.core.incoming.len() < HEADER_LEN + header.len {
                return Ok(());
            }
            let mut fragment: Vec<u8> =
                self.core.incoming[HEADER_LEN..HEADER_LEN + header.len].to_vec();
            self.core.incoming.drain(..HEADER_LEN + header.len);
            if self.core.close_received {
                return Err(Error::Closed);
            }
            let range = self.core.rx.open(header.typ, &mut fragment)?;
            let content = &fragment[range];
            if content.is_empty() && header.typ != ContentType::ApplicationData {
                return Err(Error::alert(
                    AlertDescription::UnexpectedMessage,
                    "empty record that may not be empty",
                ));
            }
            if content.is_empty() {
                self.core.empty_in_a_row += 1;
                if self.core.empty_in_a_row > MAX_EMPTY_IN_A_ROW {
                    return Err(Error::alert(
                        AlertDescription::UnexpectedMessage,
                        "too many empty records",
                    ));
                }
            } else {
                self.core.empty_in_a_row = 0;
            }
            if header.typ != ContentType::Handshake && !self.core.hs_in.is_empty() {
                return Err(Error::alert(
                    AlertDescription::UnexpectedMessage,
                    "a record inside a fragmented handshake message",
                ));
            }
            match header.typ {
                ContentType::Handshake => {
                    self.core.hs_in.extend_from_slice(content);
                    self.handshake_messages()?;
                }
                ContentType::ChangeCipherSpec => {
                    if content != [1] {
                        return Err(Error::decode("ChangeCipherSpec is not 1"));
                    }
                    let expected = match &mut self.side {
                        Side::Server(s) => s.expects_ccs(),
                        Side::Client(c) => c.expects_ccs(),
                    };
                    if !expected {
                        return Err(Error::alert(
                            AlertDescription::UnexpectedMessage,
                            "ChangeCipherSpec out of place",
                        ));
                    }
                    self.core.rx = self
                        .core
                        .pending_rx
                        .take()
                        .ok_or(Error::internal("no keys at ChangeCipherSpec"))?;
                    match &mut self.side {
                        Side::Server(s) => s.got_ccs(),
                        Side::Client(c) => c.got_ccs(),
                    }
                }
                ContentType::Alert => self.alert(content)?,
                ContentType::ApplicationData => {
                    if !self.core.handshake_done {
                        return Err(Error::alert(
                            AlertDescription::UnexpectedMessage,
                            "application data before the handshake completed",
                        ));
                    }
                    if self.core.plain_pos == self.core.plain_in.len() {
                        self.core.plain_in.clear();
                        self.core.plain_pos = 0;
                    }
                    self.core.plain_in.extend_from_slice(content);
                }
            }
        }
    }

    fn alert(&mut self, content: &[u8]) -> Result<(), Error> {
        if content.len() != 2 {
            return Err(Error::decode("alert is not two bytes"));
        }
        let desc = AlertDescription::from_u8(content[1]);
        if desc == AlertDescription::CloseNotify {
            self.core.close_received = true;
            return Ok(());
        }
        if content[0] == 1 {
            // A warning (RFC 5246 7.2): noted and passed over, a bounded number in a row.
            self.core.empty_in_a_row += 1;
            if self.core.empty_in_a_row > MAX_EMPTY_IN_A_ROW {
                return Err(Error::alert(
                    AlertDescription::UnexpectedMessage,
                    "too many warning alerts",
                ));
            }
            return Ok(());
        }
        Err(Error::PeerAlert(desc))
    }

    fn handshake_messages(&mut self) -> Result<(), Error> {
        loop {
            if self.core.hs_in.len() < 4 {
                return Ok(());
            }
            let len = usize::from(self.core.hs_in[1]) << 16
                | usize::from(self.core.hs_in[2]) << 8
                | usize::from(self.core.hs_in[3]);
            if len > MAX_HANDSHAKE {
                return Err(Error::alert(
                    AlertDescription::IllegalParameter,
                    "handshake message too long",
                ));
            }
            if self.core.hs_in.len() < 4 + len {
                return Ok(());
            }
            let message: Vec<u8> = self.core.hs_in.drain(..4 + len).collect();
            let typ = HandshakeType::from_u8(message[0]).ok_or(Error::alert(
                AlertDescription::UnexpectedMessage,
                "unknown handshake message type",
            ))?;
            if self.core.handshake_done {
                self.after_handshake(typ)?;
                continue;
            }
            match &mut self.side {
                Side::Server(s) => s.handle(&mut self.core, typ, &message)?,
                Side::Client(c) => c.handle(&mut self.core, typ, &message)?,
            }
        }
    }

    /// A handshake message once the handshake is over: a renegotiation request (ClientHello
    /// to a server, HelloRequest to a client) gets a `no_renegotiation` warning (RFC 5246
    /// 7.2.2); anything else is unexpected.
    fn after_handshake(&mut self, typ: HandshakeType) -> Result<(), Error> {
        let renegotiation = match self.side {
            Side::Server(_) => typ == HandshakeType::ClientHello,
            Side::Client(_) => typ == HandshakeType::HelloRequest,
        };
        if renegotiation {
            self.core
                .send_alert(false, AlertDescription::NoRenegotiation);
            Ok(())
        } else {
            Err(Error::alert(
                AlertDescription::UnexpectedMessage,
                "handshake message after the handshake",
            ))
        }
    }

    /// Bytes to send to the peer (taken: the next call returns only what is new).
    pub fn take_tls(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.core.outgoing)
    }

    /// Whether there are bytes to send.
    pub fn wants_write(&self) -> bool {
        !self.core.outgoing.is_empty()
    }

    /// Copies received application data into `buf`; returns how much (0: none yet).
    pub fn read_plaintext(&mut self, buf: &mut [u8]) -> usize {
        let avail = &self.core.plain_in[self.core.plain_pos..];
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.core.plain_pos += n;
        n
    }

    /// How much received application data is waiting.
    pub fn plaintext_available(&self) -> usize {
        self.core.plain_in.len() - self.core.plain_pos
    }

    /// Encrypts application data for the peer (held until the handshake completes).
    pub fn write_plaintext(&mut self, data: &[u8]) -> Result<(), Error> {
        if let Some(e) = &self.core.error {
            return Err(e.clone());
        }
        if self.core.close_sent {
            return Err(Error::Closed);
        }
        if self.core.handshake_done {
            self.core.seal_application(data)
        } else {
            self.core.plain_out_pending.extend_from_slice(data);
            Ok(())
        }
    }

    /// Queues close_notify; nothing more can be written.
    pub fn send_close_notify(&mut self) {
        if !self.core.close_sent {
            self.core.close_sent = true;
            self.core.send_alert(false, AlertDescription::CloseNotify);
        }
    }

    /// Whether the peer sent close_notify.
    pub fn received_close_notify(&self) -> bool {
        self.core.close_received
    }

    /// Whether the handshake is still running.
    pub fn is_handshaking(&self) -> bool {
        !self.core.handshake_done
    }

    /// The negotiated suite (from the ServerHello on).
    pub fn suite(&self) -> Option<Suite> {
        self.core.suite
    }

    /// Whether the session was resumed.
    pub fn resumed(&self) -> bool {
        self.core.resumed
    }

    /// The peer's certificates as sent (a server: the client's signing certificate, then
    /// its encryption certificate if sent, then CA certificates); empty when it sent none.
    pub fn peer_certificates(&self) -> &[Vec<u8>] {
        &self.core.peer_certs
    }

    /// The server name: a client's target, or the SNI a server received.
    pub fn server_name(&self) -> Option<&str> {
        self.core.server_name.as_deref()
    }
}
