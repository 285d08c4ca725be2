//! `std::process` for guests: [`Command`], [`Child`], [`ExitStatus`],
//! [`Output`] and [`Stdio`] with std's names, signatures and
//! `std::io::Result`s, over the blocking face ([`crate::sync`]).
//!
//! Code written against `std::process::Command` ports by changing its
//! `use` line:
//!
//! ```no_run
//! // use std::process::{Command, Stdio};
//! use procgate_guest::process::{Command, Stdio};
//!
//! let output = Command::new("git").args(["log", "-1", "--format=%s"]).output()?;
//! assert!(output.status.success());
//! println!("{}", String::from_utf8_lossy(&output.stdout));
//!
//! let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
//! std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"hi")?;
//! let out = child.wait_with_output()?;
//! assert_eq!(out.stdout, b"hi");
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! What differs, because the host's policy and not the guest builds the
//! child:
//!
//! - The program is looked up on the policy's search path, never `PATH`;
//!   the policy may refuse it: the `std::io::Error` (kind
//!   `PermissionDenied`) holds a [`HostError::Denied`] naming the rule
//!   (`e.get_ref()` and `downcast_ref::<HostError>()`).
//! - The child's environment starts from the one the policy builds, not
//!   the guest's: [`Command::env`] adds to it (each name must be allowed by
//!   the policy), [`Command::env_remove`] and [`Command::env_clear`] undo
//!   what the guest added; a variable the policy sets cannot be removed.
//! - [`Command::current_dir`] is a guest path inside a directory the
//!   policy grants.
//! - Program, arguments, variables and directory must be UTF-8 (the WIT
//!   carries strings): anything else fails `spawn` with `InvalidInput`.
//! - A child never outlives its [`Child`]: dropping it (and its pipes)
//!   makes the host kill and reap the process.
//! - `ExitStatusExt::signal` is [`ExitStatusExt`] here (`std::os::unix`
//!   does not exist on WASI).

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use crate::bindings::procgate::subprocess::types as wit;
use crate::shared;
use crate::sync::{Process, StreamReader, StreamWriter};
use crate::{HostError, Options, Signal, StreamError};

pub use std::process::{abort, exit, ExitCode, Termination};

/// Where a child's standard stream goes: std's `Stdio`.
#[derive(Debug)]
pub struct Stdio(pub(crate) StdioKind);

#[derive(Debug)]
pub(crate) enum StdioKind {
    Inherit,
    Piped,
    Null,
    /// The stdout pipe of another child (`Stdio::from(child.stdout)`).
    From(ProcessHandle),
}

/// The WIT process a pipe comes from.
pub(crate) struct ProcessHandle(pub(crate) Rc<wit::Process>);

impl fmt::Debug for ProcessHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProcessHandle(..)")
    }
}

impl Stdio {
    /// A new pipe between the guest and the child.
    pub fn piped() -> Stdio {
        Stdio(StdioKind::Piped)
    }

    /// The guest's own stream (its WASI stdout/stderr as the host set them
    /// up; for stdin, the guest's stdin where the host allows, else
    /// `/dev/null`).
    pub fn inherit() -> Stdio {
        Stdio(StdioKind::Inherit)
    }

    /// `/dev/null`.
    pub fn null() -> Stdio {
        Stdio(StdioKind::Null)
    }

    fn apply(&self, options: Options, which: Which) -> io::Result<Options> {
        let stdio = match &self.0 {
            StdioKind::Inherit => crate::Stdio::Inherit,
            StdioKind::Piped => crate::Stdio::Pipe,
            StdioKind::Null => crate::Stdio::DevNull,
            StdioKind::From(handle) => {
                return match which {
                    Which::Stdin => Ok(options.stdin_from_wit(handle.0.clone())),
                    // The host joins a child's stdout to another's stdin
                    // only.
                    _ => Err(HostError::InvalidArgument(
                        "a child's stdout can only be another child's stdin".into(),
                    )
                    .into()),
                };
            }
        };
        Ok(match which {
            Which::Stdin => options.stdin(stdio),
            Which::Stdout => options.stdout(stdio),
            Which::Stderr => options.stderr(stdio),
        })
    }
}

#[derive(Clone, Copy)]
enum Which {
    Stdin,
    Stdout,
    Stderr,
}

impl From<ChildStdout> for Stdio {
    /// The child's stdout as another's stdin, as `a | b`: the host joins
    /// the two, the bytes never pass through the guest. The stdout must not
    /// have been read from.
    fn from(stdout: ChildStdout) -> Stdio {
        Stdio(StdioKind::From(ProcessHandle(stdout.0.core.process())))
    }
}

/// A process builder: std's `Command`.
#[derive(Debug)]
pub struct Command {
    program: OsString,
    args: Vec<OsString>,
    /// What the guest set (`Some`) or removed (`None`).
    env: BTreeMap<OsString, Option<OsString>>,
    cwd: Option<PathBuf>,
    stdin: Option<Stdio>,
    stdout: Option<Stdio>,
    stderr: Option<Stdio>,
}

impl Command {
    /// A command for `program`, with no arguments, the policy's
    /// environment and working directory, and inherited stdio for `spawn`
    /// and `status`.
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: BTreeMap::new(),
            cwd: None,
            stdin: None,
            stdout: None,
            stderr: None,
        }
    }

    /// Adds an argument.
    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets a variable in the child's environment (the policy must allow
    /// the name).
    pub fn env<K, V>(&mut self, key: K, val: V) -> &mut Command
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.env
            .insert(key.as_ref().to_owned(), Some(val.as_ref().to_owned()));
        self
    }

    /// Sets variables in the child's environment.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (k, v) in vars {
            self.env(k, v);
        }
        self
    }

    /// Undoes [`env`](Command::env) for `key`. A variable the policy sets
    /// stays: the guest cannot remove it.
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.env.insert(key.as_ref().to_owned(), None);
        self
    }

    /// Undoes every [`env`](Command::env): the child gets exactly the
    /// environment the policy builds (the guest's own environment is never
    /// passed on anyway).
    pub fn env_clear(&mut self) -> &mut Command {
        self.env.clear();
        self
    }

    /// The child's working directory: a guest path inside a directory the
    /// policy grants.
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    /// The child's stdin (default: inherit for `spawn`/`status`, null for
    /// `output`).
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.stdin = Some(cfg.into());
        self
    }

    /// The child's stdout (default: inherit for `spawn`/`status`, piped for
    /// `output`).
    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.stdout = Some(cfg.into());
        self
    }

    /// The child's stderr (default: inherit for `spawn`/`status`, piped for
    /// `output`).
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.stderr = Some(cfg.into());
        self
    }

    /// The program.
    pub fn get_program(&self) -> &OsStr {
        &self.program
    }

    /// The arguments.
    pub fn get_args(&self) -> impl ExactSizeIterator<Item = &OsStr> {
        self.args.iter().map(OsString::as_os_str)
    }

    /// The variables set (`Some`) or removed (`None`) by the guest.
    pub fn get_envs(&self) -> impl ExactSizeIterator<Item = (&OsStr, Option<&OsStr>)> {
        self.env.iter().map(|(k, v)| (k.as_os_str(), v.as_deref()))
    }

    /// The working directory set, if any.
    pub fn get_current_dir(&self) -> Option<&Path> {
        self.cwd.as_deref()
    }

    /// The request: program, arguments and options, for the defaults
    /// `default` of stdio not set.
    pub(crate) fn request(&self, default: [fn() -> Stdio; 3]) -> io::Result<Request> {
        let program = utf8(&self.program, "program")?;
        let args = self
            .args
            .iter()
            .map(|a| utf8(a, "argument"))
            .collect::<io::Result<Vec<_>>>()?;
        let mut options = Options::new();
        for (k, v) in &self.env {
            if let Some(v) = v {
                options = options.env(utf8(k, "variable name")?, utf8(v, "variable value")?);
            }
        }
        if let Some(dir) = &self.cwd {
            options = options.cwd(utf8(dir.as_os_str(), "current_dir")?);
        }
        let [d_in, d_out, d_err] = default;
        let pick = |set: &Option<Stdio>, default: fn() -> Stdio| match set {
            Some(Stdio(StdioKind::From(h))) => Stdio(StdioKind::From(ProcessHandle(h.0.clone()))),
            Some(Stdio(StdioKind::Inherit)) => Stdio::inherit(),
            Some(Stdio(StdioKind::Piped)) => Stdio::piped(),
            Some(Stdio(StdioKind::Null)) => Stdio::null(),
            None => default(),
        };
        options = pick(&self.stdin, d_in).apply(options, Which::Stdin)?;
        options = pick(&self.stdout, d_out).apply(options, Which::Stdout)?;
        options = pick(&self.stderr, d_err).apply(options, Which::Stderr)?;
        Ok(Request {
            program,
            args,
            options,
        })
    }

    /// Starts the child; stdio not set is inherited.
    pub fn spawn(&mut self) -> io::Result<Child> {
        let request = self.request([Stdio::inherit; 3])?;
        Ok(Child::from_process(request.spawn_sync()?))
    }

    /// Runs the child to its end and collects its stdout and stderr (piped
    /// unless set; stdin is null unless set).
    pub fn output(&mut self) -> io::Result<Output> {
        let request = self.request([Stdio::null, Stdio::piped, Stdio::piped])?;
        Child::from_process(request.spawn_sync()?).wait_with_output()
    }

    /// Runs the child to its end with stdio inherited unless set.
    pub fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait()
    }
}

/// A `Command` turned into what the WIT takes.
pub(crate) struct Request {
    program: String,
    args: Vec<String>,
    options: Options,
}

impl Request {
    pub(crate) fn spawn_sync(self) -> io::Result<Process> {
        let spawned = shared::spawn_exec(&self.program, &self.args, &self.options)?;
        Ok(Process::new(spawned))
    }
}

fn utf8(s: &OsStr, what: &str) -> io::Result<String> {
    s.to_str().map(str::to_owned).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            HostError::InvalidArgument(format!("{what} {s:?} is not UTF-8")),
        )
    })
}

/// A running child: std's `Child`. Its pipes are in `stdin`, `stdout` and
/// `stderr` (take them out with `take()`, as with std).
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
    pub(crate) fn from_process(mut process: Process) -> Child {
        Child {
            stdin: process.stdin.take().map(ChildStdin),
            stdout: process.stdout.take().map(ChildStdout),
            stderr: process.stderr.take().map(ChildStderr),
            process,
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.process.pid()
    }

    /// Sends SIGKILL. A child that has already exited is not an error, as
    /// with std.
    pub fn kill(&mut self) -> io::Result<()> {
        match self.process.kill() {
            Err(HostError::ProcessExited) => Ok(()),
            other => Ok(other?),
        }
    }

    /// Sends `signal` (not in std: `kill -SIG`), as
    /// [`crate::sync::Process::send_signal`].
    pub fn send_signal(&mut self, signal: Signal) -> io::Result<()> {
        Ok(self.process.send_signal(signal)?)
    }

    /// Closes stdin (if still held) and waits for the child to exit.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        Ok(ExitStatus(self.process.wait()?))
    }

    /// The exit status if the child has exited, `None` if it still runs,
    /// without blocking.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        Ok(self.process.try_wait()?.map(ExitStatus))
    }

    /// Not in std: waits at most `timeout` (like the `wait-timeout`
    /// crate); `None` if the child still runs then. stdin is not closed.
    pub fn wait_timeout(&mut self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        Ok(self.process.wait_for(timeout)?.map(ExitStatus))
    }

    /// Closes stdin, reads stdout and stderr to their ends (both at once,
    /// in the host) and waits for the child. Pipes taken out of the child
    /// give empty output, as with std.
    pub fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        self.process.stdout = self.stdout.take().map(|s| s.0);
        self.process.stderr = self.stderr.take().map(|s| s.0);
        let (stdout, stderr) = self.process.communicate(None)?;
        let code = self.process.wait()?;
        Ok(Output {
            status: ExitStatus(code),
            stdout: stdout.unwrap_or_default(),
            stderr: stderr.unwrap_or_default(),
        })
    }

    /// The blocking face's process, with the pipes still in the child.
    pub fn into_process(self) -> Process {
        let Child {
            stdin,
            stdout,
            stderr,
            mut process,
        } = self;
        process.stdin = stdin.map(|s| s.0);
        process.stdout = stdout.map(|s| s.0);
        process.stderr = stderr.map(|s| s.0);
        process
    }
}

/// The child's stdin: `std::io::Write`. Dropping it closes the pipe.
#[derive(Debug)]
pub struct ChildStdin(pub(crate) StreamWriter);

impl io::Write for ChildStdin {
    /// Writes all of `buf`, blocking until the host took it (as a blocking
    /// pipe write does). A child that closed its stdin or exited gives
    /// `BrokenPipe`.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)?;
        self.0.drain()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.0.drain() {
            Err(StreamError::Closed(_)) if self.0.is_closing() => Ok(()),
            other => Ok(other?),
        }
    }
}

/// The child's stdout: `std::io::Read`. End of file reads 0 bytes.
#[derive(Debug)]
pub struct ChildStdout(pub(crate) StreamReader);

/// The child's stderr: `std::io::Read`.
#[derive(Debug)]
pub struct ChildStderr(pub(crate) StreamReader);

fn read_into(reader: &mut StreamReader, buf: &mut [u8]) -> io::Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    let n = isize::try_from(buf.len()).unwrap_or(isize::MAX);
    let data = reader.read(n)?;
    buf[..data.len()].copy_from_slice(&data);
    Ok(data.len())
}

impl io::Read for ChildStdout {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_into(&mut self.0, buf)
    }
}

impl io::Read for ChildStderr {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_into(&mut self.0, buf)
    }
}

/// How a child ended: std's `ExitStatus`, over asyncio's return code (`N`
/// for `exit(N)`, `-N` for signal `N`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExitStatus(pub(crate) i32);

impl ExitStatus {
    /// Whether the child exited with 0.
    pub fn success(&self) -> bool {
        self.0 == 0
    }

    /// The exit code, `None` if a signal ended the child.
    pub fn code(&self) -> Option<i32> {
        (self.0 >= 0).then_some(self.0)
    }

    /// asyncio's return code: the code, or `-N` for signal `N`.
    pub fn returncode(&self) -> i32 {
        self.0
    }
}

/// `std::os::unix::process::ExitStatusExt`'s `signal`, which WASI lacks.
pub trait ExitStatusExt {
    /// The signal that ended the child, `None` if it exited.
    fn signal(&self) -> Option<i32>;
}

impl ExitStatusExt for ExitStatus {
    fn signal(&self) -> Option<i32> {
        (self.0 < 0).then_some(-self.0)
    }
}

impl fmt::Display for ExitStatus {
    /// As std's on Unix: `exit status: 1`, `signal: 9 (SIGKILL)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.signal() {
            None => write!(f, "exit status: {}", self.0),
            Some(n) => match Signal::from_number(n) {
                Some(s) => write!(f, "signal: {n} ({s})"),
                None => write!(f, "signal: {n}"),
            },
        }
    }
}

/// What [`Command::output`] and [`Child::wait_with_output`] return: std's
/// `Output`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// How the child ended.
    pub status: ExitStatus,
    /// All of its stdout.
    pub stdout: Vec<u8>,
    /// All of its stderr.
    pub stderr: Vec<u8>,
}
