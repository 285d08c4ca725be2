//! The WIT `process` resource: a [`procgate_child::Child`] plus the p2
//! bookkeeping (the copies of its inherited output into the guest's own
//! streams), as wasmtime's `p2::TcpSocket` wraps an OS socket.

use procgate_child::{Child, ChildExit};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
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
        if std::mem::replace(&mut self.asked, true) {
            self.exit.wait_reported().await;
        } else {
            self.exit.wait().await;
        }
    }
}
