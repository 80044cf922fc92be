//! Cross-backend agreement: what one backend seals every other opens (and all produce the same
//! bytes), what one signs every other verifies, hashes/HMAC/HKDF agree, and the same ECDH
//! inputs give the same secret everywhere. Also checks each backend's support table against
//! its behaviour, so `supports()` can never lie.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use conformance::{TestRng, built_backends, test_key};
use crypto_core::{
    AeadAlg, Algorithm, Backend, Error, HashAlg, KeyKind, KxAlg, Nonce, SignatureAlg,
    SignedMessage, TAG_LEN,
};

const LENGTHS: &[usize] = &[0, 1, 15, 16, 17, 63, 64, 255, 1024, 16384 + 5];

fn backends_for(alg: Algorithm) -> Vec<Backend> {
    built_backends()
        .into_iter()
        .filter(|b| b.supports(alg))
        .collect()
}

/// How many backends must implement `alg` in every build: three for the mainstream
/// algorithms; for GM, two where two exist without the `openssl` feature (rustcrypto and
/// libsm; rustcrypto and asm for SM4-GCM/CCM, which libsm and OpenSSL 3.0 lack).
fn min_backends(alg: Algorithm) -> usize {
    match alg {
        a if a.is_gm() => 2,
        _ => 3,
    }
}

#[test]
fn aead_every_backend_opens_what_every_other_sealed() {
    let mut rng = TestRng::new(1);
    for &alg in AeadAlg::ALL {
        let backends = backends_for(Algorithm::Aead(alg));
        assert!(
            backends.len() >= min_backends(Algorithm::Aead(alg)),
            "{alg:?}: too few backends"
        );
        for &len in LENGTHS {
            let key = rng.bytes(alg.key_len());
            let nonce = Nonce(rng.bytes(12).try_into().unwrap());
            let aad = rng.bytes(len % 29);
            let plaintext = rng.bytes(len);
            let mut reference: Option<Vec<u8>> = None;
            for &sealer in &backends {
                let mut buf = plaintext.clone();
                buf.resize(len + TAG_LEN, 0);
                let n = sealer
                    .aead(alg, &key)
                    .unwrap()
                    .seal_in_place(&nonce, &aad, &mut buf, len)
                    .unwrap();
                assert_eq!(n, len + TAG_LEN);
                match &reference {
                    None => reference = Some(buf.clone()),
                    Some(r) => assert_eq!(
                        r, &buf,
                        "{alg:?} len {len}: {sealer} sealed different bytes"
                    ),
                }
                for &opener in &backends {
                    let key = opener.aead(alg, &key).unwrap();
                    let mut copy = buf.clone();
                    let opened = key.open_in_place(&nonce, &aad, &mut copy).unwrap();
                    assert_eq!(
                        opened,
                        &plaintext[..],
                        "{alg:?} len {len}: {sealer} -> {opener}"
                    );
                    // Any flipped bit anywhere must be refused, and the buffer wiped.
                    let mut tampered = buf.clone();
                    let bit = (len * 7 + 3) % (tampered.len() * 8);
                    tampered[bit / 8] ^= 1 << (bit % 8);
                    assert_eq!(
                        key.open_in_place(&nonce, &aad, &mut tampered).err(),
                        Some(Error::DecryptFailed)
                    );
                    assert!(
                        tampered[..len].iter().all(|&b| b == 0),
                        "{opener}: plaintext left after failure"
                    );
                }
            }
        }
    }
}

#[test]
fn aead_rejects_wrong_key_lengths_and_short_buffers() {
    for b in built_backends() {
        for &alg in AeadAlg::ALL {
            if !b.supports(Algorithm::Aead(alg)) {
                continue;
            }
            assert!(
                matches!(b.aead(alg, &[0; 20]), Err(Error::InvalidKey(_))),
                "{b} {alg:?}"
            );
            let key = b.aead(alg, &vec![1; alg.key_len()]).unwrap();
            let mut short = [0u8; TAG_LEN - 1];
            assert_eq!(
                key.open_in_place(&Nonce([0; 12]), b"", &mut short).err(),
                Some(Error::DecryptFailed)
            );
            let mut buf = [0u8; 20];
            assert_eq!(
                key.seal_in_place(&Nonce([0; 12]), b"", &mut buf, 5).err(),
                Some(Error::InvalidLength)
            );
        }
    }
}

#[test]
fn hashes_hmac_and_hkdf_agree_everywhere() {
    let mut rng = TestRng::new(2);
    for &alg in HashAlg::ALL {
        for &len in LENGTHS {
            let data = rng.bytes(len);
            let key = rng.bytes(len % 200);
            let split = len / 3;
            let mut digests = Vec::new();
            for b in backends_for(Algorithm::Hash(alg)) {
                let h = b.hash(alg).unwrap();
                let one_shot = h.hash(&data);
                assert_eq!(one_shot.as_ref().len(), alg.output_len());
                let mut ctx = h.start();
                ctx.update(&data[..split]);
                let fork = ctx.fork();
                let partial = ctx.fork_finish();
                ctx.update(&data[split..]);
                assert_eq!(ctx.finish(), one_shot, "{b}: incremental != one-shot");
                assert_eq!(fork.finish(), partial, "{b}: fork != fork_finish");
                assert_eq!(partial, h.hash(&data[..split]));

                let mac = b
                    .hmac(alg)
                    .unwrap()
                    .with_key(&key)
                    .sign(&[&data[..split], &data[split..]]);
                let mut okm = [0u8; 100];
                b.hkdf(alg)
                    .unwrap()
                    .extract(&key, &data)
                    .expand(&[b"info", &data[..split]], &mut okm)
                    .unwrap();
                digests.push((b, one_shot, mac, okm));
            }
            for w in digests.windows(2) {
                assert_eq!(
                    w[0].1, w[1].1,
                    "{alg:?}: {} and {} hash differently",
                    w[0].0, w[1].0
                );
                assert_eq!(
                    w[0].2, w[1].2,
                    "{alg:?}: {} and {} HMAC differently",
                    w[0].0, w[1].0
                );
                assert_eq!(
                    w[0].3, w[1].3,
                    "{alg:?}: {} and {} HKDF differently",
                    w[0].0, w[1].0
                );
            }
        }
    }
}

fn key_for(alg: SignatureAlg) -> Vec<&'static str> {
    match alg.key_kind() {
        KeyKind::Rsa => vec![
            "rsa2048.pkcs8.pem",
            "rsa3072.pkcs1.der",
            "rsa4096.pkcs1.pem",
        ],
        KeyKind::EcP256 => vec!["p256.pkcs8.pem", "p256.sec1.der"],
        KeyKind::EcP384 => vec!["p384.sec1.pem", "p384.pkcs8.der"],
        KeyKind::Ed25519 => vec!["ed25519.pkcs8.pem"],
        KeyKind::Sm2 => vec![
            "../gm/generated/sm2_key.pkcs8.pem",
            "../gm/generated/sm2_key.sec1.der",
        ],
        _ => unreachable!(),
    }
}

#[test]
fn every_backend_verifies_what_every_other_signed() {
    let message = b"crypto-core cross-backend signature test";
    for &alg in SignatureAlg::ALL {
        let backends = backends_for(Algorithm::Signature(alg));
        if !alg.can_sign() {
            // Verification-only pairings: every backend refuses to sign, clearly.
            for &b in &backends {
                let key = test_key(key_for(alg)[0]);
                assert!(
                    matches!(b.signing_key(alg, &key), Err(Error::InvalidInput(_))),
                    "{b} {alg:?} must refuse to sign"
                );
            }
            continue;
        }
        assert!(
            backends.len() >= min_backends(Algorithm::Signature(alg)),
            "{alg:?}: too few backends"
        );
        for file in key_for(alg) {
            let key = test_key(file);
            let mut deterministic: Option<Vec<u8>> = None;
            for &signer in &backends {
                let sk = signer
                    .signing_key(alg, &key)
                    .unwrap_or_else(|e| panic!("{signer} {alg:?} {file}: {e}"));
                assert_eq!(sk.public_key(), key.public_key());
                let sig = sk.sign(message).unwrap();
                // PKCS#1 v1.5 and Ed25519 are deterministic: every backend must emit the same bytes.
                if matches!(
                    alg,
                    SignatureAlg::RsaPkcs1Sha256
                        | SignatureAlg::RsaPkcs1Sha384
                        | SignatureAlg::RsaPkcs1Sha512
                        | SignatureAlg::Ed25519
                ) {
                    match &deterministic {
                        None => deterministic = Some(sig.clone()),
                        Some(d) => assert_eq!(d, &sig, "{alg:?}: {signer} signed differently"),
                    }
                }
                for &verifier in &backends {
                    let v = verifier.verifier(alg).unwrap();
                    v.verify(key.public_key(), message, &sig)
                        .unwrap_or_else(|e| panic!("{alg:?} {file}: {signer} -> {verifier}: {e}"));
                    assert_eq!(
                        v.verify(key.public_key(), b"another message", &sig),
                        Err(Error::BadSignature)
                    );
                }
            }
        }
    }
}

#[test]
fn signing_key_kind_must_match_the_scheme() {
    let ec = test_key("p256.pkcs8.pem");
    for b in built_backends() {
        if !b.supports(Algorithm::Signature(SignatureAlg::RsaPssSha256)) {
            continue;
        }
        assert!(matches!(
            b.signing_key(SignatureAlg::RsaPssSha256, &ec),
            Err(Error::InvalidKey(_))
        ));
        assert!(matches!(
            b.signing_key(SignatureAlg::EcdsaP384Sha384, &ec),
            Err(Error::InvalidKey(_))
        ));
    }
}

#[test]
fn key_agreement_gives_the_same_secret_everywhere() {
    let mut rng = TestRng::new(3);
    for &alg in KxAlg::ALL {
        let backends = backends_for(Algorithm::Kx(alg));
        assert!(backends.len() >= min_backends(Algorithm::Kx(alg)));
        for &a in &backends {
            for &b in &backends {
                let ka = a.kx(alg).unwrap().generate().unwrap();
                let kb = b.kx(alg).unwrap().generate().unwrap();
                assert_eq!(ka.public_key().len(), alg.public_key_len());
                let (pa, pb) = (ka.public_key().to_vec(), kb.public_key().to_vec());
                let sa = ka.agree(&pb).unwrap();
                let sb = kb.agree(&pa).unwrap();
                assert_eq!(sa, sb, "{alg:?}: {a} and {b} disagree");
            }
        }
        // Static keys: the same private scalar and peer give the same secret on every backend
        // that can import private keys.
        let statics = backends_for(Algorithm::KxStatic(alg));
        let peer = backends[0].kx(alg).unwrap().generate().unwrap();
        let mut scalar = rng.bytes(alg.private_key_len());
        scalar[0] &= 0x7f; // below the group order for the NIST curves
        let secrets: Vec<_> = statics
            .iter()
            .map(|b| {
                b.kx(alg)
                    .unwrap()
                    .agree_static(&scalar, peer.public_key())
                    .unwrap()
            })
            .collect();
        assert!(secrets.len() >= 2);
        assert!(
            secrets.windows(2).all(|w| w[0] == w[1]),
            "{alg:?}: static agreement differs"
        );
    }
}

/// `Verifier::verify_many` says what `verify` says, item by item, on every backend (the asm
/// backend's SM2 batches eight at a time on AVX-512 IFMA; the others loop): signatures by every
/// backend, mixed with a wrong message, a wrong key and a damaged signature.
#[test]
fn verify_many_says_what_verify_says_everywhere() {
    for &alg in SignatureAlg::ALL {
        if !alg.can_sign() {
            continue;
        }
        let backends = backends_for(Algorithm::Signature(alg));
        let keys: Vec<_> = key_for(alg).iter().map(|f| test_key(f)).collect();
        let mut sigs = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            for &signer in &backends {
                for n in 0..3u8 {
                    let msg = vec![n; 10 + i];
                    let sig = signer.signing_key(alg, key).unwrap().sign(&msg).unwrap();
                    sigs.push((key.public_key().to_vec(), msg, sig));
                }
            }
        }
        let other = keys.last().unwrap().public_key().to_vec();
        let mut cases = Vec::new();
        for (i, (public, msg, sig)) in sigs.iter().enumerate() {
            let (mut public, mut msg, mut sig) = (public.clone(), msg.clone(), sig.clone());
            match i % 5 {
                1 => msg.push(0),
                2 if keys.len() > 1 || public != other => public = other.clone(),
                3 => {
                    let last = sig.len() - 1;
                    sig[last] ^= 1;
                }
                4 => sig.truncate(sig.len() / 2),
                _ => {}
            }
            cases.push((public, msg, sig));
        }
        for &b in &backends {
            let v = b.verifier(alg).unwrap();
            let items: Vec<SignedMessage<'_>> = cases
                .iter()
                .map(|(public, message, signature)| SignedMessage {
                    public_key: public,
                    message,
                    signature,
                })
                .collect();
            let one_by_one: Vec<Result<(), Error>> = items
                .iter()
                .map(|i| v.verify(i.public_key, i.message, i.signature))
                .collect();
            assert!(
                one_by_one.iter().any(Result::is_ok),
                "{alg:?} {b}: nothing valid"
            );
            assert!(
                one_by_one.iter().any(Result::is_err),
                "{alg:?} {b}: nothing invalid"
            );
            assert_eq!(v.verify_many(&items), one_by_one, "{alg:?} on {b}");
        }
    }
}

/// `KeyExchange::exchange_many` on every backend: each exchange's public key, taken by the
/// peer (made by every backend in turn), gives the peer the same secret; a malformed peer key
/// gets the error `agree` gives it.
#[test]
fn exchange_many_agrees_with_every_peer() {
    for &alg in KxAlg::ALL {
        let backends = backends_for(Algorithm::Kx(alg));
        for &a in &backends {
            let mut peers = Vec::new();
            for _ in 0..3 {
                for &b in &backends {
                    peers.push(b.kx(alg).unwrap().generate().unwrap());
                }
            }
            let mut encoded: Vec<Vec<u8>> = peers.iter().map(|p| p.public_key().to_vec()).collect();
            encoded.push(vec![4u8; 3]); // malformed
            let refs: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
            let kx = a.kx(alg).unwrap();
            let results = kx.exchange_many(&refs);
            assert_eq!(results.len(), refs.len());
            let bad = kx
                .generate()
                .unwrap()
                .agree(&encoded[peers.len()])
                .unwrap_err();
            assert_eq!(
                results[peers.len()].as_ref().unwrap_err(),
                &bad,
                "{alg:?} {a}"
            );
            // Each exchange has its own key pair.
            let mut ours: Vec<&[u8]> = results
                .iter()
                .filter_map(|r| r.as_ref().ok().map(|(p, _)| p.as_slice()))
                .collect();
            ours.sort_unstable();
            ours.dedup();
            assert_eq!(ours.len(), peers.len(), "{alg:?} {a}: key pairs repeat");
            for (peer, result) in peers.into_iter().zip(&results) {
                let (ours, secret) = result
                    .as_ref()
                    .unwrap_or_else(|e| panic!("{alg:?} {a}: {e}"));
                assert_eq!(ours.len(), alg.public_key_len());
                assert_eq!(&peer.agree(ours).unwrap(), secret, "{alg:?} on {a}");
            }
        }
    }
}

/// `KeyExchange::exchange` (a TLS 1.3 server's exchange in one call) on every backend: the
/// peer, made by every backend in turn, gets the same secret from our public key; malformed
/// and off-curve peer keys get the error `agree` gives them.
#[test]
fn exchange_agrees_with_every_peer() {
    for &alg in KxAlg::ALL {
        let backends = backends_for(Algorithm::Kx(alg));
        for &a in &backends {
            let kx = a.kx(alg).unwrap();
            for &b in &backends {
                let peer = b.kx(alg).unwrap().generate().unwrap();
                let (ours, secret) = kx
                    .exchange(peer.public_key())
                    .unwrap_or_else(|e| panic!("{alg:?} {a} with {b}: {e}"));
                assert_eq!(ours.len(), alg.public_key_len());
                assert_eq!(peer.agree(&ours).unwrap(), secret, "{alg:?} {a} with {b}");
            }
            let good = kx.generate().unwrap().public_key().to_vec();
            let mut off = good.clone();
            let last = off.len() - 1;
            off[last] ^= 1; // off the curve (for X25519 just another key)
            for bad in [vec![4u8; 3], good[..good.len() - 1].to_vec(), off] {
                let theirs = kx.generate().unwrap().agree(&bad).map(|_| ());
                let ours = kx.exchange(&bad).map(|_| ());
                assert_eq!(ours, theirs, "{alg:?} {a}: {bad:02x?}");
            }
        }
    }
}

#[test]
fn random_fills_and_differs() {
    for b in backends_for(Algorithm::Random) {
        let r = b.random().unwrap();
        let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
        r.fill(&mut x).unwrap();
        r.fill(&mut y).unwrap();
        assert_ne!(x, y, "{b}: two fills gave the same bytes");
        assert_ne!(x, [0u8; 32]);
    }
}

/// `supports()` must match behaviour: supported algorithms construct, unsupported ones answer
/// `Unsupported` naming the algorithm and backend.
#[test]
fn support_tables_match_behaviour() {
    let rsa = test_key("rsa2048.pkcs8.pem");
    let p256 = test_key("p256.pkcs8.pem");
    let p384 = test_key("p384.pkcs8.pem");
    let ed = test_key("ed25519.pkcs8.pem");
    let sm2 = test_key("../gm/generated/sm2_key.pkcs8.pem");
    let sm2_ephemeral = crypto_core::PrivateKey::generate(KeyKind::Sm2).unwrap();
    for &b in Backend::ALL {
        for alg in Algorithm::all() {
            let outcome: Result<(), Error> = match alg {
                Algorithm::Aead(a) => b.aead(a, &vec![0; a.key_len()]).map(drop),
                Algorithm::Hash(h) => b.hash(h).map(drop),
                Algorithm::Hmac(h) => b.hmac(h).map(drop),
                Algorithm::Hkdf(h) => b.hkdf(h).map(drop),
                Algorithm::Signature(s) => {
                    let key = match s.key_kind() {
                        KeyKind::Rsa => &rsa,
                        KeyKind::EcP256 => &p256,
                        KeyKind::EcP384 => &p384,
                        KeyKind::Sm2 => &sm2,
                        _ => &ed,
                    };
                    if s.can_sign() {
                        b.signing_key(s, key).and_then(|_| b.verifier(s)).map(drop)
                    } else {
                        b.verifier(s).map(drop)
                    }
                }
                Algorithm::Kx(k) => b.kx(k).and_then(|kx| kx.generate()).map(drop),
                Algorithm::KxStatic(k) => {
                    let peer = Backend::RustCrypto.kx(k).unwrap().generate().unwrap();
                    match b.kx(k) {
                        Ok(kx) => kx
                            .agree_static(&vec![1; k.private_key_len()], peer.public_key())
                            .map(drop),
                        // No key agreement at all (a backend not built): static agreement
                        // is unsupported too.
                        Err(Error::Unsupported { backend, .. }) => {
                            Err(Error::Unsupported { alg, backend })
                        }
                        Err(e) => Err(e),
                    }
                }
                Algorithm::Random => b.random().map(drop),
                Algorithm::Kem(k) => b.kem(k).and_then(|k| k.generate()).map(drop),
                Algorithm::Cipher(c) => b
                    .cipher(c, &[0; 16])
                    .and_then(|k| k.encrypt(&vec![0; c.iv_len()], &mut [0; 16])),
                Algorithm::Sm2Encryption => b
                    .sm2_encrypt(
                        sm2.public_key(),
                        b"m",
                        crypto_core::sm2::CiphertextFormat::Raw,
                    )
                    .map(drop),
                Algorithm::Sm2KeyExchange => b
                    .sm2_key_exchange(
                        &crypto_core::sm2::KeyExchange {
                            initiator: true,
                            own_static: &sm2,
                            own_ephemeral: &sm2_ephemeral,
                            own_id: crypto_core::sm2::DEFAULT_ID,
                            peer_static: sm2.public_key(),
                            peer_ephemeral: sm2_ephemeral.public_key(),
                            peer_id: crypto_core::sm2::DEFAULT_ID,
                        },
                        &mut [0; 48],
                    )
                    .map(drop),
                _ => unreachable!("new algorithm without a probe"),
            };
            if b.supports(alg) {
                outcome.unwrap_or_else(|e| panic!("{b} claims {alg} but: {e}"));
            } else {
                match outcome {
                    Err(Error::Unsupported { alg: a, backend }) => {
                        assert_eq!((a, backend), (alg, b))
                    }
                    other => panic!("{b} does not claim {alg} but got {other:?}"),
                }
            }
        }
    }
}
