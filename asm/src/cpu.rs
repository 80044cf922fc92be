//! CPU-feature detection, done once and cached, handed out as a witness value.
//!
//! `ASM_CPU_FEATURES` (read once, at first use) narrows what is reported, so tests can force
//! each kernel path on one machine: `portable` hides everything, or a comma-separated list
//! (`aesni,avx2`) keeps only those features that the CPU really has.

use std::fmt;
use std::sync::OnceLock;

/// One CPU feature a kernel may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Feature {
    /// AES-NI.
    AesNi,
    /// PCLMULQDQ (carry-less multiply, 128-bit).
    Pclmulqdq,
    /// AVX2.
    Avx2,
    /// BMI2 (MULX, RORX).
    Bmi2,
    /// ADX (ADCX, ADOX).
    Adx,
    /// SHA-NI.
    Sha,
    /// AVX-512 Foundation plus BW and VL.
    Avx512,
    /// GFNI (Galois-field affine transforms).
    Gfni,
    /// VAES (vector AES on 256/512-bit registers).
    Vaes,
    /// VPCLMULQDQ (vector carry-less multiply).
    Vpclmulqdq,
    /// AVX-512 IFMA (52-bit integer multiply-add), reported only with AVX-512 F/BW/VL.
    Ifma,
    /// A GenuineIntel CPU: a tuning hint, not an instruction set (as bit 30 of OpenSSL's
    /// `OPENSSL_ia32cap`). Kernels whose best arrangement differs between Intel and AMD cores
    /// choose by it; since it enables no instruction, `ASM_CPU_FEATURES` may also set it on
    /// other CPUs, so that both arrangements can be forced and tested anywhere.
    Intel,
}

impl Feature {
    /// Every feature, in display order.
    pub const ALL: &'static [Self] = &[
        Self::AesNi,
        Self::Pclmulqdq,
        Self::Avx2,
        Self::Bmi2,
        Self::Adx,
        Self::Sha,
        Self::Avx512,
        Self::Gfni,
        Self::Vaes,
        Self::Vpclmulqdq,
        Self::Ifma,
        Self::Intel,
    ];

    /// Lower-case name, as `ASM_CPU_FEATURES` spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::AesNi => "aesni",
            Self::Pclmulqdq => "pclmulqdq",
            Self::Avx2 => "avx2",
            Self::Bmi2 => "bmi2",
            Self::Adx => "adx",
            Self::Sha => "sha",
            Self::Avx512 => "avx512",
            Self::Gfni => "gfni",
            Self::Vaes => "vaes",
            Self::Vpclmulqdq => "vpclmulqdq",
            Self::Ifma => "ifma",
            Self::Intel => "intel",
        }
    }

    const fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// The features this process may use: a witness that detection happened.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Features(u32);

impl Features {
    /// The detected features (narrowed by `ASM_CPU_FEATURES`), detected once per process.
    pub fn get() -> Self {
        static DETECTED: OnceLock<Features> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            let hw = Self::hardware();
            match std::env::var("ASM_CPU_FEATURES") {
                Ok(spec) => hw.restricted_to(&spec),
                Err(_) => hw,
            }
        })
    }

    /// No features at all: forces the portable fallback.
    pub const fn portable() -> Self {
        Self(0)
    }

    /// Whether `feature` may be used.
    pub const fn has(self, feature: Feature) -> bool {
        self.0 & feature.bit() != 0
    }

    /// These features minus those not named in `spec` (`portable`, or a comma list of names).
    /// Never adds an instruction set the hardware lacks; the tuning hint `intel` is kept or
    /// set as named.
    pub fn restricted_to(self, spec: &str) -> Self {
        let mut keep = 0;
        for name in spec.split(',').map(str::trim) {
            if let Some(f) = Feature::ALL.iter().find(|f| f.name() == name) {
                keep |= f.bit();
            }
        }
        Self((self.0 & keep) | (keep & Feature::Intel.bit()))
    }

    /// For the Valgrind constant-time harness only (`examples/ct_check.rs`): Valgrind's
    /// emulated CPUID hides ADX although it executes ADCX/ADOX, so the harness adds back those
    /// of `names` that the host's `/proc/cpuinfo` lists. Not for any other use.
    #[doc(hidden)]
    pub fn with_host_cpuinfo(self, names: &[&str]) -> Self {
        let flags = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let Some(line) = flags.lines().find(|l| l.starts_with("flags")) else {
            return self;
        };
        let mut bits = self.0;
        for f in Feature::ALL {
            if names.contains(&f.name()) && line.split_whitespace().any(|w| w == f.name()) {
                bits |= f.bit();
            }
        }
        Self(bits)
    }

    #[cfg(target_arch = "x86_64")]
    fn hardware() -> Self {
        let mut bits = 0;
        let mut set = |on: bool, f: Feature| {
            if on {
                bits |= f.bit();
            }
        };
        set(std::arch::is_x86_feature_detected!("aes"), Feature::AesNi);
        set(
            std::arch::is_x86_feature_detected!("pclmulqdq"),
            Feature::Pclmulqdq,
        );
        set(std::arch::is_x86_feature_detected!("avx2"), Feature::Avx2);
        set(std::arch::is_x86_feature_detected!("bmi2"), Feature::Bmi2);
        set(std::arch::is_x86_feature_detected!("adx"), Feature::Adx);
        set(std::arch::is_x86_feature_detected!("sha"), Feature::Sha);
        set(
            std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vl"),
            Feature::Avx512,
        );
        set(std::arch::is_x86_feature_detected!("gfni"), Feature::Gfni);
        set(std::arch::is_x86_feature_detected!("vaes"), Feature::Vaes);
        set(
            std::arch::is_x86_feature_detected!("vpclmulqdq"),
            Feature::Vpclmulqdq,
        );
        set(
            std::arch::is_x86_feature_detected!("avx512ifma")
                && std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vl"),
            Feature::Ifma,
        );
        // CPUID leaf 0: the vendor string in EBX, EDX, ECX ("Genu" "ineI" "ntel").
        let vendor = std::arch::x86_64::__cpuid(0);
        set(
            (vendor.ebx, vendor.edx, vendor.ecx) == (0x756e_6547, 0x4965_6e69, 0x6c65_746e),
            Feature::Intel,
        );
        Self(bits)
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn hardware() -> Self {
        Self(0)
    }
}

impl fmt::Debug for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(
                Feature::ALL
                    .iter()
                    .filter(|x| self.has(**x))
                    .map(|x| x.name()),
            )
            .finish()
    }
}

impl fmt::Display for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Feature::ALL
            .iter()
            .filter(|x| self.has(**x))
            .map(|x| x.name())
            .collect();
        if names.is_empty() {
            f.write_str("portable")
        } else {
            f.write_str(&names.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restriction_only_removes_features() {
        let hw = Features::hardware();
        assert_eq!(hw.restricted_to("portable"), Features::portable());
        let aes_only = hw.restricted_to("aesni, nonsense");
        for f in Feature::ALL {
            assert_eq!(
                aes_only.has(*f),
                *f == Feature::AesNi && hw.has(Feature::AesNi),
                "{f:?}"
            );
        }
        let all: Vec<&str> = Feature::ALL.iter().map(|f| f.name()).collect();
        let everything = hw.restricted_to(&all.join(","));
        for f in Feature::ALL {
            // The tuning hint is set when named; instruction sets only kept.
            let want = hw.has(*f) || *f == Feature::Intel;
            assert_eq!(everything.has(*f), want, "{f:?}");
        }
        let hint = hw.restricted_to("bmi2,intel");
        assert!(hint.has(Feature::Intel));
        assert_eq!(hint.has(Feature::Bmi2), hw.has(Feature::Bmi2));
        assert!(!hw.restricted_to("bmi2").has(Feature::Intel));
    }

    #[test]
    fn detection_agrees_with_std_and_is_cached() {
        assert_eq!(Features::get(), Features::get());
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            Features::hardware().has(Feature::Avx2),
            std::arch::is_x86_feature_detected!("avx2")
        );
        assert_eq!(Features::portable().to_string(), "portable");
    }
}
