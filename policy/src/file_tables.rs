//! The tables of a policy file, one type each, as serde reads them
//! (`PolicyFile` in `file.rs` holds them; `file_apply.rs` turns them into
//! a builder). Unknown keys are errors.

use crate::args::ArgForm;
use crate::sandbox::{CgroupMode, LandlockMode, Network};
use crate::signal::Signal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use toml::Spanned;

/// `[programs]`: the allowlist.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programs {
    /// Names (looked up on `search_path`) or absolute paths, any
    /// arguments; or a directory (`/opt/tools/bin/`) or a glob in the last
    /// component (`/opt/tools/bin/*`) of programs.
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    /// Programs refused whatever allows them: names, name globs, absolute
    /// paths, path globs or directories (`/opt/x/`).
    #[serde(default)]
    pub deny: Vec<Spanned<String>>,
    /// Where names are looked up; default [`crate::DEFAULT_SEARCH_PATH`].
    pub search_path: Option<Spanned<Vec<PathBuf>>>,
    /// `[[programs.rules]]`: programs allowed with argument rules.
    #[serde(default)]
    pub rules: Vec<ProgramRule>,
    /// Programs asked about (the hook, or `--prompt`) when no allow entry
    /// grants the request (the ask tier, [`crate::ask`]).
    #[serde(default)]
    pub ask: Vec<Spanned<String>>,
    /// What becomes of a program no entry lists: `"deny"` (the default)
    /// or `"ask"`.
    pub default: Option<crate::ask::ProgramDefault>,
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
    // The limit keys below repeat `LimitsTable`'s in shape only: a rule's
    // narrow the guest's, and serde's `flatten` would lose
    // `deny_unknown_fields` and the error positions.
    /// This program's children: wall-clock time (narrows
    /// `limits.timeout_secs`).
    #[serde(default, deserialize_with = "crate::units::duration")]
    pub timeout_secs: Option<Duration>,
    /// This program's children: `RLIMIT_CPU` (narrows `limits.cpu_secs`).
    pub cpu_secs: Option<u64>,
    /// This program's children: `RLIMIT_AS` (narrows the guest-wide one).
    #[serde(default, deserialize_with = "crate::units::size")]
    pub address_space_bytes: Option<u64>,
    /// This program's children: `RLIMIT_NOFILE` (narrows the guest-wide one).
    pub open_files: Option<u64>,
    /// This program's children: most bytes one `communicate` buffers per
    /// stream (narrows `limits.communicate_bytes`).
    #[serde(default, deserialize_with = "crate::units::size")]
    pub communicate_bytes: Option<usize>,
    /// This program's default working directory (a guest path in a grant).
    pub cwd: Option<String>,
    /// Variables set in this program's children, over every other source.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The host variables of `env.pass` this program's children get.
    pub pass_env: Option<Vec<String>>,
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
    /// Children may read it, never write in it (under Landlock).
    #[serde(default)]
    pub read_only: bool,
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

/// `[limits]`: see [`Limits`] and [`OsLimits`]. (`ProgramRule` repeats
/// some keys, in shape only.)
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
