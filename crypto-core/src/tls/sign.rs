//! Signing keys, the key provider and signature verification for rustls.

use core::fmt;
use std::sync::Arc;

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{
    AlgorithmIdentifier, InvalidSignature, PrivateKeyDer, SignatureVerificationAlgorithm,
    SubjectPublicKeyInfoDer, alg_id,
};
use rustls::sign::Signer;
use rustls::{Error, SignatureAlgorithm, SignatureScheme};

use super::intern::{self, Table};
use crate::{Algorithm, Backend, KeyKind, PrivateKey, Selection, SignatureAlg, sm2};

/// The TLS signature scheme of a crypto-core signature algorithm (DER-signature flavours only;
/// the fixed-width ECDSA encodings have none).
pub fn signature_scheme(alg: SignatureAlg) -> Option<SignatureScheme> {
    Some(match alg {
        SignatureAlg::RsaPkcs1Sha256 => SignatureScheme::RSA_PKCS1_SHA256,
        SignatureAlg::RsaPkcs1Sha384 => SignatureScheme::RSA_PKCS1_SHA384,
        SignatureAlg::RsaPkcs1Sha512 => SignatureScheme::RSA_PKCS1_SHA512,
        SignatureAlg::RsaPssSha256 => SignatureScheme::RSA_PSS_SHA256,
        SignatureAlg::RsaPssSha384 => SignatureScheme::RSA_PSS_SHA384,
        SignatureAlg::RsaPssSha512 => SignatureScheme::RSA_PSS_SHA512,
        SignatureAlg::EcdsaP256Sha256 => SignatureScheme::ECDSA_NISTP256_SHA256,
        SignatureAlg::EcdsaP384Sha384 => SignatureScheme::ECDSA_NISTP384_SHA384,
        SignatureAlg::Ed25519 => SignatureScheme::ED25519,
        SignatureAlg::Sm2Sm3 => super::ids::SM2SIG_SM3,
        SignatureAlg::EcdsaP256Sha256Fixed
        | SignatureAlg::EcdsaP384Sha384Fixed
        | SignatureAlg::EcdsaP256Sha384
        | SignatureAlg::EcdsaP384Sha256 => return None,
    })
}

/// The signature algorithms an X.509 key of `kind` signs TLS handshakes with, most preferred
/// first (PSS before PKCS#1, as rustls's own providers do).
const fn schemes_for(kind: KeyKind) -> &'static [SignatureAlg] {
    match kind {
        KeyKind::Rsa => &[
            SignatureAlg::RsaPssSha512,
            SignatureAlg::RsaPssSha384,
            SignatureAlg::RsaPssSha256,
            SignatureAlg::RsaPkcs1Sha512,
            SignatureAlg::RsaPkcs1Sha384,
            SignatureAlg::RsaPkcs1Sha256,
        ],
        KeyKind::EcP256 => &[SignatureAlg::EcdsaP256Sha256],
        KeyKind::EcP384 => &[SignatureAlg::EcdsaP384Sha384],
        KeyKind::Ed25519 => &[SignatureAlg::Ed25519],
        KeyKind::Sm2 => &[SignatureAlg::Sm2Sm3],
    }
}

/// Loads private keys for rustls, making each signature with the backend the selection names
/// for that signature algorithm.
pub struct KeyProvider {
    backends: Vec<(SignatureAlg, Backend)>,
}

impl fmt::Debug for KeyProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyProvider")
            .field("backends", &self.backends)
            .finish()
    }
}

static KEY_PROVIDERS: Table<Vec<(SignatureAlg, Backend)>, KeyProvider> = Table::new();

impl KeyProvider {
    /// The key provider for `selection`.
    pub fn get(selection: &Selection) -> &'static Self {
        let backends: Vec<_> = SignatureAlg::ALL
            .iter()
            .map(|&s| (s, selection.backend_for(Algorithm::Signature(s))))
            .collect();
        intern::get(&KEY_PROVIDERS, backends.clone(), || Self { backends })
    }

    fn backend_for(&self, alg: SignatureAlg) -> Backend {
        self.backends
            .iter()
            .find(|(s, _)| *s == alg)
            .map_or(Backend::RustCrypto, |e| e.1)
    }

    /// A rustls signing key from a crypto-core key.
    pub fn signing_key(&self, key: &PrivateKey) -> Result<SigningKey, crate::Error> {
        let mut signers = Vec::new();
        let mut last_err = None;
        for &alg in schemes_for(key.kind()) {
            let Some(scheme) = signature_scheme(alg) else {
                continue;
            };
            let backend = self.backend_for(alg);
            // RFC 8998 section 3.2.1: CertificateVerify uses the ID "TLSv1.3+GM+Cipher+Suite".
            let made = if alg == SignatureAlg::Sm2Sm3 {
                backend.sm2_signing_key(key, sm2::TLS13_CERTIFICATE_VERIFY_ID)
            } else {
                backend.signing_key(alg, key)
            };
            match made {
                Ok(k) => signers.push(Arc::new(TlsSigner {
                    scheme,
                    backend,
                    key: k,
                })),
                Err(e) => last_err = Some(e),
            }
        }
        if signers.is_empty() {
            return Err(last_err.unwrap_or(crate::Error::InvalidKey("no signature scheme")));
        }
        Ok(SigningKey {
            kind: key.kind(),
            spki: key.public_key_spki_der(),
            signers,
        })
    }
}

impl rustls::crypto::KeyProvider for KeyProvider {
    fn load_private_key(
        &self,
        der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn rustls::sign::SigningKey>, Error> {
        let key = PrivateKey::from_der(der.secret_der())
            .map_err(|e| Error::General(format!("private key: {e}")))?;
        let key = self
            .signing_key(&key)
            .map_err(|e| Error::General(format!("private key: {e}")))?;
        Ok(Arc::new(key))
    }
}

/// A private key ready to sign TLS handshakes with each scheme its kind allows.
pub struct SigningKey {
    kind: KeyKind,
    spki: Vec<u8>,
    signers: Vec<Arc<TlsSigner>>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kind", &self.kind)
            .field(
                "schemes",
                &self
                    .signers
                    .iter()
                    .map(|s| (s.scheme, s.backend))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl rustls::sign::SigningKey for SigningKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        self.signers
            .iter()
            .find(|s| offered.contains(&s.scheme))
            .map(|s| Box::new(SharedSigner(s.clone())) as Box<dyn Signer>)
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(SubjectPublicKeyInfoDer::from(&self.spki[..]))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match self.kind {
            KeyKind::Rsa => SignatureAlgorithm::RSA,
            KeyKind::EcP256 | KeyKind::EcP384 => SignatureAlgorithm::ECDSA,
            KeyKind::Ed25519 => SignatureAlgorithm::ED25519,
            KeyKind::Sm2 => super::ids::SM2_SIGNATURE_ALGORITHM,
        }
    }
}

struct TlsSigner {
    scheme: SignatureScheme,
    backend: Backend,
    key: Box<dyn crate::SigningKey>,
}

struct SharedSigner(Arc<TlsSigner>);

impl fmt::Debug for SharedSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("scheme", &self.0.scheme)
            .field("backend", &self.0.backend)
            .finish()
    }
}

impl Signer for SharedSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.0
            .key
            .sign(message)
            .map_err(|e| Error::General(format!("signing failed: {e}")))
    }

    fn scheme(&self) -> SignatureScheme {
        self.0.scheme
    }
}

/// SubjectPublicKeyInfo algorithm of an SM2 key: id-ecPublicKey with the curveSM2 OID
/// (1.2.156.10197.1.301, GB/T 35276 / GM/T 0006), as pki-types encodes identifiers: the content
/// of the AlgorithmIdentifier SEQUENCE.
const SM2_PUBLIC_KEY: AlgorithmIdentifier = AlgorithmIdentifier::from_slice(&[
    0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55,
    0x01, 0x82, 0x2d,
]);
/// SM2-with-SM3 signature algorithm (1.2.156.10197.1.501, GM/T 0006), no parameters.
const SM2_WITH_SM3: AlgorithmIdentifier =
    AlgorithmIdentifier::from_slice(&[0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x75]);

/// Which SM2 user ID a verifier uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavour {
    /// Not SM2.
    Plain,
    /// Certificates: the default ID.
    Sm2Certificate,
    /// TLS 1.3 CertificateVerify: RFC 8998's ID.
    Sm2Handshake,
}

/// One signature algorithm on one backend, as rustls-webpki wants it.
pub struct VerifyAlgorithm {
    alg: SignatureAlg,
    backend: Backend,
    flavour: Flavour,
}

impl fmt::Debug for VerifyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyAlgorithm")
            .field("alg", &self.alg)
            .field("backend", &self.backend)
            .field("flavour", &self.flavour)
            .finish()
    }
}

static VERIFIERS: Table<(SignatureAlg, Backend, Flavour), VerifyAlgorithm> = Table::new();

impl VerifyAlgorithm {
    fn get(alg: SignatureAlg, backend: Backend, flavour: Flavour) -> Option<&'static Self> {
        backend.verifier(alg).ok()?;
        Some(intern::get(&VERIFIERS, (alg, backend, flavour), || Self {
            alg,
            backend,
            flavour,
        }))
    }
}

impl SignatureVerificationAlgorithm for VerifyAlgorithm {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let r = match self.flavour {
            Flavour::Plain => self
                .backend
                .verifier(self.alg)
                .and_then(|v| v.verify(public_key, message, signature)),
            Flavour::Sm2Certificate => {
                self.backend
                    .sm2_verify(public_key, sm2::DEFAULT_ID, message, signature)
            }
            Flavour::Sm2Handshake => self.backend.sm2_verify(
                public_key,
                sm2::TLS13_CERTIFICATE_VERIFY_ID,
                message,
                signature,
            ),
        };
        r.map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        match self.alg.key_kind() {
            KeyKind::Rsa => alg_id::RSA_ENCRYPTION,
            KeyKind::EcP256 => alg_id::ECDSA_P256,
            KeyKind::EcP384 => alg_id::ECDSA_P384,
            KeyKind::Ed25519 => alg_id::ED25519,
            KeyKind::Sm2 => SM2_PUBLIC_KEY,
        }
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match self.alg {
            SignatureAlg::RsaPkcs1Sha256 => alg_id::RSA_PKCS1_SHA256,
            SignatureAlg::RsaPkcs1Sha384 => alg_id::RSA_PKCS1_SHA384,
            SignatureAlg::RsaPkcs1Sha512 => alg_id::RSA_PKCS1_SHA512,
            SignatureAlg::RsaPssSha256 => alg_id::RSA_PSS_SHA256,
            SignatureAlg::RsaPssSha384 => alg_id::RSA_PSS_SHA384,
            SignatureAlg::RsaPssSha512 => alg_id::RSA_PSS_SHA512,
            SignatureAlg::EcdsaP256Sha256
            | SignatureAlg::EcdsaP256Sha256Fixed
            | SignatureAlg::EcdsaP384Sha256 => alg_id::ECDSA_SHA256,
            SignatureAlg::EcdsaP384Sha384
            | SignatureAlg::EcdsaP384Sha384Fixed
            | SignatureAlg::EcdsaP256Sha384 => alg_id::ECDSA_SHA384,
            SignatureAlg::Ed25519 => alg_id::ED25519,
            SignatureAlg::Sm2Sm3 => SM2_WITH_SM3,
        }
    }
}

type Mapping = &'static [(
    SignatureScheme,
    &'static [&'static dyn SignatureVerificationAlgorithm],
)];
type All = &'static [&'static dyn SignatureVerificationAlgorithm];

static TABLES: Table<Vec<(SignatureAlg, Backend)>, (All, Mapping)> = Table::new();

/// Handshake schemes in the order a client offers them, each with the algorithms that verify
/// it. TLS 1.3 binds an ECDSA scheme to its curve and rustls uses only the first entry there;
/// TLS 1.2 does not, and rustls tries each, so a P-256 key signing with SHA-384 (OpenSSL's
/// habit in TLS 1.2) verifies.
const SCHEMES: &[(SignatureScheme, &[SignatureAlg])] = &[
    (
        SignatureScheme::ECDSA_NISTP384_SHA384,
        &[SignatureAlg::EcdsaP384Sha384, SignatureAlg::EcdsaP256Sha384],
    ),
    (
        SignatureScheme::ECDSA_NISTP256_SHA256,
        &[SignatureAlg::EcdsaP256Sha256, SignatureAlg::EcdsaP384Sha256],
    ),
    (SignatureScheme::ED25519, &[SignatureAlg::Ed25519]),
    (
        SignatureScheme::RSA_PSS_SHA512,
        &[SignatureAlg::RsaPssSha512],
    ),
    (
        SignatureScheme::RSA_PSS_SHA384,
        &[SignatureAlg::RsaPssSha384],
    ),
    (
        SignatureScheme::RSA_PSS_SHA256,
        &[SignatureAlg::RsaPssSha256],
    ),
    (
        SignatureScheme::RSA_PKCS1_SHA512,
        &[SignatureAlg::RsaPkcs1Sha512],
    ),
    (
        SignatureScheme::RSA_PKCS1_SHA384,
        &[SignatureAlg::RsaPkcs1Sha384],
    ),
    (
        SignatureScheme::RSA_PKCS1_SHA256,
        &[SignatureAlg::RsaPkcs1Sha256],
    ),
    (super::ids::SM2SIG_SM3, &[SignatureAlg::Sm2Sm3]),
];

/// Verification algorithms for certificates (`all`) and handshake signatures (`mapping`), each
/// on the backend the selection names; algorithms whose backend lacks them are left out.
pub(super) fn supported_algorithms(selection: &Selection) -> WebPkiSupportedAlgorithms {
    let backends: Vec<_> = SCHEMES
        .iter()
        .flat_map(|(_, algs)| algs.iter())
        .map(|&s| (s, selection.backend_for(Algorithm::Signature(s))))
        .collect();
    let (all, mapping) = *intern::get(&TABLES, backends.clone(), || {
        let backend_for = |alg: SignatureAlg| {
            backends
                .iter()
                .find(|(a, _)| *a == alg)
                .map_or(Backend::RustCrypto, |e| e.1)
        };
        let mut all: Vec<&'static dyn SignatureVerificationAlgorithm> = Vec::new();
        let mut mapping = Vec::new();
        for &(scheme, algs) in SCHEMES {
            let mut verifiers: Vec<&'static dyn SignatureVerificationAlgorithm> = Vec::new();
            let mut own = false;
            for &alg in algs {
                let backend = backend_for(alg);
                let (cert, handshake) = if alg == SignatureAlg::Sm2Sm3 {
                    (Flavour::Sm2Certificate, Flavour::Sm2Handshake)
                } else {
                    (Flavour::Plain, Flavour::Plain)
                };
                let (Some(c), Some(h)) = (
                    VerifyAlgorithm::get(alg, backend, cert),
                    VerifyAlgorithm::get(alg, backend, handshake),
                ) else {
                    continue;
                };
                all.push(c);
                verifiers.push(h);
                own |= alg == algs[0];
            }
            // Offer the scheme only if its own algorithm, the one TLS 1.3 uses (rustls takes
            // the first entry there), is the first entry.
            if own {
                let v: &'static [&'static dyn SignatureVerificationAlgorithm] =
                    Box::leak(verifiers.into_boxed_slice());
                mapping.push((scheme, v));
            }
        }
        let all: All = Box::leak(all.into_boxed_slice());
        let mapping: Mapping = Box::leak(mapping.into_boxed_slice());
        (all, mapping)
    });
    WebPkiSupportedAlgorithms { all, mapping }
}
