//! Why a call failed, in two kinds: what the host refused or failed to do
//! ([`HostError`], the WIT `error` variant) and what went wrong on a stream
//! of the child ([`StreamError`], asyncio's stream exceptions). [`Error`]
//! holds either (or a [`TimeoutError`]), so `?` works across both.
//!
//! Each call returns the narrowest of them: creating, waiting for,
//! signalling a process and `communicate` fail with a [`HostError`]; the
//! methods of a `StreamReader` and `StreamWriter` with a [`StreamError`].

use std::fmt;
use std::time::Duration;

use crate::bindings::procgate::subprocess::types as wit;

/// What the host refused or failed to do: the WIT `error` variant.
///
/// ```
/// use procgate_guest::sync::create_subprocess_exec;
/// use procgate_guest::{HostError, Options};
///
/// match create_subprocess_exec("rm", ["-rf", "/"], Options::new()) {
///     Err(HostError::Denied(rule)) => eprintln!("the policy said no: {rule}"),
///     Err(e) => eprintln!("failed: {e}"),
///     Ok(proc) => { proc.kill()?; }
/// }
/// # Ok::<(), HostError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostError {
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
    /// given for stdin or stdout, a `limit` of zero or above `u32::MAX`, and
    /// the like. Python raises `ValueError`.
    ///
    /// [`STDOUT`]: crate::STDOUT
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
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Denied(why) => write!(f, "denied by policy: {why}"),
            HostError::NotFound(what) => write!(f, "program not found: {what}"),
            HostError::PermissionDenied(what) => write!(f, "permission denied: {what}"),
            HostError::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            HostError::LimitExceeded(what) => write!(f, "host limit exceeded: {what}"),
            HostError::ProcessExited => f.write_str("the process has already exited"),
            HostError::Io(what) => write!(f, "I/O error: {what}"),
        }
    }
}

impl std::error::Error for HostError {}

impl From<wit::Error> for HostError {
    fn from(e: wit::Error) -> Self {
        match e {
            wit::Error::Denied(s) => HostError::Denied(s),
            wit::Error::NotFound(s) => HostError::NotFound(s),
            wit::Error::PermissionDenied(s) => HostError::PermissionDenied(s),
            wit::Error::InvalidArgument(s) => HostError::InvalidArgument(s),
            wit::Error::LimitExceeded(s) => HostError::LimitExceeded(s),
            wit::Error::ProcessExited => HostError::ProcessExited,
            wit::Error::Io(s) => HostError::Io(s),
        }
    }
}

/// What went wrong on a stream of the child: asyncio's
/// `LimitOverrunError`, `IncompleteReadError`, `BrokenPipeError`, and a
/// failed `wasi:io` stream.
///
/// ```
/// use procgate_guest::sync::create_subprocess_exec;
/// use procgate_guest::{Options, StreamError, PIPE};
///
/// let mut proc = create_subprocess_exec("printf", ["abc"], Options::new().stdout(PIPE))?;
/// match proc.stdout.as_mut().unwrap().readexactly(10) {
///     Err(StreamError::IncompleteRead { partial, .. }) => assert_eq!(partial, b"abc"),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), procgate_guest::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamError {
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
        /// asyncio's message: whether the separator was found at all.
        message: String,
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
    /// Writing to, or draining, a stdin that is closed; the text says why
    /// (the guest closed it, or the child closed its end or exited). Python
    /// raises `BrokenPipeError` or `ConnectionResetError`.
    Closed(String),
    /// A stream of the child failed (a `wasi:io` stream error, or the host
    /// would not hand the stream out), with its description.
    Failed(String),
    /// The call was malformed: an empty separator for `readuntil`. Python
    /// raises `ValueError`.
    InvalidArgument(String),
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::LimitOverrun { consumed, message } => {
                write!(f, "{message} ({consumed} bytes consumed)")
            }
            StreamError::IncompleteRead { partial, expected } => match expected {
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
            StreamError::Closed(why) => write!(f, "the stream is closed: {why}"),
            StreamError::Failed(what) => write!(f, "stream error: {what}"),
            StreamError::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
        }
    }
}

impl std::error::Error for StreamError {}

/// A wait ran out of time: asyncio's `TimeoutError` from `wait_for`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeoutError {
    /// How long was waited.
    pub after: Duration,
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timed out after {:?}", self.after)
    }
}

impl std::error::Error for TimeoutError {}

/// Any error of this crate: a [`HostError`], a [`StreamError`] or a
/// [`TimeoutError`], so that `?` works in a function that does both.
/// Its `Debug` is the inner error's (`Denied("…")`, not
/// `Host(Denied("…"))`).
///
/// ```
/// use procgate_guest::sync::create_subprocess_exec;
/// use procgate_guest::{Error, HostError, Options, PIPE};
///
/// fn first_line() -> procgate_guest::Result<Vec<u8>> {
///     let mut proc = create_subprocess_exec("ls", ["/"], Options::new().stdout(PIPE))?; // HostError
///     let line = proc.stdout.as_mut().unwrap().readline()?; // StreamError
///     proc.wait()?;
///     Ok(line)
/// }
/// match first_line() {
///     Err(Error::Host(HostError::Denied(rule))) => eprintln!("refused: {rule}"),
///     Err(e) => eprintln!("{e}"),
///     Ok(line) => println!("{}", String::from_utf8_lossy(&line)),
/// }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum Error {
    /// The host refused or failed.
    Host(HostError),
    /// A stream of the child failed.
    Stream(StreamError),
    /// A wait ran out of time.
    Timeout(TimeoutError),
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Host(e) => fmt::Debug::fmt(e, f),
            Error::Stream(e) => fmt::Debug::fmt(e, f),
            Error::Timeout(e) => fmt::Debug::fmt(e, f),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Host(e) => e.fmt(f),
            Error::Stream(e) => e.fmt(f),
            Error::Timeout(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Host(e) => Some(e),
            Error::Stream(e) => Some(e),
            Error::Timeout(e) => Some(e),
        }
    }
}

impl From<HostError> for Error {
    fn from(e: HostError) -> Self {
        Error::Host(e)
    }
}

impl From<StreamError> for Error {
    fn from(e: StreamError) -> Self {
        Error::Stream(e)
    }
}

impl From<TimeoutError> for Error {
    fn from(e: TimeoutError) -> Self {
        Error::Timeout(e)
    }
}

impl From<wit::Error> for Error {
    fn from(e: wit::Error) -> Self {
        Error::Host(e.into())
    }
}

impl From<HostError> for std::io::Error {
    /// The nearest [`std::io::ErrorKind`], with the [`HostError`] inside
    /// (`io_error.get_ref()` and `downcast_ref::<HostError>()` get it back).
    fn from(e: HostError) -> Self {
        use std::io::ErrorKind;
        let kind = match &e {
            HostError::Denied(_) | HostError::PermissionDenied(_) => ErrorKind::PermissionDenied,
            HostError::NotFound(_) => ErrorKind::NotFound,
            HostError::InvalidArgument(_) => ErrorKind::InvalidInput,
            HostError::LimitExceeded(_) => ErrorKind::QuotaExceeded,
            HostError::ProcessExited | HostError::Io(_) => ErrorKind::Other,
        };
        std::io::Error::new(kind, e)
    }
}

impl From<StreamError> for std::io::Error {
    /// The nearest [`std::io::ErrorKind`], with the [`StreamError`] inside.
    fn from(e: StreamError) -> Self {
        use std::io::ErrorKind;
        let kind = match &e {
            StreamError::IncompleteRead { .. } => ErrorKind::UnexpectedEof,
            StreamError::Closed(_) => ErrorKind::BrokenPipe,
            StreamError::LimitOverrun { .. } => ErrorKind::InvalidData,
            StreamError::Failed(_) => ErrorKind::Other,
            StreamError::InvalidArgument(_) => ErrorKind::InvalidInput,
        };
        std::io::Error::new(kind, e)
    }
}

impl From<TimeoutError> for std::io::Error {
    /// [`std::io::ErrorKind::TimedOut`], with the [`TimeoutError`] inside.
    fn from(e: TimeoutError) -> Self {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}

impl From<Error> for std::io::Error {
    /// As the inner error's conversion: the [`std::io::Error`] holds the
    /// [`HostError`], [`StreamError`] or [`TimeoutError`] itself.
    fn from(e: Error) -> Self {
        match e {
            Error::Host(e) => e.into(),
            Error::Stream(e) => e.into(),
            Error::Timeout(e) => e.into(),
        }
    }
}

/// The result of this crate's calls that can fail in more than one way.
///
/// ```
/// fn pid_of_true() -> procgate_guest::Result<u32> {
///     let proc = procgate_guest::sync::create_subprocess_exec(
///         "true",
///         std::iter::empty::<&str>(),
///         procgate_guest::Options::new(),
///     )?;
///     Ok(proc.pid())
/// }
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;
