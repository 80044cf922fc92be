//! Reading certificates for operators and the access log: a client certificate's subject CN,
//! and a served certificate's subject, issuer, validity and alternative names (for `check`,
//! the expiry warnings and gauge). Bounds-checked; a malformed certificate is `None` or an
//! error, never a panic.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// One element: (tag, content, rest). `None` on any malformation.
pub(crate) fn read(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&l0, mut b) = b.split_first()?;
    let len = if l0 < 0x80 {
        usize::from(l0)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 || b.len() < n {
            return None;
        }
        let mut len = 0usize;
        for &x in &b[..n] {
            len = len << 8 | usize::from(x);
        }
        b = &b[n..];
        len
    };
    if b.len() < len {
        return None;
    }
    Some((tag, &b[..len], &b[len..]))
}

/// The subject common name of a DER certificate, if it has one.
pub fn subject_cn(cert: &[u8]) -> Option<String> {
    let (_, c, _) = read(cert)?; // Certificate
    let (_, mut tbs, _) = read(c)?; // TBSCertificate
    let mut fields = Vec::new();
    while !tbs.is_empty() {
        let (tag, content, rest) = read(tbs)?;
        fields.push((tag, content));
        tbs = rest;
    }
    // [0] version is optional; then serial, signature, issuer, validity, subject.
    let start = usize::from(fields.first()?.0 == 0xa0);
    let (_, mut subject) = *fields.get(start + 4)?;
    while !subject.is_empty() {
        let (_, rdn, rest) = read(subject)?;
        subject = rest;
        let mut atvs = rdn;
        while !atvs.is_empty() {
            let (_, atv, more) = read(atvs)?;
            atvs = more;
            let (_, id, value) = read(atv)?;
            if id == OID_CN {
                let (_, text, _) = read(value)?;
                return String::from_utf8(text.to_vec()).ok();
            }
        }
    }
    None
}

// --- Certificate facts for operators --------------------------------------------------------

/// What `check`, the logs and the expiry gauge say about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject, RFC 4514 form.
    pub subject: String,
    /// The issuer, RFC 4514 form.
    pub issuer: String,
    /// notBefore.
    pub not_before: SystemTime,
    /// notAfter.
    pub not_after: SystemTime,
    /// subjectAltName DNS names and IP addresses.
    pub alt_names: Vec<String>,
}

/// Reads a DER certificate's subject, issuer, validity and subjectAltName (RFC 5280 section
/// 4.1), with the RustCrypto `x509-cert` parser.
pub fn info(der: &[u8]) -> Result<CertInfo, String> {
    use x509_cert::der::Decode;
    use x509_cert::ext::pkix::SubjectAltName;
    use x509_cert::ext::pkix::name::GeneralName;
    let cert = x509_cert::Certificate::from_der(der).map_err(|e| format!("not X.509: {e}"))?;
    let tbs = cert.tbs_certificate();
    let validity = tbs.validity();
    let mut alt_names = Vec::new();
    if let Ok(Some((_, san))) = tbs.get_extension::<SubjectAltName>() {
        for name in san.0 {
            match name {
                GeneralName::DnsName(n) => alt_names.push(n.to_string()),
                GeneralName::IpAddress(ip) => {
                    let b = ip.as_bytes();
                    let addr = match b.len() {
                        4 => <[u8; 4]>::try_from(b).ok().map(std::net::IpAddr::from),
                        16 => <[u8; 16]>::try_from(b).ok().map(std::net::IpAddr::from),
                        _ => None,
                    };
                    if let Some(a) = addr {
                        alt_names.push(a.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Ok(CertInfo {
        subject: tbs.subject().to_string(),
        issuer: tbs.issuer().to_string(),
        not_before: validity.not_before.to_system_time(),
        not_after: validity.not_after.to_system_time(),
        alt_names,
    })
}

/// Seconds since the Unix epoch (0 before it).
pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A time as `2026-12-04 15:24:00 UTC`.
pub fn format_time(t: SystemTime) -> String {
    let secs = unix_seconds(t);
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// How a certificate's validity stands at `now`, `soon` being the warning horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// Valid, and for longer than `soon`.
    Fine,
    /// Valid, but not after `soon` from now.
    ExpiresSoon,
    /// notAfter has passed.
    Expired,
    /// notBefore is still to come.
    NotYetValid,
}

impl CertInfo {
    /// This certificate's validity at `now`.
    pub fn validity_at(&self, now: SystemTime, soon: Duration) -> Validity {
        if now < self.not_before {
            Validity::NotYetValid
        } else if now > self.not_after {
            Validity::Expired
        } else if now + soon > self.not_after {
            Validity::ExpiresSoon
        } else {
            Validity::Fine
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(
            format_time(UNIX_EPOCH + Duration::from_secs(19_723 * 86_400 + 3_661)),
            "2024-01-01 01:01:01 UTC"
        );
    }
}
