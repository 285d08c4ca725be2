//! `procgate:subprocess/subprocess`: creating processes.

use crate::bindings::procgate::subprocess::subprocess::Host;
use crate::bindings::procgate::subprocess::types::{Options, Stdio};
use crate::error::invalid;
use crate::process::Process;
use crate::{ProcgateCtxView, Result};
use procgate_child::pipes::PipeReader;
use procgate_child::{Input, Output, Pipe};
use procgate_policy::{audit, SpawnPlan, SpawnRequest};
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

impl ProcgateCtxView<'_> {
    /// Decides a spawn request and, if allowed, starts it: one decision
    /// event, then a `spawn` or `spawn-failed` event.
    async fn create(
        &mut self,
        req: SpawnRequest<'_>,
        options: &Options,
    ) -> Result<Resource<Process>> {
        if options.limit == Some(0) {
            return Err(invalid("limit must be positive"));
        }
        let stdout = output(&options.stdout, "stdout", self.ctx)?;
        let stderr = output(&options.stderr, "stderr", self.ctx)?;
        let (plan, decision) = self.ctx.decide_spawn(&req).await;
        let plan = plan?;
        let process = self
            .start(&plan, options, stdout, stderr)
            .inspect_err(|e| audit::spawn_failed(&self.ctx.audit, decision, &e.to_request()))?;
        let exit = process.exit();
        audit::spawned(
            &self.ctx.audit,
            decision,
            exit.pid(),
            &plan.program,
            exit.containment().name(),
            // Only an exit already seen (by the timeout's task): one seen
            // later is logged then, the child being followed by now.
            || exit.known_returncode(),
        );
        Ok(self.table.push(process)?)
    }

    /// Starts an allowed spawn with the stdio the guest asked for.
    fn start(
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
            Stdio::Inherit => (self.ctx.inherited.stdin(), None),
            Stdio::Pipe => (Input::Pipe, None),
            Stdio::Devnull => (Input::Devnull, None),
            Stdio::Stdout => {
                return Err(invalid("stdout is only valid for stderr, not for stdin"));
            }
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
        let mut child = spawned?;
        // Inherited output meant for a WASI stream is copied into it; such
        // a pipe is not the guest's.
        let mut pumps = Vec::new();
        for (asked, to, pipe) in [
            (
                &options.stdout,
                &self.ctx.inherited.stdout,
                &mut child.stdout,
            ),
            (
                &options.stderr,
                &self.ctx.inherited.stderr,
                &mut child.stderr,
            ),
        ] {
            if matches!(asked, Stdio::Inherit) {
                if let Ok(reader) = pipe.take() {
                    pumps.extend(to.pump(reader));
                    *pipe = Pipe::None;
                }
            }
        }
        Ok(Process { child, pumps })
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
}

impl Host for ProcgateCtxView<'_> {
    async fn create_subprocess_exec(
        &mut self,
        program: String,
        args: Vec<String>,
        options: Options,
    ) -> Result<Resource<Process>> {
        let req = SpawnRequest::exec(&program, &args)
            .env(&options.env)
            .cwd(options.cwd.as_deref())
            .usage(self.ctx.children.usage());
        self.create(req, &options).await
    }

    async fn create_subprocess_shell(
        &mut self,
        cmd: String,
        options: Options,
    ) -> Result<Resource<Process>> {
        let req = SpawnRequest::shell(&cmd)
            .env(&options.env)
            .cwd(options.cwd.as_deref())
            .usage(self.ctx.children.usage());
        self.create(req, &options).await
    }

    // policy5 (query): begin. Would it be allowed? Nothing is started.
    fn query_exec(&mut self, program: String, args: Vec<String>, options: Options) -> Result<()> {
        let req = SpawnRequest::exec(&program, &args)
            .env(&options.env)
            .cwd(options.cwd.as_deref())
            .usage(self.ctx.children.usage());
        Ok(self.ctx.policy.query_spawn_audited(&req, &self.ctx.audit)?)
    }

    fn query_shell(&mut self, cmd: String, options: Options) -> Result<()> {
        let req = SpawnRequest::shell(&cmd)
            .env(&options.env)
            .cwd(options.cwd.as_deref())
            .usage(self.ctx.children.usage());
        Ok(self.ctx.policy.query_spawn_audited(&req, &self.ctx.audit)?)
    }
    // policy5 (query): end.
}
