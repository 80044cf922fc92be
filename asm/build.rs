//! Compiles the C kernels in `csrc/`.
//!
//! - Portable C (SM2, SM3) builds on every target.
//! - x86-64 kernels that enable their instruction sets per function with `target` attributes
//!   (SM4, GHASH) build with the default flags.
//! - x86-64 kernels written for one instruction-set level (SM2 with MULX/ADX/AVX2 or with
//!   AVX-512 IFMA, SM3 with BMI2, AVX2, AVX-512, or AVX-512VL with BMI2) build with that
//!   level's flags, each in its own object.
//!
//! Rust calls a kernel only after detection says its instructions exist (see `src/ffi.rs`).

fn base() -> cc::Build {
    let mut b = cc::Build::new();
    b.opt_level(3)
        .flag_if_supported("-fno-strict-aliasing")
        .warnings(true)
        .extra_warnings(true);
    if std::env::var_os("CARGO_FEATURE_CT_VALGRIND").is_some() {
        b.define("TLSFE_CT_VALGRIND", None);
    }
    b
}

fn main() {
    println!("cargo:rerun-if-changed=csrc");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let ct_valgrind = std::env::var_os("CARGO_FEATURE_CT_VALGRIND").is_some();
    let mut build = base();
    build
        .file("csrc/sm2_portable.c")
        .file("csrc/sm3_portable.c");
    if arch == "x86_64" {
        build
            .file("csrc/sm4_avx2.c")
            .file("csrc/sm4_avx512.c")
            .file("csrc/sm4_gfni1.c")
            .file("csrc/sm4_gfni1_vl.c")
            .file("csrc/ghash_pclmul.c")
            .file("csrc/ghash_vpclmul.c");
    }
    if ct_valgrind {
        build.file("csrc/ct_valgrind.c");
    }
    build.compile("tlsfe_asm");
    if arch == "x86_64" {
        base()
            .file("csrc/sm2_adx.c")
            .flag("-fno-tree-vectorize")
            .flag("-mbmi2")
            .flag("-madx")
            .flag("-mavx2")
            .compile("tlsfe_asm_adx");
        base()
            .file("csrc/sm2_ifma.c")
            .flag("-fno-tree-vectorize")
            .flag("-mbmi2")
            .flag("-madx")
            .flag("-mavx2")
            .flag("-mavx512f")
            .flag("-mavx512vl")
            .flag("-mavx512ifma")
            .compile("tlsfe_asm_ifma");
        base()
            .file("csrc/sm3_bmi2.c")
            .file("csrc/sm3_bmi2_rounds.c")
            .flag("-mbmi2")
            .compile("tlsfe_asm_bmi2");
        base()
            .file("csrc/sm3_avx512vl.c")
            .flag("-mbmi2")
            .flag("-mavx512f")
            .flag("-mavx512vl")
            .compile("tlsfe_asm_avx512vl");
        base()
            .file("csrc/sm3_avx2.c")
            .flag("-mavx2")
            .compile("tlsfe_asm_avx2");
        base()
            .file("csrc/sm3_avx512.c")
            .flag("-mavx512f")
            .flag("-mavx512bw")
            .flag("-mavx512vl")
            .flag("-mavx2")
            .compile("tlsfe_asm_avx512");
    }
}
