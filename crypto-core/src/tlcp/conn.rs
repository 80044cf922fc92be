//! The connection: record framing in and out, alerts, application data, and the dispatch of
//! handshake messages to the server's or the client's state machine.

use std::sync::Arc;

use super::client::Client;
use super::config::{ClientConfig, ServerConfig};
use super::engine::{Core, MAX_EMPTY_IN_A_ROW, MAX_INCOMING, MAX_PLAINTEXT_BACKLOG};
use super::error::{AlertDescription, Error};
use super::msgs::{HandshakeType, MAX_HANDSHAKE};
use super::record::{self, ContentType, HEADER_LEN};
use super::server::Server;
use super::suite::Suite;

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
