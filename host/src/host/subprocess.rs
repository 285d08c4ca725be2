//! `procgate:subprocess/subprocess`: creating processes.

use crate::bindings::procgate::subprocess::subprocess::Host;
use crate::bindings::procgate::subprocess::types::{Options, Stdio};
use crate::error::invalid;
use crate::process::{FutureProcess, Launched, Process};
use crate::{ProcgateCtxView, Result};
use procgate_child::pipes::PipeReader;
use procgate_child::Child;
use procgate_child::{Input, Output, Pipe};
use procgate_policy::audit::{self, Auditor};
use procgate_policy::{SpawnPlan, SpawnRequest};
use std::sync::Arc;
use wasmtime::component::Resource;

/// Where a WIT `stdio` sends `which` output stream (`stdout-of` is only
/// valid for stdin).
fn output(stdio: &Stdio, which: &str, ctx: &crate::ProcgateCtx) -> Result<Output> {
    let inherited = &ctx.inherited;
    Ok(match stdio {
        Stdio::Inherit if which == "stdout" => inherited.stdout.output(),
        Stdio::Inherit => inherited.stderr.output(),
        Stdio::Pipe => Output::Pipe,
        Stdio::Devnull => Output::Devnull,
        Stdio::Stdout => Output::Stdout,
        Stdio::StdoutOf(_) => {
            return Err(invalid(format!(
                "stdout-of is only valid for stdin, not for {which}"
            )));
        }
    })
}

/// Which of stdout and stderr the options inherit ([`Process::new`]).
fn inherits(options: &Options) -> [bool; 2] {
    [&options.stdout, &options.stderr].map(|s| matches!(s, Stdio::Inherit))
}

/// The `spawn` audit event of a child just started.
fn audit_spawned(auditor: &Arc<Auditor>, decision: u64, plan: &SpawnPlan, child: &Child) {
    let exit = child.exit();
    audit::spawned(
        auditor,
        decision,
        exit.pid(),
        &plan.program,
        exit.containment().name(),
        // Only an exit already seen (by the timeout's task): one seen
        // later is logged then, the child being followed by now.
        || exit.known_returncode(),
    );
}

/// A spawn the policy allowed: its plan, its decision's id, and where its
/// output goes.
struct Allowed {
    plan: SpawnPlan,
    decision: u64,
    stdout: Output,
    stderr: Output,
}

impl ProcgateCtxView<'_> {
    /// Checks the options and decides a spawn request (one decision event).
    async fn decide(&mut self, req: SpawnRequest<'_>, options: &Options) -> Result<Allowed> {
        if options.limit == Some(0) {
            return Err(invalid("limit must be positive"));
        }
        let stdout = output(&options.stdout, "stdout", self.ctx)?;
        let stderr = output(&options.stderr, "stderr", self.ctx)?;
        let (plan, decision) = self.ctx.decide_spawn(&req).await;
        Ok(Allowed {
            plan: plan?,
            decision,
            stdout,
            stderr,
        })
    }

    /// Decides a spawn request and, if allowed, starts it: one decision
    /// event, then a `spawn` or `spawn-failed` event.
    async fn create(
        &mut self,
        req: SpawnRequest<'_>,
        options: &Options,
    ) -> Result<Resource<Process>> {
        let allowed = self.decide(req, options).await?;
        let process = self.start(allowed, options)?;
        Ok(self.table.push(process)?)
    }

    /// Decides a spawn request and, if allowed, launches it in a task
    /// while the guest goes on (within the call if its stdin is another
    /// process's stdout: that touches the guest's table). The launch counts
    /// for the limits from now on ([`procgate_child::Children::starting`]).
    async fn start_later(
        &mut self,
        req: SpawnRequest<'_>,
        options: &Options,
    ) -> Result<Resource<FutureProcess>> {
        let allowed = self.decide(req, options).await?;
        let future = if matches!(options.stdin, Stdio::StdoutOf(_)) {
            FutureProcess::done(self.start(allowed, options)?)
        } else {
            let stdin = self.stdin(&options.stdin).inspect_err(|e| {
                audit::spawn_failed(&self.ctx.audit, allowed.decision, &e.to_request())
            })?;
            let stdio = procgate_child::Stdio {
                stdin,
                stdout: allowed.stdout,
                stderr: allowed.stderr,
                start_new_session: options.start_new_session,
            };
            let children = Arc::clone(&self.ctx.children);
            let auditor = Arc::clone(&self.ctx.audit);
            let mut starting = children.starting().await;
            FutureProcess::launch(
                async move {
                    let Allowed { plan, decision, .. } = allowed;
                    let child = procgate_child::spawn(&plan, stdio, &children);
                    starting.launched();
                    match &child {
                        Ok(child) => audit_spawned(&auditor, decision, &plan, child),
                        Err(e) => audit::spawn_failed(&auditor, decision, e),
                    }
                    Launched { child, starting }
                },
                inherits(options),
            )
        };
        Ok(self.table.push(future)?)
    }

    /// Where a new child's stdin comes from, for every `stdio` but
    /// `stdout-of`.
    fn stdin(&self, stdin: &Stdio) -> Result<Input> {
        Ok(match stdin {
            Stdio::Inherit => self.ctx.inherited.stdin(),
            Stdio::Pipe => Input::Pipe,
            Stdio::Devnull => Input::Devnull,
            Stdio::Stdout => {
                return Err(invalid("stdout is only valid for stderr, not for stdin"));
            }
            Stdio::StdoutOf(_) => return Err(invalid("stdout-of is started in the call")),
        })
    }

    /// Starts an allowed spawn with the stdio the guest asked for: a
    /// `spawn` or `spawn-failed` event.
    fn start(&mut self, allowed: Allowed, options: &Options) -> Result<Process> {
        let Allowed {
            plan,
            decision,
            stdout,
            stderr,
        } = allowed;
        let process = self
            .start_now(&plan, options, stdout, stderr)
            .inspect_err(|e| audit::spawn_failed(&self.ctx.audit, decision, &e.to_request()))?;
        audit_spawned(&self.ctx.audit, decision, &plan, &process.child);
        Ok(process)
    }

    fn start_now(
        &mut self,
        plan: &SpawnPlan,
        options: &Options,
        stdout: Output,
        stderr: Output,
    ) -> Result<Process> {
        // A pipeline source is touched only once the policy said yes.
        let (stdin, source) = match &options.stdin {
            Stdio::StdoutOf(source) => {
                let pipe = self.pipeline_source(source)?;
                let fd = pipe.as_fd().try_clone_to_owned()?;
                pipe.set_blocking(true)?;
                (Input::Fd(fd), Some((source.rep(), pipe)))
            }
            other => (self.stdin(other)?, None),
        };
        let stdio = procgate_child::Stdio {
            stdin,
            stdout,
            stderr,
            start_new_session: options.start_new_session,
        };
        let spawned = procgate_child::spawn(plan, stdio, &self.ctx.children);
        if let Some((rep, pipe)) = source {
            if spawned.is_ok() {
                // The pipe is the new process's now.
                let first = self.table.get_mut(&Resource::<Process>::new_borrow(rep))?;
                first.child.stdout = Pipe::Taken(None);
            } else {
                pipe.set_blocking(false)?;
            }
        }
        Ok(Process::new(
            spawned?,
            inherits(options),
            &self.ctx.inherited,
        ))
    }

    /// The stdout pipe of `source`, for a pipeline: it must be a pipe the
    /// process still holds alone.
    fn pipeline_source(&mut self, source: &Resource<Process>) -> Result<Arc<PipeReader>> {
        let first = self.table.get(source)?;
        let pid = first.pid();
        match &first.child.stdout {
            Pipe::Taken(_) => Err(invalid(format!(
                "stdout-of: the stdout of process {pid} was already taken"
            ))),
            Pipe::None => Err(invalid(format!(
                "stdout-of: process {pid} was not created with stdout pipe"
            ))),
            Pipe::Held(pipe) if Arc::strong_count(pipe) > 1 => Err(invalid(format!(
                "stdout-of: the stdout of process {pid} is being read by communicate"
            ))),
            Pipe::Held(pipe) => Ok(Arc::clone(pipe)),
        }
    }

    /// The request `req` with the options' variables and directory, and
    /// what the guest uses now.
    fn request<'a>(&self, req: SpawnRequest<'a>, options: &'a Options) -> SpawnRequest<'a> {
        req.env(&options.env)
            .cwd(options.cwd.as_deref())
            .usage(self.ctx.children.usage())
    }
}

impl Host for ProcgateCtxView<'_> {
    async fn create_subprocess_exec(
        &mut self,
        program: String,
        args: Vec<String>,
        options: Options,
    ) -> Result<Resource<Process>> {
        let req = self.request(SpawnRequest::exec(&program, &args), &options);
        self.create(req, &options).await
    }

    async fn create_subprocess_shell(
        &mut self,
        cmd: String,
        options: Options,
    ) -> Result<Resource<Process>> {
        let req = self.request(SpawnRequest::shell(&cmd), &options);
        self.create(req, &options).await
    }

    async fn start_subprocess_exec(
        &mut self,
        program: String,
        args: Vec<String>,
        options: Options,
    ) -> Result<Resource<FutureProcess>> {
        let req = self.request(SpawnRequest::exec(&program, &args), &options);
        self.start_later(req, &options).await
    }

    async fn start_subprocess_shell(
        &mut self,
        cmd: String,
        options: Options,
    ) -> Result<Resource<FutureProcess>> {
        let req = self.request(SpawnRequest::shell(&cmd), &options);
        self.start_later(req, &options).await
    }

    // policy5 (query): begin. Would it be allowed? Nothing is started.
    fn query_exec(&mut self, program: String, args: Vec<String>, options: Options) -> Result<()> {
        let req = self.request(SpawnRequest::exec(&program, &args), &options);
        Ok(self.ctx.policy.query_spawn_audited(&req, &self.ctx.audit)?)
    }

    fn query_shell(&mut self, cmd: String, options: Options) -> Result<()> {
        let req = self.request(SpawnRequest::shell(&cmd), &options);
        Ok(self.ctx.policy.query_spawn_audited(&req, &self.ctx.audit)?)
    }
    // policy5 (query): end.
}
