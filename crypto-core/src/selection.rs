//! A `Selection` maps every algorithm to the backend that computes it.
//!
//! A default backend plus overrides, by algorithm id (`aes-128-gcm`) or by family (`rsa`,
//! `sm4`, ...): the most specific entry wins. The same small text form is read from and written
//! to configuration files and the command line:
//!
//! ```text
//! backend = "ring"
//!
//! [override]
//! rsa = "aws-lc"
//! sm4 = "asm"
//! aes-128-gcm = "rustcrypto"
//! ```
//!
//! `backend = "auto"` (see [`SelectionSpec`]) measures the backends on this CPU and picks per
//! algorithm; its result can be saved as a profile file, which is this same text form. This
//! room is plain data and its text form; resolving `auto` (calibrating, reading and writing
//! profiles) lives with the measurements, in [`crate::speed`].

use core::fmt;
use core::str::FromStr;

use crate::{AeadAlg, Algorithm, Backend, HashAlg, KxAlg};

/// A group of algorithms that one override can name at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Family {
    /// AES-128-GCM and AES-256-GCM.
    AesGcm,
    /// ChaCha20-Poly1305.
    ChaCha20Poly1305,
    /// Every SM4 mode (GCM, CCM, ECB, CBC, CTR).
    Sm4,
    /// SHA-256/384/512 with their HMAC and HKDF.
    Sha2,
    /// SM3 with HMAC-SM3 and HKDF-SM3.
    Sm3,
    /// RSA PKCS#1 v1.5 and PSS signatures.
    Rsa,
    /// ECDSA on P-256 and P-384.
    Ecdsa,
    /// Ed25519.
    Ed25519,
    /// SM2 signatures, encryption and the key exchange protocol.
    Sm2,
    /// X25519 key agreement.
    X25519,
    /// ECDH on P-256 and P-384.
    Ecdh,
    /// ECDH on curveSM2.
    CurveSm2,
    /// ML-KEM (post-quantum key encapsulation).
    MlKem,
    /// The random number generator.
    Random,
}

impl Family {
    /// Every family, in display order.
    pub const ALL: &'static [Self] = &[
        Self::AesGcm,
        Self::ChaCha20Poly1305,
        Self::Sm4,
        Self::Sha2,
        Self::Sm3,
        Self::Rsa,
        Self::Ecdsa,
        Self::Ed25519,
        Self::Sm2,
        Self::X25519,
        Self::Ecdh,
        Self::CurveSm2,
        Self::MlKem,
        Self::Random,
    ];

    /// The name used in the text form.
    pub const fn name(self) -> &'static str {
        match self {
            Self::AesGcm => "aes-gcm",
            Self::ChaCha20Poly1305 => "chacha20-poly1305",
            Self::Sm4 => "sm4",
            Self::Sha2 => "sha2",
            Self::Sm3 => "sm3",
            Self::Rsa => "rsa",
            Self::Ecdsa => "ecdsa",
            Self::Ed25519 => "ed25519",
            Self::Sm2 => "sm2",
            Self::X25519 => "x25519",
            Self::Ecdh => "ecdh",
            Self::CurveSm2 => "curvesm2",
            Self::MlKem => "ml-kem",
            Self::Random => "random",
        }
    }

    /// The family an algorithm belongs to.
    pub fn of(alg: Algorithm) -> Self {
        let hash = |h: HashAlg| {
            if h == HashAlg::Sm3 {
                Self::Sm3
            } else {
                Self::Sha2
            }
        };
        match alg {
            Algorithm::Aead(AeadAlg::Aes128Gcm | AeadAlg::Aes256Gcm) => Self::AesGcm,
            Algorithm::Aead(AeadAlg::ChaCha20Poly1305) => Self::ChaCha20Poly1305,
            Algorithm::Aead(_) | Algorithm::Cipher(_) => Self::Sm4,
            Algorithm::Hash(h) | Algorithm::Hmac(h) | Algorithm::Hkdf(h) => hash(h),
            Algorithm::Signature(s) => match s.key_kind() {
                crate::KeyKind::Rsa => Self::Rsa,
                crate::KeyKind::EcP256 | crate::KeyKind::EcP384 => Self::Ecdsa,
                crate::KeyKind::Ed25519 => Self::Ed25519,
                _ => Self::Sm2,
            },
            Algorithm::Sm2Encryption | Algorithm::Sm2KeyExchange => Self::Sm2,
            Algorithm::Kx(k) | Algorithm::KxStatic(k) => match k {
                KxAlg::X25519 => Self::X25519,
                KxAlg::CurveSm2 => Self::CurveSm2,
                _ => Self::Ecdh,
            },
            Algorithm::Kem(_) => Self::MlKem,
            Algorithm::Random => Self::Random,
        }
    }
}

/// What an override names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A whole family.
    Family(Family),
    /// One algorithm.
    Alg(Algorithm),
}

impl Target {
    /// An algorithm whose id is also a family's name (`sm3`, `x25519`, `ed25519`,
    /// `chacha20-poly1305`, `random`) stands for that family, as it does in the text form.
    pub fn canonical(self) -> Self {
        match self {
            Self::Alg(a) => a.to_string().parse().unwrap_or(self),
            t => t,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Family(x) => f.write_str(x.name()),
            Self::Alg(a) => write!(f, "{a}"),
        }
    }
}

impl FromStr for Target {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        if let Some(f) = Family::ALL.iter().find(|f| f.name() == s) {
            return Ok(Self::Family(*f));
        }
        Algorithm::all()
            .into_iter()
            .find(|a| a.to_string() == s)
            .map(Self::Alg)
            .ok_or(())
    }
}

/// Which backend computes each algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    default: Backend,
    overrides: Vec<(Target, Backend)>,
}

impl Selection {
    /// Everything from one backend.
    pub fn single(backend: Backend) -> Self {
        Self {
            default: backend,
            overrides: Vec::new(),
        }
    }

    /// This selection with `target` computed by `backend` (replacing an earlier entry for the
    /// same target). An algorithm whose id is also a family's name (`sm3`, `x25519`,
    /// `ed25519`, `chacha20-poly1305`, `random`) stands for that family, as in the text form:
    /// splitting, say, SM3 from HMAC-SM3 across backends buys nothing.
    pub fn with_override(mut self, target: Target, backend: Backend) -> Self {
        let target = target.canonical();
        self.overrides.retain(|(t, _)| *t != target);
        self.overrides.push((target, backend));
        self.overrides.sort();
        self
    }

    /// This selection with what a user wrote on top: the user's entries always win over the
    /// ones already here (a calibration's per-algorithm choices included), and among the
    /// user's own the most specific wins. So `sha2 = "ring"` over an `auto` base that chose
    /// OpenSSL for `sha384` gives ring for every SHA-2 algorithm, while `sha2 = "ring"` with
    /// `sha384 = "openssl"` beside it keeps that one exception.
    pub fn with_user_overrides(mut self, overrides: &[(Target, Backend)]) -> Self {
        // Families first, each clearing what the base said inside it; then single algorithms,
        // which are more specific than any family entry.
        let user: Vec<(Target, Backend)> =
            overrides.iter().map(|&(t, b)| (t.canonical(), b)).collect();
        for &(t, b) in &user {
            if let Target::Family(f) = t {
                self.overrides.retain(|(x, _)| match x {
                    Target::Alg(a) => Family::of(*a) != f,
                    Target::Family(g) => *g != f,
                });
                self = self.with_override(t, b);
            }
        }
        for &(t, b) in &user {
            if let Target::Alg(_) = t {
                self = self.with_override(t, b);
            }
        }
        self
    }

    /// The default backend.
    pub fn default_backend(&self) -> Backend {
        self.default
    }

    /// The backend chosen for `alg`: an override naming the algorithm, else one naming its
    /// family, else the default.
    pub fn backend_for(&self, alg: Algorithm) -> Backend {
        let find = |t: Target| self.overrides.iter().find(|(x, _)| *x == t).map(|e| e.1);
        find(Target::Alg(alg))
            .or_else(|| find(Target::Family(Family::of(alg))))
            .unwrap_or(self.default)
    }

    /// Algorithms whose chosen backend does not implement them (or is not built), with that
    /// backend: what a provider built from this selection would lack.
    pub fn unsupported(&self) -> Vec<(Algorithm, Backend)> {
        Algorithm::all()
            .into_iter()
            .map(|a| (a, self.backend_for(a)))
            .filter(|(a, b)| !b.supports(*a))
            .collect()
    }
}

/// Why a selection text was refused: the 1-based line and what is wrong there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectionError {
    /// The line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SelectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "selection, line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for SelectionError {}

/// What a configuration says about backends: a base (one backend, or `auto`), an optional
/// profile file, and per-algorithm overrides. [`SelectionSpec::resolve`] turns it into a
/// [`Selection`], calibrating or loading the profile when the base is `auto`.
///
/// ```text
/// backend = "auto"                 # or a backend name
/// profile = "/var/lib/tls-frontend/crypto-profile"   # optional, with auto
///
/// [override]                       # also accepted as [crypto.override]
/// rsa = "aws-lc"
/// ```
///
/// Inside a larger TOML file the same keys sit under `[crypto]`; a `[crypto]` header line is
/// accepted and ignored, so the section can be handed over as is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectionSpec {
    /// The base.
    pub base: Base,
    /// With `auto`: where the calibration profile is read from, or written to if missing.
    pub profile: Option<std::path::PathBuf>,
    /// Overrides applied on top of the base, in order.
    pub overrides: Vec<(Target, Backend)>,
}

/// The base of a [`SelectionSpec`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// One backend for everything not overridden.
    Backend(Backend),
    /// Calibrated on this CPU (or loaded from the profile).
    Auto,
}

/// The line without its `# comment`; a `#` inside a quoted value is part of the value.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

impl FromStr for SelectionSpec {
    type Err = SelectionError;

    fn from_str(text: &str) -> Result<Self, SelectionError> {
        let mut base = None;
        let mut profile = None;
        let mut in_override = false;
        let mut overrides: Vec<(Target, Backend)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let err = |message: String| SelectionError {
                line: i + 1,
                message,
            };
            let line = strip_comment(raw).trim();
            if line.is_empty() {
                continue;
            }
            if line.starts_with('[') {
                match line {
                    "[override]" | "[crypto.override]" => in_override = true,
                    "[crypto]" => in_override = false,
                    _ => {
                        return Err(err(format!(
                            "unknown section {line} (only [override] or [crypto.override])"
                        )));
                    }
                }
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| err("expected `name = \"value\"`".into()))?;
            let (key, value) = (key.trim(), value.trim());
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or_else(|| err(format!("the value of {key} must be quoted")))?;
            if !in_override {
                match key {
                    "backend" => {
                        let b = if value == "auto" {
                            Base::Auto
                        } else {
                            Base::Backend(value.parse().map_err(|e| err(format!("{e}")))?)
                        };
                        if base.replace(b).is_some() {
                            return Err(err("`backend` given twice".into()));
                        }
                    }
                    "profile" => {
                        if value.is_empty() || value.contains('"') {
                            return Err(err(
                                "`profile` must be a non-empty path without quotes".into()
                            ));
                        }
                        if profile.replace(std::path::PathBuf::from(value)).is_some() {
                            return Err(err("`profile` given twice".into()));
                        }
                    }
                    _ => {
                        return Err(err(format!(
                            "unknown key {key} (expected `backend` or `profile`)"
                        )));
                    }
                }
                continue;
            }
            let backend: Backend = value.parse().map_err(|e| err(format!("{e}")))?;
            let target: Target = key
                .parse()
                .map_err(|()| err(format!("unknown algorithm or family {key}")))?;
            if overrides.iter().any(|(t, _)| *t == target) {
                return Err(err(format!("{key} given twice")));
            }
            overrides.push((target, backend));
        }
        let base = base.ok_or(SelectionError {
            line: 0,
            message: "no `backend = \"...\"` line".into(),
        })?;
        if profile.is_some() && base != Base::Auto {
            return Err(SelectionError {
                line: 0,
                message: "`profile` only goes with `backend = \"auto\"`".into(),
            });
        }
        Ok(Self {
            base,
            profile,
            overrides,
        })
    }
}

impl fmt::Display for SelectionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.base {
            Base::Auto => writeln!(f, "backend = \"auto\"")?,
            Base::Backend(b) => writeln!(f, "backend = \"{b}\"")?,
        }
        if let Some(p) = &self.profile {
            writeln!(f, "profile = \"{}\"", p.display())?;
        }
        if !self.overrides.is_empty() {
            writeln!(f, "\n[override]")?;
            for (t, b) in &self.overrides {
                writeln!(f, "{t} = \"{b}\"")?;
            }
        }
        Ok(())
    }
}

/// A concrete selection's text: a backend name (not `auto`) and overrides. This is also the
/// profile file format.
impl FromStr for Selection {
    type Err = SelectionError;

    fn from_str(text: &str) -> Result<Self, SelectionError> {
        let spec: SelectionSpec = text.parse()?;
        match spec.base {
            Base::Backend(b) => Ok(Selection::single(b).with_user_overrides(&spec.overrides)),
            Base::Auto => Err(SelectionError {
                line: 0,
                message: "`auto` needs calibration: parse a SelectionSpec and resolve it".into(),
            }),
        }
    }
}

impl fmt::Display for Selection {
    /// The canonical text form, which parses back to an equal selection.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "backend = \"{}\"", self.default)?;
        if !self.overrides.is_empty() {
            writeln!(f, "\n[override]")?;
            for (t, b) in &self.overrides {
                writeln!(f, "{t} = \"{b}\"")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SignatureAlg;

    #[test]
    fn most_specific_entry_wins() {
        let sel = Selection::single(Backend::Ring)
            .with_override(Target::Family(Family::Rsa), Backend::AwsLc)
            .with_override(
                Target::Alg(Algorithm::Signature(SignatureAlg::RsaPssSha256)),
                Backend::RustCrypto,
            );
        let rsa = |s| sel.backend_for(Algorithm::Signature(s));
        assert_eq!(rsa(SignatureAlg::RsaPkcs1Sha256), Backend::AwsLc);
        assert_eq!(rsa(SignatureAlg::RsaPssSha256), Backend::RustCrypto);
        assert_eq!(sel.backend_for(Algorithm::Random), Backend::Ring);
    }

    #[test]
    fn text_form_round_trips() {
        let text = "backend = \"ring\"\n\n[override]\nrsa = \"aws-lc\" # RSA from aws-lc\nsm4 = \"asm\"\naes-128-gcm = \"rustcrypto\"\n";
        let sel: Selection = text.parse().unwrap();
        assert_eq!(
            sel.backend_for(Algorithm::Aead(AeadAlg::Sm4Gcm)),
            Backend::Asm
        );
        assert_eq!(
            sel.backend_for(Algorithm::Aead(AeadAlg::Aes128Gcm)),
            Backend::RustCrypto
        );
        assert_eq!(
            sel.backend_for(Algorithm::Aead(AeadAlg::Aes256Gcm)),
            Backend::Ring
        );
        let printed = sel.to_string();
        assert_eq!(printed.parse::<Selection>().unwrap(), sel);
    }

    #[test]
    fn bad_text_names_the_line() {
        for (text, line) in [
            ("backend = \"nope\"", 1),
            (
                "backend = \"ring\"\n[override]\nrsa = \"ring\"\nrsa = \"aws-lc\"",
                4,
            ),
            ("backend = \"ring\"\n[override]\nfoo = \"ring\"", 3),
            ("backend = ring", 1),
            ("[elsewhere]", 1),
            ("backend = \"ring\"\nprofile = \"x\"", 0),
            ("backend = \"auto\"", 0),
            ("backend = \"auto\"\nprofile = \"\"", 2),
            ("backend = \"ring\"\nbackend = \"asm\"", 2),
        ] {
            let e = text.parse::<Selection>().unwrap_err();
            assert_eq!(e.line, line, "{text}: {e}");
        }
        assert!("# nothing".parse::<Selection>().is_err());
    }

    #[test]
    fn hash_inside_quotes_is_not_a_comment() {
        let spec: SelectionSpec =
            "backend = \"auto\" # calibrate\nprofile = \"/srv/#1/p\" # here\n"
                .parse()
                .unwrap();
        assert_eq!(
            spec.profile.as_deref(),
            Some(std::path::Path::new("/srv/#1/p"))
        );
        assert_eq!(spec.to_string().parse::<SelectionSpec>().unwrap(), spec);
    }

    #[test]
    fn every_algorithm_and_family_name_parses() {
        for a in Algorithm::all() {
            match a.to_string().parse::<Target>() {
                Ok(Target::Alg(x)) => assert_eq!(x, a),
                // A family of the same name, which contains the algorithm.
                Ok(Target::Family(f)) => assert_eq!(Family::of(a), f, "{a}"),
                Err(()) => panic!("{a} does not parse"),
            }
        }
        for f in Family::ALL {
            assert_eq!(f.name().parse::<Target>(), Ok(Target::Family(*f)));
        }
    }

    #[cfg(feature = "rustcrypto")]
    #[test]
    fn unsupported_lists_what_the_choice_lacks() {
        let sel = Selection::single(Backend::Ring);
        let missing = sel.unsupported();
        assert!(missing.contains(&(Algorithm::Aead(AeadAlg::Sm4Gcm), Backend::Ring)));
        let sel = sel.with_override(Target::Family(Family::Sm4), Backend::RustCrypto);
        assert!(
            !sel.unsupported()
                .iter()
                .any(|(a, _)| Family::of(*a) == Family::Sm4)
        );
    }
}
