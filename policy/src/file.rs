//! The TOML form of a [`Policy`], read by the CLI's `--policy FILE`.
//! Every key is documented in the README's policy section and in
//! `examples/policy.toml`.
//!
//! ```toml
//! [programs]
//! allow = ["ls", "/usr/bin/python3"]
//! search_path = ["/usr/bin", "/bin"]   # optional
//!
//! ask = ["curl"]                       # asked (hook or --prompt) when not allowed
//! deny = ["rm"]                        # never, whatever allows or asks
//! default = "deny"                     # or "ask": unlisted programs are asked
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
//! ```

use crate::args::{ArgForm, ArgRules};
use crate::limits::{Limits, OsLimits};
use crate::sandbox::{CgroupMode, LandlockMode, Network, Sandbox as SandboxConfig};
use crate::signal::Signal;
use crate::{Policy, PolicyBuilder};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

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
    /// The file's name and text, for `line:column` in the messages of
    /// checks made when the policy is built.
    #[serde(skip)]
    source: Option<(String, String)>,
}

/// `[programs]`: the allowlist.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programs {
    /// Names (looked up on `search_path`) or absolute paths, any arguments.
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    /// Where names are looked up; default [`crate::DEFAULT_SEARCH_PATH`].
    pub search_path: Option<Spanned<Vec<PathBuf>>>,
    /// `[[programs.rules]]`: programs allowed with argument rules.
    #[serde(default)]
    pub rules: Vec<ProgramRule>,
    // --- the ask tier (crate::ask) ---
    /// Programs asked about (the hook, or `--prompt`) when no allow entry
    /// grants the request.
    #[serde(default)]
    pub ask: Vec<Spanned<String>>,
    /// Programs denied whatever allows or asks for them.
    #[serde(default)]
    pub deny: Vec<Spanned<String>>,
    /// What becomes of a program no entry lists: `"deny"` (default) or
    /// `"ask"`.
    #[serde(default)]
    pub default: crate::ask::ProgramDefault,
    // --- end of the ask tier ---
}

/// `[[programs.rules]]`: one program allowed with argument rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramRule {
    /// The program: a name or an absolute path.
    pub program: Spanned<String>,
    /// Flags refused anywhere in the arguments.
    #[serde(default)]
    pub forbid_flags: Vec<String>,
    /// The allowed forms of the argument list; none means any.
    #[serde(default)]
    pub args: Vec<ArgForm>,
}

/// `[shell]`: whether `create-subprocess-shell` is granted.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shell {
    /// Grant the shell. Default false.
    #[serde(default)]
    pub allow: bool,
    /// The shell binary (an absolute path); default `/bin/sh`.
    pub path: Option<Spanned<PathBuf>>,
}

/// `[env]`: the children's environment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Env {
    /// Variables set in every child.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Host variables passed to every child.
    #[serde(default)]
    pub pass: Vec<String>,
    /// Names, or narrow name patterns (globs), of variables the guest may
    /// set.
    #[serde(default)]
    pub guest_may_set: Vec<Spanned<String>>,
    /// Accept broad patterns in `guest_may_set` (`*`, `GIT_*`); see
    /// [`PolicyBuilder::unsafe_env_globs`].
    #[serde(default)]
    pub unsafe_env_globs: bool,
    /// Name patterns (globs) of variables whose values the audit log
    /// withholds (names are always logged).
    #[serde(default)]
    pub secret: Vec<String>,
}

/// `[[dirs]]`: one granted working directory.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dir {
    /// The host directory; relative paths are relative to the policy file.
    pub host: Spanned<PathBuf>,
    /// The guest path it is known by; default the same as `host`.
    pub guest: Option<String>,
}

/// `[cwd]`: the children's default working directory.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cwd {
    /// A guest path inside a granted directory; default the first grant.
    pub default: Option<String>,
}

/// `[signals]`: which signals the guest may send.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signals {
    /// Signal names (`term`, `kill`, `hup`, ...); none means all.
    pub allow: Option<Vec<Signal>>,
}

/// `[limits]`: see [`Limits`] and [`OsLimits`].
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsTable {
    /// Most children alive at once.
    pub max_live: Option<usize>,
    /// Most exited children whose handles the guest still holds.
    pub max_held: Option<usize>,
    /// Most children started in the guest's lifetime.
    pub max_spawns: Option<u64>,
    /// Wall-clock time per child: seconds (fractions allowed) or a
    /// duration string (`"30s"`, `"500ms"`).
    #[serde(default, deserialize_with = "crate::units::duration")]
    pub timeout_secs: Option<Duration>,
    /// Time between SIGTERM and SIGKILL after a timeout (as `timeout_secs`).
    #[serde(default, deserialize_with = "crate::units::duration")]
    pub kill_grace_secs: Option<Duration>,
    /// Most bytes one `communicate` buffers per stream (default 16 MiB).
    #[serde(default, deserialize_with = "crate::units::size")]
    pub communicate_bytes: Option<usize>,
    /// Most bytes all communicates of the guest hold at once (default 64 MiB).
    #[serde(default, deserialize_with = "crate::units::size")]
    pub buffered_bytes: Option<usize>,
    /// Most bytes of program name plus arguments.
    #[serde(default, deserialize_with = "crate::units::size")]
    pub max_arg_bytes: Option<usize>,
    /// Most bytes of the child's environment.
    #[serde(default, deserialize_with = "crate::units::size")]
    pub max_env_bytes: Option<usize>,
    /// `RLIMIT_CPU` seconds.
    pub cpu_secs: Option<u64>,
    /// `RLIMIT_AS` bytes.
    #[serde(default, deserialize_with = "crate::units::size")]
    pub address_space_bytes: Option<u64>,
    /// `RLIMIT_NOFILE`.
    pub open_files: Option<u64>,
    /// `RLIMIT_NPROC`.
    pub processes: Option<u64>,
    /// `PR_SET_NO_NEW_PRIVS`.
    #[serde(default)]
    pub no_new_privs: bool,
}

/// `[sandbox]`: the Landlock filesystem sandbox of children.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sandbox {
    /// `"off"` (default), `"best-effort"` or `"require"`.
    #[serde(default)]
    pub landlock: LandlockMode,
    /// Where children may read and execute; default
    /// [`crate::sandbox::DEFAULT_READ`].
    pub read: Option<Vec<PathBuf>>,
    /// Where children may write besides the granted directories.
    #[serde(default)]
    pub write: Vec<PathBuf>,
    /// `"off"`, `"best-effort"` (default) or `"require"`: a cgroup per
    /// child (see [`CgroupMode`]).
    #[serde(default)]
    pub cgroup: CgroupMode,
    /// `"any"` (default), `"none"`, or `["tcp-connect:443", ...]`.
    #[serde(default)]
    pub network: Network,
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
        file.source = Some((name.to_string(), text.to_string()));
        Ok(file)
    }

    /// `file:line:column: key` of a value, for the builder's messages.
    fn origin<T>(&self, value: &Spanned<T>, key: &str) -> String {
        match &self.source {
            Some((name, text)) => {
                let (line, col) = line_col(text, value.span().start);
                format!("{name}:{line}:{col}: {key}")
            }
            None => key.to_string(),
        }
    }

    /// Turns the file into a builder; relative paths (`dirs`, `sandbox`)
    /// are taken relative to `base` (the file's directory). Flags can then
    /// add to it.
    ///
    /// ```
    /// let file = procgate_policy::PolicyFile::default();
    /// let policy = file.into_builder(".".as_ref()).allow_program("ls").build().unwrap();
    /// ```
    pub fn into_builder(self, base: &Path) -> PolicyBuilder {
        let mut b = Policy::builder();
        for (i, p) in self.programs.allow.iter().enumerate() {
            b = b
                .origin(self.origin(p, &format!("programs.allow[{i}]")))
                .allow_program(p.get_ref());
        }
        for (i, rule) in self.programs.rules.iter().enumerate() {
            let rules = ArgRules {
                forms: rule.args.clone(),
                forbid_flags: rule.forbid_flags.clone(),
            };
            b = b
                .origin(self.origin(&rule.program, &format!("programs.rules[{i}].program")))
                .allow_program_with(rule.program.get_ref(), rules);
        }
        // The ask tier (crate::ask).
        for (i, p) in self.programs.ask.iter().enumerate() {
            b = b
                .origin(self.origin(p, &format!("programs.ask[{i}]")))
                .ask_program(p.get_ref());
        }
        for (i, p) in self.programs.deny.iter().enumerate() {
            b = b
                .origin(self.origin(p, &format!("programs.deny[{i}]")))
                .deny_program(p.get_ref());
        }
        b = b.default_ask(self.programs.default == crate::ask::ProgramDefault::Ask);
        if let Some(sp) = &self.programs.search_path {
            b = b
                .origin(self.origin(sp, "programs.search_path"))
                .search_path(sp.get_ref().clone());
        }
        if self.shell.allow {
            b = match &self.shell.path {
                Some(path) => b
                    .origin(self.origin(path, "shell.path"))
                    .allow_shell(path.get_ref()),
                None => b.origin("shell.allow").allow_shell("/bin/sh"),
            };
        }
        for (k, v) in &self.env.set {
            b = b.set_env(k, v);
        }
        for k in &self.env.pass {
            b = b.pass_env(k);
        }
        for (i, k) in self.env.guest_may_set.iter().enumerate() {
            b = b
                .origin(self.origin(k, &format!("env.guest_may_set[{i}]")))
                .allow_guest_env(k.get_ref());
        }
        for k in &self.env.secret {
            b = b.secret_env(k);
        }
        b = b.unsafe_env_globs(self.env.unsafe_env_globs);
        for (i, d) in self.dirs.iter().enumerate() {
            let host = d.host.get_ref();
            let guest = d
                .guest
                .clone()
                .unwrap_or_else(|| host.display().to_string());
            b = b
                .origin(self.origin(&d.host, &format!("dirs[{i}].host")))
                .dir(base.join(host), guest);
        }
        let mut b = b.origin("");
        if let Some(default) = self.cwd.default {
            b = b.default_cwd(default);
        }
        if let Some(signals) = self.signals.allow {
            b = b.allow_signals(signals);
        }
        let l = self.limits;
        b = b.limits(Limits {
            max_live: l.max_live,
            max_held: l.max_held,
            max_spawns: l.max_spawns,
            timeout: l.timeout_secs,
            kill_grace: l.kill_grace_secs,
            communicate_bytes: l.communicate_bytes,
            buffered_bytes: l.buffered_bytes,
            max_arg_bytes: l.max_arg_bytes,
            max_env_bytes: l.max_env_bytes,
            os: OsLimits {
                cpu_secs: l.cpu_secs,
                address_space: l.address_space_bytes,
                open_files: l.open_files,
                processes: l.processes,
                no_new_privs: l.no_new_privs,
            },
        });
        b.sandbox(SandboxConfig {
            landlock: self.sandbox.landlock,
            read: self
                .sandbox
                .read
                .map(|r| r.into_iter().map(|p| base.join(p)).collect()),
            write: self
                .sandbox
                .write
                .into_iter()
                .map(|p| base.join(p))
                .collect(),
            cgroup: self.sandbox.cgroup,
            network: self.sandbox.network,
        })
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.chars().count()
        - before[..before.rfind('\n').map(|i| i + 1).unwrap_or(0)]
            .chars()
            .count()
        + 1;
    (line, col)
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
