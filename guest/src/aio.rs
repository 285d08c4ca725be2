//! The async face: asyncio's subprocess API as `async fn`s, over [`wstd`]'s
//! reactor.
//!
//! Everything here must run inside [`run`] (asyncio's `asyncio.run`, which
//! is [`wstd::runtime::block_on`]; `#[wstd::main]` works too). Each wait
//! (for an exit, for stream data, for a `communicate`) awaits its own
//! `wasi:io` pollable, and the reactor polls all pending pollables at once,
//! so the processes of a [`gather`] truly run concurrently.
//!
//! ```no_run
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

std::thread_local! {
    /// Whether an [`run`] is running on this thread.
    static RUNNING: Cell<bool> = const { Cell::new(false) };
}

/// [`run`] was called while another `run` was running: asyncio's
/// `RuntimeError: asyncio.run() cannot be called from a running event
/// loop`. Await the future instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NestedRunError;

impl fmt::Display for NestedRunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "aio::run cannot be called from a running aio::run (await the future instead, \
             or use the blocking face procgate_guest::sync)",
        )
    }
}

impl std::error::Error for NestedRunError {}

/// Run a future to completion on a new [`wstd`] reactor and return its
/// output: asyncio's `asyncio.run`, over [`wstd::runtime::block_on`].
///
/// Called inside another `run` (a blocking helper that runs its own
/// future, used from async code), it does not panic as `block_on` would:
/// it returns [`NestedRunError`] without polling the future, as asyncio
/// raises `RuntimeError`. (Running the future inline cannot be done
/// soundly: the outer reactor's pending waits belong to it.) This only
/// knows of runs started here: inside a bare `wstd::runtime::block_on` or
/// `#[wstd::main]`, make `run` the outermost instead.
///
/// ```no_run
/// use procgate_guest::aio::{create_subprocess_shell, run, NestedRunError};
///
/// let code = run(async {
///     let proc = create_subprocess_shell("exit 3", Default::default()).await?;
///     assert_eq!(run(async { 1 }), Err(NestedRunError));
///     proc.wait().await
/// })??;
/// assert_eq!(code, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run<F: Future>(future: F) -> std::result::Result<F::Output, NestedRunError> {
    if RUNNING.with(|r| r.replace(true)) {
        return Err(NestedRunError);
    }
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            RUNNING.with(|r| r.set(false));
        }
    }
    let _reset = Reset;
    Ok(wstd::runtime::block_on(future))
}

/// Await `future`, giving up after `timeout`: asyncio's `wait_for`. On
/// timeout the future is dropped (cancelled) and [`TimeoutError`] returned;
/// cancelling a procgate wait leaves the process running.
///
/// ```no_run
/// use std::time::Duration;
/// use procgate_guest::aio::{create_subprocess_exec, run, wait_for};
///
/// run(async {
///     let proc = create_subprocess_exec("sleep", ["3600"], Default::default()).await?;
///     if wait_for(proc.wait(), Duration::from_millis(100)).await.is_err() {
///         proc.kill()?;
///     }
///     proc.wait().await
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn wait_for<F: Future>(
    future: F,
    timeout: Duration,
) -> std::result::Result<F::Output, TimeoutError> {
    futures_lite::future::or(async { Ok(future.await) }, async {
        sleep(timeout).await;
        Err(TimeoutError { after: timeout })
    })
    .await
}

/// Sleep for `duration`, letting other futures run (asyncio's `sleep`).
pub async fn sleep(duration: Duration) {
    let ns = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    ready(wasip2::clocks::monotonic_clock::subscribe_duration(ns)).await;
}

/// Run futures concurrently and return their outputs in order, once all
/// are done: asyncio's `gather` for futures of one type.
///
/// The futures are polled together in the current task, so they need no
/// `'static` bound. For futures of different types, use [`zip`] (two at a
/// time; nest it for more), or box them as
/// `Pin<Box<dyn Future<Output = T>>>`.
///
/// ```no_run
/// use procgate_guest::aio::{create_subprocess_shell, gather, run, zip};
///
/// async fn exit_code(cmd: &str) -> procgate_guest::Result<i32> {
///     Ok(create_subprocess_shell(cmd, Default::default()).await?.wait().await?)
/// }
///
/// run(async {
///     let codes = gather(["exit 1", "sleep 1; exit 2"].map(exit_code)).await;
///     assert_eq!(codes, [Ok(1), Ok(2)]);
///
///     // Different types: zip.
///     let (code, ()) = zip(exit_code("exit 3"), async { println!("meanwhile") }).await;
/// })
/// .unwrap();
/// ```
pub async fn gather<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    Gather {
        slots: futures
            .into_iter()
            .map(|f| Slot::Pending(Box::pin(f)))
            .collect(),
    }
    .await
}

/// Run two futures of any types concurrently and return both outputs once
/// both are done: a two-way asyncio `gather` (this is
/// `futures_lite::future::zip`).
///
/// ```no_run
/// use procgate_guest::aio::{create_subprocess_shell, run, zip};
///
/// run(async {
///     let a = async { create_subprocess_shell("exit 1", Default::default()).await?.wait().await };
///     let b = async { 42 };
///     let (code, answer) = zip(a, b).await;
/// });
/// ```
pub use futures_lite::future::zip;

enum Slot<F: Future> {
    Pending(Pin<Box<F>>),
    Done(F::Output),
    Taken,
}

struct Gather<F: Future> {
    slots: Vec<Slot<F>>,
}

// The futures are boxed (pinned on the heap); the vector itself may move.
impl<F: Future> Unpin for Gather<F> {}

impl<F: Future> Future for Gather<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut all_done = true;
        for slot in self.slots.iter_mut() {
            if let Slot::Pending(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(output) => *slot = Slot::Done(output),
                    Poll::Pending => all_done = false,
                }
            }
        }
        if !all_done {
            return Poll::Pending;
        }
        let outputs = self
            .slots
            .iter_mut()
            .map(|slot| match std::mem::replace(slot, Slot::Taken) {
                Slot::Done(output) => output,
                _ => unreachable!("gather polled after completion"),
            })
            .collect();
        Poll::Ready(outputs)
    }
}

/// Wait until `pollable` is ready, letting other futures of the reactor
/// run meanwhile. The pollable is dropped when this returns (or is
/// cancelled), before whatever it was made from.
async fn ready(pollable: Pollable) {
    if pollable.ready() {
        return;
    }
    let pollable = AsyncPollable::new(pollable);
    pollable.wait_for().await;
}

/// Create a subprocess running `program` with the arguments `args` (which
/// exclude the program itself): asyncio's `create_subprocess_exec`.
///
/// The host's policy decides first: the program must be allowed, and a name
/// without a slash is looked up on the policy's own search path, never the
/// guest's `PATH`. `options` gives asyncio's keyword arguments. Fails with
/// [`HostError::Denied`], [`HostError::NotFound`],
/// [`HostError::PermissionDenied`] or [`HostError::InvalidArgument`] as
/// [`crate::sync::create_subprocess_exec`].
///
/// ```no_run
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
    shared::spawn_exec(program, args, &options).map(Process::new)
}

/// Run the `cmd` shell command with the host's shell (`/bin/sh -c cmd`
/// unless the policy configures another): asyncio's
/// `create_subprocess_shell`. Denied unless the policy grants a shell.
///
/// It is the guest's responsibility to quote all whitespace and special
/// characters appropriately to avoid shell injection.
///
/// ```no_run
/// use procgate_guest::aio::{create_subprocess_shell, run};
///
/// let code = run(async { create_subprocess_shell("exit 7", Default::default()).await?.wait().await })??;
/// assert_eq!(code, 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn create_subprocess_shell(cmd: &str, options: Options) -> Result<Process> {
    shared::spawn_shell(cmd, &options).map(Process::new)
}

/// A child process: asyncio's `Process`, made by [`create_subprocess_exec`]
/// and [`create_subprocess_shell`].
///
/// The streams the options piped are in [`Process::stdin`],
/// [`Process::stdout`] and [`Process::stderr`], as in asyncio. When the
/// `Process` is dropped (and no stream taken out of it is left), the host
/// kills the child if it still runs and reaps it.
///
/// ```no_run
/// use procgate_guest::aio::{create_subprocess_exec, run};
/// use procgate_guest::{Options, PIPE};
///
/// run(async {
///     let mut proc = create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE).stdout(PIPE)).await?;
///     let stdin = proc.stdin.as_mut().unwrap();
///     stdin.write(b"some data")?;
///     stdin.drain().await?;
///     stdin.close();
///     let data = proc.stdout.as_mut().unwrap().read(-1).await?;
///     assert_eq!(data, b"some data");
///     assert_eq!(proc.wait().await?, 0);
///     Ok::<(), procgate_guest::Error>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Process {
    // Field order is drop order: the streams before the process.
    /// Standard input stream ([`StreamWriter`]), or `None` unless the
    /// process was created with `stdin(PIPE)`.
    pub stdin: Option<StreamWriter>,
    /// Standard output stream ([`StreamReader`]), or `None` unless the
    /// process was created with `stdout(PIPE)`.
    pub stdout: Option<StreamReader>,
    /// Standard error stream ([`StreamReader`]), or `None` unless the
    /// process was created with `stderr(PIPE)`.
    pub stderr: Option<StreamReader>,
    pub(crate) core: ProcCore,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid())
            .field("stdin", &self.stdin.is_some())
            .field("stdout", &self.stdout.is_some())
            .field("stderr", &self.stderr.is_some())
            .finish_non_exhaustive()
    }
}

impl Process {
    fn new(spawned: Spawned) -> Self {
        Self {
            stdin: spawned.stdin.map(|core| StreamWriter {
                core,
                closing: None,
            }),
            stdout: spawned.stdout.map(|core| StreamReader { core }),
            stderr: spawned.stderr.map(|core| StreamReader { core }),
            core: spawned.proc,
        }
    }

    /// Process identification number (PID). For processes created by
    /// [`create_subprocess_shell`], this is the PID of the spawned shell.
    ///
    /// ```no_run
    /// # procgate_guest::aio::run(async {
    /// let proc = procgate_guest::aio::create_subprocess_exec("true", [""; 0], Default::default()).await?;
    /// println!("started {}", proc.pid());
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub fn pid(&self) -> u32 {
        self.core.pid()
    }

    /// Return code of the process when it exits. `None` while the process
    /// has not terminated yet; a negative value `-N` when the child was
    /// terminated by signal `N`.
    ///
    /// ```no_run
    /// # procgate_guest::aio::run(async {
    /// let proc = procgate_guest::aio::create_subprocess_shell("exit 3", Default::default()).await?;
    /// proc.wait().await?;
    /// assert_eq!(proc.returncode(), Some(3));
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub fn returncode(&self) -> Option<i32> {
        self.core.returncode()
    }

    /// Wait for the child process to terminate; set and return its return
    /// code. Other futures run meanwhile.
    ///
    /// Note: this method can deadlock when using `stdout(PIPE)` or
    /// `stderr(PIPE)` and the child process generates so much output that it
    /// blocks waiting for the OS pipe buffer to accept more data. Use the
    /// [`communicate`](Process::communicate) method when using pipes to avoid
    /// this condition.
    ///
    /// ```no_run
    /// use procgate_guest::aio::{create_subprocess_exec, run};
    /// use procgate_guest::Options;
    ///
    /// run(async {
    ///     let proc = create_subprocess_exec("sleep", ["3600"], Options::new()).await?;
    ///     proc.kill()?;
    ///     assert_eq!(proc.wait().await?, -9);
    ///     Ok::<(), procgate_guest::Error>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn wait(&self) -> Result<i32> {
        if let Some(code) = self.core.known_returncode() {
            return Ok(code);
        }
        // The exit pollable does not borrow the process.
        ready(self.core.wit.subscribe()).await;
        // Ready means exited: this does not block on the child (the host
        // only lets output copied into the guest's own stdout/stderr land
        // first, for a moment at most).
        let code = self.core.wit.wait()?;
        self.core.set_returncode(code);
        Ok(code)
    }

    /// The return code a wait already returned, without asking the host.
    pub(crate) fn returncode_known(&self) -> Option<i32> {
        self.core.known_returncode()
    }

    /// The return code if the process has exited, `None` if it still runs:
    /// one look, without waiting.
    pub fn try_wait(&self) -> Result<Option<i32>> {
        self.core.try_wait()
    }

    /// [`wait`](Process::wait), giving up after `timeout`: `Ok(None)` if
    /// the process still runs then (it keeps running). For any future,
    /// [`wait_for`].
    ///
    /// ```no_run
    /// # procgate_guest::aio::run(async {
    /// # let proc = procgate_guest::aio::create_subprocess_exec("sleep", ["3600"], Default::default()).await?;
    /// if proc.wait_for(std::time::Duration::from_secs(1)).await?.is_none() {
    ///     proc.kill()?;
    /// }
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub async fn wait_for(&self, timeout: Duration) -> Result<Option<i32>> {
        match wait_for(self.wait(), timeout).await {
            Ok(code) => code.map(Some),
            Err(TimeoutError { .. }) => Ok(None),
        }
    }

    /// The exit pollable (`wasi:io/poll`): ready once the process has
    /// exited, to wait for it with other pollables yourself (or give it to
    /// [`wstd::runtime::AsyncPollable::new`]). It does not borrow the
    /// process.
    pub fn subscribe(&self) -> Pollable {
        self.core.subscribe()
    }

    /// Interact with the process:
    ///
    /// 1. send `input` to stdin (if `input` is not `None`);
    /// 2. close stdin;
    /// 3. read data from stdout and stderr, until EOF is reached;
    /// 4. wait for the process to terminate.
    ///
    /// Returns `(stdout_data, stderr_data)` and sets the return code. Other
    /// futures run meanwhile: several `communicate`s in a [`gather`] run at
    /// once.
    ///
    /// If the process exits before all input is written (a broken pipe),
    /// the error is ignored. To send data to stdin, the process needs to be
    /// created with `stdin(PIPE)`; otherwise `input` is ignored, as in
    /// asyncio. To get anything other than `None` in the result, the process
    /// has to be created with `stdout(PIPE)` and/or `stderr(PIPE)`. Data
    /// written with [`StreamWriter::write`] and not yet sent goes before
    /// `input`; bytes already read into a [`StreamReader`]'s buffer but not
    /// yet returned come first in its result. The data read is buffered in
    /// memory (in the host, which may limit it: [`HostError::LimitExceeded`]),
    /// so do not use this method if the data size is large or unlimited.
    ///
    /// stdin gets closed when `input` is `None` too. This is
    /// [`start_communicate`](Process::start_communicate) and
    /// [`Communication::wait`].
    ///
    /// ```no_run
    /// use procgate_guest::aio::{create_subprocess_exec, run};
    /// use procgate_guest::{Options, PIPE};
    ///
    /// run(async {
    ///     let mut proc = create_subprocess_exec(
    ///         "python3",
    ///         ["-c", "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"],
    ///         Options::new().stdin(PIPE).stdout(PIPE),
    ///     )
    ///     .await?;
    ///     let (stdout, stderr) = proc.communicate(Some(b"some data")).await?;
    ///     assert_eq!(stdout.unwrap(), b"some data");
    ///     assert_eq!(stderr, None);
    ///     assert_eq!(proc.returncode(), Some(0));
    ///     Ok::<(), procgate_guest::Error>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn communicate(&mut self, input: Option<&[u8]>) -> Result<Communicated> {
        self.start_communicate(input)?.wait().await
    }

    /// Start a [`communicate`](Process::communicate) in the host and return
    /// at once (the WIT's `start-communicate`): the [`Communication`] gives
    /// its pollable, a look without waiting, a wait with a timeout, and the
    /// process meanwhile.
    ///
    /// When the guest has taken stdin (it wrote to it), a task of the
    /// reactor writes what it buffered and `input`, then closes stdin: call
    /// this inside [`run`].
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use procgate_guest::aio::{create_subprocess_exec, run};
    /// use procgate_guest::{Options, PIPE};
    ///
    /// run(async {
    ///     let mut proc = create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE).stdout(PIPE)).await?;
    ///     let mut talk = proc.start_communicate(Some(b"hello"))?;
    ///     if talk.wait_for(Duration::from_secs(5)).await?.is_none() {
    ///         talk.process().kill()?;
    ///     }
    ///     Ok::<(), procgate_guest::Error>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start_communicate(&mut self, input: Option<&[u8]>) -> Result<Communication<'_>> {
        let feed = shared::plan_feed(self.stdin.as_mut().map(|w| &mut w.core), input);
        // A close still running in the background: awaited with the result.
        let closing = self.stdin.as_mut().and_then(|w| w.closing.take());
        let (future, feeding) = match feed {
            Feed::Host(input) => (self.core.wit.start_communicate(input.as_deref())?, None),
            Feed::Guest(data) => {
                // The host reads stdout/stderr while we write stdin.
                let future = self.core.wit.start_communicate(None)?;
                let writer = self.stdin.as_mut().expect("Feed::Guest has a writer");
                let process = writer.core.process();
                let stream = writer.core.take_open(shared::CLOSED_BY_COMMUNICATE);
                let task = stream.map(|stream| {
                    wstd::runtime::spawn(async move {
                        // Broken pipes are ignored, as asyncio does.
                        let _ = write_all(&stream, &data).await;
                        drop(stream);
                        drop(process);
                    })
                });
                (future, task)
            }
        };
        Ok(Communication {
            future,
            feeding: [closing, feeding.map(|t| Closing(Some(t)))]
                .into_iter()
                .flatten()
                .collect(),
            process: self,
        })
    }

    /// Send the signal `signal` to the child process.
    ///
    /// Fails with [`HostError::ProcessExited`] (Python's `ProcessLookupError`)
    /// once the process has exited, and with [`HostError::Denied`] if the
    /// policy does not let the guest send this signal.
    ///
    /// ```no_run
    /// use procgate_guest::aio::{create_subprocess_exec, run};
    /// use procgate_guest::{Options, Signal, PIPE};
    ///
    /// run(async {
    ///     let code = "import time; print('sleeping', flush=True); time.sleep(3600)";
    ///     let mut proc = create_subprocess_exec("python3", ["-c", code], Options::new().stdout(PIPE)).await?;
    ///     assert_eq!(proc.stdout.as_mut().unwrap().readline().await?, b"sleeping\n");
    ///     proc.send_signal(Signal::Hup)?;
    ///     assert_eq!(proc.wait().await?, -1);
    ///     Ok::<(), procgate_guest::Error>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_signal(&self, signal: Signal) -> Result<()> {
        self.core.send_signal(signal)
    }

    /// Stop the child process: send it `SIGTERM`.
    ///
    /// ```no_run
    /// # procgate_guest::aio::run(async {
    /// let proc = procgate_guest::aio::create_subprocess_exec("sleep", ["3600"], Default::default()).await?;
    /// proc.terminate()?;
    /// assert_eq!(proc.wait().await?, -15);
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub fn terminate(&self) -> Result<()> {
        self.core.terminate()
    }

    /// Kill the child process: send it `SIGKILL`.
    ///
    /// ```no_run
    /// # procgate_guest::aio::run(async {
    /// let proc = procgate_guest::aio::create_subprocess_exec("sleep", ["3600"], Default::default()).await?;
    /// proc.kill()?;
    /// assert_eq!(proc.wait().await?, -9);
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub fn kill(&self) -> Result<()> {
        self.core.kill()
    }
}

/// Write all of `data`, awaiting the stream's readiness, then flush.
async fn write_all(stream: &OutputStream, mut data: &[u8]) -> Result<(), StreamError> {
    while !data.is_empty() {
        let permit = stream.check_write().map_err(shared::stream_error)?;
        if permit == 0 {
            ready(stream.subscribe()).await;
            continue;
        }
        let n = data
            .len()
            .min(usize::try_from(permit).unwrap_or(usize::MAX));
        stream.write(&data[..n]).map_err(shared::stream_error)?;
        data = &data[n..];
    }
    flush(stream).await
}

/// Flush, and await until the flush is done.
async fn flush(stream: &OutputStream) -> Result<(), StreamError> {
    stream.flush().map_err(shared::stream_error)?;
    ready(stream.subscribe()).await;
    // A failed flush shows here.
    stream.check_write().map_err(shared::stream_error)?;
    Ok(())
}

/// Reads a child's stdout or stderr: asyncio's `StreamReader`.
///
/// It buffers what it reads; `readline` and `readuntil` fail with
/// [`StreamError::LimitOverrun`] on a line longer than the `limit` of the
/// process's [`Options`] (64 KiB by default). While a read awaits data,
/// other futures run.
///
/// ```no_run
/// use procgate_guest::aio::{create_subprocess_exec, run};
/// use procgate_guest::{Options, PIPE};
///
/// run(async {
///     let mut proc = create_subprocess_exec("ls", ["/"], Options::new().stdout(PIPE)).await?;
///     let stdout = proc.stdout.as_mut().unwrap();
///     loop {
///         let line = stdout.readline().await?;
///         if line.is_empty() {
///             break;
///         }
///         print!("{}", String::from_utf8_lossy(&line));
///     }
///     proc.wait().await?;
///     Ok::<(), procgate_guest::Error>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StreamReader {
    pub(crate) core: ReaderCore,
}

impl std::fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamReader")
            .field("buffer", &self.core.buf)
            .finish_non_exhaustive()
    }
}

impl StreamReader {
    /// Read more from the stream into the buffer, awaiting data.
    async fn fill(&mut self) {
        loop {
            let Some(stream) = self.core.stream() else {
                return;
            };
            match stream.read(shared::READ_CHUNK) {
                Ok(bytes) if bytes.is_empty() => {
                    // Nothing yet. The pollable borrows the stream, which
                    // `self` holds for longer.
                    ready(stream.subscribe()).await;
                }
                read => {
                    self.core.feed(read);
                    return;
                }
            }
        }
    }

    /// Read up to `n` bytes. If `n` is `-1` (any negative value), read until
    /// EOF and return all the bytes read; if `n` is `0`, return empty bytes
    /// at once. Otherwise await at least one byte and return up to `n`
    /// bytes.
    ///
    /// Empty bytes mean EOF was reached (or `n` was 0).
    ///
    /// `n` is an `isize`, as asyncio's `n=-1` wants a sign: the bytes come
    /// back in a `Vec<u8>` in the guest's memory, which on wasm32 can never
    /// hold more than `isize::MAX` bytes, so a larger count could not be
    /// served anyway.
    ///
    /// ```no_run
    /// # procgate_guest::aio::run(async {
    /// # let mut proc = procgate_guest::aio::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE)).await?;
    /// let stdout = proc.stdout.as_mut().unwrap();
    /// let first = stdout.read(100).await?; // at most 100 bytes
    /// let rest = stdout.read(-1).await?; // everything up to EOF
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub async fn read(&mut self, n: isize) -> Result<Vec<u8>, StreamError> {
        loop {
            if let Step::Ready(value) = self.core.buf.read(n) {
                return value;
            }
            self.fill().await;
        }
    }

    /// Read one line, where "line" is a sequence of bytes ending with `\n`.
    ///
    /// If EOF is reached and no `\n` was found, return the partial data
    /// read; return empty bytes once EOF is reached with an empty buffer.
    /// A line longer than the limit fails with [`StreamError::LimitOverrun`] and
    /// is dropped from the buffer, as asyncio does.
    ///
    /// ```no_run
    /// # procgate_guest::aio::run(async {
    /// # let mut proc = procgate_guest::aio::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE)).await?;
    /// let line = proc.stdout.as_mut().unwrap().readline().await?;
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub async fn readline(&mut self) -> Result<Vec<u8>, StreamError> {
        let mut offset = 0;
        loop {
            if let Step::Ready(value) = self.core.buf.readline(&mut offset) {
                return value;
            }
            self.fill().await;
        }
    }

    /// Read exactly `n` bytes.
    ///
    /// Fails with [`StreamError::IncompleteRead`] if EOF is reached before `n`
    /// bytes can be read; its `partial` holds the bytes read.
    ///
    /// ```no_run
    /// # procgate_guest::aio::run(async {
    /// # let mut proc = procgate_guest::aio::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE)).await?;
    /// let header = proc.stdout.as_mut().unwrap().readexactly(4).await?;
    /// assert_eq!(header.len(), 4);
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub async fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, StreamError> {
        loop {
            if let Step::Ready(value) = self.core.buf.readexactly(n) {
                return value;
            }
            self.fill().await;
        }
    }

    /// Read data until `separator` is found; return it with the separator
    /// at its end.
    ///
    /// If the amount of data read exceeds the limit, fail with
    /// [`StreamError::LimitOverrun`] and leave the data in the buffer, so it can be
    /// read again. If EOF is reached before the separator is found, fail
    /// with [`StreamError::IncompleteRead`] whose `partial` holds the data read
    /// (no longer in the buffer). An empty separator is
    /// [`StreamError::InvalidArgument`].
    ///
    /// ```no_run
    /// # procgate_guest::aio::run(async {
    /// # let mut proc = procgate_guest::aio::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE)).await?;
    /// let record = proc.stdout.as_mut().unwrap().readuntil(b"\0").await?;
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub async fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>, StreamError> {
        self.readuntil_any(&[separator]).await
    }

    /// `readuntil` with several separators (asyncio 3.13's tuple form): read
    /// until one of them is found and return the data up to and including
    /// the separator whose match ends first. No separator, or an empty one,
    /// is [`StreamError::InvalidArgument`]; the rest as
    /// [`readuntil`](StreamReader::readuntil).
    pub async fn readuntil_any(&mut self, separators: &[&[u8]]) -> Result<Vec<u8>, StreamError> {
        let mut offset = 0;
        loop {
            if let Step::Ready(value) = self.core.buf.readuntil(separators, &mut offset) {
                return value;
            }
            self.fill().await;
        }
    }

    /// The lines of the stream as a [`Stream`], each with its `\n` (the
    /// last one maybe without), until EOF: asyncio's
    /// `async for line in reader`. An error is the last item. Use
    /// [`futures_lite::StreamExt`] (re-exported as
    /// `procgate_guest::futures_lite`) for `next().await`.
    ///
    /// ```no_run
    /// use procgate_guest::futures_lite::StreamExt;
    /// # procgate_guest::aio::run(async {
    /// # let mut proc = procgate_guest::aio::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE)).await?;
    /// let mut lines = proc.stdout.as_mut().unwrap().lines();
    /// while let Some(line) = lines.next().await {
    ///     print!("{}", String::from_utf8_lossy(&line?));
    /// }
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub fn lines(&mut self) -> Pin<Box<dyn Stream<Item = Result<Vec<u8>, StreamError>> + '_>> {
        Box::pin(futures_lite::stream::unfold(
            Some(self),
            |reader| async move {
                let reader = reader?;
                match reader.readline().await {
                    Ok(line) if line.is_empty() => None,
                    Ok(line) => Some((Ok(line), Some(reader))),
                    Err(e) => Some((Err(e), None)),
                }
            },
        ))
    }

    /// Return `true` if the buffer is empty and EOF was reached. When the
    /// buffer is empty this looks at the stream once, without waiting.
    ///
    /// ```no_run
    /// # procgate_guest::aio::run(async {
    /// # let mut proc = procgate_guest::aio::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE)).await?;
    /// let stdout = proc.stdout.as_mut().unwrap();
    /// while !stdout.at_eof() {
    ///     let line = stdout.readline().await?;
    /// }
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub fn at_eof(&mut self) -> bool {
        self.core.at_eof()
    }
}

/// Writes to a child's stdin: asyncio's `StreamWriter`.
///
/// As in asyncio (and [`crate::sync::StreamWriter`]),
/// [`write`](StreamWriter::write) does not wait: it sends what the stream
/// takes at once and buffers the rest; [`drain`] awaits until everything
/// is sent. [`close`] closes the stream once the buffer is sent, in the
/// background; [`wait_closed`] awaits that.
///
/// Dropping the writer closes the stream at once and discards data still
/// buffered: `drain` or `close` first.
///
/// [`drain`]: StreamWriter::drain
/// [`close`]: StreamWriter::close
/// [`wait_closed`]: StreamWriter::wait_closed
///
/// ```no_run
/// use procgate_guest::aio::{create_subprocess_exec, run};
/// use procgate_guest::{Options, PIPE};
///
/// run(async {
///     let mut proc = create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE)).await?;
///     let stdin = proc.stdin.as_mut().unwrap();
///     stdin.write(b"hello\n")?;
///     stdin.drain().await?;
///     stdin.close();
///     stdin.wait_closed().await;
///     proc.wait().await?;
///     Ok::<(), procgate_guest::Error>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StreamWriter {
    // Field order is drop order: the stream (in `core`) before the process
    // (also in `core`); the closing task owns its own stream.
    core: WriterCore,
    /// The background task of `close`, sending what was buffered.
    closing: Option<Closing>,
}

/// The task of a background `close` (or of `communicate` writing stdin):
/// dropping it lets it finish instead of cancelling it.
struct Closing(Option<Task<()>>);

impl Closing {
    fn detached(mut self) -> Task<()> {
        self.0.take().expect("taken once")
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.detach();
        }
    }
}

impl std::fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamWriter")
            .field("buffered", &self.core.pending.len())
            .field("closing", &self.is_closing())
            .finish_non_exhaustive()
    }
}

impl StreamWriter {
    pub(crate) fn core_mut(&mut self) -> &mut WriterCore {
        &mut self.core
    }

    /// The writer's state for the blocking face; a background close is
    /// left to finish on its own.
    pub(crate) fn into_core(self) -> WriterCore {
        self.core
    }

    /// Write `data` to the stream without waiting: what the stream accepts
    /// now is sent, the rest is buffered until [`drain`](StreamWriter::drain)
    /// (or [`close`](StreamWriter::close)).
    ///
    /// Fails with [`StreamError::Closed`] if the stream was closed (by
    /// `close`, or because the child closed its end or exited: Python's
    /// `BrokenPipeError`; the text says which), or [`StreamError::Failed`]
    /// if the host's write failed.
    pub fn write(&mut self, data: &[u8]) -> Result<(), StreamError> {
        if self.closing.is_some() {
            return Err(StreamError::Closed(shared::CLOSED_BY_GUEST.into()));
        }
        self.core.write(data)
    }

    /// Write each of `lines` (asyncio's `writelines`: no separator is
    /// added), without waiting, as [`write`](StreamWriter::write).
    pub fn writelines<I>(&mut self, lines: I) -> Result<(), StreamError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        lines
            .into_iter()
            .try_for_each(|line| self.write(line.as_ref()))
    }

    /// Wait until everything written has been sent and flushed to the
    /// child. Other futures run meanwhile.
    ///
    /// Fails with [`StreamError::Closed`] if the stream is closed (Python's
    /// `ConnectionResetError`) or [`StreamError::Failed`] if the host's
    /// write failed.
    ///
    /// ```no_run
    /// # procgate_guest::aio::run(async {
    /// # let mut proc = procgate_guest::aio::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE)).await?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.write(&vec![b'x'; 1 << 20])?;
    /// stdin.drain().await?;
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub async fn drain(&mut self) -> Result<(), StreamError> {
        if self.closing.is_some() {
            return Err(StreamError::Closed(shared::CLOSED_BY_GUEST.into()));
        }
        if self.core.is_closed() {
            return Err(self.core.closed_error());
        }
        if !self.core.unflushed {
            return Ok(());
        }
        loop {
            self.core.send_some()?;
            if self.core.pending.is_empty() {
                break;
            }
            let stream = self.core.stream()?;
            ready(stream.subscribe()).await;
        }
        let result = flush(self.core.stream()?).await;
        if let Err(e) = result {
            self.core.close();
            return Err(e);
        }
        self.core.unflushed = false;
        Ok(())
    }

    /// Close the stream: the child sees end of file on its stdin once what
    /// is buffered has been sent. Does not wait; the sending goes on in the
    /// background (a task of the reactor), and
    /// [`wait_closed`](StreamWriter::wait_closed) awaits it. Closing again
    /// does nothing.
    pub fn close(&mut self) {
        if self.closing.is_some() || self.core.is_closed() {
            return;
        }
        // Dropping a stream drops what the host still buffers: anything
        // written since the last flush goes through the task, which flushes.
        if !self.core.is_open() || !self.core.unflushed {
            self.core.close();
            return;
        }
        // Hand the stream to a task that sends the rest, then drops it. The
        // task holds the process too, so the stream goes first.
        let process: Rc<wit::Process> = self.core.process();
        let data = std::mem::take(&mut self.core.pending);
        let Some(stream) = self.core.take_open(shared::CLOSED_BY_GUEST) else {
            return;
        };
        self.closing = Some(Closing(Some(wstd::runtime::spawn(async move {
            // Errors (a child that exited) are dropped, as asyncio does.
            let _ = write_all(&stream, &data).await;
            drop(stream);
            drop(process);
        }))));
    }

    /// asyncio's `write_eof`: close the write end once what is buffered is
    /// sent, so the child sees end of file. On a pipe this is
    /// [`close`](StreamWriter::close).
    pub fn write_eof(&mut self) {
        self.close();
    }

    /// asyncio's `can_write_eof`: always `true` for a child's stdin.
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Wait until the stream is closed: after [`close`](StreamWriter::close),
    /// until what was buffered has been sent. Returns at once if `close` was
    /// not called or is done.
    pub async fn wait_closed(&mut self) {
        if let Some(closing) = self.closing.take() {
            closing.detached().await;
        }
    }

    /// Return `true` if the stream is closed or being closed.
    pub fn is_closing(&self) -> bool {
        self.closing.is_some() || self.core.is_closed()
    }
}

/// A `communicate` in progress, from [`Process::start_communicate`]. The
/// process stays borrowed until it is done; [`Communication::process`]
/// gives it meanwhile.
///
/// Dropping it before the result is taken leaves the host to finish the
/// exchange; the process's readers then have nothing more to read.
pub struct Communication<'a> {
    // Field order is drop order: the host's future before the process.
    future: wit::FutureCommunicate,
    /// Tasks writing stdin (and a background close) to await first;
    /// dropped unawaited, they finish on their own.
    feeding: Vec<Closing>,
    process: &'a mut Process,
}

impl std::fmt::Debug for Communication<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Communication")
            .field("process", &self.process)
            .finish_non_exhaustive()
    }
}

impl Communication<'_> {
    /// The process, to signal it or read its pid while the exchange runs.
    pub fn process(&self) -> &Process {
        self.process
    }

    /// A pollable that is ready once the result is available. It borrows
    /// this `Communication` in the host: drop it first.
    pub fn subscribe(&self) -> Pollable {
        self.future.subscribe()
    }

    /// The result if it is available, `None` if not yet: one look, without
    /// waiting. Once it returned `Some`, the result is gone; asking again
    /// returns `Some(Err(InvalidArgument))`.
    pub fn try_get(&mut self) -> Option<Result<Communicated>> {
        let result = self.future.get()?;
        Some(result.map_err(HostError::from).map(|output| {
            let process = &mut *self.process;
            shared::deliver(
                &process.core,
                process.stdout.as_mut().map(|r| &mut r.core),
                process.stderr.as_mut().map(|r| &mut r.core),
                output,
            )
        }))
    }

    /// Await the result, giving up after `timeout`: `Ok(None)` then, and
    /// the exchange goes on.
    pub async fn wait_for(&mut self, timeout: Duration) -> Result<Option<Communicated>> {
        let _ = wait_for(ready(self.subscribe()), timeout).await;
        self.try_get().transpose()
    }

    /// Await the result and return it. Other futures run meanwhile.
    pub async fn wait(mut self) -> Result<Communicated> {
        for task in std::mem::take(&mut self.feeding) {
            task.detached().await;
        }
        loop {
            // The pollable borrows the future; `ready` drops it first.
            ready(self.subscribe()).await;
            if let Some(result) = self.try_get() {
                return result;
            }
        }
    }
}

impl From<crate::sync::Process> for Process {
    /// The same process on the async face, with its streams and what they
    /// buffered.
    fn from(process: crate::sync::Process) -> Self {
        let crate::sync::Process {
            stdin,
            stdout,
            stderr,
            core,
        } = process;
        Self {
            stdin: stdin.map(|w| StreamWriter {
                core: w.core,
                closing: None,
            }),
            stdout: stdout.map(|r| StreamReader { core: r.core }),
            stderr: stderr.map(|r| StreamReader { core: r.core }),
            core,
        }
    }
}
