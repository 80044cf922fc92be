//! The code points RFC 8998 adds to TLS 1.3, and the private-use identities rustls needs for
//! SM3 and SM2 keys.

use rustls::crypto::hash::HashAlgorithm;
use rustls::{CipherSuite, NamedGroup, SignatureAlgorithm, SignatureScheme};

/// `TLS_SM4_GCM_SM3` (RFC 8998 section 2).
pub const TLS13_SM4_GCM_SM3: CipherSuite = CipherSuite::Unknown(0x00C6);
/// `TLS_SM4_CCM_SM3` (RFC 8998 section 2).
pub const TLS13_SM4_CCM_SM3: CipherSuite = CipherSuite::Unknown(0x00C7);
/// The `curveSM2` named group (RFC 8998 section 2, IANA TLS Supported Groups 41).
pub const CURVE_SM2: NamedGroup = NamedGroup::Unknown(41);
/// The `sm2sig_sm3` signature scheme (RFC 8998 section 2).
pub const SM2SIG_SM3: SignatureScheme = SignatureScheme::Unknown(0x0708);
/// The hash identity rustls sees for SM3. The TLS HashAlgorithm registry has no SM3 entry; this
/// value is from its private-use range (224-255, RFC 5246 section 12), so it can never equal a
/// real hash's identity.
pub const SM3_HASH_ID: HashAlgorithm = HashAlgorithm::Unknown(0xE0);
/// The (TLS 1.2 registry) signature algorithm rustls sees for SM2 keys: private use too. No TLS
/// 1.2 suite names it, which keeps SM2 certificates out of TLS 1.2.
pub const SM2_SIGNATURE_ALGORITHM: SignatureAlgorithm = SignatureAlgorithm::Unknown(0xE0);
