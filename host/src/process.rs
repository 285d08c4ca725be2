//! The WIT `process` resource: a [`procgate_child::Child`] plus the p2
//! bookkeeping (the copies of its inherited output into the guest's own
//! streams), as wasmtime's `p2::TcpSocket` wraps an OS socket.

use crate::inherit::InheritedStdio;
use futures::FutureExt;
use procgate_child::{Child, ChildExit, Pipe, Starting};
use procgate_policy::{Error, Result};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use wasmtime_wasi::runtime::AbortOnDropJoinHandle;
use wasmtime_wasi_io::poll::Pollable;

/// The host side of the WIT `process` resource. Dropping it (the guest
/// dropped its handle, or ended) ends the child and everything it started,
/// and reaps it ([`Child`]).
#[derive(Debug)]
pub struct Process {
    /// The OS child and its pipes.
    pub(crate) child: Child,
    /// Copies of inherited output into the guest's own stdout/stderr.
    pub(crate) pumps: Vec<JoinHandle<()>>,
}

impl Process {
    /// `child` as the guest's process: its stdout and stderr where
    /// `inherit` says so (each `true` for `inherit`) copied into the
    /// guest's own streams if the embedder made those WASI streams (such
    /// a pipe is not the guest's).
    pub(crate) fn new(mut child: Child, inherit: [bool; 2], inherited: &InheritedStdio) -> Process {
        let mut pumps = Vec::new();
        for (inherit, to, pipe) in [
            (inherit[0], &inherited.stdout, &mut child.stdout),
            (inherit[1], &inherited.stderr, &mut child.stderr),
        ] {
            if inherit {
                if let Ok(reader) = pipe.take() {
                    pumps.extend(to.pump(reader));
                    *pipe = Pipe::None;
                }
            }
        }
        Process { child, pumps }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// The child's exit, shared with pollables and communicates.
    pub fn exit(&self) -> &Arc<ChildExit> {
        self.child.exit()
    }

    /// After the child exited: lets the copies of its inherited output
    /// finish (up to a short bound, since a grandchild may hold the pipe),
    /// so that its output lands before whatever the guest writes next.
    pub(crate) async fn flush_inherited(pumps: Vec<JoinHandle<()>>) {
        if pumps.is_empty() {
            return;
        }
        let all = futures::future::join_all(pumps);
        let _ = tokio::time::timeout(Duration::from_millis(100), all).await;
    }
}

/// A pollable for a child's exit; it holds the exit, not the process, so
/// the guest may drop the process before it.
pub(crate) struct ExitPollable {
    exit: Arc<ChildExit>,
    /// Whether a `ready` asked the kernel already: later ones wait for the
    /// reactor first ([`ChildExit::wait_reported`]), since a guest's
    /// `poll` of a list polls every pollable in it anew each round.
    asked: bool,
}

impl ExitPollable {
    pub(crate) fn new(exit: Arc<ChildExit>) -> ExitPollable {
        ExitPollable { exit, asked: false }
    }
}

#[async_trait::async_trait]
impl Pollable for ExitPollable {
    async fn ready(&mut self) {
        // `wait` without its future nested in this one: the guest's `poll`
        // holds one boxed future per pollable it waits on.
        if !std::mem::replace(&mut self.asked, true) && self.exit.returncode().is_some() {
            return;
        }
        self.exit.wait_reported().await;
    }
}

/// The host side of the WIT `future-process`: a spawn the policy allowed,
/// launched in its own task while the guest goes on. Dropping it before
/// the process was taken ends the process (as dropping a [`Process`]
/// does); dropping it before the task ran launches nothing.
pub struct FutureProcess {
    state: Launch,
    /// Which of stdout and stderr are inherited ([`Process::new`]).
    inherit: [bool; 2],
}

/// What a launch task gives: the child, and the guard that keeps the
/// guest's end ([`procgate_child::Children::ended`]) waiting until the
/// child is the guest's or is being ended. Dropped in this order: the
/// child (which, dropped, starts its ending) before the guard.
pub(crate) struct Launched {
    pub(crate) child: Result<Child>,
    pub(crate) starting: Starting,
}

enum Launch {
    /// The task.
    Running(AbortOnDropJoinHandle<Launched>),
    /// The task's result.
    Launched(Launched),
    /// Started within the call (`stdout-of`).
    Done(Process),
    Taken,
}

impl FutureProcess {
    /// Launches `spawn` in a task; `inherit` as for [`Process::new`].
    pub(crate) fn launch(
        spawn: impl std::future::Future<Output = Launched> + Send + 'static,
        inherit: [bool; 2],
    ) -> FutureProcess {
        FutureProcess {
            state: Launch::Running(wasmtime_wasi::runtime::spawn(spawn)),
            inherit,
        }
    }

    /// A start that is already over.
    pub(crate) fn done(process: Process) -> FutureProcess {
        FutureProcess {
            state: Launch::Done(process),
            inherit: [false; 2],
        }
    }

    /// The process if the start is over: `None` while it runs; afterwards
    /// the process (or the error) once, then `invalid-argument`.
    pub(crate) fn get(&mut self, inherited: &InheritedStdio) -> Option<Result<Process>> {
        if let Launch::Running(task) = &mut self.state {
            let launched = task.now_or_never()?;
            self.state = Launch::Launched(launched);
        }
        match std::mem::replace(&mut self.state, Launch::Taken) {
            Launch::Launched(Launched { child, starting }) => {
                let process = child.map(|child| Process::new(child, self.inherit, inherited));
                drop(starting);
                Some(process)
            }
            Launch::Done(process) => Some(Ok(process)),
            Launch::Taken => Some(Err(Error::InvalidArgument(
                "the started process was already taken".into(),
            ))),
            Launch::Running(..) => unreachable!("handled above"),
        }
    }
}

#[async_trait::async_trait]
impl Pollable for FutureProcess {
    async fn ready(&mut self) {
        if let Launch::Running(task) = &mut self.state {
            self.state = Launch::Launched(task.await);
        }
    }
}
