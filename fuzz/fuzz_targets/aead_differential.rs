//! Differential AEAD: every built backend must seal arbitrary key/nonce/aad/data to the same
//! bytes, open each other's output, and refuse the same tampered input.
#![no_main]

use crypto_core::{AeadAlg, Algorithm, Backend, Nonce, TAG_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let alg = AeadAlg::ALL[selector as usize % AeadAlg::ALL.len()];
    if rest.len() < alg.key_len() + 12 + 1 {
        return;
    }
    let (key, rest) = rest.split_at(alg.key_len());
    let (nonce, rest) = rest.split_at(12);
    let (&aad_len, rest) = rest.split_first().unwrap_or((&0, &[]));
    let aad_len = (aad_len as usize).min(rest.len());
    let (aad, plaintext) = rest.split_at(aad_len);
    let nonce = Nonce(nonce.try_into().unwrap_or([0; 12]));
    let backends: Vec<Backend> = Backend::built().filter(|b| b.supports(Algorithm::Aead(alg))).collect();

    let mut sealed: Option<Vec<u8>> = None;
    for b in &backends {
        let k = b.aead(alg, key).expect("valid key length");
        let mut buf = plaintext.to_vec();
        buf.resize(plaintext.len() + TAG_LEN, 0);
        k.seal_in_place(&nonce, aad, &mut buf, plaintext.len()).expect("seal");
        match &sealed {
            None => sealed = Some(buf),
            Some(s) => assert_eq!(s, &buf, "{b} sealed differently"),
        }
    }
    let Some(sealed) = sealed else { return };
    let flip = selector as usize % (sealed.len() * 8);
    for b in &backends {
        let k = b.aead(alg, key).expect("valid key length");
        let mut buf = sealed.clone();
        assert_eq!(k.open_in_place(&nonce, aad, &mut buf).expect("open"), plaintext);
        let mut bad = sealed.clone();
        bad[flip / 8] ^= 1 << (flip % 8);
        assert!(k.open_in_place(&nonce, aad, &mut bad).is_err(), "{b} accepted a tampered message");
    }
});
