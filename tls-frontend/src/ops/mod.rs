//! Operations: the admin endpoint ([`admin`]: metrics, health, reload), Prometheus metrics
//! ([`metrics`]) and logging ([`log`]: operational lines and the access log).

pub mod admin;
pub mod log;
pub mod metrics;
