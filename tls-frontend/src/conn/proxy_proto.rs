//! The PROXY protocol (HAProxy's spec, versions 1 and 2): reading a header from a trusted load
//! balancer in front of us, and writing one to the upstream with the client's addresses and,
//! in v2, the TLS details as TLVs.
//!
//! Parsing works on a byte buffer and never panics on what a peer sends; a malformed header
//! is an error and the connection is closed.

use std::net::{IpAddr, SocketAddr};

/// The v2 signature (spec section 2.2).
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// The longest v1 header, CRLF included (spec section 2.1).
pub const V1_MAX: usize = 107;

/// TLV types (spec section 2.2.1 onwards).
pub mod tlv {
    /// Application-Layer Protocol Negotiation.
    pub const ALPN: u8 = 0x01;
    /// The host name the client asked for (SNI).
    pub const AUTHORITY: u8 = 0x02;
    /// TLS details, with sub-TLVs.
    pub const SSL: u8 = 0x20;
    /// Sub-TLV: TLS version, e.g. "TLSv1.3".
    pub const SSL_VERSION: u8 = 0x21;
    /// Sub-TLV: client certificate's subject common name.
    pub const SSL_CN: u8 = 0x22;
    /// Sub-TLV: cipher suite name.
    pub const SSL_CIPHER: u8 = 0x23;
    /// Sub-TLV: the server certificate's signature algorithm.
    pub const SSL_SIG_ALG: u8 = 0x24;
    /// Sub-TLV: the server key's algorithm.
    pub const SSL_KEY_ALG: u8 = 0x25;
    /// `client` flag: the connection used TLS.
    pub const CLIENT_SSL: u8 = 0x01;
    /// `client` flag: a client certificate was presented on this connection.
    pub const CLIENT_CERT_CONN: u8 = 0x02;
    /// `client` flag: a client certificate was presented in this session.
    pub const CLIENT_CERT_SESS: u8 = 0x04;
}

/// What a header said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Source and destination, or `None` for `LOCAL`/`UNKNOWN` (health checks).
    pub addresses: Option<(SocketAddr, SocketAddr)>,
    /// v2 TLVs as `(type, value)`.
    pub tlvs: Vec<(u8, Vec<u8>)>,
}

/// Why a header was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyError(pub &'static str);

impl std::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PROXY header: {}", self.0)
    }
}

impl std::error::Error for ProxyError {}

/// Tries to parse a header at the start of `buf`: `Ok(Some((header, length)))` when complete,
/// `Ok(None)` when more bytes are needed, an error when it cannot be a valid header.
pub fn parse(buf: &[u8]) -> Result<Option<(Header, usize)>, ProxyError> {
    let n = buf.len().min(V2_SIGNATURE.len());
    if buf[..n] == V2_SIGNATURE[..n] {
        if buf.len() < 16 {
            return Ok(None);
        }
        return parse_v2(buf);
    }
    let n = buf.len().min(6);
    if buf[..n] == b"PROXY "[..n] {
        return parse_v1(buf);
    }
    Err(ProxyError(
        "no PROXY header from a source that must send one",
    ))
}

fn parse_v1(buf: &[u8]) -> Result<Option<(Header, usize)>, ProxyError> {
    let window = &buf[..buf.len().min(V1_MAX)];
    let Some(end) = window.windows(2).position(|w| w == b"\r\n") else {
        return if buf.len() >= V1_MAX {
            Err(ProxyError("v1 header longer than 107 bytes"))
        } else {
            Ok(None)
        };
    };
    let line = std::str::from_utf8(&buf[..end]).map_err(|_| ProxyError("v1 header not ASCII"))?;
    let parts: Vec<&str> = line.split(' ').collect();
    let header = match parts.as_slice() {
        ["PROXY", "UNKNOWN", ..] => Header {
            addresses: None,
            tlvs: Vec::new(),
        },
        ["PROXY", proto @ ("TCP4" | "TCP6"), src, dst, sport, dport] => {
            let src: IpAddr = src
                .parse()
                .map_err(|_| ProxyError("bad v1 source address"))?;
            let dst: IpAddr = dst.parse().map_err(|_| ProxyError("bad v1 destination"))?;
            // TCP4 takes two IPv4 addresses and TCP6 two IPv6 ones. A mixed pair would not
            // survive being passed on: re-encoded, its IPv4 address turns IPv4-mapped IPv6
            // (the fuzzer found TCP6 with an IPv4 destination).
            let family_ok = if *proto == "TCP4" {
                src.is_ipv4() && dst.is_ipv4()
            } else {
                src.is_ipv6() && dst.is_ipv6()
            };
            if !family_ok {
                return Err(ProxyError("v1 address family mismatch"));
            }
            let port = |p: &str| {
                if p.len() > 1 && p.starts_with('0') {
                    return Err(ProxyError("bad v1 port"));
                }
                p.parse::<u16>().map_err(|_| ProxyError("bad v1 port"))
            };
            Header {
                addresses: Some((
                    SocketAddr::new(src, port(sport)?),
                    SocketAddr::new(dst, port(dport)?),
                )),
                tlvs: Vec::new(),
            }
        }
        _ => return Err(ProxyError("malformed v1 header")),
    };
    Ok(Some((header, end + 2)))
}

fn parse_v2(buf: &[u8]) -> Result<Option<(Header, usize)>, ProxyError> {
    let ver_cmd = buf[12];
    let fam = buf[13];
    let len = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    if ver_cmd >> 4 != 2 {
        return Err(ProxyError("unsupported v2 version"));
    }
    let total = 16 + len;
    if buf.len() < total {
        return Ok(None);
    }
    let body = &buf[16..total];
    let (addresses, rest) = match (ver_cmd & 0x0f, fam) {
        // LOCAL: the balancer's own connection (health check); addresses are ignored.
        (0, _) => (None, &body[body.len()..]),
        (1, 0x11) => {
            if body.len() < 12 {
                return Err(ProxyError("short v2 IPv4 block"));
            }
            let ip = |o: usize| IpAddr::from([body[o], body[o + 1], body[o + 2], body[o + 3]]);
            let port = |o: usize| u16::from_be_bytes([body[o], body[o + 1]]);
            (
                Some((
                    SocketAddr::new(ip(0), port(8)),
                    SocketAddr::new(ip(4), port(10)),
                )),
                &body[12..],
            )
        }
        (1, 0x21) => {
            if body.len() < 36 {
                return Err(ProxyError("short v2 IPv6 block"));
            }
            let ip = |o: usize| {
                let mut a = [0u8; 16];
                a.copy_from_slice(&body[o..o + 16]);
                IpAddr::from(a)
            };
            let port = |o: usize| u16::from_be_bytes([body[o], body[o + 1]]);
            (
                Some((
                    SocketAddr::new(ip(0), port(32)),
                    SocketAddr::new(ip(16), port(34)),
                )),
                &body[36..],
            )
        }
        (1, 0x00) => (None, &body[body.len()..]),
        (1, _) => return Err(ProxyError("unsupported v2 address family")),
        _ => return Err(ProxyError("unsupported v2 command")),
    };
    Ok(Some((
        Header {
            addresses,
            tlvs: parse_tlvs(rest)?,
        },
        total,
    )))
}

/// Parses a run of TLVs.
pub fn parse_tlvs(mut b: &[u8]) -> Result<Vec<(u8, Vec<u8>)>, ProxyError> {
    let mut out = Vec::new();
    while !b.is_empty() {
        if b.len() < 3 {
            return Err(ProxyError("truncated TLV"));
        }
        let len = usize::from(u16::from_be_bytes([b[1], b[2]]));
        if b.len() < 3 + len {
            return Err(ProxyError("truncated TLV"));
        }
        out.push((b[0], b[3..3 + len].to_vec()));
        b = &b[3 + len..];
    }
    Ok(out)
}

/// The TLS facts a v2 header carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// "TLSv1.3" or "TLSv1.2".
    pub version: String,
    /// IANA suite name.
    pub cipher: String,
    /// SNI.
    pub sni: Option<String>,
    /// Negotiated ALPN protocol.
    pub alpn: Option<Vec<u8>>,
    /// Client certificate subject CN, when one was presented (and verified).
    pub client_cn: Option<String>,
    /// Whether a client certificate was presented (and verified: rustls completes no handshake
    /// with one it could not verify).
    pub client_cert: bool,
    /// Whether the session was resumed (the certificate then came with the session, not this
    /// connection).
    pub resumed: bool,
    /// The server key's algorithm, e.g. "ECDSA-P256", "RSA2048", "SM2".
    pub key_alg: Option<String>,
}

fn push_tlv(out: &mut Vec<u8>, t: u8, v: &[u8]) {
    // Every value written here is bounded (SNI and ALPN by TLS to 255 bytes, the CN above,
    // versions and suite names are short); a value that would not fit is left out whole
    // rather than cut, so the TLV structure stays valid.
    let Ok(len) = u16::try_from(v.len()) else {
        return;
    };
    out.push(t);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(v);
}

/// A v1 header line.
pub fn encode_v1(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    match (src, dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => format!(
            "PROXY TCP4 {} {} {} {}\r\n",
            s.ip(),
            d.ip(),
            s.port(),
            d.port()
        ),
        _ => {
            let v6 = |a: SocketAddr| match a.ip() {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            format!(
                "PROXY TCP6 {} {} {} {}\r\n",
                v6(src),
                v6(dst),
                src.port(),
                dst.port()
            )
        }
    }
    .into_bytes()
}

/// A v2 PROXY header with ALPN, AUTHORITY (SNI) and SSL TLVs.
pub fn encode_v2(src: SocketAddr, dst: SocketAddr, tls: &TlsInfo) -> Vec<u8> {
    let mut body = Vec::with_capacity(128);
    let fam = match (src, dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            body.extend_from_slice(&s.ip().octets());
            body.extend_from_slice(&d.ip().octets());
            body.extend_from_slice(&s.port().to_be_bytes());
            body.extend_from_slice(&d.port().to_be_bytes());
            0x11
        }
        _ => {
            let v6 = |a: SocketAddr| match a.ip() {
                IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
                IpAddr::V6(v6) => v6.octets(),
            };
            body.extend_from_slice(&v6(src));
            body.extend_from_slice(&v6(dst));
            body.extend_from_slice(&src.port().to_be_bytes());
            body.extend_from_slice(&dst.port().to_be_bytes());
            0x21
        }
    };
    if let Some(alpn) = &tls.alpn {
        push_tlv(&mut body, tlv::ALPN, alpn);
    }
    if let Some(sni) = &tls.sni {
        push_tlv(&mut body, tlv::AUTHORITY, sni.as_bytes());
    }
    let mut ssl = Vec::with_capacity(64);
    let mut client = tlv::CLIENT_SSL;
    if tls.client_cert {
        client |= tlv::CLIENT_CERT_SESS;
        if !tls.resumed {
            client |= tlv::CLIENT_CERT_CONN;
        }
    }
    ssl.push(client);
    // verify: 0 only when a client certificate was presented and verified (spec 2.2.5);
    // non-zero when there was none.
    let verify: u32 = if tls.client_cert { 0 } else { 1 };
    ssl.extend_from_slice(&verify.to_be_bytes());
    push_tlv(&mut ssl, tlv::SSL_VERSION, tls.version.as_bytes());
    push_tlv(&mut ssl, tlv::SSL_CIPHER, tls.cipher.as_bytes());
    if let Some(k) = &tls.key_alg {
        push_tlv(&mut ssl, tlv::SSL_KEY_ALG, k.as_bytes());
    }
    if let Some(cn) = &tls.client_cn {
        // A CN is at most 64 characters (RFC 5280 ub-common-name); cap what a CA might sign.
        let cn = cn.as_bytes();
        push_tlv(&mut ssl, tlv::SSL_CN, &cn[..cn.len().min(255)]);
    }
    push_tlv(&mut body, tlv::SSL, &ssl);

    let mut out = Vec::with_capacity(16 + body.len());
    out.extend_from_slice(&V2_SIGNATURE);
    out.push(0x21); // version 2, PROXY
    out.push(fam); // TCP over IPv4 or IPv6
    // Bounded above: two addresses and a few short TLVs, far below 64 KiB.
    out.extend_from_slice(&u16::try_from(body.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

/// Why no PROXY header was read from a trusted source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderError(pub String);

/// Reads a PROXY header from a trusted source; returns the client's addresses (if it named
/// any) and the stream with whatever followed the header in front.
pub async fn read_header(
    mut tcp: tokio::net::TcpStream,
) -> Result<(Option<(SocketAddr, SocketAddr)>, super::prefixed::Prefixed), HeaderError> {
    use tokio::io::AsyncReadExt;
    let bad = HeaderError;
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    loop {
        match parse(&buf) {
            Ok(Some((header, used))) => {
                let rest = buf.split_off(used);
                return Ok((
                    header.addresses,
                    super::prefixed::Prefixed::with_prefix(rest, tcp),
                ));
            }
            Ok(None) => {}
            Err(e) => return Err(bad(e.to_string())),
        }
        if buf.len() > 16 + 65_535 {
            return Err(bad("PROXY header too long".into()));
        }
        let n = tcp.read(&mut chunk).await.map_err(|e| bad(e.to_string()))?;
        if n == 0 {
            return Err(bad("EOF inside the PROXY header".into()));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn v1_round_trip_and_partial() {
        let h = encode_v1(a("192.0.2.1:5000"), a("198.51.100.2:443"));
        assert_eq!(h, b"PROXY TCP4 192.0.2.1 198.51.100.2 5000 443\r\n");
        for cut in 0..h.len() {
            assert_eq!(parse(&h[..cut]), Ok(None), "cut {cut}");
        }
        let mut with_tls = h.clone();
        with_tls.extend_from_slice(b"\x16\x03\x01");
        let (hdr, n) = parse(&with_tls).unwrap().unwrap();
        assert_eq!(n, h.len());
        assert_eq!(
            hdr.addresses,
            Some((a("192.0.2.1:5000"), a("198.51.100.2:443")))
        );
        let h6 = encode_v1(a("[2001:db8::1]:1"), a("[2001:db8::2]:2"));
        assert!(parse(&h6).unwrap().is_some());
    }

    #[test]
    fn v2_round_trip_with_tlvs() {
        let info = TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS_SM4_GCM_SM3".into(),
            sni: Some("sm2.example".into()),
            alpn: Some(b"h2".to_vec()),
            client_cn: Some("alice".into()),
            client_cert: true,
            resumed: false,
            key_alg: Some("SM2".into()),
        };
        for (s, d) in [
            (a("192.0.2.1:5000"), a("198.51.100.2:443")),
            (a("[2001:db8::1]:5000"), a("[2001:db8::2]:443")),
        ] {
            let h = encode_v2(s, d, &info);
            for cut in 0..h.len() {
                assert_eq!(parse(&h[..cut]), Ok(None), "cut {cut}");
            }
            let (hdr, n) = parse(&h).unwrap().unwrap();
            assert_eq!(n, h.len());
            assert_eq!(hdr.addresses, Some((s, d)));
            let ssl = &hdr.tlvs.iter().find(|t| t.0 == tlv::SSL).unwrap().1;
            assert_eq!(
                ssl[0],
                tlv::CLIENT_SSL | tlv::CLIENT_CERT_CONN | tlv::CLIENT_CERT_SESS
            );
            let sub = parse_tlvs(&ssl[5..]).unwrap();
            assert!(sub.contains(&(tlv::SSL_CIPHER, b"TLS_SM4_GCM_SM3".to_vec())));
            assert!(sub.contains(&(tlv::SSL_CN, b"alice".to_vec())));
            assert!(
                hdr.tlvs
                    .contains(&(tlv::AUTHORITY, b"sm2.example".to_vec()))
            );
            assert!(hdr.tlvs.contains(&(tlv::ALPN, b"h2".to_vec())));
        }
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        for bad in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n",
            b"PROXY TCP4 ::1 ::1 1 2\r\n",
            b"PROXY TCP6 A8::1 1.8.1.1 2 34\r\n",
            b"PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
            b"PROXY TCP9 a b c d\r\n",
            b"\r\n\r\n\0\r\nQUIT\n\x31\x11\x00\x00",
            b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x02\x00\x00",
            b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0e\0\0\0\0\0\0\0\0\0\0\0\0\x01\x00",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse(&[b'P'; 200]).is_err());
        let long = [b"PROXY ".as_slice(), &[b'x'; 200]].concat();
        assert!(parse(&long).is_err());
    }
}
