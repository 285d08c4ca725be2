//! `procgate:subprocess/subprocess`: creating processes.

use crate::bindings::procgate::subprocess::subprocess::Host;
use crate::bindings::procgate::subprocess::types::Options;
use crate::policy::{Request, Verdict};
use crate::process::Process;
use crate::spawn::{spawn, StdioRequest};
use crate::{Error, ProcgateCtxView, Result};
use wasmtime::component::Resource;

impl ProcgateCtxView<'_> {
    /// Decides a spawn request and, if allowed, starts it and counts it.
    fn create(&mut self, req: Request<'_>, options: &Options) -> Result<Resource<Process>> {
        if options.limit == Some(0) {
            return Err(Error::InvalidArgument("limit must be positive".into()));
        }
        let Verdict::Spawn(plan) = self.ctx.decide(&req)? else {
            return Err(Error::Trap(wasmtime::format_err!(
                "policy answered a spawn with a signal verdict"
            )));
        };
        let stdio = StdioRequest {
            stdin: options.stdin,
            stdout: options.stdout,
            stderr: options.stderr,
            start_new_session: options.start_new_session,
        };
        let process = spawn(&plan, stdio, &self.ctx.inherited, &self.ctx.children)?;
        self.ctx.usage.add(process.exit());
        tracing::debug!(target: crate::policy::AUDIT_TARGET, pid = process.pid(), "started {}", plan.program.display());
        Ok(self.table.push(process)?)
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
