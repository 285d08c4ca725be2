//! The TOML form of a [`Policy`], read by the CLI's `--policy FILE`.
//! Every key is documented in the README's policy section and in
//! `examples/policy.toml`.
//!
//! ```toml
//! [programs]
//! allow = ["ls", "/usr/bin/python3", "/opt/tools/bin/*"]
//! deny = ["sh", "bash"]                 # wins over every allow
//! ask = ["curl"]                       # asked (hook or --prompt) when not allowed
//! default = "deny"                     # or "ask": unlisted programs are asked
//! search_path = ["/usr/bin", "/bin"]   # optional
//!
//! [[programs.rules]]
//! program = "git"
//! forbid_flags = ["-c", "--exec-path"]
//! args = [{ match = ["status"] }, { match = ["log"], rest = { glob = "--*" } }]
//!
//! [shell]
//! allow = true
//!
//! [env]
//! set = { LANG = "C.UTF-8" }
//! pass = ["HOME"]
//! guest_may_set = ["TERM", "GIT_AUTHOR_*"]
//!
//! [[dirs]]
//! host = "."
//! guest = "/work"
//!
//! [limits]
//! max_live = 4
//! timeout_secs = 30
//!
//! [sandbox]
//! landlock = "best-effort"
//! cgroup = "best-effort"
//!
//! [profiles.git-readonly]               # procgate run --profile git-readonly
//! programs.allow = ["git"]
//! ```
//!
//! The tables' types are in `file_tables.rs`; turning them into a
//! [`PolicyBuilder`] (and how a profile combines with the top level) in
//! `file_apply.rs`.

use crate::file_apply::{line_col, Layer};
pub use crate::file_tables::*;
use crate::PolicyBuilder;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A policy as written in a TOML file. Unknown keys are errors.
///
/// ```
/// let file: procgate_policy::PolicyFile =
///     procgate_policy::PolicyFile::parse("[programs]\nallow = [\"ls\"]\n", "inline.toml").unwrap();
/// let policy = file.into_builder(std::path::Path::new(".")).build().unwrap();
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// `[programs]`
    #[serde(default)]
    pub programs: Programs,
    /// `[shell]`
    #[serde(default)]
    pub shell: Shell,
    /// `[env]`
    #[serde(default)]
    pub env: Env,
    /// `[[dirs]]`
    #[serde(default)]
    pub dirs: Vec<Dir>,
    /// `[cwd]`
    #[serde(default)]
    pub cwd: Cwd,
    /// `[signals]`
    #[serde(default)]
    pub signals: Signals,
    /// `[limits]`
    #[serde(default)]
    pub limits: LimitsTable,
    /// `[sandbox]`
    #[serde(default)]
    pub sandbox: Sandbox,
    /// `[profiles.NAME]`: named policies in the top level's shape, chosen
    /// with `--profile NAME` ([`PolicyFile::into_builder_with_profile`]);
    /// they do not nest.
    #[serde(default)]
    pub profiles: BTreeMap<String, PolicyFile>,
    /// The file's name and text, for `line:column` in the messages of
    /// checks made when the policy is built.
    #[serde(skip)]
    pub(crate) source: Option<(String, String)>,
}

/// A policy file that could not be read or parsed. The message names the
/// file, the line and column, and the key path (`shell.alow`) at fault.
///
/// ```
/// let err = procgate_policy::PolicyFile::parse("[shell]\nalow = true\n", "p.toml").unwrap_err();
/// assert!(err.to_string().starts_with("p.toml:2:1: shell.alow: "));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PolicyFileError(String);

impl PolicyFile {
    /// Reads and parses a policy file.
    ///
    /// ```
    /// assert!(procgate_policy::PolicyFile::load("/no/such/policy.toml".as_ref()).is_err());
    /// ```
    pub fn load(path: &Path) -> Result<PolicyFile, PolicyFileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| PolicyFileError(format!("{}: {e}", path.display())))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses policy text; `name` is used in error messages.
    ///
    /// ```
    /// let file = procgate_policy::PolicyFile::parse("[shell]\nallow = true\n", "p.toml").unwrap();
    /// assert!(file.shell.allow);
    /// ```
    pub fn parse(text: &str, name: &str) -> Result<PolicyFile, PolicyFileError> {
        let at = |e: &toml::de::Error| {
            let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            format!("{name}:{line}:{col}")
        };
        let de = toml::Deserializer::parse(text)
            .map_err(|e| PolicyFileError(format!("{}: {}", at(&e), e.message().trim_end())))?;
        let mut file: PolicyFile = serde_path_to_error::deserialize(de).map_err(|e| {
            let inner = e.inner();
            let message = inner.message().trim_end();
            PolicyFileError(format!("{}: {}: {message}", at(inner), e.path()))
        })?;
        if let Some((outer, _)) = file.profiles.iter().find(|(_, p)| !p.profiles.is_empty()) {
            return Err(PolicyFileError(format!(
                "{name}: profiles.{outer}.profiles: profiles do not nest"
            )));
        }
        file.source = Some((name.to_string(), text.to_string()));
        Ok(file)
    }

    /// The names of the file's profiles, in order.
    ///
    /// ```
    /// let text = "[profiles.ci]\n[profiles.dev]\n";
    /// let file = procgate_policy::PolicyFile::parse(text, "p.toml").unwrap();
    /// assert_eq!(file.profile_names(), ["ci", "dev"]);
    /// ```
    pub fn profile_names(&self) -> Vec<&str> {
        self.profiles.keys().map(String::as_str).collect()
    }

    /// [`PolicyFile::into_builder`], then the profile `name` (if given) on
    /// top of the top level: lists add, a scalar key the profile sets
    /// replaces the top level's, the sandbox modes are the stricter of the
    /// two (see `docs/policy.md`). An unknown name is an error naming the
    /// known ones.
    ///
    /// ```
    /// let text = "[programs]\nallow = [\"ls\"]\n[profiles.git.programs]\nallow = [\"git\"]\n";
    /// let file = procgate_policy::PolicyFile::parse(text, "p.toml").unwrap();
    /// let err = file.into_builder_with_profile(".".as_ref(), Some("gti")).unwrap_err();
    /// assert_eq!(err.to_string(), "p.toml: no profile \"gti\" (the file has: git)");
    /// ```
    pub fn into_builder_with_profile(
        mut self,
        base: &Path,
        name: Option<&str>,
    ) -> Result<PolicyBuilder, PolicyFileError> {
        let profile = match name {
            None => None,
            Some(name) => Some(self.profiles.remove(name).ok_or_else(|| {
                let file = self.source.as_ref().map_or("policy", |(f, _)| f.as_str());
                let known = self.profile_names().join(", ");
                let known = if known.is_empty() {
                    "none".into()
                } else {
                    known
                };
                PolicyFileError(format!(
                    "{file}: no profile {name:?} (the file has: {known})"
                ))
            })?),
        };
        let source = self.source.clone();
        let b = self.into_builder(base);
        Ok(match (profile, name) {
            (Some(p), Some(name)) => p.apply(b, base, &source, Layer::Profile(name)),
            _ => b,
        })
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
