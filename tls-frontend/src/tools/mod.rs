//! The commands beside `serve`: [`speed`] (every backend side by side), [`demo`] (the proxy on
//! an embedded default) and [`democert`] (the X.509 certificates the demo and tests make).

pub mod demo;
pub mod democert;
pub mod speed;
