//! How a child the guest gave up is ended, and how children are counted,
//! written against a small seam ([`Wait`], [`Kill`]) as tokio's
//! `process/unix/reap.rs` is, so the logic has unit tests without real
//! processes. [`crate::ChildExit`] is the real implementation (pidfd,
//! `waitid`, cgroup).

use std::future::Future;
use std::os::fd::BorrowedFd;
use std::pin::Pin;
use std::time::Duration;

/// Looking at one child's exit.
pub trait Wait: Send + Sync {
    /// The child's process id.
    fn pid(&self) -> u32;
    /// The return code once it exited (`-N` after signal `N`); does not
    /// reap.
    fn returncode(&self) -> Option<i32>;
    /// Waits for the exit and returns the return code.
    fn wait(&self) -> Pin<Box<dyn Future<Output = i32> + Send + '_>>;
    /// Reaps the child if it exited; returns whether it is reaped.
    fn reap(&self) -> bool;
    /// A descriptor that polls readable once the child has exited, while
    /// its exit is not yet known ([`Wait::returncode`] would have to ask
    /// the kernel); `None` once known, or when there is none. Lets
    /// [`crate::Children::usage`] learn of exits from one epoll set
    /// instead of asking every running child at every spawn.
    fn exit_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
}

/// Signalling one child and what it started.
pub trait Kill: Send + Sync {
    /// Sends `sig` to the child's process group (if it leads one).
    fn signal_group(&self, sig: i32);
    /// Sends `sig` to the child itself, unless it exited.
    fn signal_child(&self, sig: i32);
    /// SIGKILL to everything the child is contained by: its cgroup, or its
    /// group and the child.
    fn kill_all(&self);
    /// Waits until the child's cgroup is empty (and removes it); returns
    /// the pids still in it after the wait.
    fn emptied(&self) -> Pin<Box<dyn Future<Output = Vec<u32>> + Send + '_>>;
    /// Whether [`Kill::emptied`] has nothing to wait for: no cgroup, or
    /// one already seen empty.
    fn settled(&self) -> bool;
}

/// Ends a child that has already exited here and now, if nothing of it is
/// left to wait for: SIGKILL to what its group or cgroup may still hold
/// ([`Kill::kill_all`]; an empty cgroup is only looked at), then, if that
/// leaves nothing to wait for ([`Kill::settled`]), reaps it. Returns
/// whether it is ended; if not, [`end`] finishes the work. The common end
/// of a child the guest waited for: no task, no grace, no wait.
pub(crate) fn end_exited<P: Wait + Kill + ?Sized>(p: &P) -> bool {
    if p.returncode().is_none() {
        return false;
    }
    p.kill_all();
    p.settled() && p.reap()
}

/// Ends a child and everything it started: SIGTERM to its group and to the
/// child, up to `grace` for the child to exit, then SIGKILL to all of it,
/// then waits (up to `kill_wait`) until the child and its cgroup are gone
/// and reaps the child. Returns the pids it could not end.
pub(crate) async fn end<P: Wait + Kill + ?Sized>(
    p: &P,
    grace: Duration,
    kill_wait: Duration,
) -> Vec<u32> {
    if p.returncode().is_none() {
        p.signal_group(libc::SIGTERM);
        p.signal_child(libc::SIGTERM);
        let _ = tokio::time::timeout(grace, p.wait()).await;
    }
    // Whatever is left in its group or cgroup, even once the child exited.
    p.kill_all();
    let mut left = Vec::new();
    if tokio::time::timeout(kill_wait, p.wait()).await.is_err() {
        left.push(p.pid());
    }
    p.reap();
    let pid = p.pid();
    left.extend(p.emptied().await.into_iter().filter(|q| *q != pid));
    left
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
