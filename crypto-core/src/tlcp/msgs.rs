//! TLCP handshake messages (GB/T 38636-2020 clause 6.4.5), encoded and decoded with bounds
//! checks. The layouts follow RFC 5246 section 7.4 except where the standard differs, and
//! each such place says so.

use super::codec::{Put, Reader};
use super::error::Error;
use super::record::VERSION;
use super::suite::Suite;

/// Handshake message types (GB/T 38636-2020 6.4.5.1; the RFC 5246 numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandshakeType {
    HelloRequest = 0,
    ClientHello = 1,
    ServerHello = 2,
    Certificate = 11,
    ServerKeyExchange = 12,
    CertificateRequest = 13,
    ServerHelloDone = 14,
    CertificateVerify = 15,
    ClientKeyExchange = 16,
    Finished = 20,
}

impl HandshakeType {
    pub(crate) fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::HelloRequest,
            1 => Self::ClientHello,
            2 => Self::ServerHello,
            11 => Self::Certificate,
            12 => Self::ServerKeyExchange,
            13 => Self::CertificateRequest,
            14 => Self::ServerHelloDone,
            15 => Self::CertificateVerify,
            16 => Self::ClientKeyExchange,
            20 => Self::Finished,
            _ => return None,
        })
    }
}

/// The largest handshake message we accept (a certificate chain fits easily; a peer cannot
/// make us buffer more).
pub(crate) const MAX_HANDSHAKE: usize = 64 * 1024;

/// Appends `type || uint24 length || body`.
pub(crate) fn frame(typ: HandshakeType, body: &[u8], out: &mut Vec<u8>) {
    out.push(typ as u8);
    out.put_u24(body.len());
    out.extend_from_slice(body);
}

/// A ClientHello (RFC 5246 7.4.1.2). Extensions are kept raw: TLCP defines none a server must
/// act on, and unknown ones are ignored (some deployed servers abort on them; ours must not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClientHello {
    pub(crate) version: u16,
    pub(crate) random: [u8; 32],
    pub(crate) session_id: Vec<u8>,
    pub(crate) suites: Vec<u16>,
    pub(crate) extensions: Vec<(u16, Vec<u8>)>,
}

impl ClientHello {
    pub(crate) fn decode(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let version = r.u16()?;
        let random = r.array::<32>()?;
        let session_id = r.vec8()?;
        if session_id.len() > 32 {
            return Err(Error::decode("session id longer than 32 bytes"));
        }
        let suites_raw = r.vec16()?;
        if suites_raw.is_empty() || suites_raw.len() % 2 != 0 {
            return Err(Error::decode("cipher suite list empty or odd"));
        }
        let suites = suites_raw
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        let compression = r.vec8()?;
        if !compression.contains(&0) {
            return Err(Error::alert(
                super::error::AlertDescription::IllegalParameter,
                "client offers no null compression",
            ));
        }
        let extensions = if r.is_empty() {
            Vec::new()
        } else {
            decode_extensions(r.vec16()?)?
        };
        r.finish()?;
        Ok(Self {
            version,
            random,
            session_id: session_id.to_vec(),
            suites,
            extensions,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut b = Vec::new();
        b.put_u16(self.version);
        b.extend_from_slice(&self.random);
        b.put_vec8(&self.session_id);
        let mut s = Vec::with_capacity(self.suites.len() * 2);
        for &suite in &self.suites {
            s.put_u16(suite);
        }
        b.put_vec16(&s);
        b.put_vec8(&[0]);
        if !self.extensions.is_empty() {
            b.put_vec16(&encode_extensions(&self.extensions));
        }
        frame(HandshakeType::ClientHello, &b, out);
    }
}

fn decode_extensions(mut raw: &[u8]) -> Result<Vec<(u16, Vec<u8>)>, Error> {
    let mut out = Vec::new();
    while !raw.is_empty() {
        let mut r = Reader::new(raw);
        let typ = r.u16()?;
        let data = r.vec16()?;
        if out.iter().any(|(t, _)| *t == typ) {
            return Err(Error::alert(
                super::error::AlertDescription::IllegalParameter,
                "an extension appears twice",
            ));
        }
        out.push((typ, data.to_vec()));
        raw = r.rest();
    }
    Ok(out)
}

fn encode_extensions(ext: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut e = Vec::new();
    for (typ, data) in ext {
        e.put_u16(*typ);
        e.put_vec16(data);
    }
    e
}

/// A ServerHello (RFC 5246 7.4.1.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServerHello {
    pub(crate) random: [u8; 32],
    pub(crate) session_id: Vec<u8>,
    pub(crate) suite: u16,
    pub(crate) extensions: Vec<(u16, Vec<u8>)>,
}

impl ServerHello {
    pub(crate) fn decode(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        if r.u16()? != VERSION {
            return Err(Error::alert(
                super::error::AlertDescription::ProtocolVersion,
                "server hello is not TLCP",
            ));
        }
        let random = r.array::<32>()?;
        let session_id = r.vec8()?;
        if session_id.len() > 32 {
            return Err(Error::decode("session id longer than 32 bytes"));
        }
        let suite = r.u16()?;
        if r.u8()? != 0 {
            return Err(Error::alert(
                super::error::AlertDescription::IllegalParameter,
                "server chose compression",
            ));
        }
        let extensions = if r.is_empty() {
            Vec::new()
        } else {
            decode_extensions(r.vec16()?)?
        };
        r.finish()?;
        Ok(Self {
            random,
            session_id: session_id.to_vec(),
            suite,
            extensions,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut b = Vec::new();
        b.put_u16(VERSION);
        b.extend_from_slice(&self.random);
        b.put_vec8(&self.session_id);
        b.put_u16(self.suite);
        b.put_u8(0);
        if !self.extensions.is_empty() {
            b.put_vec16(&encode_extensions(&self.extensions));
        }
        frame(HandshakeType::ServerHello, &b, out);
    }
}

/// A Certificate message: `ASN.1Cert certificate_list<0..2^24-1>` (RFC 5246 7.4.2). In TLCP
/// the server's list is the signing certificate, the encryption certificate, then the CA
/// certificates (GB/T 38636-2020 6.4.5.3).
pub(crate) fn decode_certificates(body: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let mut r = Reader::new(body);
    let mut list = Reader::new(r.vec24()?);
    r.finish()?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let cert = list.vec24()?;
        if cert.is_empty() {
            return Err(Error::decode("empty certificate"));
        }
        out.push(cert.to_vec());
    }
    Ok(out)
}

pub(crate) fn encode_certificates(certs: &[&[u8]], out: &mut Vec<u8>) {
    let mut list = Vec::new();
    for c in certs {
        list.put_vec24(c);
    }
    let mut b = Vec::new();
    b.put_vec24(&list);
    frame(HandshakeType::Certificate, &b, out);
}

/// A Finished message's body: 12 bytes of verify_data (GB/T 38636-2020 6.4.5.9).
pub(crate) fn decode_finished(body: &[u8]) -> Result<[u8; 12], Error> {
    let mut r = Reader::new(body);
    let v = r.array::<12>()?;
    r.finish()?;
    Ok(v)
}

/// Whether a suite code is one of the four we implement.
pub(crate) fn known_suite(code: u16) -> Option<Suite> {
    Suite::ALL.iter().copied().find(|s| s.code() == code)
}
