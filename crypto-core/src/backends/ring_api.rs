//! ring and aws-lc-rs share an API (aws-lc-rs mirrors ring's). What the two backends do alike
//! is written once here, as macros that each backend's files instantiate over their own
//! library; each backend's `mod.rs` then fills its [`Provider`](super::provider::Provider)
//! table with the functions they make. Inside a macro `lib` is the invoking module's alias for
//! its library (`use ::ring as lib;`), and the few calls whose signatures differ between the
//! libraries are functions the invoking module supplies: the detached open (aead's argument),
//! `ecdsa_from_pkcs8` and `rsa_modulus_len` (sign), `agree_ephemeral` and `agree_static` (kx).

/// AES-GCM and ChaCha20-Poly1305 (`lib::aead`): `key(alg, key)` and the key type.
macro_rules! aead {
    ($open:expr) => {
        use $crate::backends::provider::{CheckedAeadKey, RawAead, RawTag};
        use $crate::{AeadAlg, Error, NONCE_LEN};

        /// A key for `alg` (no SM4 in this library).
        pub(super) fn key(alg: AeadAlg, key: &[u8]) -> Result<CheckedAeadKey, Error> {
            let algorithm = match alg {
                AeadAlg::Aes128Gcm => &lib::aead::AES_128_GCM,
                AeadAlg::Aes256Gcm => &lib::aead::AES_256_GCM,
                AeadAlg::ChaCha20Poly1305 => &lib::aead::CHACHA20_POLY1305,
                _ => return Err(Error::Backend("no SM4 in this library")),
            };
            let unbound = lib::aead::UnboundKey::new(algorithm, key)
                .map_err(|_| Error::InvalidKey("AEAD key rejected"))?;
            Ok(CheckedAeadKey::new(
                alg,
                Aead {
                    alg,
                    key: lib::aead::LessSafeKey::new(unbound),
                },
            ))
        }

        struct Aead {
            alg: AeadAlg,
            key: lib::aead::LessSafeKey,
        }

        $crate::backends::provider::debug_fields!(Aead, alg);

        /// The library's detached open, whose signature differs between ring and aws-lc-rs.
        type OpenFn = fn(
            &lib::aead::LessSafeKey,
            lib::aead::Nonce,
            lib::aead::Aad<&[u8]>,
            &RawTag,
            &mut [u8],
        ) -> bool;
        const OPEN: OpenFn = $open;

        impl RawAead for Aead {
            fn seal(
                &self,
                nonce: &[u8; NONCE_LEN],
                aad: &[u8],
                data: &mut [u8],
            ) -> Result<RawTag, Error> {
                let nonce = lib::aead::Nonce::assume_unique_for_key(*nonce);
                let tag = self
                    .key
                    .seal_in_place_separate_tag(nonce, lib::aead::Aad::from(aad), data)
                    .map_err(|_| Error::InvalidLength)?;
                tag.as_ref().try_into().map_err(|_| Error::InvalidLength)
            }

            fn open(
                &self,
                nonce: &[u8; NONCE_LEN],
                aad: &[u8],
                data: &mut [u8],
                tag: &RawTag,
            ) -> bool {
                let nonce = lib::aead::Nonce::assume_unique_for_key(*nonce);
                OPEN(&self.key, nonce, lib::aead::Aad::from(aad), tag, data)
            }
        }
    };
}
pub(crate) use aead;

/// SHA-256/384/512 as hash, HMAC and HKDF (`lib::digest`, `lib::hmac`, `lib::hkdf`):
/// `hashing(alg)` and the types.
macro_rules! hash {
    () => {
        /// The hash `alg`, which is also its HMAC and HKDF (no SM3 in this library).
        pub(super) fn hashing(
            alg: HashAlg,
        ) -> Option<&'static dyn $crate::backends::provider::HashFamily> {
            Some(match alg {
                HashAlg::Sha256 => &SHA256,
                HashAlg::Sha384 => &SHA384,
                HashAlg::Sha512 => &SHA512,
                _ => return None,
            })
        }

        /// One hash algorithm as hash, HMAC and HKDF.
        struct Sha {
            alg: HashAlg,
            digest: &'static lib::digest::Algorithm,
            hmac: lib::hmac::Algorithm,
            hkdf: lib::hkdf::Algorithm,
        }

        $crate::backends::provider::debug_fields!(Sha, alg);

        static SHA256: Sha = Sha {
            alg: HashAlg::Sha256,
            digest: &lib::digest::SHA256,
            hmac: lib::hmac::HMAC_SHA256,
            hkdf: lib::hkdf::HKDF_SHA256,
        };
        static SHA384: Sha = Sha {
            alg: HashAlg::Sha384,
            digest: &lib::digest::SHA384,
            hmac: lib::hmac::HMAC_SHA384,
            hkdf: lib::hkdf::HKDF_SHA384,
        };
        static SHA512: Sha = Sha {
            alg: HashAlg::Sha512,
            digest: &lib::digest::SHA512,
            hmac: lib::hmac::HMAC_SHA512,
            hkdf: lib::hkdf::HKDF_SHA512,
        };

        impl Hash for Sha {
            fn algorithm(&self) -> HashAlg {
                self.alg
            }

            fn start(&self) -> Box<dyn HashContext> {
                Box::new(DigestContext(lib::digest::Context::new(self.digest)))
            }

            fn hash(&self, data: &[u8]) -> Output {
                Output::new(lib::digest::digest(self.digest, data).as_ref())
            }
        }

        #[derive(Clone)]
        struct DigestContext(lib::digest::Context);

        impl HashContext for DigestContext {
            fn update(&mut self, data: &[u8]) {
                self.0.update(data);
            }

            fn fork_finish(&self) -> Output {
                Output::new(self.0.clone().finish().as_ref())
            }

            fn fork(&self) -> Box<dyn HashContext> {
                Box::new(self.clone())
            }

            fn finish(self: Box<Self>) -> Output {
                Output::new(self.0.finish().as_ref())
            }
        }

        impl Hmac for Sha {
            fn algorithm(&self) -> HashAlg {
                self.alg
            }

            fn with_key(&self, key: &[u8]) -> Box<dyn HmacKey> {
                Box::new(HmacKeyImpl(lib::hmac::Key::new(self.hmac, key)))
            }
        }

        struct HmacKeyImpl(lib::hmac::Key);

        impl HmacKey for HmacKeyImpl {
            fn sign(&self, data: &[&[u8]]) -> Output {
                let mut ctx = lib::hmac::Context::with_key(&self.0);
                for d in data {
                    ctx.update(d);
                }
                Output::new(ctx.sign().as_ref())
            }
        }

        impl Hkdf for Sha {
            fn algorithm(&self) -> HashAlg {
                self.alg
            }

            fn extract(&self, salt: &[u8], ikm: &[u8]) -> Box<dyn HkdfPrk> {
                let prk = lib::hkdf::Salt::new(self.hkdf, salt).extract(ikm);
                Box::new(Prk {
                    prk,
                    max: crate::backends::provider::hkdf_max_output(self.alg),
                })
            }
        }

        struct Prk {
            prk: lib::hkdf::Prk,
            max: usize,
        }

        /// The output length, as the `KeyType` ring's HKDF asks for.
        struct Len(usize);

        impl lib::hkdf::KeyType for Len {
            fn len(&self) -> usize {
                self.0
            }
        }

        impl HkdfPrk for Prk {
            fn expand(&self, info: &[&[u8]], out: &mut [u8]) -> Result<(), Error> {
                if out.len() > self.max {
                    return Err(Error::InvalidLength);
                }
                let okm = self
                    .prk
                    .expand(info, Len(out.len()))
                    .map_err(|_| Error::InvalidLength)?;
                okm.fill(out).map_err(|_| Error::InvalidLength)
            }
        }
    };
}
pub(crate) use hash;

/// RSA, ECDSA and Ed25519 signing and verification (`lib::signature`): `signing_key(alg, key)`,
/// `verifier(alg)`, `public_key(kind, secret)` for Ed25519, and the types.
macro_rules! sign {
    () => {
        /// A signing key for `alg` from `key`.
        pub(super) fn signing_key(
            alg: SignatureAlg,
            key: &PrivateKey,
        ) -> Result<Box<dyn SigningKey>, Error> {
            let rejected = |_| Error::InvalidKey("private key rejected by backend");
            let inner = match (alg, key.material()) {
                (_, Material::Rsa { pkcs8, .. }) => {
                    Key::Rsa(lib::signature::RsaKeyPair::from_pkcs8(pkcs8).map_err(rejected)?)
                }
                (_, Material::Ec { pkcs8, .. }) => {
                    Key::Ecdsa(ecdsa_from_pkcs8(sign_alg_ecdsa(alg)?, pkcs8)?)
                }
                (_, Material::Ed25519 { seed, .. }) => Key::Ed25519(
                    lib::signature::Ed25519KeyPair::from_seed_unchecked(seed.as_slice())
                        .map_err(rejected)?,
                ),
            };
            Ok(Box::new(Signer {
                alg,
                inner,
                public: key.public_key().to_vec(),
            }))
        }

        /// Verification for `alg`.
        pub(super) fn verifier(alg: SignatureAlg) -> Option<&'static dyn crate::Verifier> {
            VERIFIERS
                .iter()
                .find(|v| v.alg == alg)
                .map(|v| v as &'static dyn crate::Verifier)
        }

        /// Signing keys and verifiers, for the provider table.
        pub(super) static SIGNATURES: $crate::backends::provider::Signatures =
            $crate::backends::provider::Signatures::new(signing_key, verifier);

        /// The Ed25519 public key of a seed (this library derives no EC public keys).
        pub(super) fn ed25519_public(secret: &[u8]) -> Option<Result<Vec<u8>, Error>> {
            use lib::signature::KeyPair as _;
            Some(
                lib::signature::Ed25519KeyPair::from_seed_unchecked(secret)
                    .map(|k| k.public_key().as_ref().to_vec())
                    .map_err(|_| Error::InvalidKey("Ed25519 seed rejected")),
            )
        }

        fn sign_alg_ecdsa(
            alg: SignatureAlg,
        ) -> Result<&'static lib::signature::EcdsaSigningAlgorithm, Error> {
            use lib::signature as s;
            Ok(match alg {
                SignatureAlg::EcdsaP256Sha256 => &s::ECDSA_P256_SHA256_ASN1_SIGNING,
                SignatureAlg::EcdsaP256Sha256Fixed => &s::ECDSA_P256_SHA256_FIXED_SIGNING,
                SignatureAlg::EcdsaP384Sha384 => &s::ECDSA_P384_SHA384_ASN1_SIGNING,
                SignatureAlg::EcdsaP384Sha384Fixed => &s::ECDSA_P384_SHA384_FIXED_SIGNING,
                _ => {
                    return Err(Error::InvalidKey(
                        "key kind does not match the signature scheme",
                    ));
                }
            })
        }

        enum Key {
            Rsa(lib::signature::RsaKeyPair),
            Ecdsa(lib::signature::EcdsaKeyPair),
            Ed25519(lib::signature::Ed25519KeyPair),
        }

        struct Signer {
            alg: SignatureAlg,
            inner: Key,
            public: Vec<u8>,
        }

        $crate::backends::provider::debug_fields!(Signer, alg);

        impl SigningKey for Signer {
            fn algorithm(&self) -> SignatureAlg {
                self.alg
            }

            fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
                use lib::signature as s;
                let rng = lib::rand::SystemRandom::new();
                match &self.inner {
                    Key::Rsa(key) => {
                        let padding: &'static dyn s::RsaEncoding = match self.alg {
                            SignatureAlg::RsaPkcs1Sha256 => &s::RSA_PKCS1_SHA256,
                            SignatureAlg::RsaPkcs1Sha384 => &s::RSA_PKCS1_SHA384,
                            SignatureAlg::RsaPkcs1Sha512 => &s::RSA_PKCS1_SHA512,
                            SignatureAlg::RsaPssSha256 => &s::RSA_PSS_SHA256,
                            SignatureAlg::RsaPssSha384 => &s::RSA_PSS_SHA384,
                            SignatureAlg::RsaPssSha512 => &s::RSA_PSS_SHA512,
                            _ => {
                                return Err(Error::InvalidKey(
                                    "key kind does not match the signature scheme",
                                ));
                            }
                        };
                        let mut sig = vec![0u8; rsa_modulus_len(key)];
                        key.sign(padding, &rng, message, &mut sig)
                            .map_err(|_| Error::Backend("RSA signing failed"))?;
                        Ok(sig)
                    }
                    Key::Ecdsa(key) => Ok(key
                        .sign(&rng, message)
                        .map_err(|_| Error::Backend("ECDSA signing failed"))?
                        .as_ref()
                        .to_vec()),
                    Key::Ed25519(key) => Ok(key.sign(message).as_ref().to_vec()),
                }
            }

            fn public_key(&self) -> &[u8] {
                &self.public
            }
        }

        struct Verifier {
            alg: SignatureAlg,
            inner: &'static dyn lib::signature::VerificationAlgorithm,
        }

        $crate::backends::provider::debug_fields!(Verifier, alg);

        static VERIFIERS: [Verifier; 13] = {
            use lib::signature as s;
            [
                Verifier {
                    alg: SignatureAlg::RsaPkcs1Sha256,
                    inner: &s::RSA_PKCS1_2048_8192_SHA256,
                },
                Verifier {
                    alg: SignatureAlg::RsaPkcs1Sha384,
                    inner: &s::RSA_PKCS1_2048_8192_SHA384,
                },
                Verifier {
                    alg: SignatureAlg::RsaPkcs1Sha512,
                    inner: &s::RSA_PKCS1_2048_8192_SHA512,
                },
                Verifier {
                    alg: SignatureAlg::RsaPssSha256,
                    inner: &s::RSA_PSS_2048_8192_SHA256,
                },
                Verifier {
                    alg: SignatureAlg::RsaPssSha384,
                    inner: &s::RSA_PSS_2048_8192_SHA384,
                },
                Verifier {
                    alg: SignatureAlg::RsaPssSha512,
                    inner: &s::RSA_PSS_2048_8192_SHA512,
                },
                Verifier {
                    alg: SignatureAlg::EcdsaP256Sha256,
                    inner: &s::ECDSA_P256_SHA256_ASN1,
                },
                Verifier {
                    alg: SignatureAlg::EcdsaP256Sha256Fixed,
                    inner: &s::ECDSA_P256_SHA256_FIXED,
                },
                Verifier {
                    alg: SignatureAlg::EcdsaP384Sha384,
                    inner: &s::ECDSA_P384_SHA384_ASN1,
                },
                Verifier {
                    alg: SignatureAlg::EcdsaP384Sha384Fixed,
                    inner: &s::ECDSA_P384_SHA384_FIXED,
                },
                Verifier {
                    alg: SignatureAlg::EcdsaP256Sha384,
                    inner: &s::ECDSA_P256_SHA384_ASN1,
                },
                Verifier {
                    alg: SignatureAlg::EcdsaP384Sha256,
                    inner: &s::ECDSA_P384_SHA256_ASN1,
                },
                Verifier {
                    alg: SignatureAlg::Ed25519,
                    inner: &s::ED25519,
                },
            ]
        };

        impl crate::Verifier for Verifier {
            fn algorithm(&self) -> SignatureAlg {
                self.alg
            }

            fn verify(
                &self,
                public_key: &[u8],
                message: &[u8],
                signature: &[u8],
            ) -> Result<(), Error> {
                lib::signature::UnparsedPublicKey::new(self.inner, public_key)
                    .verify(message, signature)
                    .map_err(|_| Error::BadSignature)
            }
        }
    };
}
pub(crate) use sign;

/// X25519 and ECDH on P-256 and P-384 (`lib::agreement`): `kx(alg)` and the types.
macro_rules! kx {
    () => {
        /// Key agreement in `alg` (no curveSM2 in this library).
        pub(super) fn kx(alg: KxAlg) -> Option<&'static dyn KeyExchange> {
            Some(match alg {
                KxAlg::X25519 => &KX_X25519,
                KxAlg::P256 => &KX_P256,
                KxAlg::P384 => &KX_P384,
                _ => return None,
            })
        }

        struct Kx {
            alg: KxAlg,
            agreement: &'static lib::agreement::Algorithm,
        }

        $crate::backends::provider::debug_fields!(Kx, alg);

        static KX_X25519: Kx = Kx {
            alg: KxAlg::X25519,
            agreement: &lib::agreement::X25519,
        };
        static KX_P256: Kx = Kx {
            alg: KxAlg::P256,
            agreement: &lib::agreement::ECDH_P256,
        };
        static KX_P384: Kx = Kx {
            alg: KxAlg::P384,
            agreement: &lib::agreement::ECDH_P384,
        };

        impl KeyExchange for Kx {
            fn algorithm(&self) -> KxAlg {
                self.alg
            }

            fn generate(&self) -> Result<Box<dyn EphemeralKey>, Error> {
                let rng = lib::rand::SystemRandom::new();
                let private = lib::agreement::EphemeralPrivateKey::generate(self.agreement, &rng)
                    .map_err(|_| Error::RandomFailed)?;
                let public = private
                    .compute_public_key()
                    .map_err(|_| Error::Backend("public key computation failed"))?
                    .as_ref()
                    .to_vec();
                Ok(Box::new(Ephemeral {
                    private,
                    public,
                    alg: self.agreement,
                }))
            }

            fn agree_static(
                &self,
                private_key: &[u8],
                peer_public_key: &[u8],
            ) -> Result<SharedSecret, Error> {
                // Backend::kx checked the scalar's length and the point form.
                agree_static(self.agreement, private_key, peer_public_key)
            }
        }

        struct Ephemeral {
            private: lib::agreement::EphemeralPrivateKey,
            public: Vec<u8>,
            alg: &'static lib::agreement::Algorithm,
        }

        impl EphemeralKey for Ephemeral {
            fn public_key(&self) -> &[u8] {
                &self.public
            }

            fn agree(self: Box<Self>, peer_public_key: &[u8]) -> Result<SharedSecret, Error> {
                let this = *self;
                agree_ephemeral(
                    this.private,
                    lib::agreement::UnparsedPublicKey::new(this.alg, peer_public_key),
                )
            }
        }

        /// The operating system's random numbers, through the library.
        #[derive(Debug)]
        pub(super) struct Random;
        /// The one generator.
        pub(super) static RANDOM: Random = Random;

        impl SecureRandom for Random {
            fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
                use lib::rand::SecureRandom as _;
                lib::rand::SystemRandom::new()
                    .fill(dest)
                    .map_err(|_| Error::RandomFailed)
            }
        }
    };
}
pub(crate) use kx;
