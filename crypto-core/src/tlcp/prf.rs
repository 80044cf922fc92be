//! The TLCP pseudorandom function and what is derived with it (GB/T 38636-2020 clause
//! 6.5.1): RFC 5246 section 5's `P_hash` with HMAC-SM3, the 48-byte master secret, the key
//! block and the 12-byte Finished values.

use zeroize::Zeroizing;

use crate::{HmacKey, Output};

/// `P_SM3(secret, label || seed)` written into `out` (RFC 5246 section 5:
/// `A(0) = seed`, `A(i) = HMAC(secret, A(i-1))`, output `HMAC(secret, A(i) || seed)`...).
pub(crate) fn prf(key: &dyn HmacKey, label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(seed.len() + 1);
    parts.push(label);
    parts.extend_from_slice(seed);
    let mut a: Output = key.sign(&parts);
    let mut filled = 0;
    while filled < out.len() {
        let mut block_parts: Vec<&[u8]> = Vec::with_capacity(parts.len() + 1);
        block_parts.push(a.as_ref());
        block_parts.extend_from_slice(&parts);
        let mut block = key.sign(&block_parts);
        let n = (out.len() - filled).min(block.as_ref().len());
        out[filled..filled + n].copy_from_slice(&block.as_ref()[..n]);
        filled += n;
        block.wipe();
        let next = key.sign(&[a.as_ref()]);
        a.wipe();
        a = next;
    }
    a.wipe();
}

/// The labels (RFC 5246 sections 7.4.9 and 8.1, kept by GB/T 38636-2020 6.5.1).
pub(crate) const MASTER_SECRET: &[u8] = b"master secret";
pub(crate) const KEY_EXPANSION: &[u8] = b"key expansion";
pub(crate) const CLIENT_FINISHED: &[u8] = b"client finished";
pub(crate) const SERVER_FINISHED: &[u8] = b"server finished";

/// `master_secret = PRF(pre_master_secret, "master secret", client_random + server_random)`,
/// 48 bytes.
pub(crate) fn master_secret(
    hmac: &dyn crate::Hmac,
    pre_master: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> Zeroizing<[u8; 48]> {
    let key = hmac.with_key(pre_master);
    let mut out = Zeroizing::new([0u8; 48]);
    prf(
        &*key,
        MASTER_SECRET,
        &[client_random, server_random],
        &mut out[..],
    );
    out
}

/// The key block: `PRF(master_secret, "key expansion", server_random + client_random)`.
pub(crate) fn key_block(
    hmac: &dyn crate::Hmac,
    master: &[u8; 48],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    len: usize,
) -> Zeroizing<Vec<u8>> {
    let key = hmac.with_key(master);
    let mut out = Zeroizing::new(vec![0u8; len]);
    prf(
        &*key,
        KEY_EXPANSION,
        &[server_random, client_random],
        &mut out,
    );
    out
}

/// A Finished message's 12-byte `verify_data`: `PRF(master_secret, label, SM3(handshake))`.
pub(crate) fn verify_data(
    hmac: &dyn crate::Hmac,
    master: &[u8; 48],
    label: &[u8],
    transcript_hash: &[u8],
) -> [u8; 12] {
    let key = hmac.with_key(master);
    let mut out = [0u8; 12];
    prf(&*key, label, &[transcript_hash], &mut out);
    out
}

#[cfg(all(test, feature = "rustcrypto"))]
mod tests {
    /// P_SHA256 through the same code: the TLS 1.2 PRF test vector widely used by
    /// implementations (secret 9bbe436b..., seed a0ba9f93..., label "test label", 100 bytes),
    /// as published on the IETF TLS list in 2010 and reproduced by Go's crypto/tls tests.
    #[test]
    fn p_hash_matches_the_tls12_prf_vector() {
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let hmac = crate::Backend::RustCrypto
            .hmac(crate::HashAlg::Sha256)
            .unwrap();
        let key = hmac.with_key(&hex("9bbe436ba940f017b17652849a71db35"));
        let mut out = [0u8; 100];
        super::prf(
            &*key,
            b"test label",
            &[&hex("a0ba9f936cda311827a6f796ffd5198c")],
            &mut out,
        );
        assert_eq!(
            out.to_vec(),
            hex(concat!(
                "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a",
                "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab",
                "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701",
                "87347b66"
            ))
        );
    }
}
