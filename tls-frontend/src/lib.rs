//! The TLS-offload proxy: terminates TLS 1.2/1.3 (RFC 8998 included) with the crypto backends
//! a `Selection` names and relays plaintext to upstreams.
//!
//! The rooms, by concern:
//! - [`conn`]: the connection path, in phases: [`conn::accept`] -> [`conn::proxy_proto`] ->
//!   [`conn::hello`] (the ClientHello, read by the proxy; where a second handshake engine
//!   would branch) -> [`conn::choose`] -> [`conn::handshake`] -> [`conn::upstream`] ->
//!   [`conn::relay`] -> the access-log line. One typed [`conn::ConnError`].
//! - [`config`]: configuration and running state: the file ([`config::Config`]), what it loads
//!   into ([`config::state`]: selection, providers, listeners; [`config::certs`],
//!   [`config::tickets`], [`config::upstreams`]), the live proxy's shared state
//!   ([`config::running`], reload), certificate facts ([`config::x509`]) and names
//!   ([`config::names`]).
//! - [`ops`]: operations: the admin endpoint, metrics, logging.
//! - [`tools`]: the other commands: `speed`, `demo` and its certificates.
//! - [`serve`]: wires the rooms into a running process (listeners, admin, signals, drain).
//!
//! Dependencies point one way: `serve` -> `conn` -> `config` -> (nothing of ours but `ops`);
//! `ops` -> `config::running` for the admin endpoint; `tools` -> `config`.

pub mod config;
pub mod conn;
pub mod ops;
pub mod serve;
pub mod tools;
