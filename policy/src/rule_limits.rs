//! Per-program limits, working directory and environment
//! (`[[programs.rules]]` keys `timeout_secs`, `cpu_secs`,
//! `address_space_bytes`, `open_files`, `communicate_bytes`, `cwd`, `env`,
//! `pass_env`): they apply to the children of that program only, attached
//! to the file the program resolves to (every spelling of it gets them),
//! as argument rules are.
//!
//! A rule narrows, never widens: each limit is the smaller of the rule's
//! and the guest-wide one (`[limits]`; a larger one is clamped to it, as
//! for the OS limits); the guest-wide limits stay the cap. `pass_env`
//! names the host variables of `env.pass` the program's children get (the
//! others it passes are left out); a name `env.pass` does not pass is
//! refused when the policy is built. `cwd` is the program's default
//! working directory (the guest may still ask for another granted one);
//! `env` sets variables in its children over every other source, the
//! guest's included.

use crate::limits::{Limits, OsLimits};
use std::path::PathBuf;
use std::time::Duration;

/// What a rule sets for one program's children.
///
/// ```
/// use procgate_policy::{Policy, RuleLimits, SpawnRequest};
/// use std::time::Duration;
/// let limits = RuleLimits { timeout: Some(Duration::from_secs(5)), ..Default::default() };
/// let p = Policy::builder().allow_program("true").program_limits("true", limits).build().unwrap();
/// let plan = p.decide_spawn(&SpawnRequest::exec("true", &[])).unwrap();
/// assert_eq!(plan.timeout, Some(Duration::from_secs(5)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleLimits {
    /// Wall-clock time per child (the smaller of this and `limits.timeout`).
    pub timeout: Option<Duration>,
    /// `RLIMIT_CPU` seconds.
    pub cpu_secs: Option<u64>,
    /// `RLIMIT_AS` bytes.
    pub address_space: Option<u64>,
    /// `RLIMIT_NOFILE`.
    pub open_files: Option<u64>,
    /// Most bytes one `communicate` buffers from each of stdout and
    /// stderr (the smaller of this and `limits.communicate_bytes`).
    pub communicate_bytes: Option<usize>,
    /// The default working directory (a guest path inside a grant).
    pub cwd: Option<String>,
    /// Variables set in the program's children, over every other source.
    pub env: Vec<(String, String)>,
    /// The host variables passed to the program's children: a subset of
    /// `env.pass` (a name outside it does not load). `None`: all of
    /// `env.pass`.
    pub pass_env: Option<Vec<String>>,
}

/// The smaller of two optional limits (either alone if one is unset).
fn min<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl RuleLimits {
    /// Combines the rules of several entries for the same file: the
    /// smaller limits, the first `cwd`, every variable (the first entry's
    /// value wins), the host variables both pass.
    pub(crate) fn and(mut self, other: &RuleLimits) -> RuleLimits {
        self.timeout = min(self.timeout, other.timeout);
        self.cpu_secs = min(self.cpu_secs, other.cpu_secs);
        self.address_space = min(self.address_space, other.address_space);
        self.open_files = min(self.open_files, other.open_files);
        self.communicate_bytes = min(self.communicate_bytes, other.communicate_bytes);
        self.cwd = self.cwd.or_else(|| other.cwd.clone());
        self.pass_env = match (self.pass_env, &other.pass_env) {
            (Some(mine), Some(theirs)) => {
                Some(mine.into_iter().filter(|n| theirs.contains(n)).collect())
            }
            (mine, theirs) => mine.or_else(|| theirs.clone()),
        };
        for (k, v) in &other.env {
            if !self.env.iter().any(|(have, _)| have == k) {
                self.env.push((k.clone(), v.clone()));
            }
        }
        self
    }

    /// The timeout a child gets: the smaller of the rule's and `guest`.
    pub(crate) fn timeout(&self, guest: Option<Duration>) -> Option<Duration> {
        min(self.timeout, guest)
    }

    /// The OS limits a child gets: each the smaller of the rule's and
    /// `guest`'s.
    pub(crate) fn os(&self, guest: OsLimits) -> OsLimits {
        OsLimits {
            cpu_secs: min(self.cpu_secs, guest.cpu_secs),
            address_space: min(self.address_space, guest.address_space),
            open_files: min(self.open_files, guest.open_files),
            ..guest
        }
    }

    /// The `communicate` cap a child gets: the smaller of the rule's and
    /// `guest`'s ([`Limits::communicate_cap`]).
    pub(crate) fn communicate_cap(&self, guest: &Limits) -> usize {
        let cap = guest.communicate_cap();
        self.communicate_bytes.map_or(cap, |c| c.min(cap))
    }

    /// Sets the rule's variables in a child's environment.
    pub(crate) fn apply_env(&self, env: &mut Vec<(String, String)>) {
        for (k, v) in &self.env {
            env.retain(|(have, _)| have != k);
            env.push((k.clone(), v.clone()));
        }
    }
}

/// A rule's limits as written, for the program named `program`: resolved
/// with the allowlist (`programs.rs`).
pub(crate) type Written = (String, RuleLimits);

/// A rule's limits attached to a resolved file or a glob.
#[derive(Debug, Clone)]
pub(crate) struct Attached {
    /// The file the program resolved to, if it is not a glob.
    pub(crate) resolved: Option<PathBuf>,
    /// A directory or glob entry.
    pub(crate) glob: Option<crate::program_glob::ProgramGlob>,
    pub(crate) limits: RuleLimits,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_narrows_and_never_widens() {
        let rule = RuleLimits {
            timeout: Some(Duration::from_secs(5)),
            open_files: Some(64),
            ..Default::default()
        };
        assert_eq!(rule.timeout(None), Some(Duration::from_secs(5)));
        assert_eq!(
            rule.timeout(Some(Duration::from_secs(1))),
            Some(Duration::from_secs(1))
        );
        let guest = OsLimits {
            open_files: Some(32),
            cpu_secs: Some(9),
            ..Default::default()
        };
        let os = rule.os(guest);
        assert_eq!((os.open_files, os.cpu_secs), (Some(32), Some(9)));
    }

    #[test]
    fn a_communicate_cap_above_the_guests_is_clamped() {
        let rule = |c| RuleLimits {
            communicate_bytes: c,
            ..Default::default()
        };
        let guest = Limits {
            communicate_bytes: Some(1000),
            ..Default::default()
        };
        assert_eq!(rule(Some(100)).communicate_cap(&guest), 100);
        assert_eq!(rule(Some(5000)).communicate_cap(&guest), 1000);
        assert_eq!(rule(None).communicate_cap(&guest), 1000);
        let default = Limits::default();
        let huge = rule(Some(usize::MAX)).communicate_cap(&default);
        assert_eq!(huge, crate::DEFAULT_COMMUNICATE_BYTES);
    }

    #[test]
    fn rules_for_one_file_pass_what_both_pass() {
        let pass = |names: &[&str]| RuleLimits {
            pass_env: Some(names.iter().map(|n| n.to_string()).collect()),
            ..Default::default()
        };
        let both = pass(&["A", "B"]).and(&pass(&["B", "C"]));
        assert_eq!(both.pass_env, Some(vec!["B".to_string()]));
        let one = RuleLimits::default().and(&pass(&["A"]));
        assert_eq!(one.pass_env, Some(vec!["A".to_string()]));
    }
}
