//! The error type of every procgate host call.
//!
//! Guest mistakes become values of the WIT `error` variant; only host bugs
//! ([`Error::Trap`]) trap the guest.

use std::io;

/// Why a procgate request failed.
///
/// Every variant but [`Error::Trap`] is handed to the guest as the matching
/// case of the WIT `error` variant. `Trap` is reserved for host bugs (a
/// missing table entry, say) and ends the guest with a trap.
///
/// ```
/// let e = procgate::Error::Denied("program \"/bin/sh\" not in allow list".into());
/// assert_eq!(e.to_string(), "denied: program \"/bin/sh\" not in allow list");
/// ```
#[derive(Debug, thiserror::Error)]
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
    /// A host bug: traps the guest.
    #[error("host error: {0}")]
    Trap(wasmtime::Error),
}

impl Error {
    /// Maps an error from starting a program to `not-found`,
    /// `permission-denied`, `limit-exceeded` (arguments and environment too
    /// large for the OS, `E2BIG`: the guest's request is too big) or `io`,
    /// naming the program.
    ///
    /// ```
    /// use std::io::{Error as IoError, ErrorKind};
    /// let e = procgate::Error::from_spawn("nope", &IoError::from(ErrorKind::NotFound));
    /// assert!(matches!(e, procgate::Error::NotFound(_)));
    /// let e = procgate::Error::from_spawn("big", &IoError::from_raw_os_error(libc::E2BIG));
    /// assert!(matches!(e, procgate::Error::LimitExceeded(_)));
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
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Error {
        Error::Io(err.to_string())
    }
}

impl From<wasmtime::component::ResourceTableError> for Error {
    /// A full table (the guest holds [`crate::MAX_TABLE_ENTRIES`] handles)
    /// is the guest's `limit-exceeded`; anything else is a host bug.
    fn from(err: wasmtime::component::ResourceTableError) -> Error {
        match err {
            wasmtime::component::ResourceTableError::Full => Error::LimitExceeded(format!(
                "the guest holds as many handles as its resource table takes: {err}"
            )),
            err => Error::Trap(err.into()),
        }
    }
}

impl From<wasmtime::Error> for Error {
    fn from(err: wasmtime::Error) -> Error {
        Error::Trap(err)
    }
}

/// The result type of procgate host calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;
