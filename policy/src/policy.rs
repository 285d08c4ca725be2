//! The policy itself: what was allowed, resolved once by
//! [`crate::PolicyBuilder::build`], and read by the decisions.

use crate::builder::PolicyBuilder;
use crate::cwd::DirGrant;
use crate::limits::Limits;
use crate::sandbox::{KernelFacts, Sandbox};
use crate::signal::Signal;
use crate::{env, programs};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A deny-by-default capability policy for one guest.
///
/// Build one with [`Policy::builder`] (in code) or from a TOML file with
/// [`crate::PolicyFile`]. An empty policy allows nothing.
///
/// ```
/// let policy = procgate_policy::Policy::default();
/// assert!(policy.shell().is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub(crate) programs: programs::Programs,
    pub(crate) shell: Option<PathBuf>,
    pub(crate) env: env::EnvRules,
    pub(crate) dirs: Vec<DirGrant>,
    pub(crate) default_cwd: Option<String>,
    pub(crate) signals: Option<BTreeSet<Signal>>,
    pub(crate) limits: Limits,
    pub(crate) sandbox: Sandbox,
    /// What the kernel offers, read when the policy was built.
    pub(crate) kernel: KernelFacts,
    /// Name patterns of variables whose values the audit log withholds.
    pub(crate) secret_env: globset::GlobSet,
    pub(crate) warnings: Vec<String>,
    /// Learn mode: allow what the host can contain and record every
    /// request here (see [`crate::learn`]).
    pub(crate) learn: Option<std::sync::Arc<crate::learn::Recorder>>,
    /// The ask tier and the deny entries ([`crate::ask`]).
    pub(crate) ask: crate::ask::AskTier,
}

impl Policy {
    /// Starts building a policy; see [`PolicyBuilder`].
    ///
    /// ```
    /// let p = procgate_policy::Policy::builder().build().unwrap();
    /// ```
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }

    /// The shell `create-subprocess-shell` runs, if granted.
    ///
    /// ```
    /// assert!(procgate_policy::Policy::default().shell().is_none());
    /// ```
    pub fn shell(&self) -> Option<&Path> {
        self.shell.as_deref()
    }

    /// The granted working directories.
    ///
    /// ```
    /// assert!(procgate_policy::Policy::default().dirs().is_empty());
    /// ```
    pub fn dirs(&self) -> &[DirGrant] {
        &self.dirs
    }

    /// The limits.
    ///
    /// ```
    /// assert_eq!(procgate_policy::Policy::default().limits().max_live, None);
    /// ```
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether the audit log withholds the value of variable `name`
    /// (see [`PolicyBuilder::secret_env`]).
    ///
    /// ```
    /// assert!(!procgate_policy::Policy::default().is_secret_env("TOKEN"));
    /// ```
    pub fn is_secret_env(&self, name: &str) -> bool {
        self.secret_env.is_match(name)
    }

    /// What building the policy warned about: entries that can never
    /// match on this host (an allowed program or shell that does not
    /// exist). Each was also logged as an audit event.
    ///
    /// ```
    /// assert!(procgate_policy::Policy::default().warnings().is_empty());
    /// ```
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The filesystem sandbox settings.
    ///
    /// ```
    /// use procgate_policy::sandbox::LandlockMode;
    /// assert_eq!(procgate_policy::Policy::default().sandbox().landlock, LandlockMode::Off);
    /// ```
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// What the kernel offers, as read when the policy was built.
    ///
    /// ```
    /// let p = procgate_policy::Policy::builder().build().unwrap();
    /// assert!(p.kernel().landlock_abi >= 0);
    /// ```
    pub fn kernel(&self) -> KernelFacts {
        self.kernel
    }
}
