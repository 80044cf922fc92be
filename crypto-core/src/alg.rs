//! Identifiers, plain data: what to compute ([`Algorithm`] and its kinds) and who computes it
//! ([`Backend`]'s name). How a backend is reached is `backend.rs`'s business.
//!
//! Every identifier has a stable lower-case id (`aes-128-gcm`, `ecdsa-p256-sha256`, ...) that the
//! support matrix, the configuration and the `speed` tables all use.

use core::fmt;
use core::str::FromStr;

/// An AEAD with a 96-bit nonce and a 128-bit tag (RFC 5116 style, as TLS uses them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AeadAlg {
    /// AES-128 in Galois/Counter Mode (NIST SP 800-38D).
    Aes128Gcm,
    /// AES-256 in Galois/Counter Mode (NIST SP 800-38D).
    Aes256Gcm,
    /// ChaCha20 with Poly1305 (RFC 8439).
    ChaCha20Poly1305,
    /// SM4 (GB/T 32907) in Galois/Counter Mode, as TLS_SM4_GCM_SM3 uses it (RFC 8998).
    Sm4Gcm,
    /// SM4 in CCM mode with a 16-byte tag, as TLS_SM4_CCM_SM3 uses it (RFC 8998).
    Sm4Ccm,
}

impl AeadAlg {
    /// All AEADs, in display order.
    pub const ALL: &'static [Self] = &[
        Self::Aes128Gcm,
        Self::Aes256Gcm,
        Self::ChaCha20Poly1305,
        Self::Sm4Gcm,
        Self::Sm4Ccm,
    ];

    /// The longest plaintext one nonce may protect, in bytes: GCM with a 96-bit nonce 2^36 - 32
    /// (NIST SP 800-38D section 5.2.1.1); ChaCha20-Poly1305 2^38 - 64 (RFC 8439 section 2.8:
    /// a 32-bit block counter from 1); CCM with a 12-byte nonce leaves a 3-byte length field,
    /// 2^24 - 1 (NIST SP 800-38C A.1).
    pub const fn max_plaintext_len(self) -> u64 {
        match self {
            Self::Aes128Gcm | Self::Aes256Gcm | Self::Sm4Gcm => (1 << 36) - 32,
            Self::ChaCha20Poly1305 => (1 << 38) - 64,
            Self::Sm4Ccm => (1 << 24) - 1,
        }
    }

    /// Key length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm | Self::Sm4Gcm | Self::Sm4Ccm => 16,
            Self::Aes256Gcm | Self::ChaCha20Poly1305 => 32,
        }
    }

    /// Stable lower-case id.
    pub const fn id(self) -> &'static str {
        match self {
            Self::Aes128Gcm => "aes-128-gcm",
            Self::Aes256Gcm => "aes-256-gcm",
            Self::ChaCha20Poly1305 => "chacha20-poly1305",
            Self::Sm4Gcm => "sm4-gcm",
            Self::Sm4Ccm => "sm4-ccm",
        }
    }
}

/// A hash function; also names the HMAC and HKDF built on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum HashAlg {
    /// SHA-256 (FIPS 180-4).
    Sha256,
    /// SHA-384 (FIPS 180-4).
    Sha384,
    /// SHA-512 (FIPS 180-4).
    Sha512,
    /// SM3 (GB/T 32905).
    Sm3,
}

impl HashAlg {
    /// All hashes, in display order.
    pub const ALL: &'static [Self] = &[Self::Sha256, Self::Sha384, Self::Sha512, Self::Sm3];

    /// Digest length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha256 | Self::Sm3 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// Stable lower-case id.
    pub const fn id(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
            Self::Sm3 => "sm3",
        }
    }
}

/// A signature scheme: key type, padding or encoding, and hash together.
///
/// RSA schemes work with any modulus from 2048 to 4096 bits (the key decides). PSS uses MGF1
/// with the same hash and a salt as long as the hash, as TLS 1.3 requires (RFC 8446 4.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SignatureAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaPkcs1Sha512,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt.
    RsaPssSha256,
    /// RSASSA-PSS with SHA-384, MGF1-SHA-384, 48-byte salt.
    RsaPssSha384,
    /// RSASSA-PSS with SHA-512, MGF1-SHA-512, 64-byte salt.
    RsaPssSha512,
    /// ECDSA on P-256 with SHA-256, DER (X9.62 `Ecdsa-Sig-Value`) signatures.
    EcdsaP256Sha256,
    /// ECDSA on P-256 with SHA-256, fixed-size `r || s` (IEEE P1363) signatures.
    EcdsaP256Sha256Fixed,
    /// ECDSA on P-384 with SHA-384, DER signatures.
    EcdsaP384Sha384,
    /// ECDSA on P-384 with SHA-384, fixed-size `r || s` signatures.
    EcdsaP384Sha384Fixed,
    /// ECDSA on P-256 with SHA-384, DER signatures: **verification only**. TLS 1.2 does not bind
    /// the curve to the hash, so OpenSSL and others sign with this under a P-256 key; CAs use
    /// it in certificates too. Nothing here signs with it ([`SignatureAlg::can_sign`]).
    EcdsaP256Sha384,
    /// ECDSA on P-384 with SHA-256, DER signatures: **verification only**, as above.
    EcdsaP384Sha256,
    /// Ed25519 (RFC 8032, pure).
    Ed25519,
    /// SM2 signatures (GB/T 32918.2) with SM3, DER signatures, user ID "1234567812345678"
    /// (the default of GB/T 35276 and RFC 8998). Other IDs: [`Backend::sm2_signing_key`] and
    /// [`Backend::sm2_verify`](crate::Backend::sm2_verify).
    ///
    /// [`Backend::sm2_signing_key`]: crate::Backend::sm2_signing_key
    Sm2Sm3,
}

impl SignatureAlg {
    /// All signature schemes, in display order.
    pub const ALL: &'static [Self] = &[
        Self::RsaPkcs1Sha256,
        Self::RsaPkcs1Sha384,
        Self::RsaPkcs1Sha512,
        Self::RsaPssSha256,
        Self::RsaPssSha384,
        Self::RsaPssSha512,
        Self::EcdsaP256Sha256,
        Self::EcdsaP256Sha256Fixed,
        Self::EcdsaP384Sha384,
        Self::EcdsaP384Sha384Fixed,
        Self::EcdsaP256Sha384,
        Self::EcdsaP384Sha256,
        Self::Ed25519,
        Self::Sm2Sm3,
    ];

    /// Whether keys sign with this scheme. The mixed-curve ECDSA pairs are verification only:
    /// [`Backend::signing_key`](crate::Backend::signing_key) refuses them with a clear error.
    pub const fn can_sign(self) -> bool {
        !matches!(self, Self::EcdsaP256Sha384 | Self::EcdsaP384Sha256)
    }

    /// The kind of key this scheme signs with.
    pub const fn key_kind(self) -> KeyKind {
        match self {
            Self::RsaPkcs1Sha256
            | Self::RsaPkcs1Sha384
            | Self::RsaPkcs1Sha512
            | Self::RsaPssSha256
            | Self::RsaPssSha384
            | Self::RsaPssSha512 => KeyKind::Rsa,
            Self::EcdsaP256Sha256 | Self::EcdsaP256Sha256Fixed | Self::EcdsaP256Sha384 => {
                KeyKind::EcP256
            }
            Self::EcdsaP384Sha384 | Self::EcdsaP384Sha384Fixed | Self::EcdsaP384Sha256 => {
                KeyKind::EcP384
            }
            Self::Ed25519 => KeyKind::Ed25519,
            Self::Sm2Sm3 => KeyKind::Sm2,
        }
    }

    /// The hash applied to the message (Ed25519 hashes internally with SHA-512).
    pub const fn hash(self) -> HashAlg {
        match self {
            Self::RsaPkcs1Sha256 | Self::RsaPssSha256 => HashAlg::Sha256,
            Self::EcdsaP256Sha256 | Self::EcdsaP256Sha256Fixed | Self::EcdsaP384Sha256 => {
                HashAlg::Sha256
            }
            Self::RsaPkcs1Sha384 | Self::RsaPssSha384 => HashAlg::Sha384,
            Self::EcdsaP384Sha384 | Self::EcdsaP384Sha384Fixed | Self::EcdsaP256Sha384 => {
                HashAlg::Sha384
            }
            Self::RsaPkcs1Sha512 | Self::RsaPssSha512 | Self::Ed25519 => HashAlg::Sha512,
            Self::Sm2Sm3 => HashAlg::Sm3,
        }
    }

    /// Stable lower-case id.
    pub const fn id(self) -> &'static str {
        match self {
            Self::RsaPkcs1Sha256 => "rsa-pkcs1-sha256",
            Self::RsaPkcs1Sha384 => "rsa-pkcs1-sha384",
            Self::RsaPkcs1Sha512 => "rsa-pkcs1-sha512",
            Self::RsaPssSha256 => "rsa-pss-sha256",
            Self::RsaPssSha384 => "rsa-pss-sha384",
            Self::RsaPssSha512 => "rsa-pss-sha512",
            Self::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Self::EcdsaP256Sha256Fixed => "ecdsa-p256-sha256-fixed",
            Self::EcdsaP384Sha384 => "ecdsa-p384-sha384",
            Self::EcdsaP384Sha384Fixed => "ecdsa-p384-sha384-fixed",
            Self::EcdsaP256Sha384 => "ecdsa-p256-sha384",
            Self::EcdsaP384Sha256 => "ecdsa-p384-sha256",
            Self::Ed25519 => "ed25519",
            Self::Sm2Sm3 => "sm2-sm3",
        }
    }
}

/// A key-encapsulation mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KemAlg {
    /// ML-KEM-768 (FIPS 203).
    MlKem768,
}

impl KemAlg {
    /// Every KEM.
    pub const ALL: &'static [Self] = &[Self::MlKem768];

    /// Length of an encapsulation (public) key (FIPS 203 section 8, table 3).
    pub const fn encapsulation_key_len(self) -> usize {
        match self {
            Self::MlKem768 => 1184,
        }
    }

    /// Length of a decapsulation (private) key in its standard encoding.
    pub const fn decapsulation_key_len(self) -> usize {
        match self {
            Self::MlKem768 => 2400,
        }
    }

    /// Length of a ciphertext.
    pub const fn ciphertext_len(self) -> usize {
        match self {
            Self::MlKem768 => 1088,
        }
    }

    /// Length of the shared secret.
    pub const fn shared_secret_len(self) -> usize {
        32
    }

    /// Stable lower-case id.
    pub const fn id(self) -> &'static str {
        match self {
            Self::MlKem768 => "ml-kem-768",
        }
    }
}

/// A key-agreement group.
///
/// Public keys are X25519's 32 bytes or the SEC1 uncompressed point; the shared secret is
/// X25519's output or the x-coordinate (SEC1 / RFC 8446 7.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KxAlg {
    /// X25519 (RFC 7748).
    X25519,
    /// ECDH on NIST P-256 (secp256r1).
    P256,
    /// ECDH on NIST P-384 (secp384r1).
    P384,
    /// ECDH on curveSM2 (GB/T 32918.5), as RFC 8998 uses it: uncompressed points as key
    /// shares, the x-coordinate as the shared secret.
    CurveSm2,
}

impl KxAlg {
    /// All groups, in display order.
    pub const ALL: &'static [Self] = &[Self::X25519, Self::P256, Self::P384, Self::CurveSm2];

    /// Length of an encoded public key.
    pub const fn public_key_len(self) -> usize {
        match self {
            Self::X25519 => 32,
            Self::P256 | Self::CurveSm2 => 65,
            Self::P384 => 97,
        }
    }

    /// Length of a private scalar.
    pub const fn private_key_len(self) -> usize {
        match self {
            Self::X25519 | Self::P256 | Self::CurveSm2 => 32,
            Self::P384 => 48,
        }
    }

    /// Stable lower-case id.
    pub const fn id(self) -> &'static str {
        match self {
            Self::X25519 => "x25519",
            Self::P256 => "ecdh-p256",
            Self::P384 => "ecdh-p384",
            Self::CurveSm2 => "ecdh-sm2",
        }
    }
}

/// The kind of a private key, as found when it is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// An RSA key (any modulus size the loader accepts: 2048 to 8192 bits).
    Rsa,
    /// An EC key on P-256.
    EcP256,
    /// An EC key on P-384.
    EcP384,
    /// An Ed25519 key.
    Ed25519,
    /// An SM2 key (curveSM2, OID 1.2.156.10197.1.301).
    Sm2,
}

/// An unauthenticated block-cipher mode, for protocols that bring their own integrity
/// (TLCP's CBC suites, storage formats). Prefer an [`AeadAlg`] everywhere else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CipherAlg {
    /// SM4 on whole 16-byte blocks, each on its own (ECB).
    Sm4Ecb,
    /// SM4 in CBC mode on whole blocks; PKCS#7 padding is offered on top.
    Sm4Cbc,
    /// SM4 in CTR mode: a 16-byte initial counter block, incremented as one 128-bit
    /// big-endian integer (NIST SP 800-38A B.1, as OpenSSL does).
    Sm4Ctr,
}

impl CipherAlg {
    /// All cipher modes, in display order.
    pub const ALL: &'static [Self] = &[Self::Sm4Ecb, Self::Sm4Cbc, Self::Sm4Ctr];

    /// Key length in bytes.
    pub const fn key_len(self) -> usize {
        16
    }

    /// IV length in bytes (0 for ECB).
    pub const fn iv_len(self) -> usize {
        match self {
            Self::Sm4Ecb => 0,
            Self::Sm4Cbc | Self::Sm4Ctr => 16,
        }
    }

    /// Whether inputs must be whole 16-byte blocks.
    pub const fn needs_whole_blocks(self) -> bool {
        matches!(self, Self::Sm4Ecb | Self::Sm4Cbc)
    }

    /// Stable lower-case id.
    pub const fn id(self) -> &'static str {
        match self {
            Self::Sm4Ecb => "sm4-ecb",
            Self::Sm4Cbc => "sm4-cbc",
            Self::Sm4Ctr => "sm4-ctr",
        }
    }
}

/// Any algorithm a backend may or may not implement: the unit of the support matrix and of
/// [`Error::Unsupported`](crate::Error::Unsupported).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// Seal and open with an AEAD.
    Aead(AeadAlg),
    /// A hash function.
    Hash(HashAlg),
    /// HMAC over a hash.
    Hmac(HashAlg),
    /// HKDF (RFC 5869) over a hash.
    Hkdf(HashAlg),
    /// Sign and verify with a signature scheme.
    Signature(SignatureAlg),
    /// Ephemeral key agreement: generate a key pair, then agree with a peer's public key.
    Kx(KxAlg),
    /// Key agreement with a caller-supplied private key (known-answer tests, static keys).
    KxStatic(KxAlg),
    /// A key-encapsulation mechanism (post-quantum key exchange).
    Kem(KemAlg),
    /// An unauthenticated block-cipher mode.
    Cipher(CipherAlg),
    /// SM2 public-key encryption and decryption (GB/T 32918.4).
    Sm2Encryption,
    /// The SM2 key exchange protocol (GB/T 32918.3), as TLCP's ECDHE suites use it.
    Sm2KeyExchange,
    /// A cryptographically secure random number generator.
    Random,
}

impl Algorithm {
    /// Every algorithm in display order (the rows of the support matrix).
    pub fn all() -> Vec<Self> {
        let mut all = Vec::new();
        all.extend(AeadAlg::ALL.iter().map(|&a| Self::Aead(a)));
        all.extend(HashAlg::ALL.iter().map(|&h| Self::Hash(h)));
        all.extend(HashAlg::ALL.iter().map(|&h| Self::Hmac(h)));
        all.extend(HashAlg::ALL.iter().map(|&h| Self::Hkdf(h)));
        all.extend(SignatureAlg::ALL.iter().map(|&s| Self::Signature(s)));
        all.extend(KxAlg::ALL.iter().map(|&k| Self::Kx(k)));
        all.extend(KxAlg::ALL.iter().map(|&k| Self::KxStatic(k)));
        all.extend(KemAlg::ALL.iter().map(|&k| Self::Kem(k)));
        all.extend(CipherAlg::ALL.iter().map(|&c| Self::Cipher(c)));
        all.push(Self::Sm2Encryption);
        all.push(Self::Sm2KeyExchange);
        all.push(Self::Random);
        all
    }

    /// Whether this is one of the Chinese national (GM/T, "ShangMi") algorithms: SM2, SM3, SM4.
    pub const fn is_gm(self) -> bool {
        match self {
            Self::Aead(a) => matches!(a, AeadAlg::Sm4Gcm | AeadAlg::Sm4Ccm),
            Self::Hash(h) | Self::Hmac(h) | Self::Hkdf(h) => matches!(h, HashAlg::Sm3),
            Self::Signature(s) => matches!(s, SignatureAlg::Sm2Sm3),
            Self::Kx(k) | Self::KxStatic(k) => matches!(k, KxAlg::CurveSm2),
            Self::Cipher(_) | Self::Sm2Encryption | Self::Sm2KeyExchange => true,
            Self::Random | Self::Kem(_) => false,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Aead(a) => f.write_str(a.id()),
            Self::Hash(h) => f.write_str(h.id()),
            Self::Hmac(h) => write!(f, "hmac-{}", h.id()),
            Self::Hkdf(h) => write!(f, "hkdf-{}", h.id()),
            Self::Signature(s) => f.write_str(s.id()),
            Self::Kx(k) => f.write_str(k.id()),
            Self::KxStatic(k) => write!(f, "{}-static", k.id()),
            Self::Kem(k) => f.write_str(k.id()),
            Self::Cipher(c) => f.write_str(c.id()),
            Self::Sm2Encryption => f.write_str("sm2-encrypt"),
            Self::Sm2KeyExchange => f.write_str("sm2-key-exchange"),
            Self::Random => f.write_str("random"),
        }
    }
}

/// A crypto implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Backend {
    /// ring 0.17 (BoringSSL-derived assembly).
    Ring,
    /// aws-lc-rs (AWS-LC through FFI).
    AwsLc,
    /// Pure-Rust RustCrypto crates.
    RustCrypto,
    /// This project's own kernels (the `asm` crate): SM2, SM3 (with HMAC and HKDF), SM4 modes and
    /// GHASH.
    Asm,
    /// The `libsm` crate (pure Rust, GM algorithms only: SM2, SM3, SM4). Variable-time
    /// big-integer and table code: a cross-check and comparison backend, not for secrets in
    /// production.
    Libsm,
    /// The system OpenSSL 3 through `openssl-sys` (cargo feature `openssl`).
    OpenSsl,
}

impl Backend {
    /// Every backend this crate knows, built into this binary or not.
    pub const ALL: &'static [Self] = &[
        Self::Ring,
        Self::AwsLc,
        Self::RustCrypto,
        Self::Asm,
        Self::Libsm,
        Self::OpenSsl,
    ];

    /// Whether this backend is compiled into this binary (its cargo feature is on).
    pub const fn is_built(self) -> bool {
        match self {
            Self::Ring => cfg!(feature = "ring"),
            Self::AwsLc => cfg!(feature = "aws-lc"),
            Self::RustCrypto => cfg!(feature = "rustcrypto"),
            Self::Asm => cfg!(feature = "asm"),
            Self::Libsm => cfg!(feature = "libsm"),
            Self::OpenSsl => cfg!(feature = "openssl"),
        }
    }

    /// The backends compiled into this binary.
    pub fn built() -> impl Iterator<Item = Self> {
        Self::ALL.iter().copied().filter(|b| b.is_built())
    }

    /// The stable lower-case name used in configuration and tables.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ring => "ring",
            Self::AwsLc => "aws-lc",
            Self::RustCrypto => "rustcrypto",
            Self::Asm => "asm",
            Self::Libsm => "libsm",
            Self::OpenSsl => "openssl",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = UnknownBackend;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|b| b.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownBackend(s.to_owned()))
    }
}

/// A backend name that no backend has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownBackend(pub String);

impl fmt::Display for UnknownBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown backend `{}` (known: ", self.0)?;
        for (i, b) in Backend::ALL.iter().enumerate() {
            write!(f, "{}{}", if i > 0 { ", " } else { "" }, b.name())?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for UnknownBackend {}
