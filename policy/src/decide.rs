//! Deciding: the one place where procgate says yes or no to a guest.
//!
//! A spawn is decided by [`Policy::decide_spawn_with`] into a
//! [`SpawnPlan`] (everything resolved: program, arguments, environment,
//! working directory, sandbox) or an [`Error`]; a signal by
//! [`Policy::decide_signal_with`]. The static policy decides first; the
//! embedder's [`ProcgateHooks`] may still refuse what it allowed, and
//! decide what its ask tier matched ([`crate::ask`]); every outcome is one
//! audit event ([`crate::audit`]). Nothing here touches the kernel: what
//! it offers ([`crate::KernelFacts`]) was read when the policy was built.

use crate::audit::{self, Asked, Auditor};
use crate::hooks::{AllowAll, ProcgateHooks};
use crate::limits::arg_bytes;
use crate::request::{Command, SignalRequest, SpawnPlan, SpawnRequest};
use crate::sandbox::{self, ChildSandbox, LandlockMode};
use crate::{cwd, Error, Policy, Result};
use std::path::PathBuf;

impl Policy {
    /// Decides a spawn by the static policy alone (no embedder hooks); see
    /// [`Policy::decide_spawn_with`].
    ///
    /// ```
    /// use procgate_policy::{Error, Policy, SpawnRequest};
    ///
    /// let policy = Policy::builder().allow_program("true").build().unwrap();
    /// let plan = policy.decide_spawn(&SpawnRequest::exec("true", &[])).unwrap();
    /// assert!(plan.program.is_absolute());
    /// let refused = policy.decide_spawn(&SpawnRequest::exec("/bin/sh", &[]));
    /// assert!(matches!(refused, Err(Error::Denied(_))));
    /// ```
    pub fn decide_spawn(&self, req: &SpawnRequest<'_>) -> Result<SpawnPlan> {
        self.decide_spawn_with(req, &AllowAll)
    }

    /// Decides a spawn: the static policy first; if it allows, `hooks` may
    /// still refuse. Returns the plan to start, or [`Error::Denied`]
    /// naming the rule (or `limit-exceeded`, `not-found`,
    /// `invalid-argument`). Every outcome is one audit event on
    /// [`crate::AUDIT_TARGET`].
    ///
    /// ```
    /// use procgate_policy::hooks::ProcgateHooks;
    /// use procgate_policy::{Policy, SpawnPlan, SpawnRequest};
    ///
    /// struct Never;
    /// impl ProcgateHooks for Never {
    ///     fn on_spawn(&self, _: &SpawnPlan) -> Result<(), String> { Err("not today".into()) }
    /// }
    /// let policy = Policy::builder().allow_program("true").build().unwrap();
    /// let err = policy.decide_spawn_with(&SpawnRequest::exec("true", &[]), &Never).unwrap_err();
    /// assert_eq!(err.to_string(), "denied: hook refused: not today");
    /// ```
    pub fn decide_spawn_with(
        &self,
        req: &SpawnRequest<'_>,
        hooks: &dyn ProcgateHooks,
    ) -> Result<SpawnPlan> {
        self.decide_spawn_audited(req, hooks, &audit::DIRECT).0
    }

    /// [`Policy::decide_spawn_with`], logged by the guest's `auditor`; also
    /// returns the `seq` of the audit event (0 if it was not logged), which
    /// the events of the child it started refer to.
    pub fn decide_spawn_audited(
        &self,
        req: &SpawnRequest<'_>,
        hooks: &dyn ProcgateHooks,
        auditor: &Auditor,
    ) -> (Result<SpawnPlan>, u64) {
        // One path for both: the ask tier and the hook's answer (ask.rs).
        crate::hooks::block_on(self.decide_spawn_async(req, hooks, auditor))
    }

    // policy5 (query): begin.
    /// Answers a guest's query: would this spawn be allowed now? The
    /// static policy decides as [`Policy::decide_spawn_audited`] would
    /// (hooks are not asked, nothing is started, learn mode records
    /// nothing); one audit event with `decision: "queried"`.
    ///
    /// ```
    /// use procgate_policy::{audit::Auditor, Policy, SpawnRequest};
    /// let policy = Policy::builder().allow_program("true").build().unwrap();
    /// let audit = Auditor::new(None);
    /// assert!(policy.query_spawn_audited(&SpawnRequest::exec("true", &[]), &audit).is_ok());
    /// assert!(policy.query_spawn_audited(&SpawnRequest::shell("true"), &audit).is_err());
    /// ```
    pub fn query_spawn_audited(&self, req: &SpawnRequest<'_>, auditor: &Auditor) -> Result<()> {
        let outcome = self.plan_spawn(req);
        audit::queried(auditor, self, req, outcome.as_ref());
        outcome.map(drop)
    }
    // policy5 (query): end.

    /// Decides a signal by the static policy alone; see
    /// [`Policy::decide_signal_with`].
    ///
    /// ```
    /// use procgate_policy::{Policy, Signal, SignalRequest};
    /// let policy = Policy::builder().allow_signals([Signal::Term]).build().unwrap();
    /// assert!(policy.decide_signal(&SignalRequest { pid: 42, signal: Signal::Term }).is_ok());
    /// assert!(policy.decide_signal(&SignalRequest { pid: 42, signal: Signal::Kill }).is_err());
    /// ```
    pub fn decide_signal(&self, req: &SignalRequest) -> Result<()> {
        self.decide_signal_with(req, &AllowAll)
    }

    /// Decides a signal to the guest's own child: the policy's
    /// `signals.allow`, then `hooks`. One audit event (rate-limited).
    pub fn decide_signal_with(&self, req: &SignalRequest, hooks: &dyn ProcgateHooks) -> Result<()> {
        self.decide_signal_audited(req, hooks, &audit::DIRECT)
    }

    /// [`Policy::decide_signal_with`], logged by the guest's `auditor`.
    pub fn decide_signal_audited(
        &self,
        req: &SignalRequest,
        hooks: &dyn ProcgateHooks,
        auditor: &Auditor,
    ) -> Result<()> {
        let outcome = match &self.signals {
            Some(allowed) if !allowed.contains(&req.signal) => Err(Error::Denied(format!(
                "signal {} not in allowed signals",
                req.signal.name()
            ))),
            _ => hooks
                .on_signal(req.pid, req.signal)
                .map_err(|r| crate::ask::refused_by("hook", &r)),
        };
        audit::decision(
            auditor,
            self,
            Asked::Signal(req),
            outcome.as_ref().map(|()| None),
            None,
        );
        if let Some(recorder) = &self.learn {
            recorder.signal(req, outcome.as_ref());
        }
        outcome
    }

    /// The static decision of a spawn: the program part, then the checks
    /// every spawn shares.
    pub(crate) fn plan_spawn(&self, req: &SpawnRequest<'_>) -> Result<SpawnPlan> {
        self.plan_spawn_as(req, None)
    }

    /// The plan an ask-tier request would get (`entry`: the ask entry that
    /// matched): the program accepted as learn mode accepts it (resolved to
    /// a trusted file, forbidden flags still refused), the rest as usual.
    pub(crate) fn plan_spawn_asking(
        &self,
        req: &SpawnRequest<'_>,
        entry: String,
    ) -> Result<SpawnPlan> {
        self.plan_spawn_as(req, Some(entry))
    }

    fn plan_spawn_as(&self, req: &SpawnRequest<'_>, ask: Option<String>) -> Result<SpawnPlan> {
        self.check_sizes(req)?;
        let (spawn, rule) = match req.command {
            Command::Exec { program, args } => {
                for arg in args {
                    check_nul("argument", arg)?;
                }
                let accepted = match (&self.learn, &ask) {
                    (None, None) => self.programs.accept(program, args)?,
                    _ => self
                        .programs
                        .accept_learning(program, args, &self.writable())?,
                };
                let rule = match ask {
                    Some(entry) => entry,
                    None => format!("programs: {:?}", accepted.entry),
                };
                let spawn = Spawn {
                    program: accepted.path,
                    arg0: accepted.arg0,
                    args: args.to_vec(),
                    shell: false,
                    limits: accepted.limits,
                };
                (spawn, rule)
            }
            Command::Shell { cmd } => {
                let learning = self.learn.as_ref().map(|_| PathBuf::from("/bin/sh"));
                let shell = self.shell.clone().or(learning).ok_or_else(|| {
                    Error::Denied("shell not granted (create-subprocess-shell is off)".into())
                })?;
                // policy5: a denied shell binary is denied as a shell too.
                let resolved = shell.canonicalize().ok();
                self.programs
                    .denied(&shell.to_string_lossy(), resolved.as_deref())?;
                check_nul("command", cmd)?;
                let spawn = Spawn {
                    arg0: shell.display().to_string(),
                    program: shell,
                    args: vec!["-c".to_string(), cmd.to_string()],
                    shell: true,
                    limits: None,
                };
                (spawn, "shell granted".to_string())
            }
        };
        self.plan(spawn, req, rule)
    }

    /// The sizes of a request, checked before anything else looks at it:
    /// the program (or shell command) with the arguments against
    /// `max_arg_bytes`, the guest's variables against `max_env_bytes`.
    /// `plan` checks the exact sizes again once `argv[0]` and the whole
    /// environment are known.
    fn check_sizes(&self, req: &SpawnRequest<'_>) -> Result<()> {
        let l = &self.limits;
        let argv = match req.command {
            // The program counts as at least one byte: `argv[0]` may be
            // another spelling of it.
            Command::Exec { args, .. } => 2 + arg_bytes(args.iter().map(|a| a.as_str())),
            Command::Shell { cmd } => arg_bytes(["-c", cmd]),
        };
        if let Some(max) = l.max_arg_bytes.filter(|max| argv > *max) {
            return Err(Error::LimitExceeded(format!(
                "arguments take at least {argv} bytes, over limits.max_arg_bytes ({max})"
            )));
        }
        let size: usize = req.env.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        if let Some(max) = l.max_env_bytes.filter(|max| size > *max) {
            return Err(Error::LimitExceeded(format!(
                "the guest's variables take {size} bytes, over limits.max_env_bytes ({max})"
            )));
        }
        Ok(())
    }

    /// The checks every spawn shares: environment, cwd, sizes, counts,
    /// sandbox.
    fn plan(&self, spawn: Spawn, req: &SpawnRequest<'_>, rule: String) -> Result<SpawnPlan> {
        // policy5: a rule's variables, cwd and narrower limits.
        let narrow = spawn.limits.clone().unwrap_or_default();
        let learning = self.learn.is_some();
        let mut env = self
            .env
            .build(req.env, learning, narrow.pass_env.as_deref())?;
        narrow.apply_env(&mut env);
        let default_cwd = narrow.cwd.as_deref().or(self.default_cwd.as_deref());
        let cwd = cwd::resolve(&self.dirs, default_cwd, req.cwd)?;
        let l = &self.limits;
        let argv =
            std::iter::once(spawn.arg0.as_str()).chain(spawn.args.iter().map(|a| a.as_str()));
        let size = arg_bytes(argv);
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
        let usage = req.usage;
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
        let abi = self.kernel.landlock_abi;
        let (landlock, sandbox_note) = match self.sandbox.landlock {
            LandlockMode::Off => (None, "none"),
            LandlockMode::Require if sandbox::require_refusal(abi).is_some() => {
                return Err(Error::Denied(
                    sandbox::require_refusal(abi).unwrap_or_default(),
                ));
            }
            _ if abi > 0 => {
                let (ro, rw): (Vec<_>, Vec<_>) = self.dirs.iter().partition(|d| d.read_only);
                let host = |d: Vec<&cwd::DirGrant>| d.into_iter().map(|d| d.host.clone()).collect();
                let (ro, rw): (Vec<PathBuf>, Vec<PathBuf>) = (host(ro), host(rw));
                let paths = sandbox::landlock_paths(&self.sandbox, &spawn.program, &rw, &ro);
                let note = if abi >= sandbox::REQUIRED_LANDLOCK_ABI {
                    "landlock"
                } else {
                    "landlock (partial: this kernel's ABI is older than procgate asks)"
                };
                (Some(paths), note)
            }
            _ => (None, "landlock unavailable on this kernel: running without"),
        };
        Ok(SpawnPlan {
            program: spawn.program,
            arg0: spawn.arg0,
            args: spawn.args,
            env,
            cwd: cwd.host,
            shell: spawn.shell,
            sandbox: ChildSandbox {
                os: narrow.os(l.os),
                landlock,
            },
            timeout: narrow.timeout(l.timeout),
            kill_grace: l.kill_grace,
            communicate_cap: narrow.communicate_cap(l),
            rule,
            sandbox_note,
            cwd_dir: cwd.dir,
        })
    }
}

impl Policy {
    /// The directories children may write: the grants and `sandbox.write`.
    fn writable(&self) -> Vec<PathBuf> {
        let grants = self.dirs.iter().map(|d| d.host.clone());
        let write = self
            .sandbox
            .write
            .iter()
            .filter_map(|p| p.canonicalize().ok());
        grants.chain(write).collect()
    }
}

/// The program part of a spawn, before the shared checks.
struct Spawn {
    program: PathBuf,
    arg0: String,
    args: Vec<String>,
    shell: bool,
    /// What the rules for the program set for its children.
    limits: Option<crate::RuleLimits>,
}

pub(crate) fn check_nul(what: &str, s: &str) -> Result<()> {
    if s.contains('\0') {
        return Err(Error::InvalidArgument(format!(
            "{what} contains a NUL byte"
        )));
    }
    Ok(())
}
