//! Building and starting the OS process for a spawn the policy allowed.
//!
//! The child gets exactly the plan's program, arguments, environment and
//! working directory, its own process group (or session), and the stdio the
//! guest asked for. Pipes are created here with `O_CLOEXEC`, so a child never
//! inherits another child's pipe.

use crate::cgroup::Containment;
use crate::clone_spawn::Group;
use crate::error::{Error, Result};
use crate::policy::SpawnPlan;
use crate::process::{ChildExit, Children, Pipe, Process};
use crate::streams::{PipeReader, PipeWriter, READ_CHUNK};
use bytes::BytesMut;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use wasmtime_wasi::cli::StdoutStream;

/// Where a child's inherited stdout or stderr goes: the guest's own stream
/// as the embedder configured it.
pub enum InheritedOutput {
    /// The host process's own descriptor (what `procgate run` uses, where
    /// the guest's WASI output is the host's too).
    Host,
    /// Discarded (`/dev/null`).
    Discard,
    /// Copied into this stream, e.g. the `MemoryOutputPipe` the embedder
    /// also gave the guest as its WASI stdout.
    Stream(Box<dyn StdoutStream>),
}

impl std::fmt::Debug for InheritedOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InheritedOutput::Host => "Host",
            InheritedOutput::Discard => "Discard",
            InheritedOutput::Stream(_) => "Stream",
        })
    }
}

/// The stdio of the guest that children inherit.
#[derive(Debug)]
pub struct InheritedStdio {
    /// Whether `inherit` for stdin means the host's stdin (else `/dev/null`).
    pub stdin_from_host: bool,
    /// Where inherited stdout goes.
    pub stdout: InheritedOutput,
    /// Where inherited stderr goes.
    pub stderr: InheritedOutput,
}

impl Default for InheritedStdio {
    /// Nothing from or to the host: stdin is `/dev/null`, output discarded.
    fn default() -> Self {
        InheritedStdio {
            stdin_from_host: false,
            stdout: InheritedOutput::Discard,
            stderr: InheritedOutput::Discard,
        }
    }
}

/// Where one of a new child's standard streams goes: the WIT `stdio`
/// cases that need no other resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdioMode {
    /// The guest's own stream.
    Inherit,
    /// A pipe to the guest.
    Pipe,
    /// `/dev/null`.
    Devnull,
    /// Wherever stdout goes (stderr only).
    Stdout,
}

/// Where a new child's stdin comes from.
#[derive(Debug)]
pub enum StdinSource {
    /// One of the plain modes.
    Mode(StdioMode),
    /// The read end of another child's stdout pipe (a host-side pipeline),
    /// in blocking mode.
    Pipeline(OwnedFd),
}

/// How a new child's standard streams are set up.
#[derive(Debug)]
pub struct StdioRequest {
    /// stdin
    pub stdin: StdinSource,
    /// stdout
    pub stdout: StdioMode,
    /// stderr
    pub stderr: StdioMode,
    /// Start the child in a new session.
    pub start_new_session: bool,
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| Error::Io(format!("pipe: {e}")))
}

/// Sets up one output stream: returns the child's end, the parent's read
/// end if there is one, and whether that end feeds a pump.
fn output_end(
    which: &str,
    req: StdioMode,
    inherited: &InheritedOutput,
    host_fd: impl AsFd,
) -> Result<(OwnedFd, Option<OwnedFd>, bool)> {
    let devnull = || -> Result<OwnedFd> {
        Ok(std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")?
            .into())
    };
    Ok(match req {
        StdioMode::Pipe => {
            let (r, w) = pipe()?;
            (w, Some(r), false)
        }
        StdioMode::Devnull => (devnull()?, None, false),
        StdioMode::Inherit => match inherited {
            InheritedOutput::Host => (host_fd.as_fd().try_clone_to_owned()?, None, false),
            InheritedOutput::Discard => (devnull()?, None, false),
            InheritedOutput::Stream(_) => {
                let (r, w) = pipe()?;
                (w, Some(r), true)
            }
        },
        StdioMode::Stdout => {
            return Err(Error::InvalidArgument(format!(
                "stdout is only valid for stderr, not for {which}"
            )));
        }
    })
}

/// Copies a child's inherited output into the guest's stream until EOF.
fn pump(reader: PipeReader, stream: &InheritedOutput) -> Option<tokio::task::JoinHandle<()>> {
    let InheritedOutput::Stream(stream) = stream else {
        return None;
    };
    let mut out = std::pin::Pin::from(stream.async_stream());
    Some(tokio::spawn(async move {
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        loop {
            buf.clear();
            match reader.read(&mut buf, READ_CHUNK).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if out.write_all(&buf).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = out.flush().await;
    }))
}

/// Starts the process the policy planned, with the stdio the guest asked
/// for, its timeout watched if the policy set one. Must run inside a tokio
/// runtime.
pub fn spawn(
    plan: &SpawnPlan,
    stdio: StdioRequest,
    inherited: &InheritedStdio,
    children: &Arc<Children>,
) -> Result<Process> {
    // A child reading the host's terminal stays in the host's process
    // group: in a group of its own it would be a background job of the
    // terminal and stop on SIGTTIN at its first read. Its cgroup (or, with
    // none, its pidfd) contains it instead.
    let terminal = matches!(stdio.stdin, StdinSource::Mode(StdioMode::Inherit))
        && inherited.stdin_from_host
        && !stdio.start_new_session
        && std::io::IsTerminal::is_terminal(&std::io::stdin());
    let mut stdin_parent = None;
    let stdin_child: OwnedFd = match stdio.stdin {
        StdinSource::Pipeline(fd) => fd,
        StdinSource::Mode(StdioMode::Pipe) => {
            let (r, w) = pipe()?;
            stdin_parent = Some(w);
            r
        }
        StdinSource::Mode(StdioMode::Inherit) if inherited.stdin_from_host => {
            std::io::stdin().as_fd().try_clone_to_owned()?
        }
        StdinSource::Mode(StdioMode::Inherit | StdioMode::Devnull) => {
            std::fs::File::open("/dev/null")?.into()
        }
        StdinSource::Mode(StdioMode::Stdout) => {
            return Err(Error::InvalidArgument(
                "stdout is only valid for stderr, not for stdin".into(),
            ));
        }
    };

    let (out_child, out_parent, out_pumped) =
        output_end("stdout", stdio.stdout, &inherited.stdout, std::io::stdout())?;
    let (err_child, err_parent, err_pumped) = match stdio.stderr {
        // stderr goes wherever stdout goes.
        StdioMode::Stdout => (out_child.try_clone()?, None, false),
        other => output_end("stderr", other, &inherited.stderr, std::io::stderr())?,
    };

    let leaf = children.leaf()?;
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
    let setup = crate::sandbox::prepare(&plan.sandbox)?;
    let spec = crate::clone_spawn::Spec {
        program: &plan.program,
        arg0: &plan.arg0,
        args: &plan.args,
        env: &plan.env,
        cwd: &plan.cwd,
        cwd_fd: plan.cwd_dir.as_ref().map(|d| d.as_raw_fd()),
        stdio: [
            stdin_child.as_raw_fd(),
            out_child.as_raw_fd(),
            err_child.as_raw_fd(),
        ],
        group,
        die_with_host: children.die_with_host(),
        cgroup_procs: leaf.as_ref().map(|l| l.procs_fd()),
        setup: setup.as_ref(),
    };
    let (pid, pidfd) =
        crate::clone_spawn::spawn(&spec).map_err(|e| Error::from_spawn(&plan.arg0, &e))?;
    // Close the parent's copies of the child's ends now.
    drop((stdin_child, out_child, err_child, setup));
    let exit = ChildExit::new(pid, pidfd, containment, leaf)
        .map_err(|e| Error::Io(format!("watching the child's pidfd: {e}")))?;

    let mut process = Process::new(exit, Arc::clone(children));
    if let Some(after) = plan.timeout {
        let grace = plan.kill_grace.unwrap_or_else(|| children.grace());
        crate::timeout::watch(Arc::clone(process.exit()), after, grace);
    }
    if let Some(w) = stdin_parent {
        process.stdin = Pipe::Held(PipeWriter::new(w)?);
    }
    for (parent, pumped, inherited_out, slot) in [
        (
            out_parent,
            out_pumped,
            &inherited.stdout,
            &mut process.stdout,
        ),
        (
            err_parent,
            err_pumped,
            &inherited.stderr,
            &mut process.stderr,
        ),
    ] {
        let Some(fd) = parent else { continue };
        let reader = PipeReader::new(fd)?;
        if pumped {
            process.pumps.extend(pump(reader, inherited_out));
        } else {
            *slot = Some(Arc::new(reader));
        }
    }
    Ok(process)
}
