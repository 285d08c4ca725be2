//! The capability policy: what a guest may start, with which arguments,
//! environment and working directory, under which limits and sandbox, and
//! which signals it may send.
//!
//! Nothing runs unless the policy says so. Every request from a guest goes
//! through [`Policy::decide_with`] (or [`Policy::decide`], without embedder
//! hooks), the one place where procgate decides; each decision, allowed or
//! denied, is one `tracing` event on the [`AUDIT_TARGET`] target.
//!
//! ```
//! use procgate::policy::{ArgRules, Policy};
//!
//! let policy = Policy::builder()
//!     .allow_program("ls")
//!     .allow_program_with("find", ArgRules::default().forbid_flag("-exec").forbid_flag("-delete"))
//!     .allow_shell("/bin/sh")
//!     .build()
//!     .unwrap();
//! assert!(policy.shell().is_some());
//! ```

mod args;
pub mod audit;
mod cwd;
mod env;
mod file;
mod limits;
mod programs;
mod units;

use crate::error::{Error, Result};
use crate::hooks::{AllowAll, ProcgateHooks};
use crate::sandbox::{self, ChildSandbox, LandlockMode, Sandbox};
use crate::signals::Signal;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use args::{ArgForm, ArgPattern, ArgRules};
pub use cwd::DirGrant;
pub use env::is_refused_env;
pub use file::{PolicyFile, PolicyFileError};
pub use limits::{
    Limits, OsLimits, Usage, COMMUNICATE_OVERHEAD, DEFAULT_BUFFERED_BYTES,
    DEFAULT_COMMUNICATE_BYTES, DEFAULT_MAX_HELD,
};
pub use units::{parse_duration, parse_size};

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
    programs: programs::Programs,
    shell: Option<PathBuf>,
    env: env::EnvRules,
    dirs: Vec<DirGrant>,
    default_cwd: Option<String>,
    signals: Option<BTreeSet<Signal>>,
    limits: Limits,
    sandbox: Sandbox,
    /// Name patterns of variables whose values the audit log withholds.
    secret_env: globset::GlobSet,
    warnings: Vec<String>,
}

/// Builds a [`Policy`] in code.
///
/// ```
/// let policy = procgate::policy::Policy::builder()
///     .allow_program("echo")
///     .set_env("LANG", "C.UTF-8")
///     .pass_env("HOME")
///     .allow_guest_env("GIT_AUTHOR_*")
///     .build()
///     .unwrap();
/// ```
#[derive(Debug, Default)]
pub struct PolicyBuilder {
    programs: Vec<At<(String, Option<ArgRules>)>>,
    search_path: Option<At<Vec<PathBuf>>>,
    shell: Option<At<PathBuf>>,
    env_set: Vec<(String, String)>,
    env_pass: Vec<String>,
    guest_env: Vec<At<String>>,
    unsafe_env_globs: bool,
    secret_env: Vec<String>,
    dirs: Vec<At<(PathBuf, String)>>,
    default_cwd: Option<String>,
    signals: Option<BTreeSet<Signal>>,
    limits: Limits,
    sandbox: Sandbox,
    origin: Option<String>,
}

/// A policy entry and where it was written (`policy.toml:3:10:
/// programs.allow[1]`, `--allow`), for the messages of the checks made
/// when the policy is built.
#[derive(Debug, Clone)]
pub(crate) struct At<T> {
    pub(crate) value: T,
    pub(crate) at: Option<String>,
}

impl<T> At<T> {
    /// `message`, prefixed with where the entry was written.
    pub(crate) fn say(&self, message: impl std::fmt::Display) -> String {
        match &self.at {
            Some(at) => format!("{at}: {message}"),
            None => message.to_string(),
        }
    }
}

impl PolicyBuilder {
    fn at<T>(&self, value: T) -> At<T> {
        At {
            value,
            at: self.origin.clone(),
        }
    }

    /// Names where the entries added next come from (a file's
    /// `policy.toml:3:10: programs.allow[1]`, a flag's `--allow`): the
    /// checks [`PolicyBuilder::build`] makes prefix their messages with it.
    /// An empty string forgets it.
    ///
    /// ```
    /// let err = procgate::Policy::builder()
    ///     .origin("--allow")
    ///     .allow_program("./mytool")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().starts_with("--allow: program \"./mytool\""));
    /// ```
    pub fn origin(mut self, at: impl Into<String>) -> Self {
        self.origin = Some(at.into()).filter(|at| !at.is_empty());
        self
    }

    /// Allows a program, by bare name (resolved on the search path) or by
    /// absolute path, with any arguments.
    ///
    /// ```
    /// let p = procgate::Policy::builder().allow_program("/usr/bin/env").build().unwrap();
    /// ```
    pub fn allow_program(mut self, program: impl Into<String>) -> Self {
        let entry = self.at((program.into(), None));
        self.programs.push(entry);
        self
    }

    /// Allows a program with argument rules. The rules attach to the file
    /// the program resolves to: every spelling of it (name, absolute path,
    /// symlink) is checked against them, and against the rules of every
    /// other entry for the same file.
    ///
    /// ```
    /// use procgate::policy::{ArgForm, ArgRules};
    /// let p = procgate::Policy::builder()
    ///     .allow_program_with("git", ArgRules::default().form(ArgForm::exact(["status"])))
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn allow_program_with(mut self, program: impl Into<String>, rules: ArgRules) -> Self {
        let entry = self.at((program.into(), Some(rules)));
        self.programs.push(entry);
        self
    }

    /// Sets the directories bare program names are looked up in, in order.
    /// Defaults to [`DEFAULT_SEARCH_PATH`].
    ///
    /// ```
    /// let p = procgate::Policy::builder().search_path(["/usr/bin"]).build().unwrap();
    /// ```
    pub fn search_path(mut self, dirs: impl IntoIterator<Item = impl Into<PathBuf>>) -> Self {
        let dirs = dirs.into_iter().map(Into::into).collect();
        self.search_path = Some(self.at(dirs));
        self
    }

    /// Grants `create-subprocess-shell`, run as `<shell> -c <cmd>`.
    ///
    /// Granting a shell grants every program the shell can reach: the
    /// program allowlist does not apply inside the shell command (a
    /// Landlock sandbox still limits what it can execute and write).
    ///
    /// ```
    /// let p = procgate::Policy::builder().allow_shell("/bin/sh").build().unwrap();
    /// ```
    pub fn allow_shell(mut self, shell: impl Into<PathBuf>) -> Self {
        self.shell = Some(self.at(shell.into()));
        self
    }

    /// Sets a variable in every child's environment.
    ///
    /// ```
    /// let p = procgate::Policy::builder().set_env("LANG", "C.UTF-8").build().unwrap();
    /// ```
    pub fn set_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env_set.push((key.into(), value.into()));
        self
    }

    /// Passes the host's value of `name` (when set when the policy is
    /// built) to every child; [`PolicyBuilder::set_env`] wins over it.
    ///
    /// ```
    /// let p = procgate::Policy::builder().pass_env("HOME").build().unwrap();
    /// ```
    pub fn pass_env(mut self, name: impl Into<String>) -> Self {
        self.env_pass.push(name.into());
        self
    }

    /// Lets the guest set variables whose names match the glob `pattern`
    /// (`TERM`, `GIT_AUTHOR_*`). Loader and injection variables
    /// ([`is_refused_env`]) are refused even when they match; `PATH` only
    /// when named exactly.
    ///
    /// ```
    /// let p = procgate::Policy::builder().allow_guest_env("MY_APP_*").build().unwrap();
    /// ```
    pub fn allow_guest_env(mut self, pattern: impl Into<String>) -> Self {
        let entry = self.at(pattern.into());
        self.guest_env.push(entry);
        self
    }

    /// Accepts broad guest-variable patterns (`*`, `GIT_*`, ...) that
    /// [`PolicyBuilder::build`] otherwise refuses: a program's options can
    /// come from its environment (`TAR_OPTIONS`, `GIT_DIR`), so letting the
    /// guest set a whole namespace lets it around argument rules. The
    /// fixed refusals ([`is_refused_env`]) still apply.
    ///
    /// ```
    /// assert!(procgate::Policy::builder().allow_guest_env("*").build().is_err());
    /// let p = procgate::Policy::builder().allow_guest_env("*").unsafe_env_globs(true).build();
    /// assert!(p.is_ok());
    /// ```
    pub fn unsafe_env_globs(mut self, yes: bool) -> Self {
        self.unsafe_env_globs = yes;
        self
    }

    /// Marks variables whose names match the glob `pattern` (`TOKEN`,
    /// `AWS_*`) as secret: the audit log records their names, never their
    /// values.
    ///
    /// ```
    /// let p = procgate::Policy::builder().secret_env("*_TOKEN").build().unwrap();
    /// assert!(p.is_secret_env("GITHUB_TOKEN"));
    /// assert!(!p.is_secret_env("LANG"));
    /// ```
    pub fn secret_env(mut self, pattern: impl Into<String>) -> Self {
        self.secret_env.push(pattern.into());
        self
    }

    /// Grants the host directory `host` as a working directory, known to
    /// the guest as `guest`. Without a [`PolicyBuilder::default_cwd`],
    /// the first granted directory is the default working directory of
    /// children.
    ///
    /// ```
    /// let p = procgate::Policy::builder().dir("/tmp", "/scratch").build().unwrap();
    /// ```
    pub fn dir(mut self, host: impl Into<PathBuf>, guest: impl Into<String>) -> Self {
        let entry = self.at((host.into(), guest.into()));
        self.dirs.push(entry);
        self
    }

    /// Sets the default working directory of children: a guest path
    /// inside a granted directory.
    ///
    /// ```
    /// let p = procgate::Policy::builder().dir("/tmp", "/scratch").default_cwd("/scratch").build().unwrap();
    /// ```
    pub fn default_cwd(mut self, guest: impl Into<String>) -> Self {
        self.default_cwd = Some(guest.into());
        self
    }

    /// Restricts the signals the guest may send; by default it may send
    /// any signal in the WIT `signal` enum to its own children.
    ///
    /// ```
    /// use procgate::signals::Signal;
    /// let p = procgate::Policy::builder().allow_signals([Signal::Term]).build().unwrap();
    /// ```
    pub fn allow_signals(mut self, signals: impl IntoIterator<Item = Signal>) -> Self {
        self.signals = Some(signals.into_iter().collect());
        self
    }

    /// Replaces the limits.
    ///
    /// ```
    /// let limits = procgate::policy::Limits { max_live: Some(2), ..Default::default() };
    /// let p = procgate::Policy::builder().limits(limits).build().unwrap();
    /// ```
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Changes some limits, keeping the others (flags over a file, say).
    ///
    /// ```
    /// let p = procgate::Policy::builder().update_limits(|l| l.max_spawns = Some(10)).build().unwrap();
    /// assert_eq!(p.limits().max_spawns, Some(10));
    /// ```
    pub fn update_limits(mut self, f: impl FnOnce(&mut Limits)) -> Self {
        f(&mut self.limits);
        self
    }

    /// Replaces the filesystem sandbox settings.
    ///
    /// ```
    /// use procgate::sandbox::{LandlockMode, Sandbox};
    /// let sb = Sandbox { landlock: LandlockMode::BestEffort, ..Sandbox::default() };
    /// let p = procgate::Policy::builder().sandbox(sb).build().unwrap();
    /// ```
    pub fn sandbox(mut self, sandbox: Sandbox) -> Self {
        self.sandbox = sandbox;
        self
    }

    /// Sets only the Landlock mode of the sandbox.
    ///
    /// ```
    /// use procgate::sandbox::LandlockMode;
    /// let p = procgate::Policy::builder().landlock(LandlockMode::BestEffort).build().unwrap();
    /// ```
    pub fn landlock(mut self, mode: LandlockMode) -> Self {
        self.sandbox.landlock = mode;
        self
    }

    /// Resolves the allowed programs, opens the granted directories and
    /// checks the rest.
    ///
    /// Fails if a granted directory does not exist, a guest path is not
    /// absolute, the default cwd is not inside a grant; if a program entry
    /// is a relative path, or the shell is not an absolute path; if a
    /// program, the shell or a search-path directory can be written by the
    /// guest's children (inside a grant or `sandbox.write`) or by anyone
    /// but root and the host user; if a guest variable pattern is
    /// malformed, can only match refused variables, or is broad (`*`, a
    /// tool's whole namespace) without [`PolicyBuilder::unsafe_env_globs`].
    /// An allowed program or shell that does not exist is a warning (an
    /// audit event, and [`Policy::warnings`]). Messages start with the
    /// entry's [`PolicyBuilder::origin`].
    ///
    /// ```
    /// assert!(procgate::Policy::builder().dir("/no/such/dir", "/x").build().is_err());
    /// let p = procgate::Policy::builder().allow_program("no-such-program").build().unwrap();
    /// assert!(p.warnings()[0].contains("not found"));
    /// ```
    pub fn build(self) -> anyhow::Result<Policy> {
        let search_path = self.search_path.unwrap_or_else(|| At {
            value: DEFAULT_SEARCH_PATH.iter().map(PathBuf::from).collect(),
            at: None,
        });
        let mut dirs = Vec::new();
        for entry in &self.dirs {
            let (host, guest) = &entry.value;
            dirs.push(DirGrant::open(host, guest).map_err(|e| anyhow::anyhow!(entry.say(e)))?);
        }
        if let Some(default) = &self.default_cwd {
            cwd::resolve(&dirs, None, Some(default))
                .map_err(|e| anyhow::anyhow!("default cwd {default:?}: {e}"))?;
        }
        let mut secret = globset::GlobSetBuilder::new();
        for p in &self.secret_env {
            secret
                .add(globset::Glob::new(p).map_err(|e| anyhow::anyhow!("env.secret {p:?}: {e}"))?);
        }
        let writable: Vec<PathBuf> = dirs
            .iter()
            .map(|d| d.host.clone())
            .chain(
                self.sandbox
                    .write
                    .iter()
                    .filter_map(|p| p.canonicalize().ok()),
            )
            .collect();
        if self.sandbox.landlock != LandlockMode::Off {
            check_no_exec_in_writable(&self.sandbox, &writable)?;
        }
        let mut warnings = Vec::new();
        for dir in &search_path.value {
            if let Ok(dir) = dir.canonicalize() {
                programs::check_trusted(&dir, &writable)
                    .map_err(|e| anyhow::anyhow!(search_path.say(format!("search path: {e}"))))?;
            }
        }
        let programs = programs::Programs::new(self.programs, search_path.value, &writable)?;
        warnings.extend(programs.warnings());
        if let Some(shell) = &self.shell {
            warnings.extend(programs::check_shell(shell, &writable)?);
        }
        let env = env::EnvRules::new(
            &self.env_set,
            &self.env_pass,
            &self.guest_env,
            self.unsafe_env_globs,
        )?;
        for warning in &warnings {
            tracing::warn!(target: AUDIT_TARGET, decision = "load", "policy: {warning}");
        }
        Ok(Policy {
            secret_env: secret.build()?,
            programs,
            shell: self.shell.map(|s| s.value),
            env,
            dirs,
            default_cwd: self.default_cwd,
            signals: self.signals,
            limits: self.limits,
            sandbox: self.sandbox,
            warnings,
        })
    }
}

/// Refuses a Landlock sandbox whose read list (where children may execute)
/// covers a directory they may write: they could run what they wrote.
fn check_no_exec_in_writable(sb: &Sandbox, writable: &[PathBuf]) -> anyhow::Result<()> {
    let read: Vec<PathBuf> = match &sb.read {
        Some(list) => list.clone(),
        None => sandbox::DEFAULT_READ.iter().map(PathBuf::from).collect(),
    };
    for r in read.iter().filter_map(|r| r.canonicalize().ok()) {
        if let Some(w) = writable.iter().find(|w| w.starts_with(&r)) {
            anyhow::bail!(
                "sandbox.read {} covers {}, which children may write: they could execute what \
                 they wrote there",
                r.display(),
                w.display()
            );
        }
    }
    Ok(())
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
        /// The environment variables the guest asked for.
        env: &'a [(String, String)],
        /// The guest path of the working directory, if any.
        cwd: Option<&'a str>,
        /// What the guest has used so far (live children, spawns).
        usage: Usage,
    },
    /// `create-subprocess-shell`.
    Shell {
        /// The command line.
        cmd: &'a str,
        /// The environment variables the guest asked for.
        env: &'a [(String, String)],
        /// The guest path of the working directory, if any.
        cwd: Option<&'a str>,
        /// What the guest has used so far (live children, spawns).
        usage: Usage,
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
/// to execute, the full argument and environment lists, the working
/// directory, and what is set up in the child.
#[derive(Debug, Clone)]
pub struct SpawnPlan {
    /// The resolved absolute path that is executed.
    pub program: PathBuf,
    /// `argv[0]`.
    pub arg0: String,
    /// The arguments after `argv[0]`.
    pub args: Vec<String>,
    /// The child's whole environment.
    pub env: Vec<(String, String)>,
    /// The child's working directory on the host.
    pub cwd: PathBuf,
    /// Whether this is `create-subprocess-shell` (`args` is `-c CMD`).
    pub shell: bool,
    /// Resource limits and sandbox set in the child before exec.
    pub sandbox: ChildSandbox,
    /// Wall-clock limit: SIGTERM to the child's group when it is up.
    pub timeout: Option<Duration>,
    /// The grace period between SIGTERM and SIGKILL after a timeout; none
    /// means the context's kill grace.
    pub kill_grace: Option<Duration>,
    /// The opened working directory inside a grant: the child changes into
    /// it by descriptor.
    pub(crate) cwd_dir: Option<Arc<cap_std::fs::Dir>>,
}

/// A decision before the hooks: the verdict, the rule that allowed it, and
/// what became of the sandbox.
pub(crate) struct Decided {
    verdict: Verdict,
    rule: String,
    sandbox: &'static str,
}

impl Policy {
    /// Starts building a policy; see [`PolicyBuilder`].
    ///
    /// ```
    /// let p = procgate::Policy::builder().build().unwrap();
    /// ```
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }

    /// The shell `create-subprocess-shell` runs, if granted.
    ///
    /// ```
    /// assert!(procgate::Policy::default().shell().is_none());
    /// ```
    pub fn shell(&self) -> Option<&Path> {
        self.shell.as_deref()
    }

    /// The granted working directories.
    ///
    /// ```
    /// assert!(procgate::Policy::default().dirs().is_empty());
    /// ```
    pub fn dirs(&self) -> &[DirGrant] {
        &self.dirs
    }

    /// The limits.
    ///
    /// ```
    /// assert_eq!(procgate::Policy::default().limits().max_live, None);
    /// ```
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether the audit log withholds the value of variable `name`
    /// (see [`PolicyBuilder::secret_env`]).
    ///
    /// ```
    /// assert!(!procgate::Policy::default().is_secret_env("TOKEN"));
    /// ```
    pub fn is_secret_env(&self, name: &str) -> bool {
        self.secret_env.is_match(name)
    }

    /// What building the policy warned about: entries that can never
    /// match on this host (an allowed program or shell that does not
    /// exist). Each was also logged as an audit event.
    ///
    /// ```
    /// assert!(procgate::Policy::default().warnings().is_empty());
    /// ```
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The filesystem sandbox settings.
    ///
    /// ```
    /// use procgate::sandbox::LandlockMode;
    /// assert_eq!(procgate::Policy::default().sandbox().landlock, LandlockMode::Off);
    /// ```
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Decides a request by the static policy alone (no embedder hooks);
    /// see [`Policy::decide_with`].
    ///
    /// ```
    /// use procgate::policy::{Policy, Request, Usage, Verdict};
    ///
    /// let policy = Policy::builder().allow_program("true").build().unwrap();
    /// let req = Request::Exec { program: "true", args: &[], env: &[], cwd: None, usage: Usage::default() };
    /// assert!(matches!(policy.decide(&req), Ok(Verdict::Spawn(_))));
    /// let req = Request::Exec { program: "/bin/sh", args: &[], env: &[], cwd: None, usage: Usage::default() };
    /// assert!(matches!(policy.decide(&req), Err(procgate::Error::Denied(_))));
    /// ```
    pub fn decide(&self, req: &Request<'_>) -> Result<Verdict> {
        self.decide_with(req, &AllowAll)
    }

    /// Decides a request: the one place where procgate says yes or no.
    ///
    /// The static policy decides first; if it allows, `hooks` may still
    /// refuse. Returns what to do, or [`Error::Denied`] naming the rule
    /// (or `limit-exceeded`, `not-found`, `invalid-argument`). Every
    /// outcome is logged as one audit event on [`AUDIT_TARGET`].
    ///
    /// ```
    /// use procgate::hooks::ProcgateHooks;
    /// use procgate::policy::{Policy, Request, SpawnPlan, Usage};
    ///
    /// struct Never;
    /// impl ProcgateHooks for Never {
    ///     fn on_spawn(&self, _: &SpawnPlan) -> Result<(), String> { Err("not today".into()) }
    /// }
    /// let policy = Policy::builder().allow_program("true").build().unwrap();
    /// let req = Request::Exec { program: "true", args: &[], env: &[], cwd: None, usage: Usage::default() };
    /// let err = policy.decide_with(&req, &Never).unwrap_err();
    /// assert_eq!(err.to_string(), "denied: hook refused: not today");
    /// ```
    pub fn decide_with(&self, req: &Request<'_>, hooks: &dyn ProcgateHooks) -> Result<Verdict> {
        self.decide_audited(req, hooks, &audit::DIRECT).0
    }

    /// [`Policy::decide_with`], logged by the guest's `auditor`; also
    /// returns the `seq` of the audit event (0 if it was suppressed).
    pub(crate) fn decide_audited(
        &self,
        req: &Request<'_>,
        hooks: &dyn ProcgateHooks,
        auditor: &audit::Auditor,
    ) -> (Result<Verdict>, u64) {
        let outcome = self.decide_static(req).and_then(|decided| {
            let hooked = match (&decided.verdict, req) {
                (Verdict::Spawn(plan), _) => hooks.on_spawn(plan),
                (Verdict::Signal, Request::Signal { pid, signal }) => {
                    hooks.on_signal(*pid, *signal)
                }
                (Verdict::Signal, _) => Ok(()),
            };
            hooked.map_err(|reason| Error::Denied(format!("hook refused: {reason}")))?;
            Ok(decided)
        });
        let seq = audit::decision(auditor, self, req, &outcome);
        (outcome.map(|d| d.verdict), seq)
    }

    fn decide_static(&self, req: &Request<'_>) -> Result<Decided> {
        self.check_sizes(req)?;
        match *req {
            Request::Exec {
                program,
                args,
                env,
                cwd,
                usage,
            } => {
                for arg in args {
                    check_nul("argument", arg)?;
                }
                let accepted = self.programs.accept(program, args)?;
                let rule = format!("programs: {:?}", accepted.entry);
                let spawn = Spawn {
                    program: accepted.path,
                    arg0: accepted.arg0,
                    args: args.to_vec(),
                    shell: false,
                };
                self.plan(spawn, env, cwd, usage, rule)
            }
            Request::Shell {
                cmd,
                env,
                cwd,
                usage,
            } => {
                let shell = self.shell.clone().ok_or_else(|| {
                    Error::Denied("shell not granted (create-subprocess-shell is off)".into())
                })?;
                check_nul("command", cmd)?;
                let spawn = Spawn {
                    arg0: shell.display().to_string(),
                    program: shell,
                    args: vec!["-c".to_string(), cmd.to_string()],
                    shell: true,
                };
                self.plan(spawn, env, cwd, usage, "shell granted".into())
            }
            Request::Signal { signal, .. } => match &self.signals {
                Some(allowed) if !allowed.contains(&signal) => Err(Error::Denied(format!(
                    "signal {} not in allowed signals",
                    signal.name()
                ))),
                _ => Ok(Decided {
                    verdict: Verdict::Signal,
                    rule: "signals".into(),
                    sandbox: "",
                }),
            },
        }
    }

    /// The sizes of a request, checked before anything else looks at it:
    /// the program (or shell command) with the arguments against
    /// `max_arg_bytes`, the guest's variables against `max_env_bytes`.
    /// `plan` checks the exact sizes again once `argv[0]` and the whole
    /// environment are known.
    fn check_sizes(&self, req: &Request<'_>) -> Result<()> {
        let l = &self.limits;
        let (argv, env) = match *req {
            Request::Exec {
                program, args, env, ..
            } => {
                // The program counts as at least one byte: `argv[0]` may
                // be another spelling of it.
                let _ = program;
                (2 + limits::arg_bytes(args.iter().map(|a| a.as_str())), env)
            }
            Request::Shell { cmd, env, .. } => (limits::arg_bytes(["-c", cmd]), env),
            Request::Signal { .. } => return Ok(()),
        };
        if let Some(max) = l.max_arg_bytes.filter(|max| argv > *max) {
            return Err(Error::LimitExceeded(format!(
                "arguments take at least {argv} bytes, over limits.max_arg_bytes ({max})"
            )));
        }
        let size: usize = env.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        if let Some(max) = l.max_env_bytes.filter(|max| size > *max) {
            return Err(Error::LimitExceeded(format!(
                "the guest's variables take {size} bytes, over limits.max_env_bytes ({max})"
            )));
        }
        Ok(())
    }

    /// The checks every spawn shares: environment, cwd, sizes, counts,
    /// sandbox.
    fn plan(
        &self,
        spawn: Spawn,
        guest_env: &[(String, String)],
        cwd: Option<&str>,
        usage: Usage,
        rule: String,
    ) -> Result<Decided> {
        let env = self.env.build(guest_env)?;
        let cwd = cwd::resolve(&self.dirs, self.default_cwd.as_deref(), cwd)?;
        let l = &self.limits;
        let argv =
            std::iter::once(spawn.arg0.as_str()).chain(spawn.args.iter().map(|a| a.as_str()));
        let size = limits::arg_bytes(argv);
        if let Some(max) = l.max_arg_bytes.filter(|max| size > *max) {
            return Err(Error::LimitExceeded(format!(
                "arguments take {size} bytes, over limits.max_arg_bytes ({max})"
            )));
        }
        let size: usize = env.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        if let Some(max) = l.max_env_bytes.filter(|max| size > *max) {
            return Err(Error::LimitExceeded(format!(
                "environment takes {size} bytes, over limits.max_env_bytes ({max})"
            )));
        }
        if let Some(max) = l.max_spawns.filter(|max| usage.spawned >= *max) {
            return Err(Error::LimitExceeded(format!(
                "limits.max_spawns ({max}) reached"
            )));
        }
        if let Some(max) = l.max_live.filter(|max| usage.live >= *max) {
            return Err(Error::LimitExceeded(format!(
                "{} live processes, limits.max_live is {max}",
                usage.live
            )));
        }
        if usage.held >= l.held_bound() {
            return Err(Error::LimitExceeded(format!(
                "{} exited processes still held, limits.max_held is {}: drop the handles of finished processes",
                usage.held,
                l.held_bound()
            )));
        }
        let abi = sandbox::landlock_abi();
        let (landlock, sandbox_note) = match self.sandbox.landlock {
            LandlockMode::Off => (None, "none"),
            LandlockMode::Require if sandbox::require_refusal(abi).is_some() => {
                return Err(Error::Denied(
                    sandbox::require_refusal(abi).unwrap_or_default(),
                ));
            }
            _ if abi > 0 => {
                let grants: Vec<PathBuf> = self.dirs.iter().map(|d| d.host.clone()).collect();
                let paths = sandbox::landlock_paths(&self.sandbox, &spawn.program, &grants);
                let note = if abi >= sandbox::REQUIRED_LANDLOCK_ABI {
                    "landlock"
                } else {
                    "landlock (partial: this kernel's ABI is older than procgate asks)"
                };
                (Some(paths), note)
            }
            _ => (None, "landlock unavailable on this kernel: running without"),
        };
        let plan = SpawnPlan {
            program: spawn.program,
            arg0: spawn.arg0,
            args: spawn.args,
            env,
            cwd: cwd.host,
            shell: spawn.shell,
            sandbox: ChildSandbox { os: l.os, landlock },
            timeout: l.timeout,
            kill_grace: l.kill_grace,
            cwd_dir: cwd.dir,
        };
        Ok(Decided {
            verdict: Verdict::Spawn(plan),
            rule,
            sandbox: sandbox_note,
        })
    }
}

/// The program part of a spawn, before the shared checks.
struct Spawn {
    program: PathBuf,
    arg0: String,
    args: Vec<String>,
    shell: bool,
}

/// How to allow what a denial refused: the CLI flag and the policy key
/// (as Deno and WasmEdge say it), for the text of an [`Error::Denied`]
/// (without the `denied: ` prefix). `None` when the policy cannot allow it
/// (a refused variable, a relative path, a hook's no). The guest gets the
/// rule; this is for the audit log, to say once beside the rule.
///
/// ```
/// use procgate::policy::how_to_allow;
/// assert_eq!(
///     how_to_allow("program \"tar\" not in allow list").as_deref(),
///     Some("allow it with --allow tar or programs.allow")
/// );
/// assert_eq!(how_to_allow("env LD_PRELOAD refused"), None);
/// ```
pub fn how_to_allow(denial: &str) -> Option<String> {
    let quoted = |s: &str| s.split('"').nth(1).map(str::to_string);
    if denial.starts_with("program ") && denial.ends_with("\" not in allow list") {
        let program = quoted(denial)?;
        return Some(format!("allow it with --allow {program} or programs.allow"));
    }
    if denial.starts_with("program ") && denial.contains(": argument") {
        let program = quoted(denial)?;
        return Some(format!("see the [[programs.rules]] of {program:?}"));
    }
    if denial.starts_with("shell not granted") {
        return Some("grant it with --allow-shell or shell.allow = true".into());
    }
    if let Some(rest) = denial.strip_prefix("env ") {
        let name = rest.split(' ').next()?;
        return rest
            .contains(" not in guest-settable variables")
            .then(|| format!("allow it with --allow-env {name} or env.guest_may_set"));
    }
    if denial.starts_with("cwd ") && denial.ends_with("is not inside a granted directory") {
        return Some("grant a directory with --dir or [[dirs]]".into());
    }
    if let Some(rest) = denial.strip_prefix("signal ") {
        let name = rest.split(' ').next()?;
        return Some(format!("add \"{name}\" to signals.allow"));
    }
    if denial.starts_with("sandbox.landlock is \"require\"") {
        return Some("use sandbox.landlock = \"best-effort\" (--landlock best-effort)".into());
    }
    None
}

pub(crate) fn check_nul(what: &str, s: &str) -> Result<()> {
    if s.contains('\0') {
        return Err(Error::InvalidArgument(format!(
            "{what} contains a NUL byte"
        )));
    }
    Ok(())
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
            usage: Usage::default(),
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
            usage: Usage::default(),
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
        // A pattern naming only refused variables does not even load.
        let dead = Policy::builder().allow_guest_env("LD_PRELOAD").build();
        assert!(dead.unwrap_err().to_string().contains("always refused"));
        let p = Policy::builder()
            .allow_program("true")
            .allow_guest_env("*")
            .unsafe_env_globs(true)
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
            usage: Usage::default(),
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
            usage: Usage::default(),
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
