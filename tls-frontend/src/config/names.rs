//! Names for what the handshake negotiates, as operators write and read them: groups as the
//! configuration spells them (`x25519`, `curvesm2`), suites by their IANA names, signature
//! schemes by their RFC 8446 names (`ecdsa_secp256r1_sha256`, RFC 8998's `sm2sig_sm3`).

use crypto_core::tls::{CURVE_SM2, SM2SIG_SM3, TLS13_SM4_CCM_SM3, TLS13_SM4_GCM_SM3};
use rustls::{CipherSuite, NamedGroup, SignatureScheme};

/// A group's name in the configuration's `groups` list.
pub fn group(g: NamedGroup) -> &'static str {
    match g {
        NamedGroup::X25519 => "x25519",
        NamedGroup::secp256r1 => "secp256r1",
        NamedGroup::secp384r1 => "secp384r1",
        NamedGroup::X25519MLKEM768 => "x25519mlkem768",
        g if g == CURVE_SM2 => "curvesm2",
        _ => "unknown",
    }
}

/// A suite's IANA name (`TLS_AES_128_GCM_SHA256`, `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`,
/// `TLS_SM4_GCM_SM3`).
pub fn suite(s: CipherSuite) -> String {
    match s {
        TLS13_SM4_GCM_SM3 => "TLS_SM4_GCM_SM3".into(),
        TLS13_SM4_CCM_SM3 => "TLS_SM4_CCM_SM3".into(),
        s => s.as_str().map_or_else(
            || format!("0x{:04x}", u16::from(s)),
            |n| {
                n.strip_prefix("TLS13_")
                    .map_or(n.to_owned(), |r| format!("TLS_{r}"))
            },
        ),
    }
}

/// A signature scheme's RFC 8446 (or RFC 8998) name.
pub fn scheme(s: SignatureScheme) -> String {
    match s {
        SignatureScheme::RSA_PKCS1_SHA256 => "rsa_pkcs1_sha256".into(),
        SignatureScheme::RSA_PKCS1_SHA384 => "rsa_pkcs1_sha384".into(),
        SignatureScheme::RSA_PKCS1_SHA512 => "rsa_pkcs1_sha512".into(),
        SignatureScheme::RSA_PSS_SHA256 => "rsa_pss_rsae_sha256".into(),
        SignatureScheme::RSA_PSS_SHA384 => "rsa_pss_rsae_sha384".into(),
        SignatureScheme::RSA_PSS_SHA512 => "rsa_pss_rsae_sha512".into(),
        SignatureScheme::ECDSA_NISTP256_SHA256 => "ecdsa_secp256r1_sha256".into(),
        SignatureScheme::ECDSA_NISTP384_SHA384 => "ecdsa_secp384r1_sha384".into(),
        SignatureScheme::ECDSA_NISTP521_SHA512 => "ecdsa_secp521r1_sha512".into(),
        SignatureScheme::ED25519 => "ed25519".into(),
        s if s == SM2SIG_SM3 => "sm2sig_sm3".into(),
        s => format!("0x{:04x}", u16::from(s)),
    }
}

/// The group a configuration names (`x25519`, `secp256r1` or `p-256`, `secp384r1`,
/// `curvesm2`, `x25519mlkem768`; any case), or `None`.
pub fn group_by_name(name: &str) -> Option<NamedGroup> {
    Some(match name.to_ascii_lowercase().as_str() {
        "x25519" => NamedGroup::X25519,
        "secp256r1" | "p-256" | "p256" => NamedGroup::secp256r1,
        "secp384r1" | "p-384" | "p384" => NamedGroup::secp384r1,
        "curvesm2" | "sm2" => CURVE_SM2,
        "x25519mlkem768" => NamedGroup::X25519MLKEM768,
        _ => return None,
    })
}

/// The group names a configuration may use, for messages.
pub const GROUP_NAMES: &str = "x25519, secp256r1, secp384r1, curvesm2, x25519mlkem768";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_ones_people_write() {
        assert_eq!(group(CURVE_SM2), "curvesm2");
        assert_eq!(group(NamedGroup::X25519MLKEM768), "x25519mlkem768");
        assert_eq!(
            suite(CipherSuite::TLS13_AES_128_GCM_SHA256),
            "TLS_AES_128_GCM_SHA256"
        );
        assert_eq!(
            suite(CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        );
        assert_eq!(suite(TLS13_SM4_CCM_SM3), "TLS_SM4_CCM_SM3");
        assert_eq!(scheme(SM2SIG_SM3), "sm2sig_sm3");
        assert_eq!(
            scheme(SignatureScheme::RSA_PSS_SHA256),
            "rsa_pss_rsae_sha256"
        );
        // Every configurable group name maps back to itself.
        for n in [
            "x25519",
            "secp256r1",
            "secp384r1",
            "curvesm2",
            "x25519mlkem768",
        ] {
            assert_eq!(group(group_by_name(n).unwrap()), n);
        }
    }
}
