//! What a guest asks for ([`SpawnRequest`], [`SignalRequest`]) and what
//! the policy answers a spawn with ([`SpawnPlan`]).

use crate::limits::Usage;
use crate::sandbox::ChildSandbox;
use crate::signal::Signal;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What a new child runs, as the guest asked.
#[derive(Debug, Clone, Copy)]
pub enum Command<'a> {
    /// `create-subprocess-exec`.
    Exec {
        /// The program as the guest named it.
        program: &'a str,
        /// Its arguments.
        args: &'a [String],
    },
    /// `create-subprocess-shell`.
    Shell {
        /// The command line.
        cmd: &'a str,
    },
}

/// A spawn the guest asks for; the input of [`crate::Policy::decide_spawn`].
///
/// ```
/// use procgate_policy::{SpawnRequest, Usage};
/// let env = [("LANG".to_string(), "C".to_string())];
/// let req = SpawnRequest::exec("ls", &[]).env(&env).cwd(Some("/work"));
/// assert_eq!(req.usage, Usage::default());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SpawnRequest<'a> {
    /// The program or the shell command.
    pub command: Command<'a>,
    /// The environment variables the guest asked for.
    pub env: &'a [(String, String)],
    /// The guest path of the working directory, if any.
    pub cwd: Option<&'a str>,
    /// What the guest has used so far (live children, spawns).
    pub usage: Usage,
}

impl<'a> SpawnRequest<'a> {
    /// `create-subprocess-exec` of `program` with `args`, no variables, the
    /// default cwd, nothing used so far.
    pub fn exec(program: &'a str, args: &'a [String]) -> SpawnRequest<'a> {
        SpawnRequest::new(Command::Exec { program, args })
    }

    /// `create-subprocess-shell` of `cmd`.
    pub fn shell(cmd: &'a str) -> SpawnRequest<'a> {
        SpawnRequest::new(Command::Shell { cmd })
    }

    fn new(command: Command<'a>) -> SpawnRequest<'a> {
        SpawnRequest {
            command,
            env: &[],
            cwd: None,
            usage: Usage::default(),
        }
    }

    /// With the variables the guest asked for.
    pub fn env(self, env: &'a [(String, String)]) -> SpawnRequest<'a> {
        SpawnRequest { env, ..self }
    }

    /// With the working directory the guest asked for (a guest path).
    pub fn cwd(self, cwd: Option<&'a str>) -> SpawnRequest<'a> {
        SpawnRequest { cwd, ..self }
    }

    /// With what the guest has used so far.
    pub fn usage(self, usage: Usage) -> SpawnRequest<'a> {
        SpawnRequest { usage, ..self }
    }
}

/// `send-signal`, `terminate` or `kill` to the guest's child `pid`; the
/// input of [`crate::Policy::decide_signal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalRequest {
    /// The child's process id.
    pub pid: u32,
    /// The signal.
    pub signal: Signal,
}

/// A spawn the policy allowed, with everything resolved: the absolute path
/// to execute, the full argument and environment lists, the working
/// directory, what is set up in the child, and the rule that allowed it.
#[derive(Debug, Clone)]
pub struct SpawnPlan {
    /// The resolved absolute path that is executed.
    pub program: PathBuf,
    /// `argv[0]`.
    pub arg0: String,
    /// The arguments after `argv[0]`.
    pub args: Vec<String>,
    /// The child's whole environment.
    pub env: Vec<(String, String)>,
    /// The child's working directory on the host.
    pub cwd: PathBuf,
    /// Whether this is `create-subprocess-shell` (`args` is `-c CMD`).
    pub shell: bool,
    /// Resource limits and sandbox set in the child before exec.
    pub sandbox: ChildSandbox,
    /// Wall-clock limit: SIGTERM to the child's group when it is up.
    pub timeout: Option<Duration>,
    /// The grace period between SIGTERM and SIGKILL after a timeout; none
    /// means the context's kill grace.
    pub kill_grace: Option<Duration>,
    /// Most bytes one `communicate` buffers from each of the child's
    /// stdout and stderr: its rule's `communicate_bytes` when smaller than
    /// the guest's `limits.communicate_bytes` (default
    /// [`crate::DEFAULT_COMMUNICATE_BYTES`]), else the guest's.
    pub communicate_cap: usize,
    /// The policy entry that allowed the spawn (`programs: "git"`, `shell
    /// granted`), as the audit log names it.
    pub rule: String,
    /// What became of the sandbox (`none`, `landlock`, or why Landlock is
    /// missing), as the audit log says it.
    pub sandbox_note: &'static str,
    /// The opened working directory inside a grant: the child changes into
    /// it by descriptor.
    pub(crate) cwd_dir: Option<Arc<cap_std::fs::Dir>>,
}

impl SpawnPlan {
    /// The opened working directory, when it lies inside a grant: the
    /// launcher changes into it by descriptor, so nothing can swap the path
    /// between the check and the child's `chdir`.
    pub fn cwd_fd(&self) -> Option<BorrowedFd<'_>> {
        self.cwd_dir.as_ref().map(|d| d.as_fd())
    }
}
