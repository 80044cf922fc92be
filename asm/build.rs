//! Compiles the C kernels in `csrc/` (x86-64 only; other targets use the portable code).
//! Each file enables its instruction sets per function with `target` attributes, so the
//! library still runs on CPUs without them: Rust calls a kernel only after detection says yes.

fn main() {
    println!("cargo:rerun-if-changed=csrc");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let ct_valgrind = std::env::var_os("CARGO_FEATURE_CT_VALGRIND").is_some();
    let mut build = cc::Build::new();
    if arch == "x86_64" {
        build
            .file("csrc/sm4_avx2.c")
            .file("csrc/sm4_avx512.c")
            .file("csrc/ghash_pclmul.c")
            .file("csrc/ghash_vpclmul.c");
    }
    if ct_valgrind {
        build.file("csrc/ct_valgrind.c");
    }
    if arch == "x86_64" || ct_valgrind {
        build
            .opt_level(3)
            .flag_if_supported("-fno-strict-aliasing")
            .warnings(true)
            .extra_warnings(true)
            .compile("tlsfe_asm");
    }
}
