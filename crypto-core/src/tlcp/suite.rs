//! TLCP's cipher suites.

/// A TLCP cipher suite (GB/T 38636-2020 6.4.5.2.1 table 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Suite {
    /// `ECC_SM4_CBC_SM3` (0xE013).
    EccSm4CbcSm3,
    /// `ECC_SM4_GCM_SM3` (0xE053).
    EccSm4GcmSm3,
    /// `ECDHE_SM4_CBC_SM3` (0xE011).
    EcdheSm4CbcSm3,
    /// `ECDHE_SM4_GCM_SM3` (0xE051).
    EcdheSm4GcmSm3,
}

impl Suite {
    /// Every suite, in our default preference: GCM before CBC, ECC before ECDHE (ECDHE needs
    /// client certificates).
    pub const ALL: &'static [Self] = &[
        Self::EccSm4GcmSm3,
        Self::EccSm4CbcSm3,
        Self::EcdheSm4GcmSm3,
        Self::EcdheSm4CbcSm3,
    ];

    /// The code point.
    pub const fn code(self) -> u16 {
        match self {
            Self::EccSm4CbcSm3 => 0xE013,
            Self::EccSm4GcmSm3 => 0xE053,
            Self::EcdheSm4CbcSm3 => 0xE011,
            Self::EcdheSm4GcmSm3 => 0xE051,
        }
    }

    /// The standard's name (`ECC_SM4_CBC_SM3`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::EccSm4CbcSm3 => "ECC_SM4_CBC_SM3",
            Self::EccSm4GcmSm3 => "ECC_SM4_GCM_SM3",
            Self::EcdheSm4CbcSm3 => "ECDHE_SM4_CBC_SM3",
            Self::EcdheSm4GcmSm3 => "ECDHE_SM4_GCM_SM3",
        }
    }

    /// Tongsuo's (OpenSSL-style) name, as its `-cipher` option takes it.
    pub const fn openssl_name(self) -> &'static str {
        match self {
            Self::EccSm4CbcSm3 => "ECC-SM2-SM4-CBC-SM3",
            Self::EccSm4GcmSm3 => "ECC-SM2-SM4-GCM-SM3",
            Self::EcdheSm4CbcSm3 => "ECDHE-SM2-SM4-CBC-SM3",
            Self::EcdheSm4GcmSm3 => "ECDHE-SM2-SM4-GCM-SM3",
        }
    }

    /// Whether the key exchange is the SM2 key exchange protocol (else SM2 encryption).
    pub const fn is_ecdhe(self) -> bool {
        matches!(self, Self::EcdheSm4CbcSm3 | Self::EcdheSm4GcmSm3)
    }

    /// Whether records are SM4-GCM (else SM4-CBC with HMAC-SM3).
    pub const fn is_gcm(self) -> bool {
        matches!(self, Self::EccSm4GcmSm3 | Self::EcdheSm4GcmSm3)
    }

    /// A suite by either name, any case.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| {
            s.name().eq_ignore_ascii_case(name) || s.openssl_name().eq_ignore_ascii_case(name)
        })
    }
}

impl core::fmt::Display for Suite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
