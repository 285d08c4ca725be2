//! Why a request was refused or failed: the error of every decision and of
//! the child layer, one case per WIT `error` case. Only the wasmtime glue
//! adds a way to trap the guest. And why a policy could not be built
//! ([`BuildError`]) or learned ([`LearnError`]).

use std::io;

/// Why a procgate request failed; each case is handed to the guest as the
/// matching case of the WIT `error` variant.
///
/// ```
/// let e = procgate_policy::Error::Denied("program \"/bin/sh\" not in allow list".into());
/// assert_eq!(e.to_string(), "denied: program \"/bin/sh\" not in allow list");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The policy refused the request; the text names the rule.
    #[error("denied: {0}")]
    Denied(String),
    /// The program does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The operating system refused to start the program.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The request was malformed.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A limit was reached.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// The process has exited and been reaped.
    #[error("process has already exited")]
    ProcessExited,
    /// Any other operating-system error.
    #[error("i/o error: {0}")]
    Io(String),
}

impl Error {
    /// Maps an error from starting a program to `not-found`,
    /// `permission-denied`, `limit-exceeded` (arguments and environment too
    /// large for the OS, `E2BIG`: the guest's request is too big) or `io`,
    /// naming the program.
    ///
    /// ```
    /// use procgate_policy::Error;
    /// use std::io::{Error as IoError, ErrorKind};
    /// let e = Error::from_spawn("nope", &IoError::from(ErrorKind::NotFound));
    /// assert!(matches!(e, Error::NotFound(_)));
    /// let e = Error::from_spawn("big", &IoError::from_raw_os_error(libc::E2BIG));
    /// assert!(matches!(e, Error::LimitExceeded(_)));
    /// ```
    pub fn from_spawn(program: &str, err: &io::Error) -> Error {
        if err.raw_os_error() == Some(libc::E2BIG) {
            return Error::LimitExceeded(format!(
                "{program}: arguments and environment too large for the operating system ({err})"
            ));
        }
        match err.kind() {
            io::ErrorKind::NotFound => Error::NotFound(format!("{program}: {err}")),
            io::ErrorKind::PermissionDenied => Error::PermissionDenied(format!("{program}: {err}")),
            _ => Error::Io(format!("{program}: {err}")),
        }
    }

    /// The WIT `error` case (`denied`, `limit-exceeded`, ...) and the text
    /// without it, as the audit log records them.
    ///
    /// ```
    /// let e = procgate_policy::Error::LimitExceeded("too many".into());
    /// assert_eq!(e.parts(), ("limit-exceeded", "too many".to_string()));
    /// ```
    pub fn parts(&self) -> (&'static str, String) {
        match self {
            Error::Denied(s) => ("denied", s.clone()),
            Error::NotFound(s) => ("not-found", s.clone()),
            Error::PermissionDenied(s) => ("permission-denied", s.clone()),
            Error::InvalidArgument(s) => ("invalid-argument", s.clone()),
            Error::LimitExceeded(s) => ("limit-exceeded", s.clone()),
            Error::ProcessExited => ("process-exited", self.to_string()),
            Error::Io(s) => ("io", s.clone()),
        }
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Error {
        Error::Io(err.to_string())
    }
}

/// The result type of decisions and of the child layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why [`PolicyBuilder::build`](crate::PolicyBuilder::build) refused a
/// policy: a granted directory that cannot be opened, a malformed pattern,
/// a program or search-path directory children may write, ... The message
/// starts with where the entry was written (`policy.toml:3:10:
/// programs.allow[1]: ...`, `--allow: ...`) when it is known.
///
/// ```
/// let e = procgate_policy::Policy::builder().secret_env("[").build().unwrap_err();
/// assert!(e.to_string().starts_with("env.secret \"[\": "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BuildError(String);

impl BuildError {
    /// The error saying `message`.
    pub(crate) fn new(message: impl Into<String>) -> BuildError {
        BuildError(message.into())
    }
}

/// Why [`learn_policy`](crate::learn::learn_policy) wrote no policy file,
/// or [`remember`](crate::learn::remember) remembered nothing.
/// Each case names what failed; the cause, where there is one, is its
/// [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// The policy file as it was does not parse or build.
    #[error("the existing policy file")]
    Existing(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The learned file does not parse or build (a bug in learn mode).
    #[error("the learned policy (a bug in learn mode)")]
    Learned(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The learned file refuses a call of the run (a bug in learn mode).
    #[error("learn mode wrote a policy that refuses call #{call}: {why}")]
    Refuses {
        /// The call's number in the run.
        call: usize,
        /// What the learned file refuses.
        why: String,
    },
    /// The policy file the prompt writes to does not parse or build.
    #[error("the policy file")]
    PolicyFile(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The program to remember resolves to nothing on the search path.
    #[error("program {0:?} not found")]
    NotFound(String),
    /// The file with the answer does not parse or build (a bug in the
    /// prompt).
    #[error("the remembered policy (a bug in the prompt)")]
    Remembered(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The file with the answer does not decide the call as answered.
    #[error("the remembered policy does not {what} {program:?}")]
    NotRemembered {
        /// `allow` or `deny`.
        what: &'static str,
        /// The program, as the guest named it.
        program: String,
    },
}
