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
//! | `await proc.communicate(input)` | [`sync::Process::communicate`] | [`aio::Process::communicate`]`.await` |
//! | `proc.send_signal(signal.SIGHUP)` | [`sync::Process::send_signal`]`(`[`Signal::Hup`]`)` | the same |
//! | `proc.terminate()`, `proc.kill()` | [`sync::Process::terminate`], [`sync::Process::kill`] | the same |
//! | `proc.stdin` ([`StreamWriter`](https://docs.python.org/3/library/asyncio-stream.html#asyncio.StreamWriter)) | [`sync::Process::stdin`]: `Option<`[`sync::StreamWriter`]`>` | [`aio::Process::stdin`]: `Option<`[`aio::StreamWriter`]`>` |
//! | `proc.stdout`, `proc.stderr` ([`StreamReader`](https://docs.python.org/3/library/asyncio-stream.html#asyncio.StreamReader)) | [`sync::Process::stdout`], [`sync::Process::stderr`]: `Option<`[`sync::StreamReader`]`>` | [`aio::Process::stdout`], [`aio::Process::stderr`]: `Option<`[`aio::StreamReader`]`>` |
//! | `reader.read(n)`, `readline()`, `readuntil(sep)`, `readexactly(n)`, `at_eof()` | [`sync::StreamReader`]'s methods of the same names | [`aio::StreamReader`]'s, `.await`ed |
//! | `writer.write(data)`, `await writer.drain()`, `close()`, `await wait_closed()`, `is_closing()` | [`sync::StreamWriter`]'s methods of the same names | [`aio::StreamWriter`]'s |
//! | `ProcessLookupError` | [`Error::ProcessExited`] | the same |
//! | `asyncio.LimitOverrunError`, `ValueError` from `readline` | [`Error::LimitOverrun`] | the same |
//! | `asyncio.IncompleteReadError` | [`Error::IncompleteRead`] | the same |
//! | `BrokenPipeError`, `ConnectionResetError` on stdin | [`Error::Closed`] | the same |
//! | `FileNotFoundError`, `PermissionError`, `OSError` from creation | [`Error::NotFound`], [`Error::PermissionDenied`], [`Error::Io`] | the same |
//!
//! What asyncio does not have: the host's policy may refuse a request
//! ([`Error::Denied`]) or a host limit may be reached
//! ([`Error::LimitExceeded`]).
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
mod shared;
pub mod sync;

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
pub trait PipeSource: private::Sealed {
    /// The WIT process handle.
    #[doc(hidden)]
    fn wit_process(&self) -> std::rc::Rc<wit::Process>;
}

mod private {
    pub trait Sealed {}
    impl Sealed for crate::sync::Process {}
    impl Sealed for crate::aio::Process {}
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
/// let options = Options::new().stdout(PIPE).limit(16 * DEFAULT_LIMIT);
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
    limit: Option<usize>,
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
    /// with [`Error::LimitOverrun`] on a line (a chunk before the separator)
    /// longer than this. Zero is invalid: creation fails with
    /// [`Error::InvalidArgument`]. Values above `u32::MAX` are clamped.
    ///
    /// ```no_run
    /// use procgate_guest::{Options, PIPE};
    ///
    /// let options = Options::new().stdout(PIPE).limit(1024 * 1024);
    /// ```
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit.min(u32::MAX as usize));
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
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn stdin_from(mut self, source: &impl PipeSource) -> Self {
        self.stdin_from = Some(StdinFrom(source.wit_process()));
        self
    }

    /// The stream readers' limit these options give.
    pub(crate) fn reader_limit(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }

    pub(crate) fn to_wit(&self) -> wit::Options<'_> {
        wit::Options {
            stdin: match &self.stdin_from {
                Some(StdinFrom(source)) => wit::Stdio::StdoutOf(source),
                None => self.stdin.into(),
            },
            stdout: self.stdout.into(),
            stderr: self.stderr.into(),
            limit: self.limit.map(|l| l as u32),
            cwd: self.cwd.clone(),
            env: self.env.clone(),
            start_new_session: self.start_new_session,
        }
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
        /// # Ok::<(), procgate_guest::Error>(())
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

/// Why a call failed: the host's errors (the WIT `error` variant) and the
/// stream errors of asyncio's `StreamReader` and `StreamWriter`.
///
/// ```no_run
/// use procgate_guest::sync::create_subprocess_exec;
/// use procgate_guest::{Error, Options};
///
/// match create_subprocess_exec("rm", ["-rf", "/"], Options::new()) {
///     Err(Error::Denied(rule)) => eprintln!("the policy said no: {rule}"),
///     Err(e) => eprintln!("failed: {e}"),
///     Ok(proc) => { proc.kill()?; }
/// }
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The host's policy refused the request; the text names the rule that
    /// refused it.
    Denied(String),
    /// The program does not exist (on the policy's search path, or at the
    /// absolute path given). Python raises `FileNotFoundError`.
    NotFound(String),
    /// The operating system refused to start the program, e.g. it is not
    /// executable. Python raises `PermissionError`.
    PermissionDenied(String),
    /// The request was malformed: a NUL byte in an argument, [`STDOUT`]
    /// given for stdin or stdout, a zero `limit`, an empty separator for
    /// `readuntil`, and the like. Python raises `ValueError`.
    InvalidArgument(String),
    /// A limit of the host was reached (live processes, spawns, bytes
    /// buffered by `communicate`, ...).
    LimitExceeded(String),
    /// The process has already exited and been reaped, so it can no longer
    /// be signalled: Python's `ProcessLookupError`.
    ProcessExited,
    /// Any other operating-system error of the host, with its description:
    /// Python's `OSError`.
    Io(String),
    /// asyncio's `LimitOverrunError`: `readline` or `readuntil` found no
    /// separator within the reader's limit, or found it past the limit.
    /// `consumed` is the number of bytes to consume to get past the limit.
    ///
    /// `readuntil` leaves the data in the reader's buffer; `readline`, as
    /// asyncio's, drops the over-long line (up to and including its newline
    /// if that was read, otherwise everything buffered).
    LimitOverrun {
        /// How many bytes of the buffer were looked at.
        consumed: usize,
    },
    /// asyncio's `IncompleteReadError`: end of file came before
    /// `readexactly` got `expected` bytes, or before `readuntil` found its
    /// separator (`expected` is `None` then, as in asyncio). `partial` holds
    /// the bytes read before end of file; they are no longer in the reader.
    IncompleteRead {
        /// The bytes read before end of file.
        partial: Vec<u8>,
        /// The number of bytes asked for; `None` for `readuntil`.
        expected: Option<usize>,
    },
    /// A stream of the child failed (a `wasi:io` stream error), with its
    /// description.
    Stream(String),
    /// Writing to, or draining, a stdin that is closed: the guest closed it,
    /// or the child closed its end or exited. Python raises
    /// `BrokenPipeError` or `ConnectionResetError`.
    Closed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Denied(why) => write!(f, "denied by policy: {why}"),
            Error::NotFound(what) => write!(f, "program not found: {what}"),
            Error::PermissionDenied(what) => write!(f, "permission denied: {what}"),
            Error::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Error::LimitExceeded(what) => write!(f, "host limit exceeded: {what}"),
            Error::ProcessExited => f.write_str("the process has already exited"),
            Error::Io(what) => write!(f, "I/O error: {what}"),
            Error::LimitOverrun { consumed } => write!(
                f,
                "separator not found within the limit ({consumed} bytes consumed)"
            ),
            Error::IncompleteRead { partial, expected } => match expected {
                Some(n) => write!(
                    f,
                    "{} bytes read on a total of {n} expected bytes",
                    partial.len()
                ),
                None => write!(
                    f,
                    "{} bytes read on a total of undefined expected bytes",
                    partial.len()
                ),
            },
            Error::Stream(what) => write!(f, "stream error: {what}"),
            Error::Closed => f.write_str("the stream is closed"),
        }
    }
}

impl std::error::Error for Error {}

impl From<wit::Error> for Error {
    fn from(e: wit::Error) -> Self {
        match e {
            wit::Error::Denied(s) => Error::Denied(s),
            wit::Error::NotFound(s) => Error::NotFound(s),
            wit::Error::PermissionDenied(s) => Error::PermissionDenied(s),
            wit::Error::InvalidArgument(s) => Error::InvalidArgument(s),
            wit::Error::LimitExceeded(s) => Error::LimitExceeded(s),
            wit::Error::ProcessExited => Error::ProcessExited,
            wit::Error::Io(s) => Error::Io(s),
        }
    }
}

impl From<Error> for std::io::Error {
    /// Turn an [`Error`] into the nearest [`std::io::Error`], so that `?`
    /// works in functions returning `std::io::Result`.
    fn from(e: Error) -> Self {
        use std::io::ErrorKind;
        let kind = match &e {
            Error::Denied(_) | Error::PermissionDenied(_) => ErrorKind::PermissionDenied,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::InvalidArgument(_) => ErrorKind::InvalidInput,
            Error::IncompleteRead { .. } => ErrorKind::UnexpectedEof,
            Error::Closed => ErrorKind::BrokenPipe,
            Error::LimitOverrun { .. } => ErrorKind::InvalidData,
            _ => ErrorKind::Other,
        };
        std::io::Error::new(kind, e)
    }
}

/// The result of this crate's calls.
///
/// ```no_run
/// fn pid_of_true() -> procgate_guest::Result<u32> {
///     let proc = procgate_guest::sync::create_subprocess_exec(
///         "true",
///         std::iter::empty::<&str>(),
///         procgate_guest::Options::new(),
///     )?;
///     Ok(proc.pid())
/// }
/// ```
pub type Result<T> = std::result::Result<T, Error>;
