//! The first flight, read by the proxy itself before any handshake engine sees it: the
//! ClientHello's records and message, checked against the record-layer rules and parsed for
//! what the certificate, suite and group choice needs (server name, versions, suites,
//! signature schemes, groups, key shares). The bytes are then handed to the engine unchanged.
//!
//! This room only parses; it touches no socket and no configuration. Every length is bounded
//! before it is trusted, and every malformed input is an [`HelloError`] naming the alert that
//! RFC 8446 (and RFC 5246 for TLS 1.2) asks for, never a panic.

/// The most plaintext one record may carry: 2^14 bytes (RFC 8446 section 5.1, RFC 5246
/// section 6.2.1). A ClientHello record is plaintext.
pub const MAX_RECORD: usize = 1 << 14;

/// The largest ClientHello accepted, in bytes of handshake message body (the same bound as
/// rustls's for any handshake message). The protocol allows 2^24 - 1; nothing real comes near.
pub const MAX_HELLO: usize = 0xffff;

/// Record content types (RFC 8446 section 5.1).
const HANDSHAKE: u8 = 22;
/// Handshake message type of a ClientHello (RFC 8446 section 4).
const CLIENT_HELLO: u8 = 1;
/// TLCP's version in records and hellos (GB/T 38636-2020 6.3.3.1, 6.4.5.2.1).
pub const TLCP_VERSION: u16 = 0x0101;

/// TLS alert descriptions the proxy sends itself (RFC 8446 section 6, RFC 6066 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Alert {
    /// 10: a record or message that does not belong here.
    UnexpectedMessage,
    /// 22: a record longer than the protocol allows.
    RecordOverflow,
    /// 40: no acceptable set of security parameters.
    HandshakeFailure,
    /// 47: a field out of range, or a message larger than this server accepts.
    IllegalParameter,
    /// 50: a message that cannot be decoded.
    DecodeError,
    /// 70: a protocol version this server does not speak.
    ProtocolVersion,
    /// 112: a server name this server does not serve (RFC 6066 section 3).
    UnrecognizedName,
}

impl Alert {
    /// The alert's code.
    pub const fn code(self) -> u8 {
        match self {
            Self::UnexpectedMessage => 10,
            Self::RecordOverflow => 22,
            Self::HandshakeFailure => 40,
            Self::IllegalParameter => 47,
            Self::DecodeError => 50,
            Self::ProtocolVersion => 70,
            Self::UnrecognizedName => 112,
        }
    }

    /// The alert's name as RFC 8446 writes it (for logs and metric labels).
    pub const fn name(self) -> &'static str {
        match self {
            Self::UnexpectedMessage => "unexpected_message",
            Self::RecordOverflow => "record_overflow",
            Self::HandshakeFailure => "handshake_failure",
            Self::IllegalParameter => "illegal_parameter",
            Self::DecodeError => "decode_error",
            Self::ProtocolVersion => "protocol_version",
            Self::UnrecognizedName => "unrecognized_name",
        }
    }

    /// The fatal alert as a plaintext record, sent before any keys exist: content type 21,
    /// legacy record version 0x0303 (RFC 8446 section 5.1), level 2 (fatal), description.
    pub const fn record(self) -> [u8; 7] {
        [21, 3, 3, 0, 2, 2, self.code()]
    }

    /// The same for a TLCP client: record version 0x0101 (GB/T 38636-2020 6.3.3.1; the
    /// alert codes are TLS's, 6.4.4.3).
    pub const fn tlcp_record(self) -> [u8; 7] {
        [21, 1, 1, 0, 2, 2, self.code()]
    }
}

/// Why a first flight was refused, with the alert to answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloError {
    /// The alert owed to the client.
    pub alert: Alert,
    /// What was wrong, in words.
    pub reason: &'static str,
}

fn refuse<T>(alert: Alert, reason: &'static str) -> Result<T, HelloError> {
    Err(HelloError { alert, reason })
}

/// What a ClientHello offers, as far as choosing a certificate, suite and group needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// The version field of the first record's header.
    pub record_version: u16,
    /// `legacy_version` (RFC 8446 section 4.1.2): the highest version of a TLS 1.2 client.
    pub legacy_version: u16,
    /// The `host_name` of server_name (RFC 6066 section 3), lower case.
    pub server_name: Option<String>,
    /// Cipher suites, in the client's order.
    pub cipher_suites: Vec<u16>,
    /// supported_versions (RFC 8446 section 4.2.1), if sent.
    pub supported_versions: Option<Vec<u16>>,
    /// signature_algorithms (RFC 8446 section 4.2.3), in the client's order.
    pub signature_schemes: Vec<u16>,
    /// supported_groups (RFC 8446 section 4.2.7), in the client's order.
    pub groups: Vec<u16>,
    /// The groups of the key_share entries (RFC 8446 section 4.2.8).
    pub key_share_groups: Vec<u16>,
    /// A TLCP ClientHello (record and client version 0x0101), for the TLCP engine.
    pub tlcp: bool,
}

impl ClientHello {
    /// Whether the client offers TLS 1.3 (only ever through supported_versions).
    pub fn offers_tls13(&self) -> bool {
        self.supported_versions
            .as_ref()
            .is_some_and(|v| v.contains(&0x0304))
    }

    /// Whether the client offers TLS 1.2: in supported_versions when it sent one, else by
    /// its legacy_version (RFC 8446 section 4.2.1).
    pub fn offers_tls12(&self) -> bool {
        match &self.supported_versions {
            Some(v) => v.contains(&0x0303),
            None => self.legacy_version >= 0x0303,
        }
    }
}

/// A bounds-checked reader over a byte slice.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    /// A vector with a `len_bytes`-byte length in front.
    fn vec(&mut self, len_bytes: usize) -> Option<Reader<'a>> {
        let len = match len_bytes {
            1 => usize::from(self.u8()?),
            _ => usize::from(self.u16()?),
        };
        self.take(len).map(|bytes| Reader { bytes })
    }

    /// A list of u16 values with a `len_bytes`-byte length in front; an odd length is an
    /// error.
    fn u16_list(&mut self, len_bytes: usize) -> Option<Vec<u16>> {
        let mut r = self.vec(len_bytes)?;
        if r.bytes.len() % 2 != 0 {
            return None;
        }
        let mut out = Vec::with_capacity(r.bytes.len() / 2);
        while !r.bytes.is_empty() {
            out.push(r.u16()?);
        }
        Some(out)
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Reads the first flight from `buf` (everything received so far): `Ok(None)` while more
/// bytes are needed, `Ok(Some(hello))` once the whole ClientHello message has arrived, or the
/// alert to send. Records are checked as they come, so an oversized or interleaved record is
/// refused before the rest of the flight is waited for.
pub fn parse_first_flight(buf: &[u8]) -> Result<Option<ClientHello>, HelloError> {
    let mut message: Vec<u8> = Vec::new();
    let mut rest = buf;
    let mut record_version = None;
    loop {
        let Some(header) = rest.get(..5) else {
            return Ok(None);
        };
        let (typ, version) = (header[0], u16::from_be_bytes([header[1], header[2]]));
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if typ != HANDSHAKE {
            // Before a ClientHello only handshake records may come; after the first fragment
            // of one, RFC 8446 section 5.1 forbids any other record until it is complete.
            return refuse(
                Alert::UnexpectedMessage,
                if message.is_empty() {
                    "the first record is not a handshake record"
                } else {
                    "a record of another type inside a fragmented ClientHello"
                },
            );
        }
        let tlcp = *record_version.get_or_insert(version) == TLCP_VERSION;
        if tlcp && version != TLCP_VERSION {
            return refuse(
                Alert::ProtocolVersion,
                "a TLCP ClientHello continued in a record of another version",
            );
        }
        if !tlcp && version >> 8 != 3 {
            return refuse(Alert::ProtocolVersion, "not a TLS record version");
        }
        if len > MAX_RECORD {
            return refuse(
                Alert::RecordOverflow,
                "a record longer than 2^14 bytes of plaintext",
            );
        }
        if len == 0 {
            // RFC 8446 section 5.1: no zero-length fragments of handshake messages.
            return refuse(Alert::UnexpectedMessage, "an empty handshake record");
        }
        let Some(fragment) = rest.get(5..5 + len) else {
            return Ok(None);
        };
        rest = &rest[5 + len..];
        message.extend_from_slice(fragment);
        if message[0] != CLIENT_HELLO {
            return refuse(
                Alert::UnexpectedMessage,
                "the first handshake message is not a ClientHello",
            );
        }
        let Some(header) = message.get(..4) else {
            continue;
        };
        let body_len =
            (usize::from(header[1]) << 16) | (usize::from(header[2]) << 8) | usize::from(header[3]);
        if body_len > MAX_HELLO {
            return refuse(Alert::IllegalParameter, "a ClientHello larger than 64 KiB");
        }
        if message.len() < 4 + body_len {
            continue;
        }
        if message.len() > 4 + body_len {
            // More handshake bytes in the same flight: only a ClientHello may come first, and
            // nothing may follow it before the server answers.
            return refuse(
                Alert::UnexpectedMessage,
                "handshake data after the ClientHello",
            );
        }
        let tlcp = record_version == Some(TLCP_VERSION);
        let mut hello = parse_hello_body(&message[4..], tlcp)?;
        hello.record_version = record_version.unwrap_or(0);
        return Ok(Some(hello));
    }
}

/// Parses a ClientHello body (RFC 8446 section 4.1.2, RFC 5246 section 7.4.1.2).
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello, HelloError> {
    parse_hello_body(body, false)
}

/// Parses a TLS or (`tlcp`) a TLCP ClientHello body: TLCP's has TLS 1.2's layout with
/// client_version 0x0101 (GB/T 38636-2020 6.4.5.2.1); its extensions are read the same way.
fn parse_hello_body(body: &[u8], tlcp: bool) -> Result<ClientHello, HelloError> {
    let bad = || HelloError {
        alert: Alert::DecodeError,
        reason: "a malformed ClientHello",
    };
    let mut r = Reader { bytes: body };
    let legacy_version = r.u16().ok_or_else(bad)?;
    r.take(32).ok_or_else(bad)?; // random
    let session_id = r.vec(1).ok_or_else(bad)?;
    if session_id.bytes.len() > 32 {
        return Err(bad());
    }
    let cipher_suites = r.u16_list(2).ok_or_else(bad)?;
    if cipher_suites.is_empty() {
        return Err(bad());
    }
    let compression = r.vec(1).ok_or_else(bad)?;
    if compression.is_empty() {
        return Err(bad());
    }
    let mut hello = ClientHello {
        legacy_version,
        cipher_suites,
        tlcp,
        ..ClientHello::default()
    };
    if tlcp && legacy_version != TLCP_VERSION {
        return refuse(
            Alert::ProtocolVersion,
            "a TLCP record with a ClientHello of another version",
        );
    }
    // RFC 8446 appendix D.5: a ClientHello with legacy_version 0x0300 or below is refused
    // with protocol_version, whatever its supported_versions says.
    if !tlcp && legacy_version <= 0x0300 {
        return refuse(Alert::ProtocolVersion, "legacy_version is SSL 3.0 or older");
    }
    if r.is_empty() {
        return Ok(hello); // a TLS 1.2 ClientHello may have no extensions at all
    }
    let mut exts = r.vec(2).ok_or_else(bad)?;
    if !r.is_empty() {
        return Err(bad());
    }
    let mut seen: Vec<u16> = Vec::new();
    while !exts.is_empty() {
        let typ = exts.u16().ok_or_else(bad)?;
        let mut data = exts.vec(2).ok_or_else(bad)?;
        if seen.contains(&typ) {
            // RFC 8446 section 4.2: at most one extension of each type.
            return refuse(Alert::IllegalParameter, "an extension sent twice");
        }
        seen.push(typ);
        match typ {
            0 => hello.server_name = server_name(&mut data).ok_or_else(bad)?,
            10 => hello.groups = data.u16_list(2).ok_or_else(bad)?,
            13 => hello.signature_schemes = data.u16_list(2).ok_or_else(bad)?,
            43 => hello.supported_versions = Some(data.u16_list(1).ok_or_else(bad)?),
            51 => {
                let mut shares = data.vec(2).ok_or_else(bad)?;
                while !shares.is_empty() {
                    let group = shares.u16().ok_or_else(bad)?;
                    shares.vec(2).ok_or_else(bad)?;
                    hello.key_share_groups.push(group);
                }
            }
            _ => continue,
        }
        if !data.is_empty() {
            return Err(bad());
        }
    }
    Ok(hello)
}

/// The host_name of a server_name extension body (RFC 6066 section 3): `Some(None)` when it
/// names no host, `None` when malformed.
fn server_name(data: &mut Reader<'_>) -> Option<Option<String>> {
    let mut list = data.vec(2)?;
    let mut host = None;
    while !list.is_empty() {
        let typ = list.u8()?;
        let name = list.vec(2)?;
        if typ == 0 && host.is_none() {
            let text = std::str::from_utf8(name.bytes).ok()?;
            if text.is_empty() || !text.is_ascii() || text.contains('\0') {
                return None;
            }
            host = Some(text.to_ascii_lowercase());
        }
    }
    Some(host)
}

/// Why no ClientHello came.
#[derive(Debug)]
pub enum ReadError {
    /// It broke a rule; the alert was sent.
    Refused(HelloError),
    /// The socket failed or closed first.
    Io(std::io::Error),
}

/// Reads the first flight from `stream` (the ClientHello's records), answering a broken one
/// with its alert, and puts every byte read back in front of the stream for the handshake
/// engine to read again.
pub async fn read(stream: &mut super::prefixed::Prefixed) -> Result<ClientHello, ReadError> {
    use tokio::io::AsyncReadExt;
    let mut buf: Vec<u8> = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    loop {
        match parse_first_flight(&buf) {
            Ok(Some(hello)) => {
                stream.unread(buf);
                return Ok(hello);
            }
            Ok(None) => {}
            Err(e) => {
                let tlcp = buf.get(..3) == Some(&[HANDSHAKE, 1, 1][..]);
                send_alert(stream, e.alert, tlcp).await;
                return Err(ReadError::Refused(e));
            }
        }
        let n = stream.read(&mut chunk).await.map_err(ReadError::Io)?;
        if n == 0 {
            // A ClientHello cut short: a client that only half-closed still hears why.
            if !buf.is_empty() {
                let tlcp = buf.get(..3) == Some(&[HANDSHAKE, 1, 1][..]);
                send_alert(stream, Alert::DecodeError, tlcp).await;
            }
            return Err(ReadError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Sends a fatal alert in a plaintext record (no keys exist yet) and closes the write side.
/// `tlcp`: in TLCP's record version, for a client that sent a TLCP ClientHello.
pub async fn send_alert(stream: &mut super::prefixed::Prefixed, alert: Alert, tlcp: bool) {
    use tokio::io::AsyncWriteExt;
    let record = if tlcp {
        alert.tlcp_record()
    } else {
        alert.record()
    };
    let _ = stream.write_all(&record).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello body: TLS 1.3 with the given extensions.
    fn body(legacy: u16, exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut b = legacy.to_be_bytes().to_vec();
        b.extend_from_slice(&[7; 32]);
        b.push(0);
        b.extend_from_slice(&[0, 4, 0x13, 0x01, 0x13, 0x02]);
        b.extend_from_slice(&[1, 0]);
        let mut e = Vec::new();
        for (t, d) in exts {
            e.extend_from_slice(&t.to_be_bytes());
            e.extend_from_slice(&(d.len() as u16).to_be_bytes());
            e.extend_from_slice(d);
        }
        b.extend_from_slice(&(e.len() as u16).to_be_bytes());
        b.extend_from_slice(&e);
        b
    }

    fn records(body: &[u8], split: usize) -> Vec<u8> {
        let mut msg = vec![1, 0];
        msg.extend_from_slice(&(body.len() as u16).to_be_bytes());
        msg.extend_from_slice(body);
        let mut out = Vec::new();
        for chunk in msg.chunks(split) {
            out.extend_from_slice(&[22, 3, 1]);
            out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
            out.extend_from_slice(chunk);
        }
        out
    }

    fn sni(name: &str) -> (u16, Vec<u8>) {
        let mut d = ((name.len() + 3) as u16).to_be_bytes().to_vec();
        d.push(0);
        d.extend_from_slice(&(name.len() as u16).to_be_bytes());
        d.extend_from_slice(name.as_bytes());
        (0, d)
    }

    #[test]
    fn a_fragmented_hello_is_read_whole() {
        let b = body(
            0x0303,
            &[
                sni("Example.COM"),
                (43, vec![4, 0x03, 0x04, 0x03, 0x03]),
                (13, vec![0, 4, 0x04, 0x03, 0x08, 0x04]),
                (10, vec![0, 4, 0x00, 0x1d, 0x00, 0x29]),
                (51, vec![0, 6, 0x00, 0x1d, 0x00, 0x02, 0xaa, 0xbb]),
            ],
        );
        let all = records(&b, 17);
        for cut in 0..all.len() {
            assert_eq!(parse_first_flight(&all[..cut]), Ok(None), "cut at {cut}");
        }
        let hello = parse_first_flight(&all).unwrap().unwrap();
        assert_eq!(hello.server_name.as_deref(), Some("example.com"));
        assert_eq!(hello.cipher_suites, [0x1301, 0x1302]);
        assert!(hello.offers_tls13() && hello.offers_tls12());
        assert_eq!(hello.signature_schemes, [0x0403, 0x0804]);
        assert_eq!(hello.groups, [0x001d, 0x0029]);
        assert_eq!(hello.key_share_groups, [0x001d]);
        assert_eq!(hello.record_version, 0x0301);
    }

    #[test]
    fn each_rule_has_its_alert() {
        let ok = records(&body(0x0303, &[]), 1000);
        // A record over 2^14 bytes: record_overflow, from its header alone.
        let mut big = ok.clone();
        big[3..5].copy_from_slice(&16385u16.to_be_bytes());
        assert_eq!(
            parse_first_flight(&big[..5]).unwrap_err().alert,
            Alert::RecordOverflow
        );
        // SSL 3.0 in legacy_version, even with supported_versions: protocol_version.
        let old = records(&body(0x0300, &[(43, vec![2, 3, 4])]), 1000);
        assert_eq!(
            parse_first_flight(&old).unwrap_err().alert,
            Alert::ProtocolVersion
        );
        // Another record type between two fragments: unexpected_message.
        let frag = records(&body(0x0303, &[]), 20);
        let mut mixed = frag[..25].to_vec();
        mixed.extend_from_slice(&[21, 3, 3, 0, 2, 1, 0]);
        mixed.extend_from_slice(&frag[25..]);
        assert_eq!(
            parse_first_flight(&mixed).unwrap_err().alert,
            Alert::UnexpectedMessage
        );
        // A message over 64 KiB: refused from its header, before the rest arrives.
        let huge = [22, 3, 1, 0, 4, 1, 0x01, 0x10, 0x00];
        assert_eq!(
            parse_first_flight(&huge).unwrap_err().alert,
            Alert::IllegalParameter
        );
        // Not a handshake record; not TLS at all.
        assert_eq!(
            parse_first_flight(b"GET / HTTP/1.1\r\n").unwrap_err().alert,
            Alert::UnexpectedMessage
        );
        // The same extension twice.
        let twice = records(&body(0x0303, &[sni("a"), sni("b")]), 1000);
        assert_eq!(
            parse_first_flight(&twice).unwrap_err().alert,
            Alert::IllegalParameter
        );
    }

    #[test]
    fn every_truncation_and_corruption_is_an_answer_not_a_panic() {
        let b = body(
            0x0303,
            &[
                sni("x.test"),
                (43, vec![2, 3, 4]),
                (51, vec![0, 4, 0, 0x1d, 0, 0]),
            ],
        );
        let all = records(&b, 50);
        for i in 0..all.len() {
            for x in [0x00, 0xff, 0x80, 0x01] {
                let mut m = all.clone();
                m[i] ^= x;
                let _ = parse_first_flight(&m);
            }
        }
        let inner = &b[..];
        for n in 0..inner.len() {
            let _ = parse_client_hello(&inner[..n]);
        }
    }
}
