//! The commands beside `serve`: [`speed`] (every backend side by side), [`demo`] (the proxy on
//! an embedded default), [`democert`] (the X.509 certificates the demo and tests make) and
//! [`tlcp_client`] (a TLCP client, as `openssl s_client` is for TLS).

pub mod demo;
pub mod democert;
pub mod speed;
pub mod tlcp_client;
