//! Our own kernels, and the CPU-feature detection they dispatch on.
//!
//! This crate depends on nothing of ours. Its low floor (assembly and intrinsics, the only place
//! `unsafe` will be allowed) takes a [`cpu::Features`] witness, so a kernel that needs a CPU
//! feature cannot be called without the detection having said yes.
#![deny(missing_docs)]

pub mod cpu;
mod ffi;

/// Constant-time test support: Memcheck client requests (no-ops outside Valgrind or without
/// the `ct-valgrind` feature).
pub mod ct {
    pub use crate::ffi::{ct_public, ct_secret, ct_secret_copy};
}
mod ghash;
pub mod sm2;
pub mod sm3;
pub mod sm4;
