//! The TLS-offload proxy: terminates TLS 1.2/1.3 (RFC 8998 included) with the crypto backends
//! a `Selection` names and relays plaintext to upstreams.
//!
//! Rooms: `config` (the file), `state` (what a config loads into), `certs` (certificates and the
//! per-ClientHello choice), `tickets` (fleet-shared ticket keys), `proxy_proto` (PROXY v1/v2),
//! `upstream` (pools), `relay` (the copy loop), `server` (accept, handshake, reload, drain),
//! `admin` and `metrics`, `log`, `x509` (demo certificates), `demo`, `speed` (the backend
//! comparison table).

pub mod admin;
pub mod certs;
pub mod config;
pub mod demo;
pub mod hello;
pub mod log;
pub mod metrics;
pub mod names;
pub mod proxy_proto;
pub mod relay;
pub mod server;
pub mod speed;
pub mod state;
pub mod tickets;
pub mod upstream;
pub mod x509;
