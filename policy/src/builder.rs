//! Building a [`Policy`] in code: [`PolicyBuilder`], and the checks made
//! once, when the policy is built (programs resolved and trusted, granted
//! directories opened, patterns compiled, the kernel's facts read).
//!
//! A little over ~400 lines: one builder method per policy key, each with
//! its example, and the checks [`PolicyBuilder::build`] makes once.

use crate::args::ArgRules;
use crate::cwd::{self, DirGrant};
use crate::error::BuildError;
use crate::limits::Limits;
use crate::sandbox::{self, KernelFacts, LandlockMode, Sandbox};
use crate::signal::Signal;
use crate::{env, programs, Policy, AUDIT_TARGET, DEFAULT_SEARCH_PATH};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Builds a [`Policy`] in code.
///
/// ```
/// let policy = procgate_policy::Policy::builder()
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
    // policy5: deny entries (programs.deny), per-program limits.
    deny: Vec<At<String>>,
    program_limits: Vec<At<crate::rule_limits::Written>>,
    search_path: Option<At<Vec<PathBuf>>>,
    shell: Option<At<PathBuf>>,
    env_set: Vec<(String, String)>,
    env_pass: Vec<String>,
    guest_env: Vec<At<String>>,
    unsafe_env_globs: bool,
    secret_env: Vec<String>,
    dirs: Vec<At<(PathBuf, String, bool)>>,
    default_cwd: Option<String>,
    signals: Option<BTreeSet<Signal>>,
    limits: Limits,
    sandbox: Sandbox,
    kernel: Option<KernelFacts>,
    origin: Option<String>,
    learn: Option<std::sync::Arc<crate::learn::Recorder>>,
    /// The ask tier's entries (methods in `ask.rs`).
    pub(crate) ask: crate::ask::AskEntries,
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
    pub(crate) fn at<T>(&self, value: T) -> At<T> {
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
    /// let err = procgate_policy::Policy::builder()
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
    /// let p = procgate_policy::Policy::builder().allow_program("/usr/bin/env").build().unwrap();
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
    /// use procgate_policy::{ArgForm, ArgRules};
    /// let p = procgate_policy::Policy::builder()
    ///     .allow_program_with("git", ArgRules::default().form(ArgForm::exact(["status"])))
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn allow_program_with(mut self, program: impl Into<String>, rules: ArgRules) -> Self {
        let entry = self.at((program.into(), Some(rules)));
        self.programs.push(entry);
        self
    }

    // policy5 (deny entries): begin.
    /// Denies a program whatever else allows it (an allow entry, a glob, a
    /// rule, the shell grant, learn mode): a bare name or name glob
    /// (`sh`, `python*`), an absolute path or path glob, or a directory
    /// ending in `/` (everything beneath it). See `programs.deny` in
    /// `docs/policy.md` for what each matches.
    ///
    /// ```
    /// use procgate_policy::{Policy, SpawnRequest};
    /// let p = Policy::builder().allow_program("/usr/bin/*").deny_program("sh").build().unwrap();
    /// assert!(p.decide_spawn(&SpawnRequest::exec("/bin/sh", &[])).is_err());
    /// ```
    pub fn deny_program(mut self, program: impl Into<String>) -> Self {
        let entry = self.at(program.into());
        self.deny.push(entry);
        self
    }
    // policy5 (deny entries): end.

    // policy5 (per-program limits): begin.
    /// Sets limits, a default working directory and variables for the
    /// children of one program (a name, an absolute path or a glob,
    /// attached to the file it resolves to, as argument rules are). A rule
    /// narrows the guest-wide limits, never widens them; see
    /// [`crate::RuleLimits`]. It allows nothing by itself.
    pub fn program_limits(mut self, program: impl Into<String>, limits: crate::RuleLimits) -> Self {
        let entry = self.at((program.into(), limits));
        self.program_limits.push(entry);
        self
    }
    // policy5 (per-program limits): end.

    /// Sets the directories bare program names are looked up in, in order.
    /// Defaults to [`DEFAULT_SEARCH_PATH`].
    ///
    /// ```
    /// let p = procgate_policy::Policy::builder().search_path(["/usr/bin"]).build().unwrap();
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
    /// let p = procgate_policy::Policy::builder().allow_shell("/bin/sh").build().unwrap();
    /// ```
    pub fn allow_shell(mut self, shell: impl Into<PathBuf>) -> Self {
        self.shell = Some(self.at(shell.into()));
        self
    }

    /// Sets a variable in every child's environment.
    ///
    /// ```
    /// let p = procgate_policy::Policy::builder().set_env("LANG", "C.UTF-8").build().unwrap();
    /// ```
    pub fn set_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env_set.push((key.into(), value.into()));
        self
    }

    /// Passes the host's value of `name` (when set when the policy is
    /// built) to every child; [`PolicyBuilder::set_env`] wins over it.
    ///
    /// ```
    /// let p = procgate_policy::Policy::builder().pass_env("HOME").build().unwrap();
    /// ```
    pub fn pass_env(mut self, name: impl Into<String>) -> Self {
        self.env_pass.push(name.into());
        self
    }

    /// Lets the guest set variables whose names match the glob `pattern`
    /// (`TERM`, `GIT_AUTHOR_*`). Loader and injection variables
    /// ([`crate::is_refused_env`]) are refused even when they match; `PATH` only
    /// when named exactly.
    ///
    /// ```
    /// let p = procgate_policy::Policy::builder().allow_guest_env("MY_APP_*").build().unwrap();
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
    /// fixed refusals ([`crate::is_refused_env`]) still apply.
    ///
    /// ```
    /// assert!(procgate_policy::Policy::builder().allow_guest_env("*").build().is_err());
    /// let p = procgate_policy::Policy::builder().allow_guest_env("*").unsafe_env_globs(true).build();
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
    /// let p = procgate_policy::Policy::builder().secret_env("*_TOKEN").build().unwrap();
    /// assert!(p.is_secret_env("GITHUB_TOKEN"));
    /// assert!(!p.is_secret_env("LANG"));
    /// ```
    pub fn secret_env(mut self, pattern: impl Into<String>) -> Self {
        self.secret_env.push(pattern.into());
        self
    }

    /// Grants the host directory `host` as a working directory of
    /// children, known to the guest as `guest`. Without a
    /// [`PolicyBuilder::default_cwd`], the first granted directory is the
    /// default working directory of children; under Landlock, children may
    /// write in it.
    ///
    /// This grants the guest's *children* a directory, not the guest
    /// itself: the guest's own file access is its WASI context's
    /// preopens (`WasiCtxBuilder::preopened_dir`), which the embedder sets
    /// apart. (The CLI's `--dir` does both.)
    ///
    /// ```
    /// let p = procgate_policy::Policy::builder().dir("/tmp", "/scratch").build().unwrap();
    /// ```
    pub fn dir(mut self, host: impl Into<PathBuf>, guest: impl Into<String>) -> Self {
        let entry = self.at((host.into(), guest.into(), false));
        self.dirs.push(entry);
        self
    }

    // policy5 (read-only grants): begin.
    /// Grants `host` as [`PolicyBuilder::dir`] does, read-only: under
    /// Landlock its children may read in it, never write (nor execute). A
    /// read-only grant still counts as writable for the checks that an
    /// allowed program is not replaceable (without Landlock nothing stops
    /// a child writing it).
    ///
    /// ```
    /// let p = procgate_policy::Policy::builder().dir_read_only("/usr/share", "/share").build().unwrap();
    /// assert!(p.dirs()[0].read_only);
    /// ```
    pub fn dir_read_only(mut self, host: impl Into<PathBuf>, guest: impl Into<String>) -> Self {
        let entry = self.at((host.into(), guest.into(), true));
        self.dirs.push(entry);
        self
    }
    // policy5 (read-only grants): end.

    /// Sets the default working directory of children: a guest path
    /// inside a granted directory.
    ///
    /// ```
    /// let p = procgate_policy::Policy::builder().dir("/tmp", "/scratch").default_cwd("/scratch").build().unwrap();
    /// ```
    pub fn default_cwd(mut self, guest: impl Into<String>) -> Self {
        self.default_cwd = Some(guest.into());
        self
    }

    /// Restricts the signals the guest may send; by default it may send
    /// any signal in the WIT `signal` enum to its own children.
    ///
    /// ```
    /// use procgate_policy::Signal;
    /// let p = procgate_policy::Policy::builder().allow_signals([Signal::Term]).build().unwrap();
    /// ```
    pub fn allow_signals(mut self, signals: impl IntoIterator<Item = Signal>) -> Self {
        self.signals = Some(signals.into_iter().collect());
        self
    }

    /// Replaces the limits.
    ///
    /// ```
    /// let limits = procgate_policy::Limits { max_live: Some(2), ..Default::default() };
    /// let p = procgate_policy::Policy::builder().limits(limits).build().unwrap();
    /// ```
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Changes some limits, keeping the others (flags over a file, say).
    /// Each limit also has a shortcut named like its key in a policy file:
    /// [`PolicyBuilder::max_live`], [`PolicyBuilder::timeout_secs`],
    /// [`PolicyBuilder::communicate_bytes`], ...
    ///
    /// ```
    /// let p = procgate_policy::Policy::builder().update_limits(|l| l.max_spawns = Some(10)).build().unwrap();
    /// assert_eq!(p.limits().max_spawns, Some(10));
    /// ```
    pub fn update_limits(mut self, f: impl FnOnce(&mut Limits)) -> Self {
        f(&mut self.limits);
        self
    }

    /// The limits as set so far, for the shortcuts of `limit_keys.rs`.
    pub(crate) fn limits_mut(&mut self) -> &mut Limits {
        &mut self.limits
    }

    /// Replaces the filesystem sandbox settings.
    ///
    /// ```
    /// use procgate_policy::sandbox::{LandlockMode, Sandbox};
    /// let sb = Sandbox { landlock: LandlockMode::BestEffort, ..Sandbox::default() };
    /// let p = procgate_policy::Policy::builder().sandbox(sb).build().unwrap();
    /// ```
    pub fn sandbox(mut self, sandbox: Sandbox) -> Self {
        self.sandbox = sandbox;
        self
    }

    /// Changes the sandbox settings in place (a profile over a file's top
    /// level, say).
    ///
    /// ```
    /// let p = procgate_policy::Policy::builder().update_sandbox(|s| s.write.push("/tmp".into()));
    /// ```
    pub fn update_sandbox(mut self, f: impl FnOnce(&mut Sandbox)) -> Self {
        f(&mut self.sandbox);
        self
    }

    /// Sets only the Landlock mode of the sandbox.
    ///
    /// ```
    /// use procgate_policy::sandbox::LandlockMode;
    /// let p = procgate_policy::Policy::builder().landlock(LandlockMode::BestEffort).build().unwrap();
    /// ```
    pub fn landlock(mut self, mode: LandlockMode) -> Self {
        self.sandbox.landlock = mode;
        self
    }

    /// Sets what the kernel offers (its Landlock ABI), as the decisions
    /// will take it; by default [`PolicyBuilder::build`] reads it from the
    /// running kernel ([`KernelFacts::probe`]). Deciding never asks the
    /// kernel.
    ///
    /// ```
    /// use procgate_policy::{KernelFacts, LandlockMode, Policy, SpawnRequest};
    /// let old_kernel = KernelFacts { landlock_abi: 0 };
    /// let p = Policy::builder()
    ///     .allow_program("true")
    ///     .landlock(LandlockMode::Require)
    ///     .kernel(old_kernel)
    ///     .build()
    ///     .unwrap();
    /// let err = p.decide_spawn(&SpawnRequest::exec("true", &[])).unwrap_err();
    /// assert!(err.to_string().contains("this kernel lacks Landlock"));
    /// ```
    pub fn kernel(mut self, facts: KernelFacts) -> Self {
        self.kernel = Some(facts);
        self
    }

    /// Learn mode: the policy allows, besides what it lists, every request
    /// the host can still contain (any program the search path resolves to
    /// a trusted file, the shell, any guest variable not always refused),
    /// and records every request, allowed or not, in `recorder`; see
    /// [`crate::learn`].
    ///
    /// ```
    /// use procgate_policy::learn::Recorder;
    /// use std::sync::Arc;
    /// let recorder = Arc::new(Recorder::default());
    /// let p = procgate_policy::Policy::builder().learn(recorder.clone()).build().unwrap();
    /// assert!(p.decide_spawn(&procgate_policy::SpawnRequest::exec("true", &[])).is_ok());
    /// assert_eq!(recorder.recording().spawns.len(), 1);
    /// ```
    pub fn learn(mut self, recorder: std::sync::Arc<crate::learn::Recorder>) -> Self {
        self.learn = Some(recorder);
        self
    }

    /// Resolves the allowed programs, opens the granted directories and
    /// checks the rest; a check that fails is a [`BuildError`].
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
    /// assert!(procgate_policy::Policy::builder().dir("/no/such/dir", "/x").build().is_err());
    /// let p = procgate_policy::Policy::builder().allow_program("no-such-program").build().unwrap();
    /// assert!(p.warnings()[0].contains("not found"));
    /// ```
    pub fn build(self) -> Result<Policy, BuildError> {
        let search_path = self.search_path.unwrap_or_else(|| At {
            value: DEFAULT_SEARCH_PATH.iter().map(PathBuf::from).collect(),
            at: None,
        });
        let mut dirs = Vec::new();
        for entry in &self.dirs {
            let (host, guest, read_only) = &entry.value;
            let grant = DirGrant::open(host, guest, *read_only);
            dirs.push(grant.map_err(|e| BuildError::new(entry.say(e)))?);
        }
        if let Some(default) = &self.default_cwd {
            cwd::resolve(&dirs, None, Some(default))
                .map_err(|e| BuildError::new(format!("default cwd {default:?}: {e}")))?;
        }
        let mut secret = globset::GlobSetBuilder::new();
        for p in &self.secret_env {
            let glob = globset::Glob::new(p)
                .map_err(|e| BuildError::new(format!("env.secret {p:?}: {e}")))?;
            secret.add(glob);
        }
        let sandbox_write: Vec<PathBuf> = self
            .sandbox
            .write
            .iter()
            .filter_map(|p| p.canonicalize().ok())
            .collect();
        let writable: Vec<PathBuf> = dirs
            .iter()
            .map(|d| d.host.clone())
            .chain(sandbox_write.iter().cloned())
            .collect();
        if self.sandbox.landlock != LandlockMode::Off {
            check_no_exec_in_writable(&self.sandbox, &writable)?;
            let grants = dirs.iter().filter(|d| !d.read_only).map(|d| &d.host);
            check_no_cgroup_in_writable(grants.chain(&sandbox_write))?;
        }
        let mut warnings = Vec::new();
        for dir in &search_path.value {
            if let Ok(dir) = dir.canonicalize() {
                programs::check_trusted(&dir, &writable)
                    .map_err(|e| BuildError::new(search_path.say(format!("search path: {e}"))))?;
            }
        }
        let ask = crate::ask::AskTier::new(self.ask, &search_path.value, &writable)?;
        let deny = crate::deny::DenyList::new(self.deny, &search_path.value)?;
        check_rule_pass_env(&self.program_limits, &self.env_pass)?;
        let programs = programs::Programs::new(self.programs, deny, search_path.value, &writable)?
            .with_limits(self.program_limits);
        for cwd in programs.rule_cwds() {
            cwd::resolve(&dirs, None, Some(cwd))
                .map_err(|e| BuildError::new(format!("programs.rules cwd {cwd:?}: {e}")))?;
        }
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
            secret_env: secret.build().map_err(|e| BuildError::new(e.to_string()))?,
            programs,
            shell: self.shell.map(|s| s.value),
            env,
            dirs,
            default_cwd: self.default_cwd,
            signals: self.signals,
            limits: self.limits,
            sandbox: self.sandbox,
            kernel: self.kernel.unwrap_or_else(KernelFacts::probe),
            warnings,
            learn: self.learn,
            ask,
        })
    }
}

/// Refuses a rule's `pass_env` name that `env.pass` does not pass: a
/// rule narrows the host variables passed, never widens them.
fn check_rule_pass_env(
    rules: &[At<crate::rule_limits::Written>],
    pass: &[String],
) -> Result<(), BuildError> {
    for rule in rules {
        let (program, limits) = &rule.value;
        let outside = limits.pass_env.iter().flatten().find(|n| !pass.contains(n));
        if let Some(name) = outside {
            return Err(BuildError::new(rule.say(format!(
                "programs.rules pass_env {name:?} of {program:?} is not in env.pass: a rule \
                 narrows the host variables passed to children, never widens them"
            ))));
        }
    }
    Ok(())
}

/// Refuses a Landlock sandbox whose read list (where children may execute)
/// covers a directory they may write: they could run what they wrote.
/// Under Landlock, refuses a writable path that contains a cgroup2 mount
/// or lies inside one: a child could write a `cgroup.procs` file there and
/// move itself out of the cgroup the host ends it by.
fn check_no_cgroup_in_writable<'a>(
    writable: impl Iterator<Item = &'a PathBuf>,
) -> Result<(), BuildError> {
    let mounts = sandbox::cgroup2_mounts();
    for w in writable {
        if let Some(m) = mounts
            .iter()
            .find(|m| w.starts_with(&m.mount_point) || m.mount_point.starts_with(w))
        {
            return Err(BuildError::new(format!(
                "{} may be written by children and overlaps the cgroup2 filesystem at {}: \
                 they could move themselves out of their cgroup, beyond the host's reach; \
                 grant a directory that neither contains nor lies in it",
                w.display(),
                m.mount_point.display()
            )));
        }
    }
    Ok(())
}

fn check_no_exec_in_writable(sb: &Sandbox, writable: &[PathBuf]) -> Result<(), BuildError> {
    let read: Vec<PathBuf> = match &sb.read {
        Some(list) => list.clone(),
        None => sandbox::DEFAULT_READ.iter().map(PathBuf::from).collect(),
    };
    for r in read.iter().filter_map(|r| r.canonicalize().ok()) {
        if let Some(w) = writable.iter().find(|w| w.starts_with(&r)) {
            return Err(BuildError::new(format!(
                "sandbox.read {} covers {}, which children may write: they could execute what \
                 they wrote there",
                r.display(),
                w.display()
            )));
        }
    }
    Ok(())
}
