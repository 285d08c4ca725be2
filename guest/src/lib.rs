//! Python's [`asyncio.subprocess`] for WebAssembly guests.
//!
//! procgate lets a WebAssembly component start and drive real processes of
//! the machine it runs on, through one narrow door that the host guards with
//! a policy. This crate is the Rust side of that door: it wraps the WIT
//! package `procgate:subprocess` in the shape of Python's
//! `asyncio.subprocess`, so that code written against the Python API reads
//! the same in Rust.
//!
//! It comes in two faces with the same names:
//!
//! - [`sync`]: blocking calls. Simple, and enough for one process at a time.
//! - [`aio`]: `async fn`s over [`wstd`]'s reactor, so that several processes
//!   are driven at once in one guest ([`aio::gather`]), as with asyncio.
//!
//! A [`sync::Process`] and an [`aio::Process`] convert into each other
//! (`From`). And two more faces for code written against Rust's own process
//! APIs, which port by changing one `use` line:
//!
//! - [`process`]: `std::process::Command` (`Command`, `Child`, `Stdio`,
//!   `ExitStatus`, `Output`, `std::io::Read`/`Write` pipes).
//! - [`tokio_process`]: `tokio::process::Command`, with `futures`
//!   `AsyncRead`/`AsyncWrite` pipes.
//!
//! `guest/README.md` says which to pick and what differs from std.
//!
//! Guests are built for `wasm32-wasip2` and run by a procgate host (for
//! example `procgate run`), whose policy decides what the guest may start.
//!
//! # Example
//!
//! The first example of the asyncio documentation, with the blocking face:
//!
//! ```no_run
//! use procgate_guest::sync::create_subprocess_shell;
//! use procgate_guest::{Options, PIPE};
//!
//! fn run(cmd: &str) -> procgate_guest::Result<()> {
//!     let mut proc = create_subprocess_shell(cmd, Options::new().stdout(PIPE).stderr(PIPE))?;
//!     let (stdout, stderr) = proc.communicate(None)?;
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
//! run("ls /zzz").unwrap();
//! ```
//!
//! And several commands at once with the async face:
//!
//! ```no_run
//! use procgate_guest::aio::{create_subprocess_shell, gather, run};
//! use procgate_guest::{Options, PIPE};
//!
//! async fn run_cmd(cmd: &str) -> procgate_guest::Result<i32> {
//!     let mut proc = create_subprocess_shell(cmd, Options::new().stdout(PIPE).stderr(PIPE)).await?;
//!     let (_stdout, _stderr) = proc.communicate(None).await?;
//!     Ok(proc.returncode().unwrap())
//! }
//!
//! let codes = run(gather([run_cmd("ls /zzz"), run_cmd("sleep 1; echo hello")]));
//! ```
//!
//! # asyncio → procgate
//!
//! | asyncio | [`sync`] | [`aio`] |
//! | --- | --- | --- |
//! | `asyncio.run(main())` | (not needed) | [`aio::run`]`(main())` |
//! | `asyncio.gather(a, b)` | (not available) | [`aio::gather`]`([a, b]).await`, or [`aio::zip`]`(a, b).await` for different types |
//! | `await asyncio.create_subprocess_exec(program, *args, stdin=…, …)` | [`sync::create_subprocess_exec`]`(program, args, options)` | [`aio::create_subprocess_exec`]`(program, args, options).await` |
//! | `await asyncio.create_subprocess_shell(cmd, stdin=…, …)` | [`sync::create_subprocess_shell`]`(cmd, options)` | [`aio::create_subprocess_shell`]`(cmd, options).await` |
//! | `stdin=`, `stdout=`, `stderr=`, `limit=`, `cwd=`, `env=`, `start_new_session=` | [`Options`]`::new().stdin(…).stdout(…).stderr(…).limit(…).cwd(…).env(k, v).start_new_session(…)` | the same |
//! | `asyncio.subprocess.PIPE`, `DEVNULL`, `STDOUT`, `None` | [`PIPE`], [`DEVNULL`], [`STDOUT`], [`Stdio::Inherit`] (the default) | the same |
//! | `proc.pid` | [`sync::Process::pid`] | [`aio::Process::pid`] |
//! | `proc.returncode` | [`sync::Process::returncode`] | [`aio::Process::returncode`] |
//! | `await proc.wait()` | [`sync::Process::wait`] | [`aio::Process::wait`]`.await` |
//! | `await asyncio.wait_for(proc.wait(), t)` | [`sync::Process::wait_for`]`(t)` (`Ok(None)`: timed out) | [`aio::Process::wait_for`]`(t).await`, or [`aio::wait_for`]`(future, t).await` for any future |
//! | `proc.returncode` polled | [`sync::Process::try_wait`] | [`aio::Process::try_wait`] |
//! | `await proc.communicate(input)` | [`sync::Process::communicate`] | [`aio::Process::communicate`]`.await` |
//! | `proc.send_signal(signal.SIGHUP)` | [`sync::Process::send_signal`]`(`[`Signal::Hup`]`)` | the same |
//! | `proc.terminate()`, `proc.kill()` | [`sync::Process::terminate`], [`sync::Process::kill`] | the same |
//! | `proc.stdin` ([`StreamWriter`](https://docs.python.org/3/library/asyncio-stream.html#asyncio.StreamWriter)) | [`sync::Process::stdin`]: `Option<`[`sync::StreamWriter`]`>` | [`aio::Process::stdin`]: `Option<`[`aio::StreamWriter`]`>` |
//! | `proc.stdout`, `proc.stderr` ([`StreamReader`](https://docs.python.org/3/library/asyncio-stream.html#asyncio.StreamReader)) | [`sync::Process::stdout`], [`sync::Process::stderr`]: `Option<`[`sync::StreamReader`]`>` | [`aio::Process::stdout`], [`aio::Process::stderr`]: `Option<`[`aio::StreamReader`]`>` |
//! | `reader.read(n)`, `readline()`, `readuntil(sep)`, `readexactly(n)`, `at_eof()` | [`sync::StreamReader`]'s methods of the same names | [`aio::StreamReader`]'s, `.await`ed |
//! | `readuntil((sep1, sep2))` | [`sync::StreamReader::readuntil_any`] | [`aio::StreamReader::readuntil_any`] |
//! | `for line in reader` / `async for line in reader` | [`sync::StreamReader::lines`] (an `Iterator`) | [`aio::StreamReader::lines`] (a `Stream`) |
//! | `writer.write(data)`, `writelines(lines)`, `await writer.drain()`, `close()`, `write_eof()`, `await wait_closed()`, `is_closing()` | [`sync::StreamWriter`]'s methods of the same names | [`aio::StreamWriter`]'s |
//! | `ProcessLookupError` | [`HostError::ProcessExited`] | the same |
//! | `asyncio.LimitOverrunError`, `ValueError` from `readline` | [`StreamError::LimitOverrun`] | the same |
//! | `asyncio.IncompleteReadError` | [`StreamError::IncompleteRead`] | the same |
//! | `BrokenPipeError`, `ConnectionResetError` on stdin | [`StreamError::Closed`] | the same |
//! | `FileNotFoundError`, `PermissionError`, `OSError` from creation | [`HostError::NotFound`], [`HostError::PermissionDenied`], [`HostError::Io`] | the same |
//!
//! What asyncio does not have: the host's policy may refuse a request
//! ([`HostError::Denied`]) or a host limit may be reached
//! ([`HostError::LimitExceeded`]).
//!
//! # Lifetimes
//!
//! A process belongs to the guest that created it: when its [`sync::Process`]
//! or [`aio::Process`] is dropped without waiting for it (and no stream taken
//! from it is left), the host kills and reaps it, as asyncio does when a
//! `Process` is garbage-collected with its transport.
//!
//! [`asyncio.subprocess`]: https://docs.python.org/3/library/asyncio-subprocess.html

#![warn(missing_docs)]

pub mod aio;
pub mod bindings;
mod error;
pub mod process;
pub mod query;
mod shared;
pub mod sync;
pub mod tokio_process;

pub use error::{Error, HostError, Result, StreamError, TimeoutError};
/// The `Stream`, `AsyncRead` and `AsyncWrite` traits (and their `…Ext`
/// helpers) that the [`aio`] face's line streams and the [`tokio_process`]
/// face's stdio implement.
pub use futures_lite;
/// The `wasi:io` (and all of WASI 0.2) bindings this crate's pollables and
/// streams are types of: [`Process::subscribe`](sync::Process::subscribe)
/// returns a `wasip2::io::poll::Pollable`.
pub use wasip2;
/// The async runtime the [`aio`] face runs on: [`aio::run`] is its reactor,
/// and its timers, tasks and I/O can be awaited beside procgate's futures.
pub use wstd;

use std::fmt;

use crate::bindings::procgate::subprocess::types as wit;

/// Where one of a new process's standard streams goes: asyncio's
/// `stdin=`/`stdout=`/`stderr=` arguments.
///
/// The constants [`PIPE`], [`DEVNULL`] and [`STDOUT`] are the names asyncio
/// uses; [`Stdio::Inherit`] (the default) is asyncio's `None`.
///
/// ```no_run
/// use procgate_guest::{Options, Stdio, DEVNULL, PIPE, STDOUT};
///
/// // stdout and stderr into one pipe, no input.
/// let options = Options::new().stdin(DEVNULL).stdout(PIPE).stderr(STDOUT);
/// assert_eq!(Options::new().stdin(Stdio::Inherit), Options::new());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Stdio {
    /// asyncio's `None`: the stream is the guest's own (its WASI stdout or
    /// stderr as the host configured them; for stdin, the guest's stdin where
    /// the host allows it and `/dev/null` otherwise).
    #[default]
    Inherit,
    /// asyncio's `PIPE`: a pipe the guest reads or writes through the
    /// process's `stdin`, `stdout` or `stderr` stream, or with `communicate`.
    Pipe,
    /// asyncio's `DEVNULL`: the special file `/dev/null`.
    DevNull,
    /// asyncio's `STDOUT`: only valid for stderr, which then goes wherever
    /// stdout goes.
    Stdout,
}

/// asyncio's `subprocess.PIPE`: connect the stream to a pipe that the guest
/// reads or writes.
///
/// ```no_run
/// use procgate_guest::{Options, PIPE};
///
/// let options = Options::new().stdin(PIPE).stdout(PIPE);
/// ```
pub const PIPE: Stdio = Stdio::Pipe;

/// asyncio's `subprocess.DEVNULL`: connect the stream to `/dev/null`.
///
/// ```no_run
/// use procgate_guest::{Options, DEVNULL};
///
/// let options = Options::new().stdin(DEVNULL).stderr(DEVNULL);
/// ```
pub const DEVNULL: Stdio = Stdio::DevNull;

/// asyncio's `subprocess.STDOUT`: for stderr only, send standard error
/// wherever standard output goes.
///
/// ```no_run
/// use procgate_guest::{Options, PIPE, STDOUT};
///
/// let options = Options::new().stdout(PIPE).stderr(STDOUT);
/// ```
pub const STDOUT: Stdio = Stdio::Stdout;

impl From<Stdio> for wit::Stdio<'_> {
    fn from(stdio: Stdio) -> Self {
        match stdio {
            Stdio::Inherit => wit::Stdio::Inherit,
            Stdio::Pipe => wit::Stdio::Pipe,
            Stdio::DevNull => wit::Stdio::Devnull,
            Stdio::Stdout => wit::Stdio::Stdout,
        }
    }
}

/// A process whose stdout can feed another's stdin
/// ([`Options::stdin_from`]): the [`sync::Process`] and [`aio::Process`].
///
/// It has no methods of its own: the WIT handle stays inside the crate
/// (what an adapter needs of it, the exit pollable and `start-communicate`,
/// is on the processes themselves).
pub trait PipeSource: private::Sealed {}

impl PipeSource for sync::Process {}
impl PipeSource for aio::Process {}

mod private {
    /// The WIT process handle, for the crate only: the trait is not
    /// nameable outside it, so neither is this method.
    pub trait Sealed {
        fn wit_process(&self) -> std::rc::Rc<super::wit::Process>;
    }

    impl Sealed for crate::sync::Process {
        fn wit_process(&self) -> std::rc::Rc<super::wit::Process> {
            std::rc::Rc::clone(&self.core.wit)
        }
    }

    impl Sealed for crate::aio::Process {
        fn wit_process(&self) -> std::rc::Rc<super::wit::Process> {
            std::rc::Rc::clone(&self.core.wit)
        }
    }
}

/// The source of a pipeline, held by [`Options`].
#[derive(Clone)]
struct StdinFrom(std::rc::Rc<wit::Process>);

impl fmt::Debug for StdinFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StdinFrom(..)")
    }
}

impl PartialEq for StdinFrom {
    fn eq(&self, other: &Self) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for StdinFrom {}

/// asyncio's default `limit`: 64 KiB. The stream readers of a process use
/// it unless [`Options::limit`] says otherwise.
///
/// ```no_run
/// use procgate_guest::{Options, DEFAULT_LIMIT, PIPE};
///
/// // Lines of up to 1 MiB instead of 64 KiB.
/// let options = Options::new().stdout(PIPE).limit(16 * DEFAULT_LIMIT as u64);
/// ```
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// The keyword arguments of `create_subprocess_exec` and
/// `create_subprocess_shell`, built step by step.
///
/// The default ([`Options::new`]) is asyncio's: every stream inherited, the
/// default `limit` (64 KiB), the working directory and environment the
/// host's policy gives, no new session.
///
/// ```no_run
/// use procgate_guest::{Options, PIPE, STDOUT};
///
/// let options = Options::new()
///     .stdin(PIPE)
///     .stdout(PIPE)
///     .stderr(STDOUT)
///     .limit(1 << 20)
///     .cwd("/work")
///     .env("LANG", "C")
///     .start_new_session(true);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    stdin: Stdio,
    stdin_from: Option<StdinFrom>,
    stdout: Stdio,
    stderr: Stdio,
    limit: Option<u64>,
    cwd: Option<String>,
    env: Vec<(String, String)>,
    start_new_session: bool,
}

impl Options {
    /// asyncio's defaults: all streams inherited, nothing else set.
    ///
    /// ```no_run
    /// use procgate_guest::Options;
    ///
    /// assert_eq!(Options::new(), Options::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Where the child's standard input comes from (`stdin=`). With
    /// [`PIPE`], the process's `stdin` is a stream writer.
    ///
    /// ```no_run
    /// use procgate_guest::{Options, PIPE};
    ///
    /// let options = Options::new().stdin(PIPE);
    /// ```
    pub fn stdin(mut self, stdio: Stdio) -> Self {
        self.stdin = stdio;
        self
    }

    /// Where the child's standard output goes (`stdout=`). With [`PIPE`],
    /// the process's `stdout` is a stream reader.
    ///
    /// ```no_run
    /// use procgate_guest::{Options, PIPE};
    ///
    /// let options = Options::new().stdout(PIPE);
    /// ```
    pub fn stdout(mut self, stdio: Stdio) -> Self {
        self.stdout = stdio;
        self
    }

    /// Where the child's standard error goes (`stderr=`). With [`PIPE`],
    /// the process's `stderr` is a stream reader; with [`STDOUT`] it goes
    /// where stdout goes.
    ///
    /// ```no_run
    /// use procgate_guest::{Options, PIPE, STDOUT};
    ///
    /// let options = Options::new().stdout(PIPE).stderr(STDOUT);
    /// ```
    pub fn stderr(mut self, stdio: Stdio) -> Self {
        self.stderr = stdio;
        self
    }

    /// The buffer limit of the stream readers for stdout and stderr
    /// (`limit=`); the default is 64 KiB. `readline` and `readuntil` fail
    /// with [`StreamError::LimitOverrun`] on a line (a chunk before the separator)
    /// longer than this. Zero is invalid: creation fails with
    /// [`HostError::InvalidArgument`], and so is a value above `u32::MAX`
    /// (the WIT's type): it is never clamped.
    ///
    /// ```no_run
    /// use procgate_guest::{Options, PIPE};
    ///
    /// let options = Options::new().stdout(PIPE).limit(1024 * 1024);
    /// ```
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The working directory of the child (`cwd=`), a guest path inside a
    /// directory the host's policy grants.
    ///
    /// ```no_run
    /// use procgate_guest::Options;
    ///
    /// let options = Options::new().cwd("/project");
    /// ```
    pub fn cwd(mut self, dir: impl Into<String>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Set a variable in the child's environment (one entry of `env=`). The
    /// child starts from the environment the policy builds, not the guest's;
    /// each variable set here must be allowed by the policy. Can be called
    /// many times.
    ///
    /// ```no_run
    /// use procgate_guest::Options;
    ///
    /// let options = Options::new().env("LANG", "C").env("TZ", "UTC");
    /// ```
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Set many variables in the child's environment, as [`Options::env`]
    /// for each pair.
    ///
    /// ```no_run
    /// use procgate_guest::Options;
    ///
    /// let options = Options::new().envs([("LANG", "C"), ("TZ", "UTC")]);
    /// ```
    pub fn envs<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Run the child in a new session, as with `setsid`
    /// (`start_new_session=True`).
    ///
    /// ```no_run
    /// use procgate_guest::Options;
    ///
    /// let options = Options::new().start_new_session(true);
    /// ```
    pub fn start_new_session(mut self, yes: bool) -> Self {
        self.start_new_session = yes;
        self
    }

    /// Connects stdin to the stdout pipe of `source`, a process this guest
    /// started with `stdout(PIPE)` and has not read from: a pipeline like
    /// the shell's `a | b`, joined in the host, so the bytes never pass
    /// through the guest. The pipe then belongs to the new process: do not
    /// read `source.stdout` or `communicate` with `source` for its output
    /// afterwards. This overrides [`Options::stdin`].
    ///
    /// ```no_run
    /// use procgate_guest::sync::create_subprocess_exec;
    /// use procgate_guest::{Options, DEVNULL, PIPE};
    ///
    /// let head = create_subprocess_exec("head", ["-c", "1000000", "/dev/zero"], Options::new().stdout(PIPE))?;
    /// let mut wc = create_subprocess_exec("wc", ["-c"], Options::new().stdin_from(&head).stdout(PIPE))?;
    /// let (out, _) = wc.communicate(None)?;
    /// assert_eq!(out.unwrap(), b"1000000\n");
    /// # Ok::<(), procgate_guest::HostError>(())
    /// ```
    pub fn stdin_from(mut self, source: &impl PipeSource) -> Self {
        self.stdin_from = Some(StdinFrom(private::Sealed::wit_process(source)));
        self
    }

    /// [`Options::stdin_from`] with the WIT process itself.
    pub(crate) fn stdin_from_wit(mut self, source: std::rc::Rc<wit::Process>) -> Self {
        self.stdin_from = Some(StdinFrom(source));
        self
    }

    /// The stream readers' limit these options give.
    pub(crate) fn reader_limit(&self) -> usize {
        self.limit
            .map_or(DEFAULT_LIMIT, |l| usize::try_from(l).unwrap_or(usize::MAX))
    }

    /// The WIT options; a `limit` the WIT cannot carry is an error.
    pub(crate) fn to_wit(&self) -> std::result::Result<wit::Options<'_>, HostError> {
        let limit = match self.limit {
            None => None,
            Some(l) => Some(u32::try_from(l).map_err(|_| {
                HostError::InvalidArgument(format!(
                    "limit {l} is above the largest the host takes, {}",
                    u32::MAX
                ))
            })?),
        };
        Ok(wit::Options {
            stdin: match &self.stdin_from {
                Some(StdinFrom(source)) => wit::Stdio::StdoutOf(source),
                None => self.stdin.into(),
            },
            stdout: self.stdout.into(),
            stderr: self.stderr.into(),
            limit,
            cwd: self.cwd.clone(),
            env: self.env.clone(),
            start_new_session: self.start_new_session,
        })
    }
}

macro_rules! signals {
    ($($variant:ident = $name:literal, $number:literal, $doc:literal;)*) => {
        /// A POSIX signal a guest may send to its child with `send_signal`.
        ///
        /// The host's policy decides which of them a guest may send.
        /// [`Signal::number`] gives the signal's number on Linux, which is
        /// what a negative return code `-N` of a child killed by a signal
        /// names on a Linux host ([`Signal::from_number`] reads it back).
        ///
        /// ```no_run
        /// use procgate_guest::sync::create_subprocess_exec;
        /// use procgate_guest::{Options, Signal};
        ///
        /// let proc = create_subprocess_exec("sleep", ["60"], Options::new())?;
        /// proc.send_signal(Signal::Hup)?;
        /// let code = proc.wait()?;
        /// assert_eq!(Signal::from_number(-code), Some(Signal::Hup));
        /// assert_eq!(Signal::Hup.to_string(), "SIGHUP");
        /// # Ok::<(), procgate_guest::HostError>(())
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Signal {
            $(
                #[doc = concat!("`", $name, "` (", stringify!($number), " on Linux): ", $doc)]
                $variant,
            )*
        }

        impl Signal {
            /// Every signal, in the order of the WIT enum.
            ///
            /// ```no_run
            /// use procgate_guest::Signal;
            ///
            /// assert!(Signal::ALL.contains(&Signal::Usr1));
            /// assert_eq!(Signal::ALL.len(), 30);
            /// ```
            pub const ALL: &'static [Signal] = &[$(Signal::$variant),*];

            /// The signal's POSIX name, e.g. `"SIGHUP"`.
            ///
            /// ```no_run
            /// use procgate_guest::Signal;
            ///
            /// assert_eq!(Signal::Term.name(), "SIGTERM");
            /// ```
            pub fn name(self) -> &'static str {
                match self {
                    $(Signal::$variant => $name,)*
                }
            }

            /// The signal's number on Linux, e.g. 15 for `SIGTERM`.
            ///
            /// ```no_run
            /// use procgate_guest::Signal;
            ///
            /// assert_eq!(Signal::Kill.number(), 9);
            /// ```
            pub fn number(self) -> i32 {
                match self {
                    $(Signal::$variant => $number,)*
                }
            }

            /// The signal with this number on Linux, if it is one of these.
            /// A return code `-N` means the child was killed by signal `N`.
            ///
            /// ```no_run
            /// use procgate_guest::Signal;
            ///
            /// assert_eq!(Signal::from_number(15), Some(Signal::Term));
            /// assert_eq!(Signal::from_number(0), None);
            /// ```
            pub fn from_number(number: i32) -> Option<Signal> {
                match number {
                    $($number => Some(Signal::$variant),)*
                    _ => None,
                }
            }
        }

        impl From<Signal> for wit::Signal {
            fn from(signal: Signal) -> Self {
                match signal {
                    $(Signal::$variant => wit::Signal::$variant,)*
                }
            }
        }
    };
}

signals! {
    Hup = "SIGHUP", 1, "hangup; the controlling terminal closed.";
    Int = "SIGINT", 2, "interrupt from the keyboard (Ctrl-C).";
    Quit = "SIGQUIT", 3, "quit from the keyboard; dumps core.";
    Ill = "SIGILL", 4, "illegal instruction.";
    Trap = "SIGTRAP", 5, "trace or breakpoint trap.";
    Abrt = "SIGABRT", 6, "abort.";
    Bus = "SIGBUS", 7, "bus error (bad memory access).";
    Fpe = "SIGFPE", 8, "floating-point exception.";
    Kill = "SIGKILL", 9, "kill; cannot be caught or ignored. What `kill()` sends.";
    Usr1 = "SIGUSR1", 10, "user-defined signal 1.";
    Segv = "SIGSEGV", 11, "invalid memory reference.";
    Usr2 = "SIGUSR2", 12, "user-defined signal 2.";
    Pipe = "SIGPIPE", 13, "write to a pipe with no readers.";
    Alrm = "SIGALRM", 14, "timer signal from `alarm`.";
    Term = "SIGTERM", 15, "termination request. What `terminate()` sends.";
    Chld = "SIGCHLD", 17, "a child stopped or terminated.";
    Cont = "SIGCONT", 18, "continue if stopped.";
    Stop = "SIGSTOP", 19, "stop the process; cannot be caught or ignored.";
    Tstp = "SIGTSTP", 20, "stop typed at the terminal (Ctrl-Z).";
    Ttin = "SIGTTIN", 21, "terminal input for a background process.";
    Ttou = "SIGTTOU", 22, "terminal output for a background process.";
    Urg = "SIGURG", 23, "urgent condition on a socket.";
    Xcpu = "SIGXCPU", 24, "CPU time limit exceeded.";
    Xfsz = "SIGXFSZ", 25, "file size limit exceeded.";
    Vtalrm = "SIGVTALRM", 26, "virtual alarm clock.";
    Prof = "SIGPROF", 27, "profiling timer expired.";
    Winch = "SIGWINCH", 28, "window resize.";
    Io = "SIGIO", 29, "I/O now possible.";
    Pwr = "SIGPWR", 30, "power failure.";
    Sys = "SIGSYS", 31, "bad system call.";
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
