//! Starting the OS process for a spawn the policy allowed: the stdio, the
//! process group, the cgroup, the sandbox setup, then the one launch path
//! (`clone_spawn.rs`), the exit watch and the timeout.
//!
//! The child gets exactly the plan's program, arguments, environment and
//! working directory, its own process group (or session), and the stdio
//! asked for. Pipes are created here with `O_CLOEXEC`, so a child never
//! inherits another child's pipe.

use crate::cgroup::Containment;
use crate::child::{Child, Pipe};
use crate::children::Children;
#[doc(hidden)]
pub use crate::clone_spawn::join_cgroups_through_procs_file;
use crate::clone_spawn::{Group, Spec};
use crate::exit::ChildExit;
use crate::pipes::{pipe, PipeReader, PipeWriter};
use procgate_policy::{Error, Result, SpawnPlan};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, OnceLock};

/// Where a new child's stdin comes from.
#[derive(Debug)]
pub enum Input {
    /// A pipe: [`Child::stdin`].
    Pipe,
    /// `/dev/null`.
    Devnull,
    /// The host process's own stdin.
    Host,
    /// This descriptor (the read end of another child's stdout pipe, for a
    /// host-side pipeline), in blocking mode.
    Fd(OwnedFd),
}

/// Where a new child's stdout or stderr goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A pipe: [`Child::stdout`] or [`Child::stderr`].
    Pipe,
    /// `/dev/null`.
    Devnull,
    /// The host process's own descriptor.
    Host,
    /// Wherever stdout goes (stderr only).
    Stdout,
}

/// How a new child's standard streams are set up.
#[derive(Debug)]
pub struct Stdio {
    /// stdin
    pub stdin: Input,
    /// stdout
    pub stdout: Output,
    /// stderr
    pub stderr: Output,
    /// Start the child in a new session.
    pub start_new_session: bool,
}

/// One of the child's standard streams as the parent holds it until the
/// child runs: a descriptor of its own (closed once the child runs), or
/// the host's shared `/dev/null` ([`devnull`]).
enum End {
    Own(OwnedFd),
    Shared(BorrowedFd<'static>),
}

impl End {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        match self {
            End::Own(fd) => fd.as_raw_fd(),
            End::Shared(fd) => fd.as_raw_fd(),
        }
    }

    fn try_clone(&self) -> Result<End> {
        Ok(match self {
            End::Own(fd) => End::Own(fd.try_clone()?),
            End::Shared(fd) => End::Shared(*fd),
        })
    }
}

/// `/dev/null` for reading and writing, opened at the host's first child
/// with a null stream and shared by all (as Python's
/// `subprocess.DEVNULL`): no `open` and `close` per spawn, and one
/// descriptor for the whole host, not one per guest (every descriptor the
/// host holds is copied into each new child and closed at its `execve`).
fn devnull() -> Result<BorrowedFd<'static>> {
    static DEVNULL: OnceLock<OwnedFd> = OnceLock::new();
    if let Some(fd) = DEVNULL.get() {
        return Ok(fd.as_fd());
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    Ok(DEVNULL.get_or_init(|| file.into()).as_fd())
}

/// Sets up one output stream: the child's end, and the parent's read end
/// if it is a pipe.
fn output_end(which: &str, to: Output, host_fd: impl AsFd) -> Result<(End, Option<OwnedFd>)> {
    Ok(match to {
        Output::Pipe => {
            let (r, w) = pipe()?;
            (End::Own(w), Some(r))
        }
        Output::Devnull => (End::Shared(devnull()?), None),
        Output::Host => (End::Own(host_fd.as_fd().try_clone_to_owned()?), None),
        Output::Stdout => {
            return Err(Error::InvalidArgument(format!(
                "stdout is only valid for stderr, not for {which}"
            )));
        }
    })
}

/// Starts the process the policy planned, with `stdio`, counted among
/// `children`, its timeout watched if the plan sets one. Must run inside a
/// tokio runtime.
pub fn spawn(plan: &SpawnPlan, stdio: Stdio, children: &Arc<Children>) -> Result<Child> {
    // A child reading the host's terminal stays in the host's process
    // group: in a group of its own it would be a background job of the
    // terminal and stop on SIGTTIN at its first read. Its cgroup (or, with
    // none, its pidfd) contains it instead.
    let terminal = matches!(stdio.stdin, Input::Host)
        && !stdio.start_new_session
        && std::io::IsTerminal::is_terminal(&std::io::stdin());
    let mut stdin_parent = None;
    let stdin_child = match stdio.stdin {
        Input::Fd(fd) => End::Own(fd),
        Input::Pipe => {
            let (r, w) = pipe()?;
            stdin_parent = Some(w);
            End::Own(r)
        }
        Input::Host => End::Own(std::io::stdin().as_fd().try_clone_to_owned()?),
        Input::Devnull => End::Shared(devnull()?),
    };
    let (out_child, out_parent) = output_end("stdout", stdio.stdout, std::io::stdout())?;
    let (err_child, err_parent) = match stdio.stderr {
        // stderr goes wherever stdout goes.
        Output::Stdout => (out_child.try_clone()?, None),
        other => output_end("stderr", other, std::io::stderr())?,
    };

    let mut leaf = children.leaf()?;
    let group = match (stdio.start_new_session, terminal) {
        (true, _) => Group::Session,
        (false, true) => Group::Host,
        (false, false) => Group::New,
    };
    let containment = match (&leaf, group) {
        (Some(_), _) => Containment::Cgroup,
        (None, Group::Host) => Containment::ChildOnly,
        (None, _) => Containment::ProcessGroup,
    };
    // Only a guest whose children die with the host has a watchdog.
    let watched = leaf.as_ref().is_some_and(|l| l.watched());
    let cgroup_fd = leaf.as_ref().and_then(crate::cgroup::Leaf::dir_fd);
    let setup = crate::setup::prepare(&plan.sandbox)?;
    let spec = Spec {
        program: &plan.program,
        arg0: &plan.arg0,
        args: &plan.args,
        env: &plan.env,
        cwd: &plan.cwd,
        cwd_fd: plan.cwd_fd().map(|d| d.as_raw_fd()),
        stdio: [&stdin_child, &out_child, &err_child].map(End::as_raw_fd),
        group,
        die_with_host: children.die_with_host(),
        watched,
        cgroup_dir: cgroup_fd,
        setup: setup.as_ref(),
    };
    let (pid, pidfd) =
        crate::clone_spawn::spawn(&spec).map_err(|e| Error::from_spawn(&plan.arg0, &e))?;
    // Close the parent's copies of the child's ends now.
    drop((stdin_child, out_child, err_child, setup));
    if let Some(leaf) = leaf.as_mut() {
        leaf.started();
    }
    let exit = ChildExit::new(pid, pidfd, containment, leaf)
        .map_err(|e| Error::Io(format!("watching the child's pidfd: {e}")))?;

    let mut child = Child::new(exit, Arc::clone(children), plan.communicate_cap);
    if let Some(after) = plan.timeout {
        let grace = plan.kill_grace.unwrap_or_else(|| children.grace());
        crate::timeout::watch(Arc::clone(child.exit()), after, grace);
    }
    if let Some(w) = stdin_parent {
        child.stdin = Pipe::Held(PipeWriter::new(w)?);
    }
    if let Some(r) = out_parent {
        child.stdout = Pipe::Held(Arc::new(PipeReader::new(r)?));
    }
    if let Some(r) = err_parent {
        child.stderr = Pipe::Held(Arc::new(PipeReader::new(r)?));
    }
    Ok(child)
}
