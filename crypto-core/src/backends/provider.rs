//! What a backend is: data. A [`Provider`] is the backend's support table and the functions
//! that make its primitives, `None` where it has none of a kind; the
//! [`Backend`](crate::Backend) value dispatches through it. Also small helpers the backends
//! share.

use zeroize::Zeroizing;

#[allow(unused_imports)] // libsm alone has no AEAD
pub(crate) use super::checked_aead::{CheckedAeadKey, RawAead, RawTag};

use crate::{
    AeadAlg, Algorithm, Backend, CipherAlg, CipherKey, Error, Hash, HashAlg, Hkdf, Hmac,
    KeyExchange, KeyKind, KxAlg, PrivateKey, SecureRandom, SignatureAlg, SigningKey, Verifier,
};

/// Makes an AEAD key.
pub(crate) type AeadFn = fn(AeadAlg, &[u8]) -> Result<CheckedAeadKey, Error>;

/// Makes a block-cipher mode key.
pub(crate) type CipherFn = fn(CipherAlg, &[u8]) -> Result<Box<dyn CipherKey>, Error>;
/// Makes a signing key for a scheme.
pub(crate) type SigningKeyFn = fn(SignatureAlg, &PrivateKey) -> Result<Box<dyn SigningKey>, Error>;
/// Derives a public key (an EC scalar's point, an Ed25519 seed's key); `None`: not this
/// backend's to derive.
pub(crate) type PublicKeyFn = fn(KeyKind, &[u8]) -> Option<Result<Vec<u8>, Error>>;
/// Makes an RSA-2048 key, PKCS#8 DER.
pub(crate) type GenerateRsaFn = fn() -> Result<Zeroizing<Vec<u8>>, Error>;

/// Finds the backend's static object for an algorithm, `None` if it has none.
pub(crate) type Lookup<A, T> = fn(A) -> Option<&'static T>;
/// Makes an SM2 signing key with a user ID.
pub(crate) type Sm2SigningKeyFn = fn(&PrivateKey, &[u8]) -> Result<Box<dyn SigningKey>, Error>;
/// Verifies an SM2 signature: public key, user ID, message, DER signature.
pub(crate) type Sm2VerifyFn = fn(&[u8], &[u8], &[u8], &[u8]) -> Result<(), Error>;
/// SM2 encryption to a public key.
pub(crate) type Sm2EncryptFn = fn(&[u8], &[u8]) -> Result<Vec<u8>, Error>;
/// The SM2 key exchange protocol, filling the output.
pub(crate) type Sm2KeyExchangeFn = fn(&crate::sm2::KeyExchange<'_>, &mut [u8]) -> Result<(), Error>;
/// SM2 decryption of the raw form.
pub(crate) type Sm2DecryptFn = fn(&PrivateKey, &[u8]) -> Result<Zeroizing<Vec<u8>>, Error>;

/// A hash function that is also its HMAC and HKDF (every backend's hash objects are).
pub(crate) trait HashFamily: Hash + Hmac + Hkdf {}
impl<T: Hash + Hmac + Hkdf> HashFamily for T {}

/// Signing keys and verifiers.
pub(crate) struct Signatures {
    pub(crate) signing_key: SigningKeyFn,
    pub(crate) verifier: Lookup<SignatureAlg, dyn Verifier>,
}

impl Signatures {
    pub(crate) const fn new(
        signing_key: SigningKeyFn,
        verifier: Lookup<SignatureAlg, dyn Verifier>,
    ) -> Self {
        Self {
            signing_key,
            verifier,
        }
    }
}

/// The GM parts beyond the TLS primitives: SM4's block modes, SM2 signatures with a
/// caller-chosen ID, SM2 encryption.
pub(crate) struct Gm {
    /// An SM4 key in a block mode.
    pub(crate) cipher: CipherFn,
    /// A signing key with user ID `id` (checked by the caller: at most `sm2::MAX_ID_LEN`).
    pub(crate) signing_key: Sm2SigningKeyFn,
    /// Verifies a DER signature made with `id`.
    pub(crate) verify: Sm2VerifyFn,
    /// Encrypts; returns the raw `C1 || C3 || C2` form.
    pub(crate) encrypt: Sm2EncryptFn,
    /// Decrypts the raw form, already checked for length and C1's first byte.
    pub(crate) decrypt: Sm2DecryptFn,
}

impl Gm {
    #[allow(dead_code)] // unused in builds with no GM backend (ring or aws-lc alone)
    pub(crate) const fn new(
        cipher: CipherFn,
        signing_key: Sm2SigningKeyFn,
        verify: Sm2VerifyFn,
        encrypt: Sm2EncryptFn,
        decrypt: Sm2DecryptFn,
    ) -> Self {
        Self {
            cipher,
            signing_key,
            verify,
            encrypt,
            decrypt,
        }
    }
}

/// Algorithm groups the support tables are made of (a build with some backends left out uses
/// only some of them).
#[allow(dead_code)]
pub(crate) mod groups {
    use crate::{
        AeadAlg as A, Algorithm as Alg, CipherAlg as C, HashAlg as H, KxAlg as K, SignatureAlg as S,
    };

    /// What every general-purpose library here has: [`AES_CHACHA`], [`SHA2`],
    /// [`WEB_SIGNATURES`], [`WEB_KX`].
    pub(crate) const WEB: &[Alg] = &concat::<28>(&[AES_CHACHA, SHA2, WEB_SIGNATURES, WEB_KX]);

    /// Joins groups into one array of exactly `N` algorithms (a compile error otherwise).
    const fn concat<const N: usize>(groups: &[&[Alg]]) -> [Alg; N] {
        let mut out = [Alg::Random; N];
        let (mut g, mut n) = (0, 0);
        while g < groups.len() {
            let mut i = 0;
            while i < groups[g].len() {
                out[n] = groups[g][i];
                (i, n) = (i + 1, n + 1);
            }
            g += 1;
        }
        assert!(n == N, "the groups do not hold N algorithms");
        out
    }

    /// AES-128/256-GCM and ChaCha20-Poly1305.
    pub(crate) const AES_CHACHA: &[Alg] = &[
        Alg::Aead(A::Aes128Gcm),
        Alg::Aead(A::Aes256Gcm),
        Alg::Aead(A::ChaCha20Poly1305),
    ];
    /// SHA-256/384/512 with HMAC and HKDF over each.
    pub(crate) const SHA2: &[Alg] = &{
        let h = [H::Sha256, H::Sha384, H::Sha512];
        let mut out = [Alg::Random; 9];
        let mut i = 0;
        while i < 3 {
            (out[i], out[3 + i], out[6 + i]) = (Alg::Hash(h[i]), Alg::Hmac(h[i]), Alg::Hkdf(h[i]));
            i += 1;
        }
        out
    };
    /// RSA PKCS#1 v1.5 and PSS, ECDSA on P-256/P-384 (DER and fixed forms, and the mixed
    /// curve/hash pairs), Ed25519: the schemes.
    pub(crate) const WEB_SCHEMES: [S; 13] = [
        S::RsaPkcs1Sha256,
        S::RsaPkcs1Sha384,
        S::RsaPkcs1Sha512,
        S::RsaPssSha256,
        S::RsaPssSha384,
        S::RsaPssSha512,
        S::EcdsaP256Sha256,
        S::EcdsaP256Sha256Fixed,
        S::EcdsaP384Sha384,
        S::EcdsaP384Sha384Fixed,
        S::EcdsaP256Sha384,
        S::EcdsaP384Sha256,
        S::Ed25519,
    ];
    /// [`WEB_SCHEMES`] as algorithms.
    pub(crate) const WEB_SIGNATURES: &[Alg] = &{
        let mut out = [Alg::Random; WEB_SCHEMES.len()];
        let mut i = 0;
        while i < out.len() {
            out[i] = Alg::Signature(WEB_SCHEMES[i]);
            i += 1;
        }
        out
    };
    /// Ephemeral X25519, P-256, P-384.
    pub(crate) const WEB_KX: &[Alg] = &[Alg::Kx(K::X25519), Alg::Kx(K::P256), Alg::Kx(K::P384)];
    /// Static-key agreement on the same three.
    pub(crate) const WEB_KX_STATIC: &[Alg] = &[
        Alg::KxStatic(K::X25519),
        Alg::KxStatic(K::P256),
        Alg::KxStatic(K::P384),
    ];
    /// RFC 8998's AEADs, SM4-GCM and SM4-CCM.
    pub(crate) const SM4_AEAD: &[Alg] = &[Alg::Aead(A::Sm4Gcm), Alg::Aead(A::Sm4Ccm)];
    /// The rest of GM: SM3 (with HMAC and HKDF), SM2 signatures, curveSM2 agreement (ephemeral
    /// and static), SM4 in ECB/CBC/CTR, SM2 encryption.
    pub(crate) const GM: &[Alg] = &[
        Alg::Hash(H::Sm3),
        Alg::Hmac(H::Sm3),
        Alg::Hkdf(H::Sm3),
        Alg::Signature(S::Sm2Sm3),
        Alg::Kx(K::CurveSm2),
        Alg::KxStatic(K::CurveSm2),
        Alg::Cipher(C::Sm4Ecb),
        Alg::Cipher(C::Sm4Cbc),
        Alg::Cipher(C::Sm4Ctr),
        Alg::Sm2Encryption,
    ];
    /// The SM2 key exchange protocol (GB/T 32918.3).
    pub(crate) const SM2_KEY_EXCHANGE: &[Alg] = &[Alg::Sm2KeyExchange];
    /// A random-number API.
    pub(crate) const RANDOM: &[Alg] = &[Alg::Random];
}

/// A backend: its one support table and the functions that make its primitives.
/// [`Backend`](crate::Backend) checks the table before each call, so a function is only
/// reached for algorithms the table lists.
pub(crate) struct Provider {
    pub(crate) backend: Backend,
    /// Every algorithm this backend implements, in [`groups`].
    pub(crate) algorithms: &'static [&'static [Algorithm]],
    pub(crate) aead: Option<AeadFn>,
    pub(crate) hashing: Option<Lookup<HashAlg, dyn HashFamily>>,
    pub(crate) signatures: Option<&'static Signatures>,
    pub(crate) kx: Option<Lookup<KxAlg, dyn KeyExchange>>,
    pub(crate) random: Option<&'static dyn SecureRandom>,
    pub(crate) kem: Option<&'static dyn crate::Kem>,
    pub(crate) gm: Option<&'static Gm>,
    pub(crate) sm2_key_exchange: Option<Sm2KeyExchangeFn>,
    /// Key services for key loading and generation (`key_loading.rs`), which no single
    /// library must provide: the first built backend that can, serves.
    pub(crate) public_key: Option<PublicKeyFn>,
    pub(crate) generate_rsa: Option<GenerateRsaFn>,
}

impl Provider {
    /// A backend with nothing but its name and table; each backend's `PROVIDER` fills in
    /// what it has (`..Provider::new(..)`).
    pub(crate) const fn new(backend: Backend, algorithms: &'static [&'static [Algorithm]]) -> Self {
        Self {
            backend,
            algorithms,
            aead: None,
            hashing: None,
            signatures: None,
            kx: None,
            random: None,
            kem: None,
            gm: None,
            sm2_key_exchange: None,
            public_key: None,
            generate_rsa: None,
        }
    }

    /// Whether the support table lists `alg`.
    pub(crate) fn implements(&self, alg: Algorithm) -> bool {
        self.algorithms.iter().any(|group| group.contains(&alg))
    }

    fn unsupported(&self, alg: Algorithm) -> Error {
        Error::Unsupported {
            alg,
            backend: self.backend,
        }
    }

    /// `f`'s result, or `Unsupported` when the backend has no such function or no such object.
    fn get<T, F>(
        &self,
        f: Option<F>,
        alg: Algorithm,
        call: impl FnOnce(F) -> Option<T>,
    ) -> Result<T, Error> {
        f.and_then(call).ok_or_else(|| self.unsupported(alg))
    }

    pub(crate) fn aead(&self, alg: AeadAlg, key: &[u8]) -> Result<CheckedAeadKey, Error> {
        self.get(self.aead, Algorithm::Aead(alg), Some)?(alg, key)
    }

    pub(crate) fn hash(&self, alg: HashAlg) -> Result<&'static dyn Hash, Error> {
        self.get(self.hashing, Algorithm::Hash(alg), |f| Some(f(alg)? as _))
    }

    pub(crate) fn hmac(&self, alg: HashAlg) -> Result<&'static dyn Hmac, Error> {
        self.get(self.hashing, Algorithm::Hmac(alg), |f| Some(f(alg)? as _))
    }

    pub(crate) fn hkdf(&self, alg: HashAlg) -> Result<&'static dyn Hkdf, Error> {
        self.get(self.hashing, Algorithm::Hkdf(alg), |f| Some(f(alg)? as _))
    }

    pub(crate) fn signing_key(
        &self,
        alg: SignatureAlg,
        key: &PrivateKey,
    ) -> Result<Box<dyn SigningKey>, Error> {
        (self
            .get(self.signatures, Algorithm::Signature(alg), Some)?
            .signing_key)(alg, key)
    }

    pub(crate) fn verifier(&self, alg: SignatureAlg) -> Result<&'static dyn Verifier, Error> {
        self.get(self.signatures, Algorithm::Signature(alg), |v| {
            (v.verifier)(alg)
        })
    }

    pub(crate) fn kx(&self, alg: KxAlg) -> Result<&'static dyn KeyExchange, Error> {
        self.get(self.kx, Algorithm::Kx(alg), |f| f(alg))
    }

    pub(crate) fn random(&self) -> Result<&'static dyn SecureRandom, Error> {
        self.get(self.random, Algorithm::Random, Some)
    }

    pub(crate) fn kem(&self, alg: crate::KemAlg) -> Result<&'static dyn crate::Kem, Error> {
        self.get(self.kem, Algorithm::Kem(alg), |k| {
            (k.algorithm() == alg).then_some(k)
        })
    }

    pub(crate) fn cipher(&self, alg: CipherAlg, key: &[u8]) -> Result<Box<dyn CipherKey>, Error> {
        (self.gm(Algorithm::Cipher(alg))?.cipher)(alg, key)
    }

    pub(crate) fn sm2_key_exchange(&self) -> Result<Sm2KeyExchangeFn, Error> {
        self.get(self.sm2_key_exchange, Algorithm::Sm2KeyExchange, Some)
    }

    pub(crate) fn gm(&self, alg: Algorithm) -> Result<&'static Gm, Error> {
        self.get(self.gm, alg, Some)
    }
}

/// `Debug` for a type that holds key material: its name and the fields listed (algorithm
/// identifiers), never the rest.
#[allow(unused_macros)] // the asm backend alone has no use for it
macro_rules! debug_fields {
    ($ty:ident $(<$($g:ident),*>)? $(, $field:tt)*) => {
        impl $(<$($g),*>)? ::core::fmt::Debug for $ty $(<$($g),*>)? {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_tuple(stringify!($ty))$(.field(&self.$field))*.finish()
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use debug_fields;

/// For a backend whose object for an algorithm is the algorithm alone (a verifier per
/// scheme): the tuple struct `$ty($alg)` with a `Debug`, and `static $name: [$ty; N]` holding
/// one for each of the `N` algorithms in `$algs`.
#[allow(unused_macros)] // only the rustcrypto and openssl backends have such objects
macro_rules! one_per_algorithm {
    (struct $ty:ident($alg:ty); static $name:ident = $algs:expr;) => {
        #[derive(Debug)]
        struct $ty($alg);

        static $name: [$ty; $algs.len()] = {
            let mut out = [const { $ty($algs[0]) }; $algs.len()];
            let mut i = 0;
            while i < $algs.len() {
                out[i] = $ty($algs[i]);
                i += 1;
            }
            out
        };
    };
}
#[allow(unused_imports)]
pub(crate) use one_per_algorithm;

/// Largest HKDF-Expand output for a hash: 255 blocks (RFC 5869 2.3).
pub(crate) const fn hkdf_max_output(alg: HashAlg) -> usize {
    255 * alg.output_len()
}

/// An OpenSSL call that failed in a way no input explains.
#[cfg(feature = "openssl")]
pub(crate) fn failed<E>(_: E) -> Error {
    Error::Backend("OpenSSL call failed")
}
