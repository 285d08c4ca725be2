//! The error type of every procgate host call: a [`procgate_policy::Error`]
//! (each case a case of the WIT `error` variant), or [`Error::Trap`] for
//! host bugs, which traps the guest.

use std::io;

/// Why a procgate host call failed: a failed request, which the guest gets
/// as the matching case of the WIT `error` variant, or a host bug, which
/// traps the guest.
///
/// ```
/// use procgate::policy::Error as Failed;
/// let e = procgate::Error::from(Failed::Denied("program \"/bin/sh\" not in allow list".into()));
/// assert_eq!(e.to_string(), "denied: program \"/bin/sh\" not in allow list");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request failed (refused by the policy, a limit, the OS): the
    /// guest gets this WIT `error` case.
    #[error(transparent)]
    Request(#[from] procgate_policy::Error),
    /// A host bug: traps the guest.
    #[error("host error: {0}")]
    Trap(wasmtime::Error),
}

impl Error {
    /// The request error the guest sees; a trap as `io` (for the audit
    /// log, which records what a spawn failed with).
    pub(crate) fn to_request(&self) -> procgate_policy::Error {
        match self {
            Error::Request(e) => e.clone(),
            Error::Trap(t) => procgate_policy::Error::Io(format!("host error: {t}")),
        }
    }
}

/// An `invalid-argument` error.
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::Request(procgate_policy::Error::InvalidArgument(message.into()))
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Error {
        Error::Request(err.into())
    }
}

impl From<wasmtime::component::ResourceTableError> for Error {
    /// A full table (the guest holds [`crate::MAX_TABLE_ENTRIES`] handles)
    /// is the guest's `limit-exceeded`; anything else is a host bug.
    fn from(err: wasmtime::component::ResourceTableError) -> Error {
        match err {
            wasmtime::component::ResourceTableError::Full => {
                Error::Request(procgate_policy::Error::LimitExceeded(format!(
                    "the guest holds as many handles as its resource table takes: {err}"
                )))
            }
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
