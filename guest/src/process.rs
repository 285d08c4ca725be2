//! `std::process` for guests: [`Command`], [`Child`], [`ExitStatus`],
//! [`Output`] and [`Stdio`] with std's names, signatures and
//! `std::io::Result`s, over the blocking face ([`crate::sync`]).
//!
//! Code written against `std::process::Command` ports by changing its
//! `use` line (not run with the other examples: it needs a git checkout
//! as the child's working directory):
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

mod child;
mod command;
mod exit_status;

pub use child::{Child, ChildStderr, ChildStdin, ChildStdout};
pub use command::Command;
pub use exit_status::{ExitStatus, ExitStatusExt, Output};

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

/// SIGKILL's outcome as std's and tokio's `kill` see it: a child that has
/// already exited is not an error.
pub(crate) fn killed(sent: Result<(), HostError>) -> io::Result<()> {
    match sent {
        Err(HostError::ProcessExited) => Ok(()),
        other => Ok(other?),
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
