//! The keyword arguments of `create_subprocess_exec` and
//! `create_subprocess_shell`: [`Options`], where each standard stream goes
//! ([`Stdio`], [`PIPE`], [`DEVNULL`], [`STDOUT`]), and the source of a
//! pipeline ([`PipeSource`]).

use std::fmt;

use crate::bindings::procgate::subprocess::types as wit;
use crate::{aio, sync, HostError};

/// Where one of a new process's standard streams goes: asyncio's
/// `stdin=`/`stdout=`/`stderr=` arguments.
///
/// The constants [`PIPE`], [`DEVNULL`] and [`STDOUT`] are the names asyncio
/// uses; [`Stdio::Inherit`] (the default) is asyncio's `None`.
///
/// ```
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
/// ```
/// use procgate_guest::{Options, PIPE};
///
/// let options = Options::new().stdin(PIPE).stdout(PIPE);
/// ```
pub const PIPE: Stdio = Stdio::Pipe;

/// asyncio's `subprocess.DEVNULL`: connect the stream to `/dev/null`.
///
/// ```
/// use procgate_guest::{Options, DEVNULL};
///
/// let options = Options::new().stdin(DEVNULL).stderr(DEVNULL);
/// ```
pub const DEVNULL: Stdio = Stdio::DevNull;

/// asyncio's `subprocess.STDOUT`: for stderr only, send standard error
/// wherever standard output goes.
///
/// ```
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
/// ```
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
/// ```
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
    pub(crate) stdin: Stdio,
    stdin_from: Option<StdinFrom>,
    pub(crate) stdout: Stdio,
    pub(crate) stderr: Stdio,
    limit: Option<u64>,
    cwd: Option<String>,
    env: Vec<(String, String)>,
    start_new_session: bool,
}

impl Options {
    /// asyncio's defaults: all streams inherited, nothing else set.
    ///
    /// ```
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
    /// ```
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
    /// ```
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
    /// ```
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
    /// with [`StreamError::LimitOverrun`](crate::StreamError::LimitOverrun) on a line (a chunk before the separator)
    /// longer than this. Zero is invalid: creation fails with
    /// [`HostError::InvalidArgument`], and so is a value above `u32::MAX`
    /// (the WIT's type): it is never clamped.
    ///
    /// ```
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
    /// ```
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
    /// ```
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
    /// ```
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
    /// ```
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
    /// ```
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
