//! The async face: asyncio's subprocess API as `async fn`s, over [`wstd`]'s
//! reactor.
//!
//! Everything here must run inside [`run`] (asyncio's `asyncio.run`, which
//! is [`wstd::runtime::block_on`]; `#[wstd::main]` works too). Each wait
//! (for an exit, for stream data, for a `communicate`) awaits its own
//! `wasi:io` pollable, and the reactor polls all pending pollables at once,
//! so the processes of a [`gather`] truly run concurrently.
//!
//! ```
//! use procgate_guest::aio::{create_subprocess_shell, gather, run};
//! use procgate_guest::{Options, PIPE};
//!
//! async fn run_cmd(cmd: &str) -> procgate_guest::Result<()> {
//!     let mut proc = create_subprocess_shell(cmd, Options::new().stdout(PIPE).stderr(PIPE)).await?;
//!     let (stdout, stderr) = proc.communicate(None).await?;
//!     println!("[{cmd:?} exited with {}]", proc.returncode().unwrap());
//!     if let Some(out) = stdout.filter(|o| !o.is_empty()) {
//!         println!("[stdout]\n{}", String::from_utf8_lossy(&out));
//!     }
//!     if let Some(err) = stderr.filter(|e| !e.is_empty()) {
//!         println!("[stderr]\n{}", String::from_utf8_lossy(&err));
//!     }
//!     Ok(())
//! }
//!
//! // Takes about one second, not two: both run at once.
//! run(gather([run_cmd("sleep 1; echo hello"), run_cmd("sleep 1; echo world")]));
//! ```

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::Stream;
use wasip2::io::poll::Pollable;
use wasip2::io::streams::OutputStream;
use wstd::runtime::{AsyncPollable, Task};

use crate::bindings::procgate::subprocess::types as wit;
use crate::shared::{self, Feed, ProcCore, ReaderCore, Spawned, Step, WriterCore};
use crate::{HostError, Options, Signal, StreamError, TimeoutError};

pub use crate::sync::Communicated;

type Result<T, E = HostError> = std::result::Result<T, E>;

mod communication;
mod process;
mod reader;
mod runtime;
mod writer;

pub use communication::Communication;
pub use process::Process;
pub use reader::StreamReader;
use runtime::ready;
pub use runtime::{gather, run, sleep, wait_for, zip, NestedRunError};
pub use writer::StreamWriter;
use writer::{write_all, Closing};

/// Create a subprocess running `program` with the arguments `args` (which
/// exclude the program itself): asyncio's `create_subprocess_exec`.
///
/// The host starts the process while other futures run (the WIT's
/// `start-subprocess-exec`), so processes created at once (in a
/// [`gather`]) start in parallel, as tasks of a native runtime do; the
/// host's limits count each from the call on.
///
/// The host's policy decides first: the program must be allowed, and a name
/// without a slash is looked up on the policy's own search path, never the
/// guest's `PATH`. `options` gives asyncio's keyword arguments. Fails with
/// [`HostError::Denied`], [`HostError::NotFound`],
/// [`HostError::PermissionDenied`] or [`HostError::InvalidArgument`] as
/// [`crate::sync::create_subprocess_exec`].
///
/// ```
/// use procgate_guest::aio::{create_subprocess_exec, run};
/// use procgate_guest::{Options, PIPE};
///
/// let date = run(async {
///     let code = "import datetime; print(datetime.datetime.now())";
///     let mut proc = create_subprocess_exec("python3", ["-c", code], Options::new().stdout(PIPE)).await?;
///     let line = proc.stdout.as_mut().unwrap().readline().await?;
///     proc.wait().await?;
///     Ok::<_, procgate_guest::Error>(String::from_utf8_lossy(&line).trim_end().to_owned())
/// })??;
/// println!("Current date: {date}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn create_subprocess_exec<I, S>(
    program: &str,
    args: I,
    options: Options,
) -> Result<Process>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    launched(shared::start_exec(program, args, &options)?, &options).await
}

/// Run the `cmd` shell command with the host's shell (`/bin/sh -c cmd`
/// unless the policy configures another): asyncio's
/// `create_subprocess_shell`. Denied unless the policy grants a shell.
///
/// It is the guest's responsibility to quote all whitespace and special
/// characters appropriately to avoid shell injection.
///
/// ```
/// use procgate_guest::aio::{create_subprocess_shell, run};
///
/// let code = run(async { create_subprocess_shell("exit 7", Default::default()).await?.wait().await })??;
/// assert_eq!(code, 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn create_subprocess_shell(cmd: &str, options: Options) -> Result<Process> {
    launched(shared::start_shell(cmd, &options)?, &options).await
}

/// The process of a start the host made, once it is launched; other
/// futures run meanwhile.
async fn launched(starting: shared::Starting, options: &Options) -> Result<Process> {
    ready(starting.subscribe()).await;
    starting.started(options).map(Process::new)
}
