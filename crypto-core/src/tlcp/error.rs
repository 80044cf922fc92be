//! TLCP errors and alerts.

use core::fmt;

/// Alert descriptions (RFC 5246 7.2, kept by GB/T 38636-2020 6.4.3.2, which adds the
/// site-to-site and IBC codes 200..205 that a server without IBC suites never sends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertDescription {
    /// `close_notify` (0).
    CloseNotify,
    /// `unexpected_message` (10).
    UnexpectedMessage,
    /// `bad_record_mac` (20).
    BadRecordMac,
    /// `record_overflow` (22).
    RecordOverflow,
    /// `decompression_failure` (30).
    DecompressionFailure,
    /// `handshake_failure` (40).
    HandshakeFailure,
    /// `bad_certificate` (42).
    BadCertificate,
    /// `unsupported_certificate` (43).
    UnsupportedCertificate,
    /// `certificate_revoked` (44).
    CertificateRevoked,
    /// `certificate_expired` (45).
    CertificateExpired,
    /// `certificate_unknown` (46).
    CertificateUnknown,
    /// `illegal_parameter` (47).
    IllegalParameter,
    /// `unknown_ca` (48).
    UnknownCa,
    /// `access_denied` (49).
    AccessDenied,
    /// `decode_error` (50).
    DecodeError,
    /// `decrypt_error` (51).
    DecryptError,
    /// `protocol_version` (70).
    ProtocolVersion,
    /// `insufficient_security` (71).
    InsufficientSecurity,
    /// `internal_error` (80).
    InternalError,
    /// `user_canceled` (90).
    UserCanceled,
    /// `no_renegotiation` (100).
    NoRenegotiation,
    /// `unsupported_extension` (110).
    UnsupportedExtension,
    /// A code this implementation does not name.
    Other(u8),
}

impl AlertDescription {
    /// The wire code.
    pub fn to_u8(self) -> u8 {
        match self {
            Self::CloseNotify => 0,
            Self::UnexpectedMessage => 10,
            Self::BadRecordMac => 20,
            Self::RecordOverflow => 22,
            Self::DecompressionFailure => 30,
            Self::HandshakeFailure => 40,
            Self::BadCertificate => 42,
            Self::UnsupportedCertificate => 43,
            Self::CertificateRevoked => 44,
            Self::CertificateExpired => 45,
            Self::CertificateUnknown => 46,
            Self::IllegalParameter => 47,
            Self::UnknownCa => 48,
            Self::AccessDenied => 49,
            Self::DecodeError => 50,
            Self::DecryptError => 51,
            Self::ProtocolVersion => 70,
            Self::InsufficientSecurity => 71,
            Self::InternalError => 80,
            Self::UserCanceled => 90,
            Self::NoRenegotiation => 100,
            Self::UnsupportedExtension => 110,
            Self::Other(v) => v,
        }
    }

    /// The description for a wire code.
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::CloseNotify,
            10 => Self::UnexpectedMessage,
            20 => Self::BadRecordMac,
            22 => Self::RecordOverflow,
            30 => Self::DecompressionFailure,
            40 => Self::HandshakeFailure,
            42 => Self::BadCertificate,
            43 => Self::UnsupportedCertificate,
            44 => Self::CertificateRevoked,
            45 => Self::CertificateExpired,
            46 => Self::CertificateUnknown,
            47 => Self::IllegalParameter,
            48 => Self::UnknownCa,
            49 => Self::AccessDenied,
            50 => Self::DecodeError,
            51 => Self::DecryptError,
            70 => Self::ProtocolVersion,
            71 => Self::InsufficientSecurity,
            80 => Self::InternalError,
            90 => Self::UserCanceled,
            100 => Self::NoRenegotiation,
            110 => Self::UnsupportedExtension,
            other => Self::Other(other),
        }
    }

    /// The RFC's name, for logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::CloseNotify => "close_notify",
            Self::UnexpectedMessage => "unexpected_message",
            Self::BadRecordMac => "bad_record_mac",
            Self::RecordOverflow => "record_overflow",
            Self::DecompressionFailure => "decompression_failure",
            Self::HandshakeFailure => "handshake_failure",
            Self::BadCertificate => "bad_certificate",
            Self::UnsupportedCertificate => "unsupported_certificate",
            Self::CertificateRevoked => "certificate_revoked",
            Self::CertificateExpired => "certificate_expired",
            Self::CertificateUnknown => "certificate_unknown",
            Self::IllegalParameter => "illegal_parameter",
            Self::UnknownCa => "unknown_ca",
            Self::AccessDenied => "access_denied",
            Self::DecodeError => "decode_error",
            Self::DecryptError => "decrypt_error",
            Self::ProtocolVersion => "protocol_version",
            Self::InsufficientSecurity => "insufficient_security",
            Self::InternalError => "internal_error",
            Self::UserCanceled => "user_canceled",
            Self::NoRenegotiation => "no_renegotiation",
            Self::UnsupportedExtension => "unsupported_extension",
            Self::Other(_) => "other",
        }
    }
}

impl fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Other(v) => write!(f, "alert {v}"),
            _ => f.write_str(self.name()),
        }
    }
}

/// Why a TLCP connection failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// We refused the peer's input; the fatal alert named was queued for it.
    Refused {
        /// The alert sent.
        alert: AlertDescription,
        /// Why, for logs.
        reason: &'static str,
    },
    /// The peer sent a fatal alert (or a warning other than close_notify).
    PeerAlert(AlertDescription),
    /// Data after the peer's close_notify, or a write after ours.
    Closed,
    /// A primitive failed where no input explains it (a backend error, no entropy).
    Crypto(crate::Error),
}

impl Error {
    pub(crate) fn alert(alert: AlertDescription, reason: &'static str) -> Self {
        Self::Refused { alert, reason }
    }

    pub(crate) fn decode(reason: &'static str) -> Self {
        Self::alert(AlertDescription::DecodeError, reason)
    }

    pub(crate) fn internal(reason: &'static str) -> Self {
        Self::alert(AlertDescription::InternalError, reason)
    }

    pub(crate) fn crypto(e: crate::Error) -> Self {
        Self::Crypto(e)
    }

    /// The alert to send the peer for this error, if any.
    pub fn alert_to_send(&self) -> Option<AlertDescription> {
        match self {
            Self::Refused { alert, .. } => Some(*alert),
            Self::Crypto(_) => Some(AlertDescription::InternalError),
            Self::PeerAlert(_) | Self::Closed => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused { alert, reason } => write!(f, "{reason} (sent {alert})"),
            Self::PeerAlert(a) => write!(f, "peer sent {a}"),
            Self::Closed => f.write_str("connection closed"),
            Self::Crypto(e) => write!(f, "crypto: {e}"),
        }
    }
}

impl std::error::Error for Error {}
