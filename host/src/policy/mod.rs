//! The capability policy: what a guest may start, where, with what, and
//! which signals it may send.
//!
//! Nothing runs unless the policy says so. Every request from a guest goes
//! through [`Policy::decide`], the one place where procgate decides; each
//! decision is logged as a `tracing` event on the [`AUDIT_TARGET`] target.
//!
//! ```
//! use procgate::policy::Policy;
//!
//! let policy = Policy::builder()
//!     .allow_program("ls")
//!     .allow_program("/usr/bin/env")
//!     .allow_shell("/bin/sh")
//!     .build()
//!     .unwrap();
//! assert!(policy.shell().is_some());
//! ```

mod file;

use crate::error::{Error, Result};
use crate::signals::Signal;
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

pub use file::{PolicyFile, PolicyFileError};

/// The `tracing` target of audit events: one event per decision.
pub const AUDIT_TARGET: &str = "procgate::audit";

/// The search path used to resolve program names when the policy sets none.
/// The guest's `PATH` is never used.
pub const DEFAULT_SEARCH_PATH: &[&str] = &["/usr/local/bin", "/usr/bin", "/bin"];

/// A deny-by-default capability policy for one guest.
///
/// Build one with [`Policy::builder`] (in code) or from a TOML file with
/// [`PolicyFile`]. An empty policy allows nothing.
///
/// ```
/// let policy = procgate::policy::Policy::default();
/// assert!(policy.shell().is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Policy {
    programs: Vec<AllowedProgram>,
    search_path: Vec<PathBuf>,
    shell: Option<PathBuf>,
    env_set: Vec<(String, String)>,
    guest_env: Vec<String>,
    dirs: Vec<DirGrant>,
    signals: Option<BTreeSet<Signal>>,
}

/// One program the policy allows, as written and as resolved.
#[derive(Debug, Clone)]
struct AllowedProgram {
    /// The entry as written: a bare name or an absolute path.
    written: String,
    /// Where it resolved to (symlinks followed); none if it does not exist.
    resolved: Option<PathBuf>,
}

/// A host directory the guest may use as a child's working directory, under
/// the guest path it is known by.
#[derive(Debug, Clone)]
pub struct DirGrant {
    /// The host directory, canonical.
    pub host: PathBuf,
    /// The path the guest names it by (absolute, e.g. `/work`).
    pub guest: String,
}

/// Builds a [`Policy`] in code.
///
/// ```
/// let policy = procgate::policy::Policy::builder()
///     .allow_program("echo")
///     .set_env("LANG", "C.UTF-8")
///     .allow_guest_env("TERM")
///     .build()
///     .unwrap();
/// ```
#[derive(Debug, Default)]
pub struct PolicyBuilder {
    programs: Vec<String>,
    search_path: Option<Vec<PathBuf>>,
    shell: Option<PathBuf>,
    env_set: Vec<(String, String)>,
    guest_env: Vec<String>,
    dirs: Vec<(PathBuf, String)>,
    signals: Option<BTreeSet<Signal>>,
}

impl PolicyBuilder {
    /// Allows a program, by bare name (resolved on the search path) or by
    /// absolute path.
    pub fn allow_program(mut self, program: impl Into<String>) -> Self {
        self.programs.push(program.into());
        self
    }

    /// Sets the directories bare program names are looked up in, in order.
    /// Defaults to [`DEFAULT_SEARCH_PATH`].
    pub fn search_path(mut self, dirs: impl IntoIterator<Item = impl Into<PathBuf>>) -> Self {
        self.search_path = Some(dirs.into_iter().map(Into::into).collect());
        self
    }

    /// Grants `create-subprocess-shell`, run as `<shell> -c <cmd>`.
    ///
    /// Granting a shell grants every program the shell can reach: the
    /// program allowlist does not apply inside the shell command.
    pub fn allow_shell(mut self, shell: impl Into<PathBuf>) -> Self {
        self.shell = Some(shell.into());
        self
    }

    /// Sets a variable in every child's environment.
    pub fn set_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env_set.push((key.into(), value.into()));
        self
    }

    /// Lets the guest set the variable `name` in a child's environment.
    /// Loader variables (`LD_*`, ...) are refused even if named here.
    pub fn allow_guest_env(mut self, name: impl Into<String>) -> Self {
        self.guest_env.push(name.into());
        self
    }

    /// Grants the host directory `host` as a working directory, known to
    /// the guest as `guest`. The first granted directory is the default
    /// working directory of children.
    pub fn dir(mut self, host: impl Into<PathBuf>, guest: impl Into<String>) -> Self {
        self.dirs.push((host.into(), guest.into()));
        self
    }

    /// Restricts the signals the guest may send; by default it may send
    /// any signal in the WIT `signal` enum to its own children.
    pub fn allow_signals(mut self, signals: impl IntoIterator<Item = Signal>) -> Self {
        self.signals = Some(signals.into_iter().collect());
        self
    }

    /// Resolves the allowed programs and granted directories.
    ///
    /// Fails if a granted directory does not exist or a guest path is not
    /// absolute.
    pub fn build(self) -> anyhow::Result<Policy> {
        let search_path = self
            .search_path
            .unwrap_or_else(|| DEFAULT_SEARCH_PATH.iter().map(PathBuf::from).collect());
        let programs = self
            .programs
            .into_iter()
            .map(|written| {
                let resolved = resolve(&written, &search_path);
                AllowedProgram { written, resolved }
            })
            .collect();
        let mut dirs = Vec::new();
        for (host, guest) in self.dirs {
            let canonical = host
                .canonicalize()
                .map_err(|e| anyhow::anyhow!("granted directory {}: {e}", host.display()))?;
            anyhow::ensure!(
                guest.starts_with('/'),
                "guest path {guest:?} of {} must be absolute",
                host.display()
            );
            dirs.push(DirGrant {
                host: canonical,
                guest: normalize_guest(&guest).unwrap_or_else(|| "/".into()),
            });
        }
        Ok(Policy {
            programs,
            search_path,
            shell: self.shell,
            env_set: self.env_set,
            guest_env: self.guest_env,
            dirs,
            signals: self.signals,
        })
    }
}

/// What a guest asks for; the input of [`Policy::decide`].
#[derive(Debug)]
pub enum Request<'a> {
    /// `create-subprocess-exec`.
    Exec {
        /// The program as the guest named it.
        program: &'a str,
        /// Its arguments.
        args: &'a [String],
        /// The working directory and environment the guest asked for.
        env: &'a [(String, String)],
        /// The guest path of the working directory, if any.
        cwd: Option<&'a str>,
    },
    /// `create-subprocess-shell`.
    Shell {
        /// The command line.
        cmd: &'a str,
        /// The environment the guest asked for.
        env: &'a [(String, String)],
        /// The guest path of the working directory, if any.
        cwd: Option<&'a str>,
    },
    /// `send-signal`, `terminate` or `kill` to the guest's child `pid`.
    Signal {
        /// The child's process id.
        pid: u32,
        /// The signal.
        signal: Signal,
    },
}

/// What the policy allows: the input of [`crate::spawn`].
#[derive(Debug)]
pub enum Verdict {
    /// Start this program.
    Spawn(SpawnPlan),
    /// Deliver the signal.
    Signal,
}

/// A spawn the policy allowed, with everything resolved: the absolute path
/// to execute, the full argument and environment lists, the host cwd.
#[derive(Debug, Clone)]
pub struct SpawnPlan {
    /// The resolved absolute path that is executed.
    pub program: PathBuf,
    /// `argv[0]` as the guest named the program.
    pub arg0: String,
    /// The arguments after `argv[0]`.
    pub args: Vec<String>,
    /// The child's whole environment.
    pub env: Vec<(String, String)>,
    /// The child's working directory on the host.
    pub cwd: PathBuf,
}

/// Variable names refused in any environment the guest supplies: they let
/// a caller load code into, or change the behaviour of, the child.
fn is_injection_var(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "PATH",
        "BASH_ENV",
        "ENV",
        "IFS",
        "PYTHONSTARTUP",
        "PYTHONPATH",
        "PYTHONHOME",
        "PERL5LIB",
        "PERL5OPT",
        "RUBYOPT",
        "RUBYLIB",
        "NODE_OPTIONS",
        "GCONV_PATH",
        "SHELLOPTS",
        "BASHOPTS",
        "PS4",
        "PROMPT_COMMAND",
        "GIT_EXEC_PATH",
        "GIT_CONFIG_PARAMETERS",
    ];
    name.starts_with("LD_")
        || name.starts_with("DYLD_")
        || name.starts_with("BASH_FUNC_")
        || EXACT.contains(&name)
}

impl Policy {
    /// Starts building a policy; see [`PolicyBuilder`].
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }

    /// The shell `create-subprocess-shell` runs, if granted.
    pub fn shell(&self) -> Option<&Path> {
        self.shell.as_deref()
    }

    /// The granted working directories.
    pub fn dirs(&self) -> &[DirGrant] {
        &self.dirs
    }

    /// Decides a request: the one place where procgate says yes or no.
    ///
    /// Returns what to do, or [`Error::Denied`] naming the rule (or
    /// `not-found` / `invalid-argument`). Every outcome is logged as an
    /// audit event on [`AUDIT_TARGET`].
    ///
    /// ```
    /// use procgate::policy::{Policy, Request, Verdict};
    ///
    /// let policy = Policy::builder().allow_program("true").build().unwrap();
    /// let req = Request::Exec { program: "true", args: &[], env: &[], cwd: None };
    /// assert!(matches!(policy.decide(&req), Ok(Verdict::Spawn(_))));
    /// let req = Request::Exec { program: "/bin/sh", args: &[], env: &[], cwd: None };
    /// assert!(matches!(policy.decide(&req), Err(procgate::Error::Denied(_))));
    /// ```
    pub fn decide(&self, req: &Request<'_>) -> Result<Verdict> {
        let verdict = self.decide_inner(req);
        audit(req, &verdict);
        verdict
    }

    fn decide_inner(&self, req: &Request<'_>) -> Result<Verdict> {
        match *req {
            Request::Exec {
                program,
                args,
                env,
                cwd,
            } => {
                let path = self.resolve_program(program)?;
                self.plan(path, program.to_string(), args.to_vec(), env, cwd)
            }
            Request::Shell { cmd, env, cwd } => {
                let shell = self.shell.clone().ok_or_else(|| {
                    Error::Denied("shell not granted (create-subprocess-shell is off)".into())
                })?;
                check_nul("command", cmd)?;
                let arg0 = shell.display().to_string();
                let args = vec!["-c".to_string(), cmd.to_string()];
                self.plan(shell, arg0, args, env, cwd)
            }
            Request::Signal { signal, .. } => match &self.signals {
                Some(allowed) if !allowed.contains(&signal) => Err(Error::Denied(format!(
                    "signal {} not in allowed signals",
                    signal.name()
                ))),
                _ => Ok(Verdict::Signal),
            },
        }
    }

    fn plan(
        &self,
        program: PathBuf,
        arg0: String,
        args: Vec<String>,
        guest_env: &[(String, String)],
        cwd: Option<&str>,
    ) -> Result<Verdict> {
        for arg in &args {
            check_nul("argument", arg)?;
        }
        let mut env = self.env_set.clone();
        for (key, value) in guest_env {
            check_nul("environment variable", key)?;
            check_nul("environment variable", value)?;
            if key.is_empty() || key.contains('=') {
                return Err(Error::InvalidArgument(format!(
                    "invalid environment variable name {key:?}"
                )));
            }
            if is_injection_var(key) {
                return Err(Error::Denied(format!("env {key} refused")));
            }
            if !self.guest_env.iter().any(|n| n == key) {
                return Err(Error::Denied(format!(
                    "env {key} not in guest-settable variables"
                )));
            }
            env.retain(|(k, _)| k != key);
            env.push((key.clone(), value.clone()));
        }
        let cwd = self.resolve_cwd(cwd)?;
        Ok(Verdict::Spawn(SpawnPlan {
            program,
            arg0,
            args,
            env,
            cwd,
        }))
    }

    /// Finds the absolute path to execute for a program the guest named.
    fn resolve_program(&self, program: &str) -> Result<PathBuf> {
        check_nul("program", program)?;
        if program.is_empty() {
            return Err(Error::InvalidArgument("empty program name".into()));
        }
        if program.contains('/') && !program.starts_with('/') {
            return Err(Error::Denied(format!(
                "program {program:?} not in allow list (relative paths are never allowed)"
            )));
        }
        let resolved = resolve(program, &self.search_path);
        if let Some(path) = &resolved {
            if self
                .programs
                .iter()
                .any(|p| p.resolved.as_deref() == Some(path.as_path()))
            {
                return Ok(path.clone());
            }
        }
        // Allowed as written but missing on this host: say so.
        if self.programs.iter().any(|p| p.written == program) {
            return Err(Error::NotFound(format!(
                "program {program:?} is allowed but was not found"
            )));
        }
        Err(Error::Denied(format!(
            "program {program:?} not in allow list"
        )))
    }

    /// Maps the guest's cwd to a host directory inside a grant.
    fn resolve_cwd(&self, cwd: Option<&str>) -> Result<PathBuf> {
        let Some(cwd) = cwd else {
            return Ok(self
                .dirs
                .first()
                .map(|d| d.host.clone())
                .unwrap_or_else(|| PathBuf::from("/")));
        };
        check_nul("cwd", cwd)?;
        let denied = || Error::Denied(format!("cwd {cwd:?} is not inside a granted directory"));
        let guest = normalize_guest(cwd).ok_or_else(denied)?;
        // The longest grant whose guest path is a prefix of the request.
        let grant = self
            .dirs
            .iter()
            .filter(|d| {
                guest == d.guest || d.guest == "/" || guest.starts_with(&format!("{}/", d.guest))
            })
            .max_by_key(|d| d.guest.len())
            .ok_or_else(denied)?;
        let rest = guest[grant.guest.len()..].trim_start_matches('/');
        let host = grant.host.join(rest);
        let canonical = host.canonicalize().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::NotFound(format!("cwd {cwd:?}: {e}"))
            } else {
                Error::Io(format!("cwd {cwd:?}: {e}"))
            }
        })?;
        // A symlink inside the grant that leads out of it is an escape.
        if !canonical.starts_with(&grant.host) {
            return Err(denied());
        }
        if !canonical.is_dir() {
            return Err(Error::InvalidArgument(format!(
                "cwd {cwd:?} is not a directory"
            )));
        }
        Ok(canonical)
    }
}

/// Resolves a program name (on `search_path`) or absolute path to its
/// canonical path, if it exists and is a file.
fn resolve(program: &str, search_path: &[PathBuf]) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = if program.starts_with('/') {
        vec![PathBuf::from(program)]
    } else if program.contains('/') {
        vec![]
    } else {
        search_path.iter().map(|d| d.join(program)).collect()
    };
    candidates
        .into_iter()
        .filter_map(|c| c.canonicalize().ok())
        .find(|c| c.is_file())
}

/// Normalizes an absolute guest path lexically; `None` if it is relative or
/// climbs above `/` with `..`.
fn normalize_guest(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(s) => parts.push(s.to_str()?),
            Component::Prefix(_) => return None,
        }
    }
    Some(format!("/{}", parts.join("/")))
}

fn check_nul(what: &str, s: &str) -> Result<()> {
    if s.contains('\0') {
        return Err(Error::InvalidArgument(format!(
            "{what} contains a NUL byte"
        )));
    }
    Ok(())
}

/// Logs one decision as an audit event.
fn audit(req: &Request<'_>, verdict: &Result<Verdict>) {
    let outcome = match verdict {
        Ok(_) => "allow".to_string(),
        Err(e) => e.to_string(),
    };
    match (req, verdict) {
        (Request::Exec { program, args, .. }, Ok(Verdict::Spawn(plan))) => tracing::info!(
            target: AUDIT_TARGET, decision = "allow", request = "exec", program, ?args,
            resolved = %plan.program.display(), cwd = %plan.cwd.display(), "allowed exec {program:?}"
        ),
        (Request::Shell { cmd, .. }, Ok(Verdict::Spawn(plan))) => tracing::info!(
            target: AUDIT_TARGET, decision = "allow", request = "shell", cmd,
            shell = %plan.program.display(), cwd = %plan.cwd.display(), "allowed shell {cmd:?}"
        ),
        (Request::Exec { program, args, .. }, Err(_)) => tracing::warn!(
            target: AUDIT_TARGET, decision = "deny", request = "exec", program, ?args,
            "refused exec {program:?}: {outcome}"
        ),
        (Request::Shell { cmd, .. }, Err(_)) => tracing::warn!(
            target: AUDIT_TARGET, decision = "deny", request = "shell", cmd,
            "refused shell {cmd:?}: {outcome}"
        ),
        (Request::Signal { pid, signal }, Ok(_)) => tracing::info!(
            target: AUDIT_TARGET, decision = "allow", request = "signal", pid, signal = signal.name(),
            "allowed {} to {pid}", signal.name()
        ),
        (Request::Signal { pid, signal }, Err(_)) => tracing::warn!(
            target: AUDIT_TARGET, decision = "deny", request = "signal", pid, signal = signal.name(),
            "refused {} to {pid}: {outcome}", signal.name()
        ),
        (_, Ok(_)) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec<'a>(program: &'a str, args: &'a [String]) -> Request<'a> {
        Request::Exec {
            program,
            args,
            env: &[],
            cwd: None,
        }
    }

    #[test]
    fn empty_policy_denies_everything() {
        let p = Policy::default();
        assert!(matches!(
            p.decide(&exec("true", &[])),
            Err(Error::Denied(_))
        ));
        let shell = Request::Shell {
            cmd: "true",
            env: &[],
            cwd: None,
        };
        assert!(matches!(p.decide(&shell), Err(Error::Denied(_))));
    }

    #[test]
    fn names_resolve_on_policy_path_and_paths_must_match() {
        let p = Policy::builder().allow_program("true").build().unwrap();
        let Verdict::Spawn(plan) = p.decide(&exec("true", &[])).unwrap() else {
            panic!()
        };
        assert!(plan.program.is_absolute());
        // The same binary by absolute path is the same program.
        let abs = plan.program.display().to_string();
        assert!(p.decide(&exec(&abs, &[])).is_ok());
        for bad in ["./true", "../../bin/true", "bin/true", "sh", "/bin/sh"] {
            assert!(
                matches!(p.decide(&exec(bad, &[])), Err(Error::Denied(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn allowed_but_missing_is_not_found() {
        let p = Policy::builder()
            .allow_program("procgate-no-such-program")
            .build()
            .unwrap();
        assert!(matches!(
            p.decide(&exec("procgate-no-such-program", &[])),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn nul_bytes_and_loader_vars_are_refused() {
        let p = Policy::builder()
            .allow_program("true")
            .allow_guest_env("LD_PRELOAD")
            .build()
            .unwrap();
        let args = vec!["a\0b".to_string()];
        assert!(matches!(
            p.decide(&exec("true", &args)),
            Err(Error::InvalidArgument(_))
        ));
        let env = vec![("LD_PRELOAD".to_string(), "/tmp/x.so".to_string())];
        let req = Request::Exec {
            program: "true",
            args: &[],
            env: &env,
            cwd: None,
        };
        match p.decide(&req) {
            Err(Error::Denied(rule)) => assert_eq!(rule, "env LD_PRELOAD refused"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cwd_stays_inside_grants() {
        let dir = std::env::temp_dir().join(format!("procgate-policy-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let _ = std::fs::remove_file(dir.join("out"));
        std::os::unix::fs::symlink("/", dir.join("out")).unwrap();
        let p = Policy::builder()
            .allow_program("true")
            .dir(&dir, "/work")
            .build()
            .unwrap();
        let with_cwd = |cwd| Request::Exec {
            program: "true",
            args: &[],
            env: &[],
            cwd: Some(cwd),
        };
        let Verdict::Spawn(plan) = p.decide(&with_cwd("/work/sub")).unwrap() else {
            panic!()
        };
        assert_eq!(plan.cwd, dir.canonicalize().unwrap().join("sub"));
        for bad in [
            "/work/..",
            "/work/../etc",
            "/etc",
            "/work/out",
            "work",
            "/workx",
        ] {
            assert!(
                matches!(p.decide(&with_cwd(bad)), Err(Error::Denied(_))),
                "{bad}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
