//! SHA-256/384/512 with HMAC and HKDF from ring (the shared code is `ring_api::hash`).

use ::ring as lib;

use crate::{Error, Hash, HashAlg, HashContext, Hkdf, HkdfPrk, Hmac, HmacKey, Output};

crate::backends::ring_api::hash!();
