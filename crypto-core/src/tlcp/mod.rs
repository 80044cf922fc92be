//! TLCP, the GM SSL protocol of GB/T 38636-2020 (formerly GM/T 0024-2014): a sans-IO server
//! and client. Bytes in, bytes out, as rustls's `Connection`: feed what the peer sent to
//! [`Connection::read_tls`], call [`Connection::process_new_packets`], send what
//! [`Connection::take_tls`] returns, and read and write plaintext with
//! [`Connection::read_plaintext`] and [`Connection::write_plaintext`].
//!
//! What it implements:
//! - Version 0x0101 in every record and hello; a TLS 1.1/1.2-style record layer (at most 2^14
//!   bytes of plaintext a record).
//! - The suites `ECC_SM4_CBC_SM3` (0xE013), `ECC_SM4_GCM_SM3` (0xE053), `ECDHE_SM4_CBC_SM3`
//!   (0xE011) and `ECDHE_SM4_GCM_SM3` (0xE051). No RSA or IBC suites.
//! - Two certificates a party (signing, encryption); ECC suites: the server signs the two
//!   randoms and its encryption certificate, the client SM2-encrypts a 48-byte pre-master
//!   to it; ECDHE suites: the SM2 key exchange of GB/T 32918.3 with the encryption keys and
//!   both parties' ephemeral keys (the server initiates), which needs client certificates.
//! - Client authentication (CertificateVerify: SM2 over SM3 of the handshake), optional or
//!   required; session resumption by session ID through a bounded [`SessionCache`]; no
//!   renegotiation (a `no_renegotiation` warning answers a request).
//!
//! Where deployed implementations differ, a server accepts both: the ECDHE ClientKeyExchange
//! with or without a 2-byte length before its ECParameters, a client Certificate with the
//! signing certificate alone or with both, the ECC ClientKeyExchange with or without its
//! length, a CertificateVerify with or without its length. The client sends what Tongsuo
//! expects. Unknown ClientHello extensions are ignored.
//!
//! A failed decryption of the pre-master is not observable: the server goes on with a random
//! pre-master and the handshake fails at Finished (RFC 5246 7.4.7.1's lesson). CBC records are
//! opened in constant time with respect to the padding (see `record`).

mod cbc_mac;
mod cert;
mod client;
mod codec;
mod config;
mod conn;
mod engine;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod msgs;
mod prf;
mod record;
mod server;
mod session;
mod suite;

pub use cert::{Cert, Credentials, Role};
pub use config::{
    ClientAuth, ClientConfig, ServerConfig, ServerVerification, is_tlcp_client_hello,
};
pub use conn::Connection;
pub use error::{AlertDescription, Error};
pub use record::{MAX_PLAINTEXT, VERSION};
pub use session::SessionCache;
pub use suite::Suite;
