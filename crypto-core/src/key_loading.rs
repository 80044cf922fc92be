//! Loading and making private keys: PKCS#8, SEC1 and PKCS#1 in DER or PEM, fresh keys, keys
//! from EC scalars. Where a file omits the public key, or a new key needs one, the first built
//! backend that can compute it does (`backends::providers`), so any one backend suffices.

use der::{Decode, asn1::ObjectIdentifier};
use zeroize::Zeroizing;

use crate::der as enc;
use crate::keys::{
    Material, RSA_BITS, curve_oid, fixed_scalar, scalar_in_range, trim_leading_zeros,
};
use crate::{Error, KeyKind, PrivateKey};

const RSA_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ED25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// curveSM2; GmSSL also writes it as the PKCS#8 algorithm itself, so both places are accepted.
const SM2_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");

/// Encrypted keys, PKCS#8 or traditional PEM: the proxy has no passphrase to give.
const ENCRYPTED: Error = Error::KeyParse(
    "encrypted keys are not supported (decrypt it first, e.g. `openssl pkey -in KEY -out PLAIN`)",
);

impl PrivateKey {
    /// Parses a PEM file holding one `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY` (PKCS#1) or
    /// `EC PRIVATE KEY` (SEC1) block. Other blocks before it (EC PARAMETERS, certificates) are
    /// skipped; encrypted keys are refused.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let text = core::str::from_utf8(pem).map_err(|_| Error::KeyParse("PEM is not UTF-8"))?;
        let mut rest = text;
        while let Some(start) = rest.find("-----BEGIN ") {
            let block = &rest[start..];
            let label_end = block[11..]
                .find("-----")
                .ok_or(Error::KeyParse("broken PEM header"))?;
            let label = &block[11..11 + label_end];
            let end_marker = format!("-----END {label}-----");
            let end = block
                .find(&end_marker)
                .ok_or(Error::KeyParse("PEM block not terminated"))?;
            let one = &block[..end + end_marker.len()];
            rest = &block[end + end_marker.len()..];
            let format = match label {
                "PRIVATE KEY" => Format::Pkcs8,
                "RSA PRIVATE KEY" => Format::Pkcs1,
                // OpenSSL 3 labels SEC1 SM2 keys "SM2 PRIVATE KEY".
                "EC PRIVATE KEY" | "SM2 PRIVATE KEY" => Format::Sec1,
                "ENCRYPTED PRIVATE KEY" => return Err(ENCRYPTED),
                _ => continue,
            };
            // Traditional ("OpenSSL legacy") encryption keeps the label and adds RFC 1421
            // headers: `Proc-Type: 4,ENCRYPTED` and `DEK-Info`.
            if one.contains("Proc-Type:") && one.contains("ENCRYPTED") {
                return Err(ENCRYPTED);
            }
            let (_, der) = pem_rfc7468::decode_vec(one.as_bytes())
                .map_err(|_| Error::KeyParse("invalid PEM encoding"))?;
            let der = Zeroizing::new(der);
            return Self::from_der_format(&der, format);
        }
        Err(Error::KeyParse("no private key block in PEM"))
    }

    /// Parses a DER private key, trying PKCS#8, then SEC1, then PKCS#1.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        Self::from_der_format(der, Format::Pkcs8)
            .or_else(|_| Self::from_der_format(der, Format::Sec1))
            .or_else(|_| Self::from_der_format(der, Format::Pkcs1))
            .map_err(|_| Error::KeyParse("not a PKCS#8, SEC1 or PKCS#1 private key"))
    }

    /// Parses PEM if the input looks like PEM, else DER.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
            Self::from_pem(bytes)
        } else {
            Self::from_der(bytes)
        }
    }

    fn from_der_format(der: &[u8], format: Format) -> Result<Self, Error> {
        match format {
            Format::Pkcs8 => Self::from_pkcs8(der),
            Format::Sec1 => ec_from_sec1(der, None),
            Format::Pkcs1 => rsa_from_pkcs1(der),
        }
    }

    fn from_pkcs8(der: &[u8]) -> Result<Self, Error> {
        let info = pkcs8::PrivateKeyInfoRef::from_der(der)
            .map_err(|_| Error::KeyParse("malformed PKCS#8"))?;
        let inner = info.private_key.as_bytes();
        let oid = info.algorithm.oid;
        if oid == RSA_OID {
            rsa_from_pkcs1(inner)
        } else if oid == SM2_OID {
            ec_from_sec1(inner, Some(SM2_OID))
        } else if oid == EC_OID {
            let curve = info
                .algorithm
                .parameters
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .ok_or(Error::KeyParse("PKCS#8 EC key without a named curve"))?;
            ec_from_sec1(inner, Some(curve))
        } else if oid == ED25519_OID {
            let seed = <&der::asn1::OctetStringRef>::from_der(inner)
                .map_err(|_| Error::KeyParse("malformed Ed25519 private key"))?;
            let seed: [u8; 32] = seed
                .as_bytes()
                .try_into()
                .map_err(|_| Error::InvalidKey("Ed25519 seed must be 32 bytes"))?;
            let key = ed25519_from_seed(Zeroizing::new(seed))?;
            if let (Some(stated), Material::Ed25519 { public, .. }) =
                (info.public_key, &key.material)
                && stated.raw_bytes() != public
            {
                return Err(Error::InvalidKey("public key does not match private key"));
            }
            Ok(key)
        } else {
            Err(Error::KeyParse("unsupported private key algorithm"))
        }
    }

    /// Generates a fresh key of `kind` from the operating system's random numbers. RSA keys
    /// are 2048-bit, made by the first built backend that generates RSA keys (aws-lc, then
    /// OpenSSL, then RustCrypto's `rsa`).
    pub fn generate(kind: KeyKind) -> Result<Self, Error> {
        match kind {
            KeyKind::EcP256 | KeyKind::EcP384 | KeyKind::Sm2 => {
                let len = if kind == KeyKind::EcP384 { 48 } else { 32 };
                let mut scalar = Zeroizing::new(vec![0u8; len]);
                // Rejection sampling: out-of-range draws (probability < 2^-32) are redrawn;
                // any other failure (no built backend does this curve) is returned, not
                // retried forever.
                let mut last = Error::RandomFailed;
                for _ in 0..64 {
                    getrandom::fill(&mut scalar).map_err(|_| Error::RandomFailed)?;
                    match ec_public_from_scalar(kind, &scalar) {
                        Ok(public) => return Ok(ec_key(kind, scalar, public)),
                        Err(e @ Error::InvalidKey(_)) => last = e,
                        Err(e) => return Err(e),
                    }
                }
                Err(last)
            }
            KeyKind::Ed25519 => {
                let mut seed = Zeroizing::new([0u8; 32]);
                getrandom::fill(seed.as_mut_slice()).map_err(|_| Error::RandomFailed)?;
                ed25519_from_seed(seed)
            }
            KeyKind::Rsa => {
                let der = crate::backends::providers()
                    .find_map(|p| p.generate_rsa.map(|f| f()))
                    .unwrap_or(Err(Error::Unsupported {
                        alg: crate::Algorithm::Signature(crate::SignatureAlg::RsaPssSha256),
                        backend: crate::Backend::built()
                            .next()
                            .unwrap_or(crate::Backend::RustCrypto),
                    }))?;
                Self::from_der_format(&der, Format::Pkcs8)
            }
        }
    }

    /// An SM2, P-256 or P-384 key from its big-endian private scalar (leading zeros allowed).
    pub fn from_ec_scalar(kind: KeyKind, scalar: &[u8]) -> Result<Self, Error> {
        let len = match kind {
            KeyKind::EcP256 | KeyKind::Sm2 => 32,
            KeyKind::EcP384 => 48,
            _ => return Err(Error::InvalidKey("not an EC key kind")),
        };
        let scalar = fixed_scalar(scalar, len)?;
        let public = ec_public_from_scalar(kind, &scalar)?;
        Ok(ec_key(kind, scalar, public))
    }
}

#[derive(Clone, Copy)]
enum Format {
    Pkcs8,
    Sec1,
    Pkcs1,
}

fn rsa_from_pkcs1(der: &[u8]) -> Result<PrivateKey, Error> {
    let key = pkcs1::RsaPrivateKeyRef::from_der(der)
        .map_err(|_| Error::KeyParse("malformed PKCS#1 RSA key"))?;
    if key.other_prime_infos.is_some() {
        return Err(Error::InvalidKey("multi-prime RSA keys are not supported"));
    }
    let n = key.modulus.as_bytes();
    let n_trimmed = trim_leading_zeros(n);
    let bits = n_trimmed.len() * 8 - n_trimmed.first().map_or(8, |b| b.leading_zeros() as usize);
    if !RSA_BITS.contains(&bits) {
        return Err(Error::InvalidKey("RSA modulus must have 2048 to 8192 bits"));
    }
    let public = enc::rsa_public_key(n, key.public_exponent.as_bytes());
    let pkcs1 = Zeroizing::new(der.to_vec());
    let pkcs8 = enc::pkcs8(enc::oid::RSA_ENCRYPTION, enc::Params::Null, &pkcs1);
    Ok(PrivateKey {
        material: Material::Rsa {
            pkcs1,
            pkcs8,
            public,
            bits,
        },
    })
}

fn ec_from_sec1(der: &[u8], outer_curve: Option<ObjectIdentifier>) -> Result<PrivateKey, Error> {
    let key =
        sec1::EcPrivateKey::from_der(der).map_err(|_| Error::KeyParse("malformed SEC1 EC key"))?;
    let inner_curve = key.parameters.and_then(|p| p.named_curve());
    let curve = match (outer_curve, inner_curve) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::InvalidKey("PKCS#8 and SEC1 name different curves"));
        }
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => return Err(Error::KeyParse("EC key without a named curve")),
    };
    let (kind, len) = if curve == P256_OID {
        (KeyKind::EcP256, 32)
    } else if curve == P384_OID {
        (KeyKind::EcP384, 48)
    } else if curve == SM2_OID {
        (KeyKind::Sm2, 32)
    } else {
        return Err(Error::InvalidKey(
            "unsupported curve (P-256, P-384 and curveSM2 are)",
        ));
    };
    // RFC 5915 fixes the length, but some encoders drop leading zeros: accept and re-pad.
    let given = trim_leading_zeros(key.private_key);
    if given.len() > len {
        return Err(Error::InvalidKey("EC private scalar too long"));
    }
    let mut scalar = Zeroizing::new(vec![0u8; len]);
    scalar[len - given.len()..].copy_from_slice(given);
    let public = ec_public_from_scalar(kind, &scalar)?;
    if let Some(stated) = key.public_key
        && stated != public.as_slice()
    {
        return Err(Error::InvalidKey("public key does not match private key"));
    }
    Ok(ec_key(kind, scalar, public))
}

fn ec_key(kind: KeyKind, scalar: Zeroizing<Vec<u8>>, public: Vec<u8>) -> PrivateKey {
    let inner = enc::sec1(&scalar, &public);
    let pkcs8 = enc::pkcs8(
        enc::oid::EC_PUBLIC_KEY,
        enc::Params::Oid(curve_oid(kind)),
        &inner,
    );
    PrivateKey {
        material: Material::Ec {
            kind,
            scalar,
            public,
            pkcs8,
        },
    }
}

/// The group order n of P-256 (FIPS 186-4 D.1.2.3).
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// The group order n of P-384 (FIPS 186-4 D.1.2.4).
const P384_ORDER: [u8; 48] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
];

/// The public key of `secret` from the first built backend that can compute it.
fn derive_public(kind: KeyKind, secret: &[u8]) -> Result<Vec<u8>, Error> {
    crate::backends::providers()
        .find_map(|p| p.public_key.and_then(|f| f(kind, secret)))
        .unwrap_or(Err(Error::Unsupported {
            alg: crate::Algorithm::Signature(match kind {
                KeyKind::Ed25519 => crate::SignatureAlg::Ed25519,
                KeyKind::EcP384 => crate::SignatureAlg::EcdsaP384Sha384,
                KeyKind::Sm2 => crate::SignatureAlg::Sm2Sm3,
                _ => crate::SignatureAlg::EcdsaP256Sha256,
            }),
            backend: crate::Backend::built()
                .next()
                .unwrap_or(crate::Backend::RustCrypto),
        }))
}

/// The uncompressed public point for a private scalar; rejects 0 and scalars >= n (and, for
/// SM2, n - 1).
pub(crate) fn ec_public_from_scalar(kind: KeyKind, scalar: &[u8]) -> Result<Vec<u8>, Error> {
    let in_range = match kind {
        KeyKind::EcP256 => scalar_in_range(scalar, &P256_ORDER),
        KeyKind::EcP384 => scalar_in_range(scalar, &P384_ORDER),
        KeyKind::Sm2 => {
            // SM2 signing computes (1 + d)^-1, so d = n - 1 is refused too (GB/T 32918.1
            // 6.1: d in [1, n-2]).
            let mut n_minus_1 = crate::sm2::ORDER;
            n_minus_1[31] -= 1;
            scalar_in_range(scalar, &n_minus_1)
        }
        _ => return Err(Error::InvalidKey("not an EC key")),
    };
    if !in_range {
        return Err(Error::InvalidKey(if kind == KeyKind::Sm2 {
            "SM2 private key must be in [1, n-2]"
        } else {
            "EC private scalar out of range"
        }));
    }
    derive_public(kind, scalar)
}

fn ed25519_from_seed(seed: Zeroizing<[u8; 32]>) -> Result<PrivateKey, Error> {
    let public: [u8; 32] = derive_public(KeyKind::Ed25519, seed.as_slice())?
        .try_into()
        .map_err(|_| Error::Backend("Ed25519 public key of the wrong length"))?;
    let inner = enc::octet_string(seed.as_slice());
    let pkcs8 = enc::pkcs8(enc::oid::ED25519, enc::Params::None, &inner);
    Ok(PrivateKey {
        material: Material::Ed25519 {
            seed,
            public,
            pkcs8,
        },
    })
}
