//! Resolving a [`SelectionSpec`]: `auto` is calibrated on this CPU or read from its profile
//! file (and the file written when it does not exist yet, for the rest of the fleet); the
//! spec's own overrides go on top. Profile files are the selection's text form with the
//! calibration's figures as comments ([`Calibration::to_profile`]).

use crate::speed::{Calibration, DEFAULT_BUDGET, preferred};
use crate::{Algorithm, Backend, Base, Selection, SelectionError, SelectionSpec, Target};

impl Selection {
    /// Calibrated on this CPU: every built backend measured per algorithm within
    /// [`DEFAULT_BUDGET`], keeping each algorithm's
    /// preferred backend unless another is [`MARGIN`](crate::speed::MARGIN) times
    /// faster. See [`Calibration`] for the figures behind the choice.
    pub fn auto() -> Self {
        Calibration::run(DEFAULT_BUDGET).selection
    }

    /// This selection with every algorithm whose chosen backend is not built into this binary
    /// (a profile from a build with OpenSSL, loaded by one without) moved to the preferred
    /// built backend that has it.
    pub fn usable_here(mut self) -> Self {
        for alg in Algorithm::all() {
            let b = self.backend_for(alg);
            if b.is_built() {
                continue;
            }
            if let Some(alt) = preferred(alg)
                .iter()
                .copied()
                .chain(Backend::built())
                .find(|x| x.is_built() && x.supports(alg))
            {
                self = self.with_override(Target::Alg(alg), alt);
            }
        }
        self
    }
}

impl SelectionSpec {
    /// The selection this spec names. With `auto`: the profile, when given and present, is
    /// loaded; otherwise this CPU is calibrated (well under a second) and, when a profile path
    /// is given, the result is written there for next time and for the rest of the fleet.
    pub fn resolve(&self) -> Result<Selection, SelectionError> {
        self.resolve_with(true)
    }

    /// As [`SelectionSpec::resolve`], but a missing profile is not written: what a dry run
    /// (`tls-frontend check`) needs, which must leave the disk as it found it.
    pub fn resolve_without_writing(&self) -> Result<Selection, SelectionError> {
        self.resolve_with(false)
    }

    fn resolve_with(&self, write_profile: bool) -> Result<Selection, SelectionError> {
        let mut sel = match self.base {
            Base::Backend(b) => Selection::single(b),
            Base::Auto => match &self.profile {
                Some(path) if path.exists() => {
                    let text = std::fs::read_to_string(path).map_err(|e| SelectionError {
                        line: 0,
                        message: format!("profile {}: {e}", path.display()),
                    })?;
                    text.parse::<Selection>().map_err(|e| SelectionError {
                        line: e.line,
                        message: format!("profile {}: {}", path.display(), e.message),
                    })?
                }
                Some(path) if write_profile => {
                    let cal = Calibration::run(DEFAULT_BUDGET);
                    // Written whole and renamed into place, so another instance of the fleet
                    // never reads half a profile.
                    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
                    std::fs::write(&tmp, cal.to_profile())
                        .and_then(|()| std::fs::rename(&tmp, path))
                        .map_err(|e| {
                            let _ = std::fs::remove_file(&tmp);
                            SelectionError {
                                line: 0,
                                message: format!("writing profile {}: {e}", path.display()),
                            }
                        })?;
                    cal.selection
                }
                Some(_) | None => Selection::auto(),
            },
        };
        if self.base == Base::Auto {
            sel = sel.usable_here();
        }
        Ok(sel.with_user_overrides(&self.overrides))
    }
}
