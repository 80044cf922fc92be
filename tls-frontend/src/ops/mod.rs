//! Operations: the admin endpoint ([`admin`]: metrics, health, reload), Prometheus metrics
//! ([`metrics`]), logging ([`log`]: operational lines and the access log) and readiness for
//! systemd ([`systemd`]: sd_notify), and the OCSP refresher ([`ocsp`]).

pub mod admin;
pub mod log;
pub mod metrics;
pub mod ocsp;
pub mod systemd;
