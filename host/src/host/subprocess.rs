//! `procgate:subprocess/subprocess`: creating processes.

use crate::bindings::procgate::subprocess::subprocess::Host;
use crate::bindings::procgate::subprocess::types::{Options, Stdio};
use crate::policy::{audit, Request, Verdict};
use crate::process::Process;
use crate::spawn::{spawn, StdinSource, StdioMode, StdioRequest};
use crate::streams::PipeReader;
use crate::{Error, ProcgateCtxView, Result};
use std::sync::Arc;
use wasmtime::component::Resource;

/// The plain mode of a WIT `stdio`, for `which` stream; `stdout-of` is
/// only valid for stdin, where [`ProcgateCtxView::create`] handles it.
fn mode(stdio: &Stdio, which: &str) -> Result<StdioMode> {
    Ok(match stdio {
        Stdio::Inherit => StdioMode::Inherit,
        Stdio::Pipe => StdioMode::Pipe,
        Stdio::Devnull => StdioMode::Devnull,
        Stdio::Stdout => StdioMode::Stdout,
        Stdio::StdoutOf(_) => {
            return Err(Error::InvalidArgument(format!(
                "stdout-of is only valid for stdin, not for {which}"
            )));
        }
    })
}

impl ProcgateCtxView<'_> {
    /// Decides a spawn request and, if allowed, starts it and counts it.
    fn create(&mut self, req: Request<'_>, options: &Options) -> Result<Resource<Process>> {
        if options.limit == Some(0) {
            return Err(Error::InvalidArgument("limit must be positive".into()));
        }
        let stdout = mode(&options.stdout, "stdout")?;
        let stderr = mode(&options.stderr, "stderr")?;
        let (verdict, decision) = self.ctx.decide_seq(&req);
        let Verdict::Spawn(plan) = verdict? else {
            return Err(Error::Trap(wasmtime::format_err!(
                "policy answered a spawn with a signal verdict"
            )));
        };
        // A pipeline source is touched only once the policy said yes.
        let (stdin, source) = match &options.stdin {
            Stdio::StdoutOf(source) => {
                let pipe = self.pipeline_source(source)?;
                let fd = pipe.as_fd().try_clone_to_owned()?;
                pipe.set_blocking(true)?;
                (StdinSource::Pipeline(fd), Some((source.rep(), pipe)))
            }
            other => (StdinSource::Mode(mode(other, "stdin")?), None),
        };
        let stdio = StdioRequest {
            stdin,
            stdout,
            stderr,
            start_new_session: options.start_new_session,
        };
        let spawned = spawn(&plan, stdio, &self.ctx.inherited, &self.ctx.children);
        if let Some((rep, pipe)) = source {
            if spawned.is_ok() {
                // The pipe is the new process's now.
                let first = self.table.get_mut(&Resource::<Process>::new_borrow(rep))?;
                first.stdout = None;
                first.stdout_taken = true;
            } else {
                pipe.set_blocking(false)?;
            }
        }
        let process = spawned.inspect_err(|e| audit::spawn_failed(&self.ctx.audit, decision, e))?;
        let exit = process.exit();
        let containment = exit.containment().name();
        audit::spawned(
            &self.ctx.audit,
            decision,
            exit.pid(),
            &plan.program,
            containment,
            || exit.returncode(),
        );
        self.ctx.usage.add(process.exit());
        Ok(self.table.push(process)?)
    }

    /// The stdout pipe of `source`, for a pipeline: it must be a pipe the
    /// process still holds alone.
    fn pipeline_source(&mut self, source: &Resource<Process>) -> Result<Arc<PipeReader>> {
        let first = self.table.get(source)?;
        let pid = first.pid();
        match &first.stdout {
            _ if first.stdout_taken => Err(Error::InvalidArgument(format!(
                "stdout-of: the stdout of process {pid} was already taken"
            ))),
            None => Err(Error::InvalidArgument(format!(
                "stdout-of: process {pid} was not created with stdout pipe"
            ))),
            Some(pipe) if Arc::strong_count(pipe) > 1 => Err(Error::InvalidArgument(format!(
                "stdout-of: the stdout of process {pid} is being read by communicate"
            ))),
            Some(pipe) => Ok(Arc::clone(pipe)),
        }
    }
}

impl Host for ProcgateCtxView<'_> {
    fn create_subprocess_exec(
        &mut self,
        program: String,
        args: Vec<String>,
        options: Options,
    ) -> Result<Resource<Process>> {
        let req = Request::Exec {
            program: &program,
            args: &args,
            env: &options.env,
            cwd: options.cwd.as_deref(),
            usage: self.ctx.usage.usage(),
        };
        self.create(req, &options)
    }

    fn create_subprocess_shell(
        &mut self,
        cmd: String,
        options: Options,
    ) -> Result<Resource<Process>> {
        let req = Request::Shell {
            cmd: &cmd,
            env: &options.env,
            cwd: options.cwd.as_deref(),
            usage: self.ctx.usage.usage(),
        };
        self.create(req, &options)
    }
}
