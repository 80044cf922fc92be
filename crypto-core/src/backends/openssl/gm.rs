//! The OpenSSL backend's GM half, on what OpenSSL 3.0's EVP layer has: SM3 (with HMAC and
//! HKDF), SM4 ECB/CBC/CTR, SM2 signatures (any ID, set as the `distid` parameter), SM2
//! encryption, and ECDH on curveSM2. OpenSSL 3.0 has no SM4-GCM or SM4-CCM (they arrived in
//! 3.2), so those are `Unsupported` here; the conformance suite asserts that.
//!
//! OpenSSL 3.0 signs with an *empty* SM2 ID when none is set (not "1234567812345678"), so this
//! backend always sets the ID explicitly.

use crate::backends::provider::Gm;
use crate::backends::provider::debug_fields;

use std::sync::Mutex;

use openssl::cipher::{Cipher, CipherRef};
use openssl::cipher_ctx::CipherCtx;
use openssl::md::Md;
use openssl::md_ctx::MdCtx;
use openssl::pkey::{HasPublic, PKey, Private, Public};
use openssl::pkey_ctx::{PkeyCtx, PkeyCtxRef};
use zeroize::Zeroizing;

use crate::backends::provider::failed;
use crate::keys::Material;
use crate::{CipherAlg, CipherKey, Error, PrivateKey, SignatureAlg, SigningKey, Verifier, sm2};

/// The GM extras, for the provider table.
pub(super) static GM: Gm = Gm::new(cipher, signing_key, verify, encrypt, decrypt);

pub(super) fn cipher(alg: CipherAlg, key: &[u8]) -> Result<Box<dyn CipherKey>, Error> {
    let cipher = match alg {
        CipherAlg::Sm4Ecb => Cipher::sm4_ecb(),
        CipherAlg::Sm4Cbc => Cipher::sm4_cbc(),
        CipherAlg::Sm4Ctr => Cipher::sm4_ctr(),
    };
    let bad = |_| Error::InvalidKey("SM4 key rejected");
    let mut enc = CipherCtx::new().map_err(failed)?;
    enc.encrypt_init(Some(cipher), Some(key), None)
        .map_err(bad)?;
    enc.set_padding(false);
    let mut dec = CipherCtx::new().map_err(failed)?;
    dec.decrypt_init(Some(cipher), Some(key), None)
        .map_err(bad)?;
    dec.set_padding(false);
    Ok(Box::new(Sm4Key {
        alg,
        cipher,
        enc: Mutex::new(enc),
        dec: Mutex::new(dec),
    }))
}

/// One initialized context per direction (key schedule once); each call only sets the IV.
struct Sm4Key {
    alg: CipherAlg,
    cipher: &'static CipherRef,
    enc: Mutex<CipherCtx>,
    dec: Mutex<CipherCtx>,
}

debug_fields!(Sm4Key, alg);

impl Sm4Key {
    fn run(&self, encrypt: bool, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
        let iv = if iv.is_empty() { None } else { Some(iv) };
        let mut ctx = if encrypt { &self.enc } else { &self.dec }
            .lock()
            .map_err(failed)?;
        if encrypt {
            ctx.encrypt_init(None, None, iv).map_err(failed)?;
        } else {
            ctx.decrypt_init(None, None, iv).map_err(failed)?;
        }
        debug_assert_eq!(
            self.cipher.block_size(),
            if self.alg == CipherAlg::Sm4Ctr { 1 } else { 16 }
        );
        // The `openssl` crate wants one block of slack in the output even with padding off
        // (and panics without it), so the output goes through a scratch buffer.
        let len = in_out.len();
        let mut out = Zeroizing::new(vec![0u8; len + 16]);
        let n = ctx.cipher_update(in_out, Some(&mut out)).map_err(failed)?;
        let tail = ctx.cipher_final(&mut out[n..]).map_err(failed)?;
        if n + tail != len {
            return Err(Error::Backend("OpenSSL SM4 output length"));
        }
        in_out.copy_from_slice(&out[..len]);
        Ok(())
    }
}

impl CipherKey for Sm4Key {
    fn algorithm(&self) -> CipherAlg {
        self.alg
    }

    fn encrypt(&self, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
        self.run(true, iv, in_out)
    }

    fn decrypt(&self, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
        self.run(false, iv, in_out)
    }
}

/// Sets the SM2 distinguishing ID on a signing or verifying context, after
/// `EVP_DigestSign/VerifyInit` and before any data (the provider computes Z on the first
/// update). The `openssl` crate has no wrapper for this parameter.
#[allow(unsafe_code)]
fn set_distid<T>(ctx: &mut PkeyCtxRef<T>, id: &[u8]) -> Result<(), Error> {
    use foreign_types::ForeignTypeRef;
    let mut id_buf = id.to_vec();
    // SAFETY: `params` is a two-element OSSL_PARAM array ending in the end marker, whose
    // octet-string element points at `id_buf` (alive and unmoved until after the call, which
    // copies it: OSSL_PKEY_PARAM_DIST_ID is copied by the SM2 provider's set_ctx_params). The
    // key name is a NUL-terminated static string, and `ctx.as_ptr()` is a live EVP_PKEY_CTX
    // borrowed mutably for the call.
    let rc = unsafe {
        let params = [
            openssl_sys::OSSL_PARAM_construct_octet_string(
                c"distid".as_ptr(),
                id_buf.as_mut_ptr().cast(),
                id_buf.len(),
            ),
            openssl_sys::OSSL_PARAM_construct_end(),
        ];
        openssl_sys::EVP_PKEY_CTX_set_params(ctx.as_ptr(), params.as_ptr())
    };
    if rc > 0 {
        Ok(())
    } else {
        Err(Error::Backend("OpenSSL refused the SM2 ID"))
    }
}

/// The SM2 public key as OpenSSL's SM2 key type: decoded from a SubjectPublicKeyInfo, which
/// OpenSSL 3 maps to its SM2 key manager (an `EC_KEY` on the SM2 curve would sign ECDSA).
fn public_pkey(point: &[u8]) -> Option<PKey<Public>> {
    if point.len() != 65 || point[0] != 4 {
        return None;
    }
    let spki = crate::der::spki(
        crate::der::oid::EC_PUBLIC_KEY,
        crate::der::Params::Oid(crate::der::oid::SM2_CURVE),
        point,
    );
    PKey::public_key_from_der(&spki).ok()
}

fn private_pkey(key: &PrivateKey) -> Result<PKey<Private>, Error> {
    let Material::Ec { pkcs8, .. } = key.material() else {
        return Err(Error::InvalidKey("not an SM2 key"));
    };
    PKey::private_key_from_der(pkcs8)
        .map_err(|_| Error::InvalidKey("SM2 private key rejected by OpenSSL"))
}

pub(super) fn signing_key(key: &PrivateKey, id: &[u8]) -> Result<Box<dyn SigningKey>, Error> {
    Ok(Box::new(Sm2Signer {
        pkey: private_pkey(key)?,
        id: id.to_vec(),
        public: key.public_key().to_vec(),
    }))
}

struct Sm2Signer {
    pkey: PKey<Private>,
    id: Vec<u8>,
    public: Vec<u8>,
}

debug_fields!(Sm2Signer);

impl SigningKey for Sm2Signer {
    fn algorithm(&self) -> SignatureAlg {
        SignatureAlg::Sm2Sm3
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let mut md = MdCtx::new().map_err(failed)?;
        let pctx = md
            .digest_sign_init(Some(Md::sm3()), &self.pkey)
            .map_err(failed)?;
        set_distid(pctx, &self.id)?;
        let mut sig = Vec::with_capacity(72);
        md.digest_sign_to_vec(message, &mut sig)
            .map_err(|_| Error::Backend("OpenSSL SM2 signing failed"))?;
        Ok(sig)
    }

    fn public_key(&self) -> &[u8] {
        &self.public
    }
}

pub(super) fn verify(pk: &[u8], id: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
    let pkey = public_pkey(pk).ok_or(Error::BadSignature)?;
    verify_with(&pkey, id, msg, sig)
}

fn verify_with<T: HasPublic>(
    pkey: &PKey<T>,
    id: &[u8],
    msg: &[u8],
    sig: &[u8],
) -> Result<(), Error> {
    let mut md = MdCtx::new().map_err(failed)?;
    let pctx = md
        .digest_verify_init(Some(Md::sm3()), pkey)
        .map_err(failed)?;
    set_distid(pctx, id)?;
    match md.digest_verify(msg, sig) {
        Ok(true) => Ok(()),
        _ => Err(Error::BadSignature),
    }
}

#[derive(Debug)]
pub(super) struct Sm2Verifier;

impl Verifier for Sm2Verifier {
    fn algorithm(&self) -> SignatureAlg {
        SignatureAlg::Sm2Sm3
    }

    fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Error> {
        verify(public_key, sm2::DEFAULT_ID, message, signature)
    }
}

pub(super) fn encrypt(pk: &[u8], msg: &[u8]) -> Result<Vec<u8>, Error> {
    let pkey = public_pkey(pk).ok_or(Error::InvalidKey("SM2 public key not on the curve"))?;
    let mut ctx = PkeyCtx::new(&pkey).map_err(failed)?;
    ctx.encrypt_init().map_err(failed)?;
    let mut der = Vec::new();
    ctx.encrypt_to_vec(msg, &mut der)
        .map_err(|_| Error::Backend("OpenSSL SM2 encryption failed"))?;
    sm2::der_to_raw(&der)
}

pub(super) fn decrypt(key: &PrivateKey, raw: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    public_pkey(&raw[..65]).ok_or(Error::InvalidPeerKey)?;
    let pkey = private_pkey(key)?;
    let der = sm2::raw_to_der(raw)?;
    let mut ctx = PkeyCtx::new(&pkey).map_err(failed)?;
    ctx.decrypt_init().map_err(failed)?;
    let mut out = Zeroizing::new(Vec::new());
    ctx.decrypt_to_vec(&der, &mut out)
        .map_err(|_| Error::DecryptFailed)?;
    Ok(out)
}
