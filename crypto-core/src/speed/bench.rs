//! The measurements themselves: a [`Bench`] names one operation of one algorithm at one size,
//! [`prepare`] builds it on a backend (keys made, buffers allocated, outside the timing) and
//! [`run_for`] times it.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::sm2::CiphertextFormat;
use crate::{
    AeadAlg, Algorithm, Backend, CipherAlg, Error, HashAlg, KeyKind, KxAlg, Nonce, PrivateKey,
    SignatureAlg,
};

/// One operation of an algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// AEAD seal of `size` bytes (no AAD).
    Seal,
    /// AEAD open of `size` bytes.
    Open,
    /// Hash `size` bytes.
    Digest,
    /// HMAC over `size` bytes, key already set up.
    Mac,
    /// HKDF extract + expand of 32 bytes.
    Derive,
    /// Sign a `size`-byte message.
    Sign,
    /// Verify a signature over a `size`-byte message.
    Verify,
    /// Verify `size` signatures (each over 32 bytes, each its own key) in one
    /// [`Verifier::verify_many`](crate::Verifier::verify_many) call; the figure is per
    /// signature.
    VerifyMany,
    /// Ephemeral key generation plus agreement with a peer key.
    Agree,
    /// `size` exchanges (key generation plus agreement, each with its own peer key) in one
    /// [`KeyExchange::exchange_many`](crate::KeyExchange::exchange_many) call; the figure is
    /// per exchange.
    AgreeMany,
    /// Block-cipher mode encryption of `size` bytes (SM4 ECB/CBC/CTR).
    Encrypt,
    /// SM2 public-key encryption of `size` bytes.
    PkEncrypt,
    /// SM2 decryption of a `size`-byte message.
    PkDecrypt,
    /// Fill `size` bytes from the RNG.
    Fill,
}

impl Op {
    /// The suffix in [`Bench::id`].
    pub const fn name(self) -> &'static str {
        match self {
            Self::Seal => "seal",
            Self::Open => "open",
            Self::Digest => "",
            Self::Mac | Self::Derive => "",
            Self::Sign => "sign",
            Self::Verify => "verify",
            Self::VerifyMany => "verify-batch",
            Self::Agree => "",
            Self::AgreeMany => "batch",
            Self::Encrypt => "",
            Self::PkEncrypt => "encrypt",
            Self::PkDecrypt => "decrypt",
            Self::Fill => "",
        }
    }
}

/// One measurement to take: an operation of an algorithm at a size (0 for per-operation
/// figures).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bench {
    /// What is computed.
    pub alg: Algorithm,
    /// Which operation.
    pub op: Op,
    /// Input size in bytes; 0 where the size is fixed by the algorithm.
    pub size: usize,
}

impl Bench {
    /// A new bench.
    pub const fn new(alg: Algorithm, op: Op, size: usize) -> Self {
        Self { alg, op, size }
    }

    /// The lower-case id used by `speed --json` and `--algorithms`: `aes-128-gcm-seal`,
    /// `sm3`, `sm2-sign`, `rsa-2048-sign`, `ecdsa-p256-sign`, `x25519`, `sm2-ecdh`, ...
    pub fn id(&self) -> String {
        let base = match self.alg {
            Algorithm::Signature(s) => signature_base(s).to_owned(),
            Algorithm::Kx(KxAlg::CurveSm2) => "sm2-ecdh".to_owned(),
            Algorithm::Sm2Encryption => "sm2".to_owned(),
            a => a.to_string(),
        };
        match (self.op, self.op.name()) {
            (_, "") => base,
            (Op::VerifyMany | Op::AgreeMany, op) => format!("{base}-{op}{}", self.size),
            (_, op) => format!("{base}-{op}"),
        }
    }

    /// Operations done per call of the prepared runner: `size` for a batch, else 1.
    pub fn items(&self) -> usize {
        match self.op {
            Op::VerifyMany | Op::AgreeMany => self.size.max(1),
            _ => 1,
        }
    }

    /// Bytes processed per operation, for throughput (`None` for per-operation figures).
    pub fn bytes(&self) -> Option<usize> {
        match self.op {
            Op::Seal | Op::Open | Op::Digest | Op::Mac | Op::Encrypt => Some(self.size),
            _ => None,
        }
    }
}

/// `rsa-2048-pss-sha256`, `ecdsa-p256`, `sm2`, ... : the speed-table name of a scheme.
fn signature_base(s: SignatureAlg) -> &'static str {
    match s {
        SignatureAlg::RsaPkcs1Sha256 => "rsa-2048-pkcs1-sha256",
        SignatureAlg::RsaPkcs1Sha384 => "rsa-2048-pkcs1-sha384",
        SignatureAlg::RsaPkcs1Sha512 => "rsa-2048-pkcs1-sha512",
        // The one RSA row most tables show: PSS with SHA-256 (what TLS 1.3 signs with).
        SignatureAlg::RsaPssSha256 => "rsa-2048",
        SignatureAlg::RsaPssSha384 => "rsa-2048-pss-sha384",
        SignatureAlg::RsaPssSha512 => "rsa-2048-pss-sha512",
        SignatureAlg::EcdsaP256Sha256 => "ecdsa-p256",
        SignatureAlg::EcdsaP256Sha256Fixed => "ecdsa-p256-fixed",
        SignatureAlg::EcdsaP384Sha384 => "ecdsa-p384",
        SignatureAlg::EcdsaP384Sha384Fixed => "ecdsa-p384-fixed",
        SignatureAlg::EcdsaP256Sha384 => "ecdsa-p256-sha384",
        SignatureAlg::EcdsaP384Sha256 => "ecdsa-p384-sha256",
        SignatureAlg::Ed25519 => "ed25519",
        SignatureAlg::Sm2Sm3 => "sm2",
    }
}

/// The published test key the RSA benches sign with (tests/data/keys/rsa2048.pkcs8.der).
const BENCH_RSA: &[u8] = include_bytes!("bench-rsa2048.pkcs8.der");

/// One key per kind, made once per process.
fn bench_key(kind: KeyKind) -> Result<&'static PrivateKey, Error> {
    static KEYS: OnceLock<Vec<(KeyKind, PrivateKey)>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        let mut v = Vec::new();
        if let Ok(k) = PrivateKey::from_der(BENCH_RSA) {
            v.push((KeyKind::Rsa, k));
        }
        for kind in [
            KeyKind::EcP256,
            KeyKind::EcP384,
            KeyKind::Ed25519,
            KeyKind::Sm2,
        ] {
            if let Ok(k) = PrivateKey::generate(kind) {
                v.push((kind, k));
            }
        }
        v
    });
    keys.iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, k)| k)
        .ok_or(Error::InvalidKey("no benchmark key of this kind"))
}

/// One prepared operation; each call does it once.
pub type Runner = Box<dyn FnMut() -> Result<(), Error>>;

/// Builds `bench` on `backend`: an error if the backend lacks it.
pub fn prepare(backend: Backend, bench: Bench) -> Result<Runner, Error> {
    let size = bench.size;
    let data: Vec<u8> = (0..size).map(|i| (i * 131 + 7) as u8).collect();
    let bad = || Error::InvalidInput("this operation does not apply to this algorithm");
    Ok(match (bench.alg, bench.op) {
        (Algorithm::Aead(a), Op::Seal) => {
            let key = backend.aead(a, &vec![7u8; a.key_len()])?;
            let mut buf = vec![0u8; size + crate::TAG_LEN];
            Box::new(move || {
                key.seal_in_place(&Nonce([1; 12]), b"", &mut buf, size)
                    .map(drop)
            })
        }
        (Algorithm::Aead(a), Op::Open) => {
            let key = backend.aead(a, &vec![7u8; a.key_len()])?;
            let mut sealed = data.clone();
            sealed.resize(size + crate::TAG_LEN, 0);
            key.seal_in_place(&Nonce([1; 12]), b"", &mut sealed, size)?;
            let mut buf = sealed.clone();
            Box::new(move || {
                buf.copy_from_slice(&sealed);
                key.open_in_place(&Nonce([1; 12]), b"", &mut buf).map(drop)
            })
        }
        (Algorithm::Hash(h), Op::Digest) => {
            let hash = backend.hash(h)?;
            Box::new(move || {
                core::hint::black_box(hash.hash(&data));
                Ok(())
            })
        }
        (Algorithm::Hmac(h), Op::Mac) => {
            let key = backend.hmac(h)?.with_key(&[9u8; 32]);
            Box::new(move || {
                core::hint::black_box(key.sign(&[&data]));
                Ok(())
            })
        }
        (Algorithm::Hkdf(h), Op::Derive) => {
            let hkdf = backend.hkdf(h)?;
            let mut out = [0u8; 32];
            Box::new(move || {
                hkdf.extract(b"salt", &[5u8; 32])
                    .expand(&[b"info"], &mut out)
            })
        }
        (Algorithm::Signature(s), Op::Sign) => {
            let key = bench_key(s.key_kind())?;
            let sk = backend.signing_key(s, key)?;
            Box::new(move || sk.sign(&data).map(drop))
        }
        (Algorithm::Signature(s), Op::Verify) => {
            let key = bench_key(s.key_kind())?;
            let verifier = backend.verifier(s)?;
            // Sign with this backend, or (verification-only pairings aside) any that can.
            let sig = if s.can_sign() {
                backend
                    .signing_key(s, key)
                    .or_else(|e| {
                        Backend::any_for(Algorithm::Signature(s))
                            .ok_or(e)?
                            .signing_key(s, key)
                    })?
                    .sign(&data)?
            } else {
                return Err(bad());
            };
            let public = key.public_key().to_vec();
            Box::new(move || verifier.verify(&public, &data, &sig))
        }
        (Algorithm::Signature(s), Op::VerifyMany) => {
            // `size` signatures, each by its own key over its own message, signed by any
            // backend that can (signing is outside the timing).
            let verifier = backend.verifier(s)?;
            let signer = Backend::any_for(Algorithm::Signature(s)).ok_or_else(bad)?;
            let mut keys = Vec::new();
            let mut msgs = Vec::new();
            let mut sigs = Vec::new();
            for i in 0..size {
                let key = PrivateKey::generate(s.key_kind())?;
                let msg: Vec<u8> = (0..32).map(|j| (i * 7 + j * 131 + 7) as u8).collect();
                sigs.push(signer.signing_key(s, &key)?.sign(&msg)?);
                keys.push(key.public_key().to_vec());
                msgs.push(msg);
            }
            Box::new(move || {
                let items: Vec<crate::SignedMessage<'_>> = (0..keys.len())
                    .map(|i| crate::SignedMessage {
                        public_key: &keys[i],
                        message: &msgs[i],
                        signature: &sigs[i],
                    })
                    .collect();
                verifier.verify_many(&items).into_iter().collect()
            })
        }
        (Algorithm::Kx(k), Op::Agree) => {
            let kx = backend.kx(k)?;
            let peer = kx.generate()?.public_key().to_vec();
            Box::new(move || kx.generate()?.agree(&peer).map(drop))
        }
        (Algorithm::Kx(k), Op::AgreeMany) => {
            let kx = backend.kx(k)?;
            let peers = (0..size)
                .map(|_| Ok(kx.generate()?.public_key().to_vec()))
                .collect::<Result<Vec<Vec<u8>>, Error>>()?;
            Box::new(move || {
                let refs: Vec<&[u8]> = peers.iter().map(Vec::as_slice).collect();
                for r in kx.exchange_many(&refs) {
                    r?;
                }
                Ok(())
            })
        }
        (Algorithm::Kem(k), Op::Agree) => {
            // One whole exchange: key pair, encapsulation, decapsulation.
            let kem = backend.kem(k)?;
            Box::new(move || {
                let dk = kem.generate()?;
                let (ct, _) = kem.encapsulate(dk.encapsulation_key())?;
                dk.decapsulate(&ct).map(drop)
            })
        }
        (Algorithm::Cipher(c), Op::Encrypt) => {
            let key = backend.cipher(c, &[3u8; 16])?;
            let iv = vec![4u8; c.iv_len()];
            let mut buf = data.clone();
            if c.needs_whole_blocks() {
                buf.truncate(size / crate::BLOCK_LEN * crate::BLOCK_LEN);
            }
            Box::new(move || key.encrypt(&iv, &mut buf))
        }
        (Algorithm::Sm2Encryption, Op::PkEncrypt) => {
            let public = bench_key(KeyKind::Sm2)?.public_key().to_vec();
            backend.sm2_encrypt(&public, &data, CiphertextFormat::Raw)?;
            Box::new(move || {
                backend
                    .sm2_encrypt(&public, &data, CiphertextFormat::Raw)
                    .map(drop)
            })
        }
        (Algorithm::Sm2Encryption, Op::PkDecrypt) => {
            let key = bench_key(KeyKind::Sm2)?;
            let ct = backend.sm2_encrypt(key.public_key(), &data, CiphertextFormat::Raw)?;
            Box::new(move || {
                backend
                    .sm2_decrypt(key, &ct, CiphertextFormat::Raw)
                    .map(drop)
            })
        }
        (Algorithm::Random, Op::Fill) => {
            let rng = backend.random()?;
            let mut buf = vec![0u8; size];
            Box::new(move || rng.fill(&mut buf))
        }
        _ => return Err(bad()),
    })
}

/// Runs `runner` for about `budget` (at least once) and returns operations per second.
pub fn run_for(runner: &mut Runner, budget: Duration) -> Result<f64, Error> {
    let start = Instant::now();
    let mut ops: u64 = 0;
    let mut batch: u64 = 1;
    loop {
        for _ in 0..batch {
            runner()?;
        }
        ops += batch;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            // A zero budget on a coarse clock must not score infinity.
            let secs = elapsed.as_secs_f64().max(1e-9);
            return Ok(ops as f64 / secs);
        }
        // Grow batches while they are short, so the clock is read rarely for fast operations.
        if elapsed < budget / 16 {
            batch = batch.saturating_mul(2);
        }
    }
}

/// The benches `speed` shows by default: each algorithm's headline operation at the sizes the
/// benchmark issue names (16 B, 1 KiB, 16 KiB for bulk; per operation otherwise).
pub fn default_benches() -> Vec<Bench> {
    let mut v = Vec::new();
    for &a in AeadAlg::ALL {
        for size in [16, 1024, 16384] {
            v.push(Bench::new(Algorithm::Aead(a), Op::Seal, size));
        }
    }
    for &h in HashAlg::ALL {
        for size in [16, 1024, 16384] {
            v.push(Bench::new(Algorithm::Hash(h), Op::Digest, size));
        }
    }
    // HMAC on record sizes (TLS 1.2 CBC suites and TLCP MAC every record with it), one key
    // made once: each figure is one tag over `size` bytes.
    for &h in HashAlg::ALL {
        for size in [16, 1024, 16384] {
            v.push(Bench::new(Algorithm::Hmac(h), Op::Mac, size));
        }
    }
    for c in [CipherAlg::Sm4Ctr, CipherAlg::Sm4Cbc] {
        for size in [16, 1024, 16384] {
            v.push(Bench::new(Algorithm::Cipher(c), Op::Encrypt, size));
        }
    }
    for s in [
        SignatureAlg::RsaPssSha256,
        SignatureAlg::EcdsaP256Sha256,
        SignatureAlg::EcdsaP384Sha384,
        SignatureAlg::Ed25519,
        SignatureAlg::Sm2Sm3,
    ] {
        v.push(Bench::new(Algorithm::Signature(s), Op::Sign, 32));
        v.push(Bench::new(Algorithm::Signature(s), Op::Verify, 32));
    }
    // Many verifications in one call (64 signatures, each by its own key), per signature:
    // for SM2 against the P-256 yardstick.
    for s in [SignatureAlg::Sm2Sm3, SignatureAlg::EcdsaP256Sha256] {
        v.push(Bench::new(Algorithm::Signature(s), Op::VerifyMany, 64));
    }
    for &k in KxAlg::ALL {
        v.push(Bench::new(Algorithm::Kx(k), Op::Agree, 0));
    }
    // Many exchanges in one call (64, each with its own peer), per exchange: for curveSM2
    // against the P-256 and X25519 yardsticks.
    for k in [KxAlg::CurveSm2, KxAlg::P256, KxAlg::X25519] {
        v.push(Bench::new(Algorithm::Kx(k), Op::AgreeMany, 64));
    }
    v.push(Bench::new(
        Algorithm::Kem(crate::KemAlg::MlKem768),
        Op::Agree,
        0,
    ));
    v
}
