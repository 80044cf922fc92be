//! Our own kernels, and the CPU-feature detection they dispatch on.
//!
//! This crate depends on nothing of ours. Its low floor (`ffi/`: the C kernels of `csrc/`, one
//! file per family, the only place `unsafe` is allowed) takes a [`cpu::Features`] witness, so a
//! kernel that needs a CPU feature cannot be called without the detection having said yes.
//!
//! The rooms: [`cpu`] (detection, `ASM_CPU_FEATURES`), `ffi` (sm4, ghash, sm2, sm3 calls and
//! the constant-time marks), then the constructions: [`sm4`] (modes: ECB, CBC, CTR, GCM,
//! CCM), `ghash`, [`sm2`] (signatures, key agreement, encryption) and [`sm3`] (one message and
//! many at once).
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
