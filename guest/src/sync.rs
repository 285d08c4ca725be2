//! The blocking face: asyncio's subprocess API with every `await` turned
//! into a call that blocks the guest until it is done.
//!
//! This is the simplest way to run one process at a time. To drive several
//! at once in one guest (asyncio's `gather`), use [`crate::aio`].
//!
//! ```
//! use procgate_guest::sync::create_subprocess_exec;
//! use procgate_guest::{Options, PIPE};
//!
//! let mut proc = create_subprocess_exec(
//!     "python3",
//!     ["-c", "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"],
//!     Options::new().stdin(PIPE).stdout(PIPE),
//! )?;
//! let (stdout, _) = proc.communicate(Some(b"some data"))?;
//! assert_eq!(stdout.as_deref(), Some(&b"some data"[..]));
//! assert_eq!(proc.returncode(), Some(0));
//! # Ok::<(), procgate_guest::Error>(())
//! ```

use std::time::Duration;

use wasip2::io::poll::Pollable;

use crate::bindings::procgate::subprocess::types as wit;
use crate::shared::{self, Feed, ProcCore, ReaderCore, Spawned, Step, WriterCore};
use crate::{HostError, Options, Signal, StreamError};

type Result<T, E = HostError> = std::result::Result<T, E>;

/// What `communicate` returns: asyncio's `(stdout_data, stderr_data)`.
pub type Communicated = (Option<Vec<u8>>, Option<Vec<u8>>);

mod communication;
mod process;
mod reader;
mod writer;

pub use communication::Communication;
pub use process::Process;
pub use reader::{Lines, StreamReader};
pub use writer::StreamWriter;

/// Create a subprocess running `program` with the arguments `args` (which
/// exclude the program itself): asyncio's `create_subprocess_exec`.
///
/// The host's policy decides first: the program must be allowed, and a name
/// without a slash is looked up on the policy's own search path, never the
/// guest's `PATH`. `options` gives asyncio's keyword arguments (`stdin=`,
/// `stdout=`, `stderr=`, `limit=`, `cwd=`, `env=`, `start_new_session=`).
///
/// Fails with [`HostError::Denied`] if the policy refuses,
/// [`HostError::NotFound`] if there is no such program,
/// [`HostError::PermissionDenied`] if it cannot be executed,
/// [`HostError::InvalidArgument`] for a malformed request.
///
/// ```
/// use procgate_guest::sync::create_subprocess_exec;
/// use procgate_guest::{Options, PIPE};
///
/// let mut proc = create_subprocess_exec("ls", ["-l", "/"], Options::new().stdout(PIPE))?;
/// let listing = proc.stdout.as_mut().unwrap().read(-1)?;
/// proc.wait()?;
///
/// // No arguments:
/// let proc = create_subprocess_exec("true", [""; 0], Options::new())?;
/// # Ok::<(), procgate_guest::Error>(())
/// ```
pub fn create_subprocess_exec<I, S>(program: &str, args: I, options: Options) -> Result<Process>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    shared::spawn_exec(program, args, &options).map(Process::new)
}

/// Run the `cmd` shell command with the host's shell (`/bin/sh -c cmd`
/// unless the policy configures another): asyncio's
/// `create_subprocess_shell`. Denied unless the policy grants a shell.
///
/// It is the guest's responsibility to quote all whitespace and special
/// characters appropriately to avoid shell injection.
///
/// ```
/// use procgate_guest::sync::create_subprocess_shell;
/// use procgate_guest::Options;
///
/// let proc = create_subprocess_shell("exit 7", Options::new())?;
/// assert_eq!(proc.wait()?, 7);
/// # Ok::<(), procgate_guest::Error>(())
/// ```
pub fn create_subprocess_shell(cmd: &str, options: Options) -> Result<Process> {
    shared::spawn_shell(cmd, &options).map(Process::new)
}
