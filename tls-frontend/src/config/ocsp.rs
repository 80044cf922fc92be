//! OCSP stapling: the request for a certificate (RFC 6960 section 4.1, the SHA-1 `CertID` that
//! RFC 5019's lightweight profile and every public responder take), and the check a response
//! must pass before it is stapled: successful, a basic response, one `SingleResponse` for this
//! very certificate (issuer name and key hashes, serial), signed by the issuer or by a
//! responder the issuer delegated to (`id-kp-OCSPSigning`), `good` or `revoked` (never
//! `unknown`), and current (`thisUpdate` not in the future, `nextUpdate` not passed).
//!
//! Plus what the certificate says about it: where its responder is (the OCSP URL in
//! authorityInfoAccess, RFC 5280 section 4.2.2.1) and whether it demands a staple (TLS Feature
//! `status_request`, RFC 7633, "Must-Staple").
//!
//! Everything here reads bytes from a file or a network peer: bounds-checked, an error in words
//! on any malformation, never a panic. Time is a parameter, so the rules are tested without a
//! clock.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::sign::CertifiedKey;

use crate::config::x509::read;

// Object identifiers, as DER contents (RFC 6960 appendix B, RFC 5280, RFC 7633, NIST).
/// id-pkix-ocsp-basic, 1.3.6.1.5.5.7.48.1.1.
const OID_OCSP_BASIC: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];
/// id-ad-ocsp, 1.3.6.1.5.5.7.48.1.
const OID_AD_OCSP: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01];
/// id-pe-authorityInfoAccess, 1.3.6.1.5.5.7.1.1.
const OID_AIA: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01];
/// id-pe-tlsfeature, 1.3.6.1.5.5.7.1.24 (RFC 7633).
const OID_TLS_FEATURE: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x18];
/// id-kp-OCSPSigning, 1.3.6.1.5.5.7.3.9.
const OID_OCSP_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09];
/// id-sha1, 1.3.14.3.2.26.
const OID_SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
/// id-sha256, 2.16.840.1.101.3.4.2.1.
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

/// How far a responder's clock may run ahead of ours.
const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// How long a response without `nextUpdate` is served ("newer information is always
/// available", RFC 6960 section 2.4: it has no lifetime of its own, so it gets a short one).
pub const WITHOUT_NEXT_UPDATE: Duration = Duration::from_secs(3600);

/// What the responder says of the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    /// Not revoked.
    Good,
    /// Revoked at this time.
    Revoked(SystemTime),
}

/// A response that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The whole `OCSPResponse`, as stapled.
    pub der: Vec<u8>,
    /// Good or revoked.
    pub status: CertStatus,
    /// When the responder knew the status to be so.
    pub this_update: SystemTime,
    /// Until when it may be served: `nextUpdate`, or [`WITHOUT_NEXT_UPDATE`] after
    /// `thisUpdate` when the response has none.
    pub valid_until: SystemTime,
}

/// Why a response is not stapled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Its `nextUpdate` has passed.
    Expired(SystemTime),
    /// Its `thisUpdate` is still to come.
    NotYetValid(SystemTime),
    /// Anything else: malformed, unsuccessful, not for this certificate, badly signed,
    /// status unknown.
    Invalid(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::config::x509::format_time;
        match self {
            Self::Expired(t) => write!(f, "expired (nextUpdate {})", format_time(*t)),
            Self::NotYetValid(t) => write!(
                f,
                "not valid yet (thisUpdate {}; is a clock wrong?)",
                format_time(*t)
            ),
            Self::Invalid(why) => f.write_str(why),
        }
    }
}

fn invalid<T>(why: impl Into<String>) -> Result<T, Refused> {
    Err(Refused::Invalid(why.into()))
}

/// One DER element: (tag, content, whole encoding).
type Element<'a> = (u8, &'a [u8], &'a [u8]);

/// The elements of a constructed value's content, in order.
fn children(mut b: &[u8]) -> Option<Vec<Element<'_>>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (tag, content, rest) = read(b)?;
        out.push((tag, content, &b[..b.len() - rest.len()]));
        b = rest;
    }
    Some(out)
}

/// The parts of a certificate that OCSP needs.
struct CertParts<'a> {
    /// The serial number's INTEGER content.
    serial: &'a [u8],
    /// The subject Name, whole encoding.
    subject: &'a [u8],
    /// The subjectPublicKey BIT STRING's bits (without the unused-bits byte).
    key_bits: &'a [u8],
    /// The extensions: (OID content, extnValue content).
    extensions: Vec<(&'a [u8], &'a [u8])>,
}

fn cert_parts(der: &[u8]) -> Option<CertParts<'_>> {
    let (_, cert, _) = read(der)?;
    let (_, tbs, _) = read(cert)?;
    let fields = children(tbs)?;
    // [0] version is optional; then serial, signature, issuer, validity, subject, SPKI.
    let start = usize::from(fields.first()?.0 == 0xa0);
    let serial = fields.get(start)?;
    let subject = fields.get(start + 4)?;
    let spki = children(fields.get(start + 5)?.1)?;
    let (bits_tag, bits, _) = *spki.get(1)?;
    if serial.0 != 0x02 || subject.0 != 0x30 || bits_tag != 0x03 {
        return None;
    }
    let (&0, key_bits) = bits.split_first()? else {
        return None;
    };
    let mut extensions = Vec::new();
    if let Some((_, exts, _)) = fields[start + 6..].iter().find(|f| f.0 == 0xa3) {
        let (_, list, _) = read(exts)?;
        for (_, ext, _) in children(list)? {
            let parts = children(ext)?;
            let (oid_tag, oid, _) = *parts.first()?;
            let (value_tag, value, _) = *parts.last()?;
            if oid_tag != 0x06 || value_tag != 0x04 {
                return None;
            }
            extensions.push((oid, value));
        }
    }
    Some(CertParts {
        serial: serial.1,
        subject: subject.2,
        key_bits,
        extensions,
    })
}

fn sha1(data: &[u8]) -> [u8; 20] {
    use sha1::Digest as _;
    sha1::Sha1::digest(data).into()
}

fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).into()
}

/// One DER element.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// The OCSP request for `leaf` issued by `issuer`: one SHA-1 `CertID`, no nonce (responders
/// that pre-sign, as most public ones do, ignore nonces; RFC 5019 section 2.1).
pub fn request(leaf: &[u8], issuer: &[u8]) -> Result<Vec<u8>, String> {
    let leaf = cert_parts(leaf).ok_or("the certificate is not readable X.509")?;
    let issuer = cert_parts(issuer).ok_or("the issuer certificate is not readable X.509")?;
    let mut alg = tlv(0x06, OID_SHA1);
    alg.extend_from_slice(&[0x05, 0x00]);
    let mut cert_id = tlv(0x30, &alg);
    cert_id.extend(tlv(0x04, &sha1(issuer.subject)));
    cert_id.extend(tlv(0x04, &sha1(issuer.key_bits)));
    cert_id.extend(tlv(0x02, leaf.serial));
    let request = tlv(0x30, &tlv(0x30, &cert_id));
    let request_list = tlv(0x30, &request);
    let tbs_request = tlv(0x30, &request_list);
    Ok(tlv(0x30, &tbs_request))
}

/// Whether `issuer`'s subject is `leaf`'s issuer name (the chain's second certificate is the
/// leaf's issuer, as OCSP's CertID assumes).
pub fn issued_by(leaf: &[u8], issuer: &[u8]) -> bool {
    let issuer_name = |der: &[u8]| -> Option<Vec<u8>> {
        let (_, cert, _) = read(der)?;
        let (_, tbs, _) = read(cert)?;
        let fields = children(tbs)?;
        let start = usize::from(fields.first()?.0 == 0xa0);
        Some(fields.get(start + 2)?.2.to_vec())
    };
    match (issuer_name(leaf), cert_parts(issuer)) {
        (Some(name), Some(parts)) => name == parts.subject,
        _ => false,
    }
}

/// The OCSP responder URL in the certificate's authorityInfoAccess, if it names one.
pub fn responder_url(leaf: &[u8]) -> Option<String> {
    let parts = cert_parts(leaf)?;
    let (_, aia) = parts.extensions.iter().find(|(oid, _)| *oid == OID_AIA)?;
    let (_, list, _) = read(aia)?;
    for (_, desc, _) in children(list)? {
        let d = children(desc)?;
        let (method_tag, method, _) = *d.first()?;
        let (location_tag, location, _) = *d.get(1)?;
        // accessLocation is a GeneralName: [6] uniformResourceIdentifier, IA5String.
        if method_tag == 0x06 && method == OID_AD_OCSP && location_tag == 0x86 {
            return std::str::from_utf8(location).ok().map(str::to_owned);
        }
    }
    None
}

/// Whether the certificate demands a stapled response (RFC 7633 TLS Feature with
/// status_request, 5).
pub fn must_staple(leaf: &[u8]) -> bool {
    let Some(parts) = cert_parts(leaf) else {
        return false;
    };
    let Some((_, value)) = parts
        .extensions
        .iter()
        .find(|(oid, _)| *oid == OID_TLS_FEATURE)
    else {
        return false;
    };
    let Some((0x30, list, _)) = read(value) else {
        return false;
    };
    children(list).is_some_and(|features| {
        features
            .iter()
            .any(|(tag, content, _)| *tag == 0x02 && *content == [5])
    })
}

/// Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A DER GeneralizedTime (`YYYYMMDDHHMMSS[.f*]Z`).
fn generalized_time(tag: u8, content: &[u8]) -> Option<SystemTime> {
    if tag != 0x18 {
        return None;
    }
    let text = std::str::from_utf8(content).ok()?;
    let text = text.strip_suffix('Z')?;
    let (main, fraction) = text.split_once('.').unwrap_or((text, ""));
    if main.len() != 14
        || !main.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| main[r].parse::<u32>().ok();
    let (y, mo, d, h, mi, s) = (
        n(0..4)?,
        n(4..6)?,
        n(6..8)?,
        n(8..10)?,
        n(10..12)?,
        n(12..14)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + s);
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// Checks `response` (a DER `OCSPResponse`) for `chain[0]` issued by `issuer` at `now`, the
/// signatures with `algs` (the provider's, as rustls verifies certificates).
pub fn check(
    response: &[u8],
    leaf: &[u8],
    issuer: &[u8],
    algs: &WebPkiSupportedAlgorithms,
    now: SystemTime,
) -> Result<Checked, Refused> {
    let malformed = |what: &str| Refused::Invalid(format!("not an OCSP response ({what})"));

    // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ... }
    let (tag, outer, rest) = read(response).ok_or_else(|| malformed("not DER"))?;
    if tag != 0x30 || !rest.is_empty() {
        return Err(malformed("not one SEQUENCE"));
    }
    let top = children(outer).ok_or_else(|| malformed("bad encoding"))?;
    match top.first() {
        Some((0x0a, [0], _)) => {}
        Some((0x0a, [code], _)) => {
            let what = match code {
                1 => "malformedRequest",
                2 => "internalError",
                3 => "tryLater",
                5 => "sigRequired",
                6 => "unauthorized",
                _ => "an unknown status",
            };
            return invalid(format!("the responder answered {what} ({code})"));
        }
        _ => return Err(malformed("no responseStatus")),
    }
    let (_, bytes, _) = top
        .iter()
        .find(|t| t.0 == 0xa0)
        .ok_or_else(|| malformed("successful but without responseBytes"))?;
    let (_, response_bytes, _) = read(bytes).ok_or_else(|| malformed("responseBytes"))?;
    let rb = children(response_bytes).ok_or_else(|| malformed("responseBytes"))?;
    match (rb.first(), rb.get(1)) {
        (Some((0x06, oid, _)), Some((0x04, _, _))) if *oid == OID_OCSP_BASIC => {}
        _ => return invalid("not a basic OCSP response (id-pkix-ocsp-basic)"),
    }
    let basic = rb[1].1;
    let leaf_parts =
        cert_parts(leaf).ok_or_else(|| Refused::Invalid("the certificate is unreadable".into()))?;
    let issuer_parts = cert_parts(issuer)
        .ok_or_else(|| Refused::Invalid("the issuer certificate is unreadable".into()))?;

    // BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature, certs }
    let (_, basic, _) = read(basic).ok_or_else(|| malformed("BasicOCSPResponse"))?;
    let b = children(basic).ok_or_else(|| malformed("BasicOCSPResponse"))?;
    let (Some(tbs), Some(sig_alg), Some(signature)) = (b.first(), b.get(1), b.get(2)) else {
        return Err(malformed("BasicOCSPResponse"));
    };
    if tbs.0 != 0x30 || sig_alg.0 != 0x30 || signature.0 != 0x03 {
        return Err(malformed("BasicOCSPResponse"));
    }
    let Some((&0, signature)) = signature.1.split_first() else {
        return Err(malformed("signature"));
    };
    let mut certs = Vec::new();
    if let Some((_, list, _)) = b.iter().skip(3).find(|t| t.0 == 0xa0) {
        let (_, list, _) = read(list).ok_or_else(|| malformed("certs"))?;
        for (_, _, whole) in children(list).ok_or_else(|| malformed("certs"))? {
            certs.push(whole);
        }
    }

    // ResponseData ::= SEQUENCE { [0] version, responderID, producedAt, responses, [1] exts }
    let fields = children(tbs.1).ok_or_else(|| malformed("ResponseData"))?;
    let start = usize::from(fields.first().map(|f| f.0) == Some(0xa0));
    let responder = fields.get(start).ok_or_else(|| malformed("responderID"))?;
    let responses = fields
        .get(start + 2)
        .filter(|f| f.0 == 0x30)
        .ok_or_else(|| malformed("responses"))?;

    // Who signed: the issuer itself, or a certificate in `certs` that the issuer issued for
    // OCSP signing. responderID is byName [1] (a Name) or byKey [2] (SHA-1 of the key's bits).
    let names = |parts: &CertParts<'_>| match responder.0 {
        0xa1 => responder.1 == parts.subject,
        0xa2 => {
            read(responder.1).is_some_and(|(t, hash, _)| t == 0x04 && hash == sha1(parts.key_bits))
        }
        _ => false,
    };
    let signer: &[u8] = if names(&issuer_parts) {
        issuer
    } else {
        let delegate = certs
            .iter()
            .copied()
            .find(|c| cert_parts(c).is_some_and(|p| names(&p)))
            .ok_or_else(|| {
                Refused::Invalid(
                    "signed by neither the issuer nor a responder certificate it carries".into(),
                )
            })?;
        let issuer_der = CertificateDer::from(issuer);
        let anchor = webpki::anchor_from_trusted_cert(&issuer_der)
            .map_err(|e| Refused::Invalid(format!("the issuer certificate: {e:?}")))?;
        let delegate_der = CertificateDer::from(delegate);
        let cert = webpki::EndEntityCert::try_from(&delegate_der)
            .map_err(|e| Refused::Invalid(format!("the responder certificate: {e:?}")))?;
        let at = UnixTime::since_unix_epoch(now.duration_since(UNIX_EPOCH).unwrap_or_default());
        cert.verify_for_usage(
            algs.all,
            &[anchor],
            &[],
            at,
            webpki::KeyUsage::required(OID_OCSP_SIGNING),
            None,
            None,
        )
        .map_err(|e| {
            Refused::Invalid(format!(
                "the responder certificate is not the issuer's OCSP signer ({e:?})"
            ))
        })?;
        delegate
    };
    let signer_der = CertificateDer::from(signer);
    let signer_cert = webpki::EndEntityCert::try_from(&signer_der)
        .map_err(|e| Refused::Invalid(format!("the signer's certificate: {e:?}")))?;
    let verified = algs
        .all
        .iter()
        .filter(|a| a.signature_alg_id().as_ref() == sig_alg.1)
        .any(|a| signer_cert.verify_signature(*a, tbs.2, signature).is_ok());
    if !verified {
        return invalid("its signature does not verify");
    }

    // The SingleResponse for this certificate.
    let list = children(responses.1).ok_or_else(|| malformed("responses"))?;
    for (_, single, _) in list {
        let s = children(single).ok_or_else(|| malformed("SingleResponse"))?;
        let (Some(cert_id), Some(status), Some(this_update)) = (s.first(), s.get(1), s.get(2))
        else {
            return Err(malformed("SingleResponse"));
        };
        let id = children(cert_id.1).ok_or_else(|| malformed("CertID"))?;
        let [
            (0x30, alg, _),
            (0x04, name_hash, _),
            (0x04, key_hash, _),
            (0x02, serial, _),
        ] = id.as_slice()
        else {
            return Err(malformed("CertID"));
        };
        let alg_oid = read(alg).filter(|(t, _, _)| *t == 0x06).map(|(_, o, _)| o);
        let ours = match alg_oid {
            Some(OID_SHA1) => (
                sha1(issuer_parts.subject).to_vec(),
                sha1(issuer_parts.key_bits).to_vec(),
            ),
            Some(OID_SHA256) => (
                sha256(issuer_parts.subject).to_vec(),
                sha256(issuer_parts.key_bits).to_vec(),
            ),
            _ => continue,
        };
        if *serial != leaf_parts.serial || *name_hash != ours.0 || *key_hash != ours.1 {
            continue;
        }
        let status = match status.0 {
            0x80 => CertStatus::Good,
            0xa1 => {
                let (t, at, _) = read(status.1).ok_or_else(|| malformed("revokedInfo"))?;
                CertStatus::Revoked(
                    generalized_time(t, at).ok_or_else(|| malformed("revocationTime"))?,
                )
            }
            0x82 => return invalid("the responder does not know this certificate (unknown)"),
            _ => return Err(malformed("certStatus")),
        };
        let this_update = generalized_time(this_update.0, this_update.1)
            .ok_or_else(|| malformed("thisUpdate"))?;
        let next_update = match s.iter().skip(3).find(|f| f.0 == 0xa0) {
            None => None,
            Some((_, t, _)) => {
                let (tag, content, _) = read(t).ok_or_else(|| malformed("nextUpdate"))?;
                Some(generalized_time(tag, content).ok_or_else(|| malformed("nextUpdate"))?)
            }
        };
        let valid_until = next_update.unwrap_or(this_update + WITHOUT_NEXT_UPDATE);
        if valid_until < this_update {
            return invalid("nextUpdate before thisUpdate");
        }
        if this_update > now + CLOCK_SKEW {
            return Err(Refused::NotYetValid(this_update));
        }
        if now >= valid_until {
            return Err(Refused::Expired(valid_until));
        }
        return Ok(Checked {
            der: response.to_vec(),
            status,
            this_update,
            valid_until,
        });
    }
    invalid("it says nothing about this certificate (issuer or serial differ)")
}

/// An `http://host[:port]/path` URL: (host, port, path). OCSP is fetched over plain HTTP
/// (RFC 6960 appendix A: the response is signed, and fetching it over TLS could need a staple
/// itself).
pub fn parse_url(url: &str) -> Result<(String, u16, String), String> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Err("only http:// responders are supported (RFC 6960 appendix A)".into());
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.contains('@') {
        return Err("user information in the URL".into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unclosed [")?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| "bad port")?,
            None if after.is_empty() => 80,
            None => return Err("bad authority".into()),
        };
        (host.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| "bad port")?),
            None => (authority.to_owned(), 80),
        }
    };
    if host.is_empty() || !host.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("bad host".into());
    }
    if !path.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("bad path".into());
    }
    Ok((host, port, path.to_owned()))
}

// --- A certificate's staple, as served --------------------------------------------------------

/// Where a certificate's response comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// No stapling.
    None,
    /// A DER file, re-read on reload.
    File(std::path::PathBuf),
    /// Fetched from the responder in the certificate's AIA, refreshed in the background.
    Auto {
        /// The responder.
        url: String,
        /// The DER request.
        request: Vec<u8>,
    },
}

/// What a certificate staples now, and the refresher's book-keeping.
#[derive(Debug)]
pub struct Staple {
    /// Where responses come from.
    pub source: Source,
    /// Whether the certificate demands a staple (RFC 7633).
    pub must_staple: bool,
    /// The leaf and its issuer (the chain's second certificate), when there is one.
    pub leaf: CertificateDer<'static>,
    /// The issuer.
    pub issuer: Option<CertificateDer<'static>>,
    /// The signature algorithms responses are checked with.
    pub algs: WebPkiSupportedAlgorithms,
    current: RwLock<Option<(Checked, Arc<CertifiedKey>)>>,
    /// When the refresher next asks the responder.
    pub next_fetch: Mutex<SystemTime>,
    /// Whether a fetch is under way.
    pub fetching: std::sync::atomic::AtomicBool,
    /// Refresh failures, for the metric.
    pub failures: std::sync::atomic::AtomicU64,
}

impl Staple {
    /// A staple with nothing to serve yet.
    pub fn new(
        source: Source,
        leaf: CertificateDer<'static>,
        issuer: Option<CertificateDer<'static>>,
        algs: WebPkiSupportedAlgorithms,
    ) -> Self {
        Self {
            source,
            must_staple: must_staple(&leaf),
            leaf,
            issuer,
            algs,
            current: RwLock::new(None),
            next_fetch: Mutex::new(UNIX_EPOCH),
            fetching: std::sync::atomic::AtomicBool::new(false),
            failures: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Checks `response` at `now` and, if it passes, serves it with `base` from now on.
    pub fn install(
        &self,
        response: &[u8],
        base: &CertifiedKey,
        now: SystemTime,
    ) -> Result<Checked, Refused> {
        let issuer = self
            .issuer
            .as_ref()
            .ok_or_else(|| Refused::Invalid("no issuer certificate in the chain".into()))?;
        let checked = check(response, &self.leaf, issuer, &self.algs, now)?;
        // Responses travel over plain HTTP: one older than the response served now (a replay
        // of a "good" after a "revoked", say) is refused.
        if let Some(current) = self.current()
            && checked.this_update < current.this_update
        {
            return Err(Refused::Invalid(format!(
                "older (thisUpdate {}) than the response stapled now",
                crate::config::x509::format_time(checked.this_update)
            )));
        }
        let mut with = base.clone();
        with.ocsp = Some(checked.der.clone());
        *self.current.write().unwrap_or_else(|e| e.into_inner()) =
            Some((checked.clone(), Arc::new(with)));
        Ok(checked)
    }

    /// The certified key with the staple, if one is current at `now`.
    pub fn serve(&self, now: SystemTime) -> Option<Arc<CertifiedKey>> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        match &*current {
            Some((checked, key)) if now < checked.valid_until => Some(key.clone()),
            _ => None,
        }
    }

    /// The response served now (even if it just expired), for metrics and `check`.
    pub fn current(&self) -> Option<Checked> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(c, _)| c.clone())
    }

    /// Drops the response if it expired at `now`; returns it if so.
    pub fn drop_expired(&self, now: SystemTime) -> Option<Checked> {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().is_some_and(|(c, _)| now >= c.valid_until) {
            return current.take().map(|(c, _)| c);
        }
        None
    }

    /// Takes over another staple's response and counters (a reload that kept the
    /// certificate and its source), if the response still passes.
    pub fn adopt(&self, old: &Self, base: &CertifiedKey, now: SystemTime) {
        if old.leaf != self.leaf || old.source != self.source {
            return;
        }
        if let Some(c) = old.current() {
            let _ = self.install(&c.der, base, now);
        }
        let failures = old.failures.load(std::sync::atomic::Ordering::Relaxed);
        self.failures
            .store(failures, std::sync::atomic::Ordering::Relaxed);
        *self.next_fetch.lock().unwrap_or_else(|e| e.into_inner()) =
            *old.next_fetch.lock().unwrap_or_else(|e| e.into_inner());
    }
}

impl crate::ops::metrics::StapleStatus for Staple {
    fn served(&self, now: SystemTime) -> Option<(SystemTime, SystemTime)> {
        // Read in place: a scrape copies no response.
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current
            .as_ref()
            .map(|(c, _)| (c.this_update, c.valid_until))
            .filter(|(_, until)| now < *until)
    }

    fn refresh_failures(&self) -> u64 {
        self.failures.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalized_times() {
        let t = |s: &str| generalized_time(0x18, s.as_bytes());
        assert_eq!(t("19700101000000Z"), Some(UNIX_EPOCH));
        assert_eq!(
            t("20240101010101Z"),
            Some(UNIX_EPOCH + Duration::from_secs(19_723 * 86_400 + 3_661))
        );
        assert_eq!(
            t("20240101010101.5Z"),
            Some(UNIX_EPOCH + Duration::from_secs(19_723 * 86_400 + 3_661))
        );
        assert_eq!(t("20240101010101"), None);
        assert_eq!(t("2024010101010Z"), None);
        assert_eq!(t("20241301010101Z"), None);
        assert_eq!(generalized_time(0x17, b"240101010101Z"), None);
        for days in [-1000, 0, 59, 60, 365, 19_723, 30_000] {
            let (y, m, d) = crate::config::x509::civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("http://ocsp.example.com"),
            Ok(("ocsp.example.com".into(), 80, "/".into()))
        );
        assert_eq!(
            parse_url("http://127.0.0.1:8888/a/b"),
            Ok(("127.0.0.1".into(), 8888, "/a/b".into()))
        );
        assert_eq!(
            parse_url("http://[::1]:81/"),
            Ok(("::1".into(), 81, "/".into()))
        );
        for bad in [
            "https://ocsp.example.com/",
            "http://:80/",
            "http://h:x/",
            "http://u@h/",
            "http://[::1/",
            "ftp://h/",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn der_lengths() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = tlv(0x04, &[0; 200]);
        assert_eq!(&long[..3], &[0x04, 0x81, 200]);
        let longer = tlv(0x04, &[0; 300]);
        assert_eq!(&longer[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(read(&longer).map(|(_, c, _)| c.len()), Some(300));
    }

    #[test]
    fn garbage_is_refused_in_words() {
        let leaf = [0x30, 0x00];
        let algs = algs();
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x03, 0x0a, 0x01, 0x00],
            &[0xff; 40],
        ] {
            let r = check(bad, &leaf, &leaf, &algs, UNIX_EPOCH);
            assert!(matches!(r, Err(Refused::Invalid(_))), "{bad:?}: {r:?}");
        }
        let r = check(
            &[0x30, 0x03, 0x0a, 0x01, 0x03],
            &leaf,
            &leaf,
            &algs,
            UNIX_EPOCH,
        );
        assert_eq!(
            r,
            Err(Refused::Invalid(
                "the responder answered tryLater (3)".into()
            ))
        );
    }

    /// A fixture of `tests/data/ocsp` (made by its `make.sh` with the OpenSSL CLI).
    pub(super) fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/../tests/data/ocsp/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        if name.ends_with(".pem") {
            use rustls::pki_types::pem::PemObject as _;
            CertificateDer::from_pem_slice(&bytes)
                .unwrap_or_else(|e| panic!("{path}: {e:?}"))
                .to_vec()
        } else {
            bytes
        }
    }

    /// The fixture response's (thisUpdate, nextUpdate): the two GeneralizedTimes in it one day
    /// apart (`make.sh` asks for `-ndays 1`).
    fn dates(response: &[u8]) -> (SystemTime, SystemTime) {
        let times: Vec<SystemTime> = response
            .windows(17)
            .filter(|w| w[..2] == [0x18, 0x0f])
            .filter_map(|w| generalized_time(0x18, &w[2..]))
            .collect();
        let day = Duration::from_secs(86_400);
        times
            .iter()
            .find_map(|t| times.contains(&(*t + day)).then_some((*t, *t + day)))
            .expect("thisUpdate and nextUpdate a day apart")
    }

    #[test]
    fn openssl_made_responses_pass_when_current() {
        let ca = fixture("ca.pem");
        let good = fixture("good.pem");
        let revoked = fixture("revoked.pem");
        for (response, leaf, status) in [
            ("good-by-ca.der", &good, CertStatus::Good),
            ("good-by-responder-sha256.der", &good, CertStatus::Good),
            (
                "revoked-by-responder.der",
                &revoked,
                // 2024-01-01 00:00:00, the index's revocation date.
                CertStatus::Revoked(UNIX_EPOCH + Duration::from_secs(19_723 * 86_400)),
            ),
        ] {
            let der = fixture(response);
            let (this, next) = dates(&der);
            let now = this + Duration::from_secs(60);
            let c =
                check(&der, leaf, &ca, &algs(), now).unwrap_or_else(|e| panic!("{response}: {e}"));
            assert_eq!(c.status, status, "{response}");
            assert_eq!((c.this_update, c.valid_until), (this, next), "{response}");
            assert_eq!(c.der, der);
            // Dates: served from a little before thisUpdate (clock skew; the delegate's own
            // certificate was made at the same second, so only the CA-signed one) until
            // nextUpdate.
            if response == "good-by-ca.der" {
                assert!(check(&der, leaf, &ca, &algs(), this - Duration::from_secs(60)).is_ok());
                assert_eq!(
                    check(&der, leaf, &ca, &algs(), this - Duration::from_secs(600)),
                    Err(Refused::NotYetValid(this))
                );
            } else {
                assert!(check(&der, leaf, &ca, &algs(), this - Duration::from_secs(600)).is_err());
            }
            assert!(check(&der, leaf, &ca, &algs(), next - Duration::from_secs(1)).is_ok());
            assert_eq!(
                check(&der, leaf, &ca, &algs(), next),
                Err(Refused::Expired(next))
            );
        }
    }

    #[test]
    fn another_certificate_issuer_or_signature_is_refused() {
        let ca = fixture("ca.pem");
        let good = fixture("good.pem");
        let revoked = fixture("revoked.pem");
        let der = fixture("good-by-ca.der");
        let (this, _) = dates(&der);
        let now = this + Duration::from_secs(60);
        let says_nothing = Err(Refused::Invalid(
            "it says nothing about this certificate (issuer or serial differ)".into(),
        ));
        // Another serial.
        assert_eq!(check(&der, &revoked, &ca, &algs(), now), says_nothing);
        let delegated = fixture("revoked-by-responder.der");
        assert_eq!(check(&delegated, &good, &ca, &algs(), now), says_nothing);
        // Another issuer: neither it nor a certificate it issued signed the response.
        for issuer in [fixture("responder.pem"), good.clone()] {
            let r = check(&der, &good, &issuer, &algs(), now);
            assert!(matches!(r, Err(Refused::Invalid(_))), "{r:?}");
        }
        let r = check(&delegated, &revoked, &good, &algs(), now);
        assert!(matches!(r, Err(Refused::Invalid(_))), "{r:?}");
        // One changed byte in the signed data (producedAt's last digit).
        let mut tampered = der.clone();
        let at = tampered
            .windows(2)
            .position(|w| w == [0x18, 0x0f])
            .expect("a GeneralizedTime")
            + 2
            + 13;
        tampered[at] = if tampered[at] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            check(&tampered, &good, &ca, &algs(), now),
            Err(Refused::Invalid("its signature does not verify".into()))
        );
        // Truncated anywhere: refused in words, never a panic.
        for n in 0..der.len() {
            assert!(check(&der[..n], &good, &ca, &algs(), now).is_err(), "{n}");
        }
    }

    /// A staple is replaced by a newer response, never by an older one (a replay over HTTP).
    #[test]
    fn an_older_response_does_not_replace_a_newer_one() {
        let (older, newer) = (fixture("good-by-ca.der"), fixture("good-by-ca-newer.der"));
        let (this, _) = dates(&older);
        assert!(dates(&newer).0 > this);
        let good = CertificateDer::from(fixture("good.pem"));
        let ca = CertificateDer::from(fixture("ca.pem"));
        let staple = Staple::new(Source::None, good.clone(), Some(ca), algs());
        let base = CertifiedKey::new(vec![good], Arc::new(NoKey));
        let now = this + Duration::from_secs(60);
        staple.install(&older, &base, now).unwrap();
        staple.install(&newer, &base, now).unwrap();
        let r = staple.install(&older, &base, now);
        assert!(
            matches!(r, Err(Refused::Invalid(ref m)) if m.contains("older")),
            "{r:?}"
        );
        assert_eq!(staple.current().map(|c| c.der), Some(newer.clone()));
        let served = staple.serve(now).unwrap();
        assert_eq!(served.ocsp.as_deref(), Some(&newer[..]));
        // ... and nothing once it expired.
        assert!(staple.serve(dates(&newer).1).is_none());
    }

    /// A signing key that is never asked to sign (the staple only carries it along).
    #[derive(Debug)]
    struct NoKey;

    impl rustls::sign::SigningKey for NoKey {
        fn choose_scheme(
            &self,
            _offered: &[rustls::SignatureScheme],
        ) -> Option<Box<dyn rustls::sign::Signer>> {
            None
        }

        fn algorithm(&self) -> rustls::SignatureAlgorithm {
            rustls::SignatureAlgorithm::ECDSA
        }
    }

    #[test]
    fn request_aia_and_must_staple() {
        let ca = fixture("ca.pem");
        let good = fixture("good.pem");
        // Byte for byte what `openssl ocsp -sha1 -no_nonce -reqout` makes.
        assert_eq!(request(&good, &ca), Ok(fixture("good-request-sha1.der")));
        assert_eq!(
            responder_url(&good).as_deref(),
            Some("http://127.0.0.1:9/ocsp")
        );
        assert_eq!(responder_url(&ca), None);
        assert!(must_staple(&good));
        assert!(issued_by(&good, &ca));
        assert!(!issued_by(&good, &fixture("responder.pem")));
        assert!(!issued_by(&ca[..10], &ca));
        assert!(!must_staple(&ca));
        assert!(!must_staple(&fixture("responder.pem")));
    }

    pub(super) fn algs() -> WebPkiSupportedAlgorithms {
        let selection = crypto_core::Selection::single(crypto_core::Backend::RustCrypto);
        crypto_core::tls::provider(&selection).signature_verification_algorithms
    }
}
