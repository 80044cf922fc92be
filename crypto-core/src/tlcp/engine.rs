//! What both sides of a connection share: the backends resolved from the Selection, the
//! handshake transcript, and the connection's core state (record protection, buffers, alerts,
//! keys), which the server and client state machines drive and [`super::conn`] frames.

use zeroize::Zeroizing;

use super::error::{AlertDescription, Error};
use super::msgs::{self, HandshakeType};
use super::prf;
use super::record::{self, ContentType, HEADER_LEN, MAX_FRAGMENT, MAX_PLAINTEXT, Protection};
use super::suite::Suite;
use crate::{
    AeadAlg, Algorithm, Backend, CipherAlg, Hash, HashAlg, HashContext, Hmac, SecureRandom,
    Selection,
};

/// How much undecrypted input we hold: two whole records.
pub(super) const MAX_INCOMING: usize = 2 * (HEADER_LEN + MAX_FRAGMENT);
/// Decrypted application data held for the reader before we stop decrypting more.
pub(super) const MAX_PLAINTEXT_BACKLOG: usize = 64 * 1024;
/// Empty records and warning alerts tolerated in a row (a peer cannot spin us forever).
pub(super) const MAX_EMPTY_IN_A_ROW: u32 = 32;

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
        // The selection's backend, or (where it lacks the algorithm: the SM2 key exchange
        // protocol under a single-backend selection, say) any built backend that has it.
        let at = |alg| {
            let b = selection.backend_for(alg);
            if b.supports(alg) {
                b
            } else {
                Backend::any_for(alg).unwrap_or(b)
            }
        };
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
    pub(super) rx: Protection,
    pub(super) tx: Protection,
    pub(super) pending_rx: Option<Protection>,
    pub(super) pending_tx: Option<Protection>,
    pub(super) incoming: Vec<u8>,
    pub(super) outgoing: Vec<u8>,
    pub(super) hs_in: Vec<u8>,
    pub(super) hs_out: Vec<u8>,
    pub(super) plain_in: Vec<u8>,
    pub(super) plain_pos: usize,
    pub(super) plain_out_pending: Vec<u8>,
    pub(crate) handshake_done: bool,
    pub(super) error: Option<Error>,
    pub(super) close_sent: bool,
    pub(super) close_received: bool,
    pub(super) empty_in_a_row: u32,
    pub(crate) suite: Option<Suite>,
    pub(crate) resumed: bool,
    pub(crate) peer_certs: Vec<Vec<u8>>,
    pub(crate) server_name: Option<String>,
}

impl Core {
    pub(super) fn new(selection: &Selection) -> Result<Self, Error> {
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
                ct_mac: super::cbc_mac::CtHmacSm3::new(mac),
                random: self.crypto.random,
                seq: 0,
            })
        })
    }

    pub(super) fn send_alert(&mut self, fatal: bool, alert: AlertDescription) {
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

    pub(super) fn seal_application(&mut self, data: &[u8]) -> Result<(), Error> {
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

    /// ChangeCipherSpec, then our Finished (the client's label when `client`), sent.
    pub(crate) fn send_ccs_and_finished(
        &mut self,
        master: &[u8; 48],
        client: bool,
    ) -> Result<(), Error> {
        self.send_change_cipher_spec()?;
        let verify = self.finished(master, client);
        let mut out = Vec::new();
        msgs::frame(HandshakeType::Finished, &verify, &mut out);
        self.send_handshake(&out);
        self.flush_handshake()
    }

    /// Checks the peer's Finished (`body`; the client's label when `from_client`) against
    /// the transcript so far, in constant time, then adds the message to the transcript.
    pub(crate) fn check_finished(
        &mut self,
        master: &[u8; 48],
        from_client: bool,
        body: &[u8],
        message: &[u8],
    ) -> Result<(), Error> {
        let got = msgs::decode_finished(body)?;
        if !crate::ct::eq(&got, &self.finished(master, from_client)) {
            return Err(Error::alert(
                AlertDescription::DecryptError,
                if from_client {
                    "client Finished does not verify"
                } else {
                    "server Finished does not verify"
                },
            ));
        }
        self.transcript.add(message);
        Ok(())
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
