//! Every SM4 path this CPU can run, forced one by one, against the RustCrypto implementation
//! (sm4 + aes-gcm's generic GCM + ccm + ctr + cbc) on every length 0..=4096 (CTR, GCM, CCM;
//! ECB and CBC on 0..=40, 63..=65 and 256 blocks) and on unaligned buffers. Official vectors run through the crypto-core `asm` backend in the
//! conformance suite.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{AeadInOut, KeyInit};
use asm::cpu::Features;
use asm::sm4::{Counter, Kernel, Sm4, Sm4Ccm, Sm4Gcm};
use ctr::cipher::{
    Array, BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyIvInit,
    StreamCipher,
};

type RcGcm = aes_gcm::AesGcm<sm4::Sm4, U12>;
type RcCcm = ccm::Ccm<sm4::Sm4, U16, U12>;

/// The feature sets that select distinct code: every SM4 kernel this CPU runs, each with every
/// GHASH kernel that can go with it (portable, PCLMULQDQ, VPCLMULQDQ on 256 or 512 bits).
fn paths() -> Vec<(String, Features)> {
    let hw = Features::get();
    let mut out: Vec<(String, Features)> = Vec::new();
    for k in Kernel::available() {
        for extra in [
            "",
            ",pclmulqdq,avx2",
            ",pclmulqdq,avx2,vpclmulqdq",
            ",pclmulqdq,avx2,vpclmulqdq,avx512",
        ] {
            let f = hw.restricted_to(&format!("{}{extra}", k.features()));
            let gcm = Sm4Gcm::with_features(&[0; 16], f);
            if gcm.kernel() != k {
                continue;
            }
            let name = format!("{} + {} ghash", k.name(), gcm.ghash_kernel());
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, f));
            }
        }
    }
    out
}

struct Rng(u64);
impl Rng {
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.0 = self
                    .0
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (self.0 >> 33) as u8
            })
            .collect()
    }
}

#[test]
fn every_kernel_is_exercised_here() {
    let used: Vec<Kernel> = paths()
        .iter()
        .map(|(_, f)| Sm4::with_features(&[0; 16], *f).kernel())
        .collect();
    for k in Kernel::available() {
        assert!(used.contains(&k), "{k:?} not covered");
    }
    // Both builds of the serial/short-input GFNI kernel, where the CPU runs both.
    let serial: Vec<Option<&str>> = paths()
        .iter()
        .map(|(_, f)| Sm4::with_features(&[0; 16], *f).serial_kernel())
        .collect();
    if Kernel::available().contains(&Kernel::GfniAvx512) {
        assert!(serial.contains(&Some("gfni1-vl")), "{serial:?}");
    }
    if Kernel::available().contains(&Kernel::GfniAvx2) {
        assert!(serial.contains(&Some("gfni1")), "{serial:?}");
    }
    println!(
        "paths: {:?}",
        paths().iter().map(|p| p.0.clone()).collect::<Vec<_>>()
    );
}

#[test]
fn ecb_cbc_ctr_match_rustcrypto() {
    let mut rng = Rng(1);
    for (name, f) in paths() {
        let name = name.as_str();
        for blocks in (0..=40).chain([63, 64, 65, 256]) {
            let key: [u8; 16] = rng.bytes(16).try_into().unwrap();
            let iv: [u8; 16] = rng.bytes(16).try_into().unwrap();
            let pt = rng.bytes(blocks * 16 + 1);
            let ours = Sm4::with_features(&key, f);
            let rc = sm4::Sm4::new_from_slice(&key).unwrap();
            // ECB, on a buffer starting at an odd offset.
            let mut unaligned = pt.clone();
            ours.encrypt_blocks(&mut unaligned[1..]);
            let mut b = pt[1..].to_vec();
            rc.encrypt_blocks(Array::slice_as_chunks_mut(&mut b).0);
            assert_eq!(&unaligned[1..], &b[..], "{name} ecb {blocks}");
            ours.decrypt_blocks(&mut unaligned[1..]);
            assert_eq!(&unaligned[1..], &pt[1..], "{name} ecb decrypt {blocks}");
            rc.decrypt_blocks(Array::slice_as_chunks_mut(&mut b).0);
            assert_eq!(&b[..], &pt[1..]);
            // CBC.
            let mut a = pt[1..].to_vec();
            ours.cbc_encrypt(&iv, &mut a);
            let mut b = pt[1..].to_vec();
            cbc::Encryptor::<sm4::Sm4>::new(&key.into(), &iv.into())
                .encrypt_blocks(Array::slice_as_chunks_mut(&mut b).0);
            assert_eq!(a, b, "{name} cbc {blocks}");
            ours.cbc_decrypt(&iv, &mut a);
            assert_eq!(a, &pt[1..], "{name} cbc decrypt {blocks}");
            cbc::Decryptor::<sm4::Sm4>::new(&key.into(), &iv.into())
                .decrypt_blocks(Array::slice_as_chunks_mut(&mut b).0);
            assert_eq!(b, &pt[1..]);
        }
        for len in 0..=4096 {
            let key: [u8; 16] = rng.bytes(16).try_into().unwrap();
            let mut iv: [u8; 16] = rng.bytes(16).try_into().unwrap();
            if len % 7 == 0 {
                iv[8..].fill(0xff); // carries across the low 64 bits at once
            } else if len % 7 == 1 {
                iv[12..].copy_from_slice(&[0xff, 0xff, 0xff, 0xf0]); // carries out of 32 bits mid-way
            }
            let pt = rng.bytes(len + 3);
            let mut a = pt.clone();
            Sm4::with_features(&key, f).ctr(&iv, Counter::Full128, &mut a[3..]);
            let mut b = pt[3..].to_vec();
            ctr::Ctr128BE::<sm4::Sm4>::new(&key.into(), &iv.into()).apply_keystream(&mut b);
            assert_eq!(&a[3..], &b[..], "{name} ctr {len}");
            // The same with one more block encrypted alongside (GCM's E(J0)): the keystream
            // must not change, and the block must be its ECB encryption.
            let extra: [u8; 16] = rng.bytes(16).try_into().unwrap();
            let mut x = extra;
            let mut a = pt.clone();
            Sm4::with_features(&key, f).ctr_and_block(
                &iv,
                Counter::Full128,
                &mut a[3..],
                Some(&mut x),
            );
            assert_eq!(&a[3..], &b[..], "{name} ctr with a block {len}");
            let mut want = extra;
            sm4::Sm4::new_from_slice(&key)
                .unwrap()
                .encrypt_block((&mut want).into());
            assert_eq!(x, want, "{name} the block beside ctr {len}");
        }
    }
}

#[test]
fn gcm_matches_rustcrypto_on_every_length_to_4096() {
    let mut rng = Rng(2);
    for (name, f) in paths() {
        let name = name.as_str();
        let key: [u8; 16] = rng.bytes(16).try_into().unwrap();
        let ours = Sm4Gcm::with_features(&key, f);
        let rc = RcGcm::new_from_slice(&key).unwrap();
        for len in 0..=4096 {
            let nonce: [u8; 12] = rng.bytes(12).try_into().unwrap();
            let aad = rng.bytes(len % 37);
            let pt = rng.bytes(len + 1);
            let mut a = pt.clone();
            let tag = ours.seal(&nonce, &aad, &mut a[1..]).unwrap();
            let mut b = pt[1..].to_vec();
            let rtag = rc
                .encrypt_inout_detached(&nonce.into(), &aad, b.as_mut_slice().into())
                .unwrap();
            assert_eq!(&a[1..], &b[..], "{name} gcm ct {len}");
            assert_eq!(&tag[..], &rtag[..], "{name} gcm tag {len}");
            ours.open(&nonce, &aad, &mut a[1..], &tag).unwrap();
            assert_eq!(a, pt);
            if len % 97 == 0 {
                let mut bad = tag;
                bad[len % 16] ^= 1;
                let mut c = b.clone();
                assert!(ours.open(&nonce, &aad, &mut c, &bad).is_err());
                assert_eq!(c, b, "{name}: buffer changed after a failed open");
            }
        }
    }
}

#[test]
fn ccm_matches_rustcrypto() {
    let mut rng = Rng(3);
    for (name, f) in paths() {
        let name = name.as_str();
        let key: [u8; 16] = rng.bytes(16).try_into().unwrap();
        let ours = Sm4Ccm::with_features(&key, f);
        let rc = RcCcm::new_from_slice(&key).unwrap();
        for len in 0..=4096 {
            let nonce: [u8; 12] = rng.bytes(12).try_into().unwrap();
            let aad = rng.bytes([0, 1, 13, 14, 15, 16, 17, 40][len % 8]);
            let pt = rng.bytes(len);
            let mut a = pt.clone();
            let tag = ours.seal(&nonce, &aad, &mut a).unwrap();
            let mut b = pt.clone();
            let rtag = rc
                .encrypt_inout_detached(&nonce.into(), &aad, b.as_mut_slice().into())
                .unwrap();
            assert_eq!(a, b, "{name} ccm ct {len}");
            assert_eq!(&tag[..], &rtag[..], "{name} ccm tag {len}");
            ours.open(&nonce, &aad, &mut a, &tag).unwrap();
            assert_eq!(a, pt);
            let mut bad = tag;
            bad[0] ^= 0x80;
            let mut c = b.clone();
            assert!(ours.open(&nonce, &aad, &mut c, &bad).is_err());
            assert_eq!(c, b, "{name}: buffer changed after a failed open");
        }
        // Large AAD uses the 6-byte length prefix (0xff 0xfe || 32-bit length).
        let aad = rng.bytes(70_000);
        let mut a = rng.bytes(33);
        let mut b = a.clone();
        let tag = ours.seal(&[7; 12], &aad, &mut a).unwrap();
        let rtag = rc
            .encrypt_inout_detached(&[7; 12].into(), &aad, b.as_mut_slice().into())
            .unwrap();
        assert_eq!((a, &tag[..]), (b, &rtag[..]), "{name} ccm long aad");
    }
}
