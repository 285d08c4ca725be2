//! The exit of one child, watched through the pidfd taken atomically with
//! it (`CLONE_PIDFD`): waiting awaits the pidfd's readiness (no task and no
//! SIGCHLD handler per child), `waitid` names the child by its pidfd, and
//! signals go through `pidfd_send_signal`, so they can never reach a
//! recycled pid. Nothing depends on the host's SIGCHLD disposition: if
//! something else reaped the child (SIGCHLD ignored, a `waitpid(-1)`
//! elsewhere), its status comes from the pidfd (`PIDFD_INFO_EXIT`, Linux
//! 6.15) and its group is never signalled again.
//!
//! The exit status is read without reaping (`waitid` with `WNOWAIT`): the
//! exited child stays a zombie while someone holds its [`ChildExit`],
//! which pins its pid and so its process-group id. Group signals go through
//! the pidfd too (`PIDFD_SIGNAL_PROCESS_GROUP`, Linux 6.9; older kernels
//! `kill(-pgid)` while the child is unreaped).

use crate::cgroup::{Containment, Leaf, KILL_WAIT};
use crate::lifecycle::{self, Kill, Wait};
use crate::lock::lock;
use crate::pidfd::{exit_from_pidfd, pidfd_signal, reap_within, waitid};
use procgate_policy::audit::{self, Operational};
use procgate_policy::{Error, Result};
use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// The exit of one child: its pidfd, how it is contained, and its return
/// code once it exited.
#[derive(Debug)]
pub struct ChildExit {
    pid: u32,
    pidfd: AsyncFd<OwnedFd>,
    containment: Containment,
    leaf: Option<Leaf>,
    returncode: OnceLock<i32>,
    reaped: AtomicBool,
    lock: Mutex<()>,
}

impl ChildExit {
    /// Starts watching the child `pid` through `pidfd` (taken with it by
    /// `CLONE_PIDFD`), an unreaped child of this process contained as
    /// `containment` (in `leaf`, if its containment is a cgroup). Must run
    /// inside a tokio runtime.
    pub(crate) fn new(
        pid: u32,
        pidfd: OwnedFd,
        containment: Containment,
        leaf: Option<Leaf>,
    ) -> io::Result<ChildExit> {
        // SAFETY: the pidfd is owned by the AsyncFd and never replaced.
        let pidfd = match unsafe { AsyncFd::register_with_interest(pidfd, Interest::READABLE) } {
            Ok(fd) => fd,
            Err(e) => {
                // Not watchable: kill and reap the child here, by its
                // pidfd (never by pid), and its cgroup with it.
                let (pidfd, err) = e.into_parts();
                let _ = pidfd_signal(&pidfd, libc::SIGKILL, 0);
                if let Some(leaf) = &leaf {
                    leaf.kill();
                }
                let _ = waitid(&pidfd, 0);
                return Err(err);
            }
        };
        Ok(ChildExit {
            pid,
            pidfd,
            containment,
            leaf,
            returncode: OnceLock::new(),
            reaped: AtomicBool::new(false),
            lock: Mutex::new(()),
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// What contains the child: its cgroup, its process group, or nothing
    /// but its pidfd (for the audit log).
    pub fn containment(&self) -> Containment {
        self.containment
    }

    /// The return code if the child has exited: the exit status, or `-N`
    /// after signal `N`. The child is not reaped by this.
    pub fn returncode(&self) -> Option<i32> {
        if let Some(rc) = self.returncode.get() {
            return Some(*rc);
        }
        let _guard = lock(&self.lock);
        if let Some(rc) = self.returncode.get() {
            return Some(*rc);
        }
        let pidfd = self.pidfd.get_ref();
        match waitid(pidfd, libc::WNOHANG | libc::WNOWAIT) {
            Ok(Some(rc)) => {
                let _ = self.returncode.set(rc);
                audit::exited(self.pid, rc);
                Some(rc)
            }
            Ok(None) => None,
            Err(_) => {
                // Reaped by someone else (SIGCHLD ignored, or a
                // waitpid(-1) elsewhere): its pid and group id are free
                // now, so never signal the group again.
                self.reaped.store(true, Ordering::SeqCst);
                let rc = exit_from_pidfd(pidfd).unwrap_or_else(|| {
                    audit::operational(Operational::ExitUnknown { pid: self.pid });
                    -libc::SIGKILL
                });
                let _ = self.returncode.set(rc);
                Some(rc)
            }
        }
    }

    /// The return code if the child is already known to have exited (a
    /// [`ChildExit::returncode`] or a wait saw it); asks the kernel
    /// nothing.
    pub fn known_returncode(&self) -> Option<i32> {
        self.returncode.get().copied()
    }

    /// Waits for the child to exit and returns its return code. This is
    /// about the child alone: its pipes, and grandchildren holding them, do
    /// not matter.
    pub async fn wait(&self) -> i32 {
        // Asked first: a child whose pipes just reached end-of-file has
        // usually exited, though the reactor may not have seen its pidfd
        // yet (waiting for that costs a turn of the reactor).
        if let Some(rc) = self.returncode() {
            return rc;
        }
        self.wait_reported().await
    }

    /// [`ChildExit::wait`] without asking the kernel first: the reactor
    /// reports the pidfd readable, then the exit is read. For a caller
    /// that asked already and waits again, as a pollable does that a
    /// guest's `poll` of many exits polls anew each round: one `waitid`
    /// per child, not one per child per round (200 children at once made
    /// 3,300). A child that has exited is found in the next turn of the
    /// reactor.
    pub async fn wait_reported(&self) -> i32 {
        if let Some(rc) = self.known_returncode() {
            return rc;
        }
        loop {
            let guard = self.pidfd.readable().await;
            if guard.is_err() {
                // The reactor is gone: block instead.
                let _ = waitid(self.pidfd.get_ref(), libc::WNOWAIT);
            }
            if let Some(rc) = self.returncode() {
                return rc;
            }
            if let Ok(mut guard) = guard {
                guard.clear_ready();
            }
        }
    }

    /// Sends signal number `sig` to the child through its pidfd. Fails with
    /// [`Error::ProcessExited`] once the child has exited.
    pub fn send_signal(&self, sig: i32) -> Result<()> {
        if self.returncode().is_some() {
            return Err(Error::ProcessExited);
        }
        match pidfd_signal(self.pidfd.get_ref(), sig, 0) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::ProcessExited),
            Err(err) => Err(Error::Io(format!("signal {sig} to {}: {err}", self.pid))),
        }
    }

    /// Sends `sig` to the child itself through its pidfd, unless it has
    /// exited.
    fn signal_child(&self, sig: i32) {
        if self.returncode().is_none() {
            let _ = pidfd_signal(self.pidfd.get_ref(), sig, 0);
        }
    }

    /// Sends `sig` to the process group the child leads (or its session,
    /// which is a group too), unless the child does not lead one (it runs
    /// in the host's group) or was reaped by someone else: through the
    /// pidfd (`PIDFD_SIGNAL_PROCESS_GROUP`, Linux 6.9), which names the
    /// group by the child's own pid structure and so never a group that
    /// took its number later; on older kernels with `kill(-pgid)`, while
    /// the unreaped child pins the group id.
    pub fn signal_group(&self, sig: i32) {
        const PIDFD_SIGNAL_PROCESS_GROUP: libc::c_uint = 1 << 2;
        if self.containment == Containment::ChildOnly {
            return;
        }
        // Notices a child reaped elsewhere before looking at `reaped`.
        let _ = self.returncode();
        let _guard = lock(&self.lock);
        if self.reaped.load(Ordering::SeqCst) {
            return;
        }
        let pidfd = self.pidfd.get_ref();
        match pidfd_signal(pidfd, sig, PIDFD_SIGNAL_PROCESS_GROUP) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                // SAFETY: a plain system call; the child is unreaped (we
                // hold the lock that reaping takes), so it still owns the
                // group id.
                unsafe { libc::kill(-(self.pid as i32), sig) };
            }
            _ => {}
        }
    }

    /// SIGKILL to the child's cgroup (every descendant, in whatever group
    /// or session) or, without one, to its group; and to the child through
    /// its pidfd. With a cgroup the group is not signalled: every
    /// descendant is in the cgroup, and a process that joined the group
    /// from elsewhere in the host's session is not the guest's.
    pub(crate) fn kill_all(&self) {
        match &self.leaf {
            Some(leaf) => leaf.kill(),
            None => self.signal_group(libc::SIGKILL),
        }
        self.signal_child(libc::SIGKILL);
    }

    /// Reaps the child if it has exited; returns whether it is reaped.
    fn try_reap(&self) -> bool {
        if self.returncode().is_none() {
            return false;
        }
        let _guard = lock(&self.lock);
        if !self.reaped.swap(true, Ordering::SeqCst) {
            let _ = waitid(self.pidfd.get_ref(), libc::WNOHANG);
        }
        true
    }

    /// Ends the child and everything it started: SIGTERM to its group and
    /// to the child, up to `grace` for the child to exit, then SIGKILL to
    /// its cgroup (or, without one, to its group and the child), then waits
    /// (up to [`KILL_WAIT`]) until the child and its cgroup are gone, reaps
    /// the child and removes the cgroup. Returns the pids it could not end.
    pub async fn end(&self, grace: Duration) -> Vec<u32> {
        lifecycle::end(self, grace, KILL_WAIT).await
    }
}

impl Wait for ChildExit {
    fn pid(&self) -> u32 {
        self.pid
    }

    fn returncode(&self) -> Option<i32> {
        ChildExit::returncode(self)
    }

    fn wait(&self) -> Pin<Box<dyn Future<Output = i32> + Send + '_>> {
        Box::pin(ChildExit::wait(self))
    }

    fn reap(&self) -> bool {
        self.try_reap()
    }

    fn exit_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        use std::os::fd::AsFd;
        match self.returncode.get() {
            Some(_) => None,
            None => Some(self.pidfd.get_ref().as_fd()),
        }
    }
}

impl Kill for ChildExit {
    fn signal_group(&self, sig: i32) {
        ChildExit::signal_group(self, sig)
    }

    fn signal_child(&self, sig: i32) {
        ChildExit::signal_child(self, sig)
    }

    fn kill_all(&self) {
        ChildExit::kill_all(self)
    }

    fn emptied(&self) -> Pin<Box<dyn Future<Output = Vec<u32>> + Send + '_>> {
        Box::pin(async move {
            match &self.leaf {
                Some(leaf) => leaf.emptied().await,
                None => Vec::new(),
            }
        })
    }

    fn settled(&self) -> bool {
        self.leaf.as_ref().is_none_or(|leaf| leaf.is_empty())
    }
}

impl Drop for ChildExit {
    /// Nobody can wait for the child any more: kill it (and its cgroup or
    /// group) and reap it, on a thread of its own if it is not dead yet, so
    /// that no zombie is left whatever state the async runtime is in.
    fn drop(&mut self) {
        if self.reaped.load(Ordering::SeqCst) {
            return;
        }
        self.kill_all();
        if self.try_reap() {
            return;
        }
        let Ok(pidfd) = self.pidfd.get_ref().try_clone() else {
            return;
        };
        let pid = self.pid;
        let reap = move || {
            if !reap_within(pid, &pidfd, KILL_WAIT) {
                audit::operational(Operational::Unended {
                    pids: &[pid],
                    cgroup: None,
                    within: KILL_WAIT,
                });
            }
        };
        let spawned = std::thread::Builder::new()
            .name("procgate-reap".into())
            .spawn(reap);
        if let Err(e) = spawned {
            // No thread to be had (EAGAIN): the child was SIGKILLed just
            // above, so it normally goes at once; wait for it here briefly.
            audit::operational(Operational::NoReapThread {
                pid,
                error: &e.to_string(),
            });
            reap_within(pid, self.pidfd.get_ref(), Duration::from_millis(100));
        }
    }
}
