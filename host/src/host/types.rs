//! `procgate:subprocess/types`: the `process` and `future-communicate`
//! resources, and the mapping of [`crate::Error`] to the WIT `error`.

use crate::bindings::procgate::subprocess::types::{
    CommunicateOutput, Error as WitError, Host, HostFutureCommunicate, HostFutureProcess,
    HostProcess, Signal,
};
use crate::communicate::FutureCommunicate;
use crate::error::invalid;
use crate::process::{ExitPollable, FutureProcess, Process};
use crate::streams::{ChildInput, ChildOutput};
use crate::{Error, ProcgateCtxView, Result};
use procgate_child::communicate::{Communicate, Output};
use procgate_child::pipes::PipeReader;
use procgate_child::{Pipe, Unavailable};
use procgate_policy::SignalRequest;
use std::sync::Arc;
use wasmtime::component::Resource;
use wasmtime_wasi_io::poll::DynPollable;
use wasmtime_wasi_io::streams::{DynInputStream, DynOutputStream};

impl Host for ProcgateCtxView<'_> {
    fn convert_error(&mut self, err: Error) -> wasmtime::Result<WitError> {
        use procgate_policy::Error as E;
        Ok(match err {
            Error::Request(E::Denied(s)) => WitError::Denied(s),
            Error::Request(E::NotFound(s)) => WitError::NotFound(s),
            Error::Request(E::PermissionDenied(s)) => WitError::PermissionDenied(s),
            Error::Request(E::InvalidArgument(s)) => WitError::InvalidArgument(s),
            Error::Request(E::LimitExceeded(s)) => WitError::LimitExceeded(s),
            Error::Request(E::ProcessExited) => WitError::ProcessExited,
            Error::Request(E::Io(s)) => WitError::Io(s),
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
        signal: procgate_policy::Signal,
    ) -> Result<()> {
        let process = self.table.get(process)?;
        let req = SignalRequest {
            pid: process.pid(),
            signal,
        };
        self.ctx.decide_signal(&req)?;
        Ok(process.exit().send_signal(signal.number())?)
    }

    /// The pipes of `process` taken for a communicate feeding it `input`,
    /// under the policy's limits and the run's budget.
    fn take_communicate(
        &mut self,
        process: &Resource<Process>,
        input: Option<Vec<u8>>,
    ) -> Result<Communicate> {
        let process = self.table.get_mut(process)?;
        let limits = self.ctx.policy.limits();
        Ok(Communicate::take(
            &mut process.child,
            input,
            limits,
            &self.ctx.budget,
        )?)
    }

    /// A stream on an output pipe for the guest.
    fn push_output(&mut self, pipe: Arc<PipeReader>) -> Result<Resource<DynInputStream>> {
        let stream: DynInputStream = Box::new(ChildOutput(pipe));
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
        let watch = self.table.push(ExitPollable::new(exit))?;
        wasmtime_wasi_io::poll::subscribe(self.table, watch)
    }

    async fn communicate(
        &mut self,
        process: Resource<Process>,
        input: Option<Vec<u8>>,
    ) -> Result<CommunicateOutput> {
        let out = self.take_communicate(&process, input)?.run().await?;
        let pumps = std::mem::take(&mut self.table.get_mut(&process)?.pumps);
        Process::flush_inherited(pumps).await;
        Ok(out.into())
    }

    fn start_communicate(
        &mut self,
        process: Resource<Process>,
        input: Option<Vec<u8>>,
    ) -> Result<Resource<FutureCommunicate>> {
        let c = self.take_communicate(&process, input)?;
        Ok(self.table.push(FutureCommunicate::spawn(c))?)
    }

    fn send_signal(&mut self, process: Resource<Process>, signal: Signal) -> Result<()> {
        self.signal(&process, from_wit(signal))
    }

    fn terminate(&mut self, process: Resource<Process>) -> Result<()> {
        self.signal(&process, procgate_policy::Signal::Term)
    }

    fn kill(&mut self, process: Resource<Process>) -> Result<()> {
        self.signal(&process, procgate_policy::Signal::Kill)
    }

    fn stdin(&mut self, process: Resource<Process>) -> Result<Resource<DynOutputStream>> {
        let process = self.table.get_mut(&process)?;
        let pipe = process.child.stdin.take().map_err(|why| match why {
            Unavailable::NotPiped => invalid("stdin was not created with pipe"),
            Unavailable::Taken => invalid("stdin was already taken (or closed by communicate)"),
        })?;
        let exit = Arc::clone(process.child.exit());
        let stream: DynOutputStream = Box::new(ChildInput::new(pipe, exit));
        Ok(self.table.push(stream)?)
    }

    fn stdout(&mut self, process: Resource<Process>) -> Result<Resource<DynInputStream>> {
        let pipe = lend(&mut self.table.get_mut(&process)?.child.stdout, "stdout")?;
        self.push_output(pipe)
    }

    fn stderr(&mut self, process: Resource<Process>) -> Result<Resource<DynInputStream>> {
        let pipe = lend(&mut self.table.get_mut(&process)?.child.stderr, "stderr")?;
        self.push_output(pipe)
    }

    fn drop(&mut self, process: Resource<Process>) -> wasmtime::Result<()> {
        // Dropping the host value kills and reaps an unwaited child.
        // It stays counted (live, then held) until the host has reaped it.
        self.table.delete(process)?;
        Ok(())
    }
}

impl HostFutureProcess for ProcgateCtxView<'_> {
    fn subscribe(
        &mut self,
        future: Resource<FutureProcess>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        wasmtime_wasi_io::poll::subscribe(self.table, future)
    }

    fn get(
        &mut self,
        future: Resource<FutureProcess>,
    ) -> wasmtime::Result<Option<Result<Resource<Process>, WitError>>> {
        let Some(result) = self.table.get_mut(&future)?.get(&self.ctx.inherited) else {
            return Ok(None);
        };
        Ok(Some(match result {
            Ok(process) => Ok(self.table.push(process)?),
            Err(e) => Err(self.convert_error(e.into())?),
        }))
    }

    fn drop(&mut self, future: Resource<FutureProcess>) -> wasmtime::Result<()> {
        // A process not taken is dropped with it: ended and reaped.
        self.table.delete(future)?;
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
            Err(e) => Err(self.convert_error(e.into())?),
        }))
    }

    fn subscribe_output(
        &mut self,
        future: Resource<FutureCommunicate>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        let ready = self.table.get(&future)?.output_ready();
        let ready = self.table.push(ready)?;
        wasmtime_wasi_io::poll::subscribe(self.table, ready)
    }

    fn take_output(
        &mut self,
        future: Resource<FutureCommunicate>,
        max: u64,
    ) -> wasmtime::Result<(Vec<Vec<u8>>, Vec<Vec<u8>>)> {
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        Ok(self.table.get(&future)?.take_output(max))
    }

    fn drop(&mut self, future: Resource<FutureCommunicate>) -> wasmtime::Result<()> {
        self.table.delete(future)?;
        Ok(())
    }
}

/// A share of output pipe `name` for a stream; the process keeps one, so a
/// communicate can read the rest of what the stream began reading.
fn lend(pipe: &mut Pipe<Arc<PipeReader>>, name: &str) -> Result<Arc<PipeReader>> {
    pipe.lend().map_err(|why| match why {
        Unavailable::NotPiped => invalid(format!("{name} was not created with pipe")),
        Unavailable::Taken => invalid(format!("{name} was already taken")),
    })
}

/// The policy's [`procgate_policy::Signal`] of a WIT `signal`.
fn from_wit(s: Signal) -> procgate_policy::Signal {
    macro_rules! same {
        ($($v:ident)*) => {
            match s { $(Signal::$v => procgate_policy::Signal::$v,)* }
        };
    }
    same!(Hup Int Quit Ill Trap Abrt Bus Fpe Kill Usr1 Segv Usr2 Pipe Alrm Term Chld Cont Stop
        Tstp Ttin Ttou Urg Xcpu Xfsz Vtalrm Prof Winch Io Pwr Sys)
}
