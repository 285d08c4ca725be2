//! What the blocking and the async faces share: the process handle, the
//! lazily taken streams, asyncio's `StreamReader` buffer logic with the I/O
//! left out, the planning of `communicate`, and what both faces' types do
//! alike (`Debug`, the conversion between faces).
//!
//! # Streams are taken lazily
//!
//! A process created with `stdin=PIPE` has `stdin: Some(StreamWriter)` at
//! once, as in asyncio, but the `wasi:io` stream is only taken from the WIT
//! process (`process.stdin()`) when the guest first writes to it; readers
//! likewise on their first read. Until then the host still holds the pipe, so
//! `communicate` can hand `input` to the host (which feeds stdin and reads
//! stdout/stderr concurrently, natively) instead of the guest writing it
//! through the stream. Once taken, the guest feeds stdin itself and the host
//! reads the rest of a taken stdout/stderr (the WIT says so).
//!
//! # Drop order
//!
//! The host may refuse to drop a resource while a resource made from it is
//! alive. Every pollable here lives inside one call (or one `async fn`'s
//! future, which borrows the stream), so it is gone before its stream. Every
//! stream is held next to an `Rc` of the WIT process it came from, in a field
//! declared *before* that `Rc`, so a stream is dropped before its process,
//! even when the guest moves a reader out of its `Process`.

use std::cell::Cell;
use std::rc::Rc;

use wasip2::io::poll::Pollable;
use wasip2::io::streams::{InputStream, OutputStream, StreamError as WasiStreamError};

use crate::bindings::procgate::subprocess::subprocess as wit_subprocess;
use crate::bindings::procgate::subprocess::types as wit;
use crate::{HostError, Options, Signal, Stdio, StreamError};

type Result<T, E = HostError> = std::result::Result<T, E>;

mod communicate;
mod faces;
mod read_buf;
mod reader;
mod writer;

pub(crate) use communicate::{
    block_until, feed_blocking_and_close, plan_feed, Communicating, Feed,
};
pub(crate) use read_buf::{ReadBuf, Step, Which};
pub(crate) use reader::ReaderCore;
pub(crate) use writer::WriterCore;

/// How much one read of a child's stdout/stderr asks the host for.
pub(crate) const READ_CHUNK: u64 = 64 * 1024;

/// The most `blocking-write-and-flush` takes at once (wasi:io's rule).
pub(crate) const WRITE_CHUNK: usize = 4096;

/// Why a stdin is closed: the text of [`StreamError::Closed`].
pub(crate) const CLOSED_BY_CHILD: &str = "the child closed its stdin or exited (broken pipe)";
pub(crate) const CLOSED_BY_GUEST: &str = "the guest closed stdin (close, write_eof or drop)";
pub(crate) const CLOSED_BY_COMMUNICATE: &str = "communicate closed stdin";
pub(crate) const CLOSED_AFTER_FAILURE: &str = "an earlier write or flush failed";

/// A `wasi:io` stream error of a child's stdin as ours.
pub(crate) fn stream_error(e: WasiStreamError) -> StreamError {
    match e {
        WasiStreamError::Closed => StreamError::Closed(CLOSED_BY_CHILD.into()),
        WasiStreamError::LastOperationFailed(e) => StreamError::Failed(e.to_debug_string()),
    }
}

/// The process handle shared by `sync::Process` and `aio::Process`.
pub(crate) struct ProcCore {
    pub(crate) wit: Rc<wit::Process>,
    pid: u32,
    returncode: Cell<Option<i32>>,
}

impl ProcCore {
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The return code once the process has exited, asking the host until
    /// it is known.
    pub(crate) fn returncode(&self) -> Option<i32> {
        if let Some(code) = self.returncode.get() {
            return Some(code);
        }
        let code = self.wit.returncode();
        self.returncode.set(code);
        code
    }

    /// The return code a `wait` or `communicate` already returned, without
    /// asking the host.
    pub(crate) fn known_returncode(&self) -> Option<i32> {
        self.returncode.get()
    }

    pub(crate) fn set_returncode(&self, code: i32) {
        self.returncode.set(Some(code));
    }

    /// The exit pollable: ready once the process has exited. It does not
    /// borrow the process.
    pub(crate) fn subscribe(&self) -> Pollable {
        self.wit.subscribe()
    }

    /// The return code if the process has exited, without blocking.
    pub(crate) fn try_wait(&self) -> Result<Option<i32>> {
        if let Some(code) = self.known_returncode() {
            return Ok(Some(code));
        }
        if !self.subscribe().ready() {
            return Ok(None);
        }
        // Ready means exited: this does not block on the child.
        let code = self.wit.wait()?;
        self.set_returncode(code);
        Ok(Some(code))
    }

    pub(crate) fn send_signal(&self, signal: Signal) -> Result<()> {
        Ok(self.wit.send_signal(signal.into())?)
    }

    pub(crate) fn terminate(&self) -> Result<()> {
        Ok(self.wit.terminate()?)
    }

    pub(crate) fn kill(&self) -> Result<()> {
        Ok(self.wit.kill()?)
    }
}

/// A process just created, with the streams its options piped.
pub(crate) struct Spawned {
    pub(crate) stdin: Option<WriterCore>,
    pub(crate) stdout: Option<ReaderCore>,
    pub(crate) stderr: Option<ReaderCore>,
    pub(crate) proc: ProcCore,
}

pub(crate) fn spawn_exec<I, S>(program: &str, args: I, options: &Options) -> Result<Spawned>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let wit_options = options.to_wit()?;
    let process = wit_subprocess::create_subprocess_exec(program, &args, &wit_options)?;
    Ok(spawned(process, options))
}

pub(crate) fn spawn_shell(cmd: &str, options: &Options) -> Result<Spawned> {
    let wit_options = options.to_wit()?;
    let process = wit_subprocess::create_subprocess_shell(cmd, &wit_options)?;
    Ok(spawned(process, options))
}

/// A process the host is starting (`start-subprocess-exec`): the policy
/// has said yes; [`Starting::subscribe`] is ready once the start is over.
pub(crate) struct Starting {
    future: wit::FutureProcess,
}

impl Starting {
    /// A pollable ready once the process has started or failed to.
    pub(crate) fn subscribe(&self) -> Pollable {
        self.future.subscribe()
    }

    /// The process, once [`Starting::subscribe`] was ready.
    pub(crate) fn started(self, options: &Options) -> Result<Spawned> {
        let process = self
            .future
            .get()
            .ok_or_else(|| HostError::Io("the start was not over".into()))??;
        Ok(spawned(process, options))
    }
}

/// Starts `program` in the host while the guest goes on: the policy's
/// refusal is the error now, an error launching it comes from
/// [`Starting::started`].
pub(crate) fn start_exec<I, S>(program: &str, args: I, options: &Options) -> Result<Starting>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let wit_options = options.to_wit()?;
    let future = wit_subprocess::start_subprocess_exec(program, &args, &wit_options)?;
    Ok(Starting { future })
}

/// [`start_exec`] for a shell command.
pub(crate) fn start_shell(cmd: &str, options: &Options) -> Result<Starting> {
    let wit_options = options.to_wit()?;
    let future = wit_subprocess::start_subprocess_shell(cmd, &wit_options)?;
    Ok(Starting { future })
}

fn spawned(process: wit::Process, options: &Options) -> Spawned {
    let pid = process.pid();
    let wit = Rc::new(process);
    let limit = options.reader_limit();
    let piped = |stdio: Stdio| stdio == Stdio::Pipe;
    Spawned {
        stdin: piped(options.stdin).then(|| WriterCore::new(wit.clone())),
        stdout: piped(options.stdout).then(|| ReaderCore::new(wit.clone(), Which::Stdout, limit)),
        stderr: piped(options.stderr).then(|| ReaderCore::new(wit.clone(), Which::Stderr, limit)),
        proc: ProcCore {
            wit,
            pid,
            returncode: Cell::new(None),
        },
    }
}
