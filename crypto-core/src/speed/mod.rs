//! Measuring backends: the code behind `auto` calibration and the `speed` command.
//!
//! A [`Bench`] names one operation (seal, digest, sign, ...) of one algorithm at one input size;
//! [`prepare`] builds it on a backend (keys made, buffers allocated, outside the timing) and
//! [`run_for`] times it. Everything here works on public, made-up inputs; the RSA key is a
//! published test key (RSA key generation is slow and not offered).

mod bench;
mod calibrate;
mod profile;

pub use bench::{Bench, Op, Runner, default_benches, prepare, run_for};
pub use calibrate::{
    Calibration, Choice, DEFAULT_BUDGET, MARGIN, Measure, calibrated_sizes, cpu_name, preferred,
};
