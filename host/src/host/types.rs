//! `procgate:subprocess/types`: the `process` and `future-communicate`
//! resources, and the mapping of [`crate::Error`] to the WIT `error`.

use crate::bindings::procgate::subprocess::types::{
    CommunicateOutput, Error as WitError, Host, HostFutureCommunicate, HostProcess, Signal,
};
use crate::communicate::{Communicate, FutureCommunicate, Output};
use crate::policy::Request;
use crate::process::{ExitPollable, Pipe, Process};
use crate::streams::{ChildInput, ChildOutput};
use crate::{Error, ProcgateCtxView, Result};
use wasmtime::component::Resource;
use wasmtime_wasi_io::poll::DynPollable;
use wasmtime_wasi_io::streams::{DynInputStream, DynOutputStream};

impl Host for ProcgateCtxView<'_> {
    fn convert_error(&mut self, err: Error) -> wasmtime::Result<WitError> {
        Ok(match err {
            Error::Denied(s) => WitError::Denied(s),
            Error::NotFound(s) => WitError::NotFound(s),
            Error::PermissionDenied(s) => WitError::PermissionDenied(s),
            Error::InvalidArgument(s) => WitError::InvalidArgument(s),
            Error::LimitExceeded(s) => WitError::LimitExceeded(s),
            Error::ProcessExited => WitError::ProcessExited,
            Error::Io(s) => WitError::Io(s),
            Error::Trap(e) => return Err(e),
        })
    }
}

impl From<Output> for CommunicateOutput {
    fn from(o: Output) -> CommunicateOutput {
        CommunicateOutput {
            stdout: o.stdout,
            stderr: o.stderr,
            returncode: o.returncode,
        }
    }
}

impl ProcgateCtxView<'_> {
    fn signal(
        &mut self,
        process: &Resource<Process>,
        signal: crate::signals::Signal,
    ) -> Result<()> {
        let process = self.table.get(process)?;
        let req = Request::Signal {
            pid: process.pid(),
            signal,
        };
        self.ctx.decide(&req)?;
        process.exit().send_signal(signal.number())
    }

    fn take_output(
        &mut self,
        process: &Resource<Process>,
        stderr: bool,
    ) -> Result<Resource<DynInputStream>> {
        let name = if stderr { "stderr" } else { "stdout" };
        let process = self.table.get_mut(process)?;
        let (pipe, taken) = if stderr {
            (&process.stderr, &mut process.stderr_taken)
        } else {
            (&process.stdout, &mut process.stdout_taken)
        };
        let Some(pipe) = pipe else {
            return Err(Error::InvalidArgument(format!(
                "{name} was not created with pipe"
            )));
        };
        if *taken {
            return Err(Error::InvalidArgument(format!("{name} was already taken")));
        }
        *taken = true;
        let stream: DynInputStream = Box::new(ChildOutput(pipe.clone()));
        Ok(self.table.push(stream)?)
    }
}

impl HostProcess for ProcgateCtxView<'_> {
    fn pid(&mut self, process: Resource<Process>) -> wasmtime::Result<u32> {
        Ok(self.table.get(&process)?.pid())
    }

    fn returncode(&mut self, process: Resource<Process>) -> wasmtime::Result<Option<i32>> {
        Ok(self.table.get(&process)?.exit().returncode())
    }

    async fn wait(&mut self, process: Resource<Process>) -> Result<i32> {
        let exit = self.table.get(&process)?.exit().clone();
        let rc = exit.wait().await;
        let pumps = std::mem::take(&mut self.table.get_mut(&process)?.pumps);
        Process::flush_inherited(pumps).await;
        Ok(rc)
    }

    fn subscribe(&mut self, process: Resource<Process>) -> wasmtime::Result<Resource<DynPollable>> {
        let exit = self.table.get(&process)?.exit().clone();
        // The pollable belongs to its own resource, not to the process, so
        // the guest may drop the process first.
        let watch = self.table.push(ExitPollable(exit))?;
        wasmtime_wasi_io::poll::subscribe(self.table, watch)
    }

    async fn communicate(
        &mut self,
        process: Resource<Process>,
        input: Option<Vec<u8>>,
    ) -> Result<CommunicateOutput> {
        let proc = self.table.get_mut(&process)?;
        let c = Communicate::take(proc, input, self.ctx.policy.limits(), &self.ctx.budget)?;
        let out = c.run().await?;
        let pumps = std::mem::take(&mut self.table.get_mut(&process)?.pumps);
        Process::flush_inherited(pumps).await;
        Ok(out.into())
    }

    fn start_communicate(
        &mut self,
        process: Resource<Process>,
        input: Option<Vec<u8>>,
    ) -> Result<Resource<FutureCommunicate>> {
        let process = self.table.get_mut(&process)?;
        let c = Communicate::take(process, input, self.ctx.policy.limits(), &self.ctx.budget)?;
        Ok(self.table.push(FutureCommunicate::spawn(c))?)
    }

    fn send_signal(&mut self, process: Resource<Process>, signal: Signal) -> Result<()> {
        self.signal(&process, signal.into())
    }

    fn terminate(&mut self, process: Resource<Process>) -> Result<()> {
        self.signal(&process, crate::signals::Signal::Term)
    }

    fn kill(&mut self, process: Resource<Process>) -> Result<()> {
        self.signal(&process, crate::signals::Signal::Kill)
    }

    fn stdin(&mut self, process: Resource<Process>) -> Result<Resource<DynOutputStream>> {
        let process = self.table.get_mut(&process)?;
        let pipe = match std::mem::replace(&mut process.stdin, Pipe::Taken) {
            Pipe::Held(pipe) => pipe,
            Pipe::None => {
                process.stdin = Pipe::None;
                return Err(Error::InvalidArgument(
                    "stdin was not created with pipe".into(),
                ));
            }
            Pipe::Taken => {
                return Err(Error::InvalidArgument(
                    "stdin was already taken (or closed by communicate)".into(),
                ));
            }
        };
        let stream: DynOutputStream = Box::new(ChildInput::new(pipe));
        Ok(self.table.push(stream)?)
    }

    fn stdout(&mut self, process: Resource<Process>) -> Result<Resource<DynInputStream>> {
        self.take_output(&process, false)
    }

    fn stderr(&mut self, process: Resource<Process>) -> Result<Resource<DynInputStream>> {
        self.take_output(&process, true)
    }

    fn drop(&mut self, process: Resource<Process>) -> wasmtime::Result<()> {
        // Dropping the host value kills and reaps an unwaited child.
        // It stays counted (live, then held) until the host has reaped it.
        self.table.delete(process)?;
        Ok(())
    }
}

impl HostFutureCommunicate for ProcgateCtxView<'_> {
    fn subscribe(
        &mut self,
        future: Resource<FutureCommunicate>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        wasmtime_wasi_io::poll::subscribe(self.table, future)
    }

    fn get(
        &mut self,
        future: Resource<FutureCommunicate>,
    ) -> wasmtime::Result<Option<Result<CommunicateOutput, WitError>>> {
        let Some(result) = self.table.get_mut(&future)?.get() else {
            return Ok(None);
        };
        Ok(Some(match result {
            Ok(out) => Ok(out.into()),
            Err(e) => Err(self.convert_error(e)?),
        }))
    }

    fn drop(&mut self, future: Resource<FutureCommunicate>) -> wasmtime::Result<()> {
        self.table.delete(future)?;
        Ok(())
    }
}
