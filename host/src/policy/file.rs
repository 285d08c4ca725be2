//! The TOML form of a [`Policy`], read by the CLI's `--policy FILE`.
//!
//! ```toml
//! [programs]
//! allow = ["ls", "/usr/bin/python3"]
//! search_path = ["/usr/bin", "/bin"]   # optional
//!
//! [shell]
//! allow = true
//! path = "/bin/sh"                      # optional
//!
//! [env]
//! set = { LANG = "C.UTF-8" }
//! guest_may_set = ["TERM"]
//!
//! [[dirs]]
//! host = "."
//! guest = "/work"
//!
//! [signals]
//! allow = ["term", "kill", "int"]      # optional; default: all
//! ```

use super::{Policy, PolicyBuilder};
use crate::signals::Signal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A policy as written in a TOML file. Unknown keys are errors.
///
/// ```
/// let file: procgate::policy::PolicyFile =
///     procgate::policy::PolicyFile::parse("[programs]\nallow = [\"ls\"]\n", "inline.toml").unwrap();
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
    /// `[signals]`
    #[serde(default)]
    pub signals: Signals,
}

/// `[programs]`: the allowlist.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programs {
    /// Names (looked up on `search_path`) or absolute paths.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Where names are looked up; default [`super::DEFAULT_SEARCH_PATH`].
    pub search_path: Option<Vec<PathBuf>>,
}

/// `[shell]`: whether `create-subprocess-shell` is granted.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shell {
    /// Grant the shell. Default false.
    #[serde(default)]
    pub allow: bool,
    /// The shell binary; default `/bin/sh`.
    pub path: Option<PathBuf>,
}

/// `[env]`: the children's environment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Env {
    /// Variables set in every child.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Variables the guest may set.
    #[serde(default)]
    pub guest_may_set: Vec<String>,
}

/// `[[dirs]]`: one granted working directory.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dir {
    /// The host directory; relative paths are relative to the policy file.
    pub host: PathBuf,
    /// The guest path it is known by; default the same as `host`.
    pub guest: Option<String>,
}

/// `[signals]`: which signals the guest may send.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signals {
    /// Signal names (`term`, `kill`, `hup`, ...); none means all.
    pub allow: Option<Vec<Signal>>,
}

/// A policy file that could not be read or parsed. The message names the
/// file, the line and column, and the key or value at fault.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PolicyFileError(String);

impl PolicyFile {
    /// Reads and parses a policy file.
    pub fn load(path: &Path) -> Result<PolicyFile, PolicyFileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| PolicyFileError(format!("{}: {e}", path.display())))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses policy text; `name` is used in error messages.
    pub fn parse(text: &str, name: &str) -> Result<PolicyFile, PolicyFileError> {
        toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
            PolicyFileError(format!("{name}:{line}:{col}: {}", e.message()))
        })
    }

    /// Turns the file into a builder; relative `dirs` are taken relative to
    /// `base` (the file's directory). Flags can then add to it.
    pub fn into_builder(self, base: &Path) -> PolicyBuilder {
        let mut b = Policy::builder();
        for p in self.programs.allow {
            b = b.allow_program(p);
        }
        if let Some(sp) = self.programs.search_path {
            b = b.search_path(sp);
        }
        if self.shell.allow {
            b = b.allow_shell(self.shell.path.unwrap_or_else(|| "/bin/sh".into()));
        }
        for (k, v) in self.env.set {
            b = b.set_env(k, v);
        }
        for k in self.env.guest_may_set {
            b = b.allow_guest_env(k);
        }
        for d in self.dirs {
            let guest = d.guest.unwrap_or_else(|| d.host.display().to_string());
            b = b.dir(base.join(d.host), guest);
        }
        if let Some(signals) = self.signals.allow {
            b = b.allow_signals(signals);
        }
        b
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = PolicyFile::parse("[programs]\nallow = [\"ls\"]\nalow = 1\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("p.toml:3:1: "), "{err}");
        assert!(err.contains("alow"), "{err}");
    }

    #[test]
    fn wrong_type_points_at_value() {
        let err = PolicyFile::parse("[shell]\nallow = \"yes\"\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("p.toml:2:9: "), "{err}");
    }

    #[test]
    fn unknown_signal_is_an_error() {
        let err = PolicyFile::parse("[signals]\nallow = [\"term\", \"sigfoo\"]\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("p.toml:2:18: "), "{err}");
        assert!(err.contains("sigfoo"), "{err}");
    }
}
