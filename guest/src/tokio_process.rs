//! `tokio::process` for guests: the async twin of [`crate::process`], over
//! the async face ([`crate::aio`]) and [`wstd`]'s reactor (run it inside
//! [`crate::aio::run`]).
//!
//! Code written against `tokio::process::Command` ports by changing its
//! `use` line; the stdio pipes implement the `futures` `AsyncRead` /
//! `AsyncWrite` traits ([`futures_lite::AsyncReadExt`] and
//! [`futures_lite::AsyncWriteExt`] give `read_to_end`, `write_all`,
//! `close`; tokio's own traits are not available on WASI):
//!
//! ```no_run
//! // use tokio::process::Command;
//! use procgate_guest::tokio_process::Command;
//! use procgate_guest::process::Stdio;
//! use procgate_guest::futures_lite::{AsyncReadExt, AsyncWriteExt};
//!
//! procgate_guest::aio::run(async {
//!     let output = Command::new("echo").arg("hello").output().await?;
//!     assert_eq!(output.stdout, b"hello\n");
//!
//!     let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
//!     let mut stdin = child.stdin.take().unwrap();
//!     stdin.write_all(b"hi").await?;
//!     stdin.close().await?; // tokio: drop(stdin) or shutdown()
//!     let mut out = Vec::new();
//!     child.stdout.take().unwrap().read_to_end(&mut out).await?;
//!     assert!(child.wait().await?.success());
//!     std::io::Result::Ok(())
//! })??;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The differences from std's are those of [`crate::process`]; in
//! addition, [`Command::kill_on_drop`] is always on: a child never outlives
//! its [`Child`].

use std::ffi::OsStr;
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::{AsyncRead, AsyncWrite};
use wstd::runtime::{AsyncPollable, WaitFor};

use crate::aio::{Process, StreamReader, StreamWriter};
use crate::process::{ExitStatus, Output, Stdio};
use crate::shared::{Step, READ_CHUNK};
use crate::{HostError, Signal};

/// A process builder: tokio's `Command` (std's, with `async` ends).
#[derive(Debug)]
pub struct Command(crate::process::Command);

impl From<crate::process::Command> for Command {
    fn from(command: crate::process::Command) -> Command {
        Command(command)
    }
}

macro_rules! builder {
    ($($(#[$doc:meta])* fn $name:ident$(<$($g:ident: $b:path),*>)?($($arg:ident: $ty:ty),*);)*) => {
        $(
            $(#[$doc])*
            pub fn $name$(<$($g: $b),*>)?(&mut self, $($arg: $ty),*) -> &mut Command {
                self.0.$name($($arg),*);
                self
            }
        )*
    };
}

impl Command {
    /// A command for `program`, as [`crate::process::Command::new`].
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command(crate::process::Command::new(program))
    }

    builder! {
        /// Adds an argument.
        fn arg<S: AsRef<OsStr>>(arg: S);
        /// Undoes [`env`](Command::env) for `key` (see
        /// [`crate::process::Command::env_remove`]).
        fn env_remove<K: AsRef<OsStr>>(key: K);
        /// Undoes every `env`: the child gets the policy's environment.
        fn env_clear();
        /// The child's working directory, a guest path the policy grants.
        fn current_dir<P: AsRef<Path>>(dir: P);
        /// The child's stdin.
        fn stdin<T: Into<Stdio>>(cfg: T);
        /// The child's stdout.
        fn stdout<T: Into<Stdio>>(cfg: T);
        /// The child's stderr.
        fn stderr<T: Into<Stdio>>(cfg: T);
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.0.args(args);
        self
    }

    /// Sets a variable in the child's environment (the policy must allow
    /// it).
    pub fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(&mut self, key: K, val: V) -> &mut Command {
        self.0.env(key, val);
        self
    }

    /// Sets variables in the child's environment.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.0.envs(vars);
        self
    }

    /// Accepted for tokio's sake; always on here: the host kills and reaps
    /// a child whose handle is dropped, whatever this says.
    pub fn kill_on_drop(&mut self, _kill_on_drop: bool) -> &mut Command {
        self
    }

    /// The std-shaped builder inside.
    pub fn as_std(&self) -> &crate::process::Command {
        &self.0
    }

    /// Starts the child (not async, as tokio's); stdio not set is inherited.
    pub fn spawn(&mut self) -> io::Result<Child> {
        let request = self.0.request([Stdio::inherit; 3])?;
        Ok(Child::from_process(request.spawn_sync()?.into()))
    }

    /// Runs the child to its end and collects its output (stdout and
    /// stderr piped, stdin null, unless set).
    pub async fn output(&mut self) -> io::Result<Output> {
        let request = self.0.request([Stdio::null, Stdio::piped, Stdio::piped])?;
        Child::from_process(request.spawn_sync()?.into())
            .wait_with_output()
            .await
    }

    /// Runs the child to its end with stdio inherited unless set.
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }
}

/// A running child: tokio's `Child`.
#[derive(Debug)]
pub struct Child {
    /// The child's stdin, if piped.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if piped.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if piped.
    pub stderr: Option<ChildStderr>,
    process: Process,
}

impl Child {
    fn from_process(mut process: Process) -> Child {
        Child {
            stdin: process.stdin.take().map(|w| ChildStdin {
                wait: None,
                flushing: false,
                writer: w,
            }),
            stdout: process.stdout.take().map(|r| ChildStdout(Reader::new(r))),
            stderr: process.stderr.take().map(|r| ChildStderr(Reader::new(r))),
            process,
        }
    }

    /// The process id while it runs; `None` once it has been waited for,
    /// as tokio's.
    pub fn id(&self) -> Option<u32> {
        self.process
            .returncode_known()
            .is_none()
            .then(|| self.process.pid())
    }

    /// Sends SIGKILL without waiting (tokio's `start_kill`); a child that
    /// has already exited is not an error.
    pub fn start_kill(&mut self) -> io::Result<()> {
        match self.process.kill() {
            Err(HostError::ProcessExited) => Ok(()),
            other => Ok(other?),
        }
    }

    /// Sends SIGKILL and waits for the child to exit.
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }

    /// Sends `signal` (not in tokio).
    pub fn send_signal(&mut self, signal: Signal) -> io::Result<()> {
        Ok(self.process.send_signal(signal)?)
    }

    /// Closes stdin (if still held, after sending what it buffered).
    async fn close_stdin(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            // A child that exited or closed its end: nothing to send.
            let _ = futures_lite::AsyncWriteExt::close(&mut stdin).await;
        }
    }

    /// Closes stdin (if still held) and waits for the child to exit;
    /// other futures run meanwhile.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.close_stdin().await;
        Ok(ExitStatus(self.process.wait().await?))
    }

    /// The exit status if the child has exited, `None` if not, without
    /// waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        Ok(self.process.try_wait()?.map(ExitStatus))
    }

    /// Not in tokio: waits at most `timeout`; `None` if the child still
    /// runs then.
    pub async fn wait_timeout(&mut self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        Ok(self.process.wait_for(timeout).await?.map(ExitStatus))
    }

    /// Closes stdin, reads stdout and stderr to their ends and waits.
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        self.close_stdin().await;
        self.process.stdout = self.stdout.take().map(|s| s.0.into_reader());
        self.process.stderr = self.stderr.take().map(|s| s.0.into_reader());
        let (stdout, stderr) = self.process.communicate(None).await?;
        let code = self.process.wait().await?;
        Ok(Output {
            status: ExitStatus(code),
            stdout: stdout.unwrap_or_default(),
            stderr: stderr.unwrap_or_default(),
        })
    }
}

/// A reader with the wait it is parked on.
#[derive(Debug)]
struct Reader {
    // Field order is drop order: the wait (on a pollable of the stream)
    // before the stream.
    wait: Option<WaitFor>,
    reader: StreamReader,
}

impl Reader {
    fn new(reader: StreamReader) -> Reader {
        Reader { wait: None, reader }
    }

    fn into_reader(mut self) -> StreamReader {
        self.wait = None;
        self.reader
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            if let Some(wait) = &mut self.wait {
                if Pin::new(wait).poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.wait = None;
            }
            let n = isize::try_from(buf.len()).unwrap_or(isize::MAX);
            let core = &mut self.reader.core;
            if let Step::Ready(result) = core.buf.read(n) {
                let data = result?;
                buf[..data.len()].copy_from_slice(&data);
                return Poll::Ready(Ok(data.len()));
            }
            let Some(stream) = core.stream() else {
                continue; // EOF or the error is now in the buffer
            };
            match stream.read(READ_CHUNK.min(buf.len() as u64)) {
                Ok(bytes) if bytes.is_empty() => {
                    self.wait = Some(AsyncPollable::new(stream.subscribe()).wait_for());
                }
                read => core.feed(read),
            }
        }
    }
}

/// The child's stdout: `futures::AsyncRead`.
#[derive(Debug)]
pub struct ChildStdout(Reader);

/// The child's stderr: `futures::AsyncRead`.
#[derive(Debug)]
pub struct ChildStderr(Reader);

impl AsyncRead for ChildStdout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().0.poll_read(cx, buf)
    }
}

impl AsyncRead for ChildStderr {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().0.poll_read(cx, buf)
    }
}

/// The child's stdin: `futures::AsyncWrite`. `close().await` (tokio's
/// `shutdown().await`) sends what is left and closes the pipe; so do
/// [`Child::wait`] and [`Child::wait_with_output`] for a stdin still in the
/// child. Dropping it closes the pipe at once: the host drops whatever of
/// the last write it had not yet passed to the pipe, so close it rather
/// than drop it after writing.
#[derive(Debug)]
pub struct ChildStdin {
    // Field order is drop order: the wait before the stream.
    wait: Option<WaitFor>,
    flushing: bool,
    writer: StreamWriter,
}

impl ChildStdin {
    /// Park on the stream's readiness; `Pending` unless it is ready now.
    fn park(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.wait.is_none() {
            let stream = self.writer.core_mut().stream()?;
            self.wait = Some(AsyncPollable::new(stream.subscribe()).wait_for());
        }
        let wait = self.wait.as_mut().expect("set above");
        if Pin::new(wait).poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.wait = None;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for ChildStdin {
    /// Takes all of `buf` once what earlier writes gave has reached the
    /// pipe (flushed out of the guest and the host), so at most one write
    /// is ever buffered.
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.as_mut().poll_flush(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other.map_ok(|()| 0),
        }
        self.get_mut().writer.core_mut().write(buf)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            let core = this.writer.core_mut();
            if core.is_closed() {
                return Poll::Ready(Err(core.closed_error().into()));
            }
            core.send_some()?;
            if core.pending.is_empty() && !this.flushing {
                if !core.unflushed {
                    return Poll::Ready(Ok(()));
                }
                let stream = core.stream()?;
                stream
                    .flush()
                    .map_err(|e| io::Error::from(core.failed(e)))?;
                core.unflushed = false;
                this.flushing = true;
            }
            if this.flushing {
                // The stream's pollable is ready once the host has passed
                // on everything it buffered: the flush is done then.
                if this.park(cx)?.is_pending() {
                    return Poll::Pending;
                }
                this.flushing = false;
                let core = this.writer.core_mut();
                if let Err(e) = core.stream()?.check_write() {
                    return Poll::Ready(Err(core.failed(e).into()));
                }
                continue;
            }
            if this.park(cx)?.is_pending() {
                return Poll::Pending;
            }
        }
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.writer.is_closing() {
            match self.as_mut().poll_flush(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) if e.kind() != io::ErrorKind::BrokenPipe => {
                    return Poll::Ready(Err(e))
                }
                Poll::Ready(_) => {}
            }
        }
        let this = self.get_mut();
        this.wait = None;
        this.writer.core_mut().close();
        Poll::Ready(Ok(()))
    }
}
