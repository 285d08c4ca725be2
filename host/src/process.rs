//! The `process` resource: a child's exit, its signals and its pipes.
//!
//! A child is watched through a pidfd: waiting awaits the pidfd's
//! readiness (no task and no SIGCHLD handler per child), and signals go
//! through `pidfd_send_signal`, so they can never reach a recycled pid.
//! Dropping a [`Process`] that has not been reaped kills the child's
//! process group; dropping the last handle on its exit reaps it.

use crate::error::{Error, Result};
use crate::streams::{PipeReader, PipeWriter};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::task::JoinHandle;
use wasmtime_wasi_io::poll::Pollable;

/// The exit of one child: its pidfd, and its return code once reaped.
#[derive(Debug)]
pub struct ChildExit {
    pid: u32,
    pidfd: AsyncFd<OwnedFd>,
    returncode: OnceLock<i32>,
    reaping: Mutex<()>,
}

fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: a plain system call; the result is a new descriptor we own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor returned to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

impl ChildExit {
    /// Starts watching the child `pid`, which must be an unreaped child of
    /// this process. Must run inside a tokio runtime.
    pub fn new(pid: u32) -> io::Result<ChildExit> {
        Ok(ChildExit {
            pid,
            // SAFETY: the pidfd is owned by the AsyncFd and never replaced.
            pidfd: unsafe {
                AsyncFd::register_with_interest(pidfd_open(pid)?, Interest::READABLE)?
            },
            returncode: OnceLock::new(),
            reaping: Mutex::new(()),
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The return code if the child has exited (reaping it if needed):
    /// the exit status, or `-N` after signal `N`.
    pub fn returncode(&self) -> Option<i32> {
        if let Some(rc) = self.returncode.get() {
            return Some(*rc);
        }
        let _guard = self.reaping.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(rc) = self.returncode.get() {
            return Some(*rc);
        }
        let rc = match waitpid(Pid::from_raw(self.pid as i32), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => code,
            Ok(WaitStatus::Signaled(_, sig, _)) => -(sig as i32),
            Ok(_) => return None,
            // Only we reap our children; if it is gone, record that.
            Err(_) => -(libc::SIGKILL),
        };
        let _ = self.returncode.set(rc);
        Some(rc)
    }

    /// Waits for the child to exit and returns its return code.
    pub async fn wait(&self) -> i32 {
        loop {
            if let Some(rc) = self.returncode() {
                return rc;
            }
            match self.pidfd.readable().await {
                Ok(mut guard) => {
                    if self.returncode().is_none() {
                        guard.clear_ready();
                    }
                }
                // The reactor is gone: fall back to a blocking wait.
                Err(_) => {
                    let pid = Pid::from_raw(self.pid as i32);
                    let _ = waitpid(pid, Some(WaitPidFlag::__WALL));
                }
            }
        }
    }

    /// Sends signal number `sig` to the child through its pidfd. Fails with
    /// [`Error::ProcessExited`] once the child has exited.
    pub fn send_signal(&self, sig: i32) -> Result<()> {
        if self.returncode().is_some() {
            return Err(Error::ProcessExited);
        }
        // SAFETY: a plain system call on a pidfd we own.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.get_ref().as_raw_fd(),
                sig,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if rc < 0 {
            let err = io::Error::last_os_error();
            return Err(match err.raw_os_error() {
                Some(libc::ESRCH) => Error::ProcessExited,
                _ => Error::Io(format!("signal {sig} to {}: {err}", self.pid)),
            });
        }
        Ok(())
    }

    /// Kills the child and its process group with SIGKILL unless it has
    /// been reaped. The reaping follows when the last handle on the exit
    /// goes (see the `Drop` impl).
    pub fn kill_group(&self) {
        if self.returncode.get().is_some() {
            return;
        }
        // While the child is unreaped its pid, and so its process group id,
        // cannot be reused: the group kill is safe here.
        // SAFETY: a plain system call.
        unsafe { libc::kill(-(self.pid as i32), libc::SIGKILL) };
        let _ = self.send_signal(libc::SIGKILL);
    }
}

impl Drop for ChildExit {
    /// Nobody can wait for the child any more: kill it if it still runs
    /// and reap it, on a thread of its own if it is not dead yet, so that
    /// no zombie is left whatever state the async runtime is in.
    fn drop(&mut self) {
        if self.returncode().is_some() {
            return;
        }
        self.kill_group();
        if self.returncode().is_some() {
            return;
        }
        let pid = Pid::from_raw(self.pid as i32);
        std::thread::spawn(move || {
            let _ = waitpid(pid, None);
        });
    }
}

/// A pollable for a child's exit; it holds the exit, not the process, so
/// the guest may drop the process before it.
pub struct ExitPollable(pub Arc<ChildExit>);

#[async_trait::async_trait]
impl Pollable for ExitPollable {
    async fn ready(&mut self) {
        self.0.wait().await;
    }
}

/// One of a child's pipes as the process holds it.
#[derive(Debug, Default)]
pub enum Pipe<T> {
    /// The stream was not created with `pipe`.
    #[default]
    None,
    /// The pipe, not yet handed to the guest.
    Held(T),
    /// Handed to the guest as a stream (or closed).
    Taken,
}

/// The host side of the WIT `process` resource.
#[derive(Debug)]
pub struct Process {
    pub(crate) exit: Arc<ChildExit>,
    pub(crate) stdin: Pipe<PipeWriter>,
    /// stdout and stderr stay shared with the stream handed to the guest,
    /// so `communicate` can read the rest of what the guest began reading.
    pub(crate) stdout: Option<Arc<PipeReader>>,
    pub(crate) stdout_taken: bool,
    pub(crate) stderr: Option<Arc<PipeReader>>,
    pub(crate) stderr_taken: bool,
    /// Copies of inherited output into the guest's own stdout/stderr.
    pub(crate) pumps: Vec<JoinHandle<()>>,
}

impl Process {
    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.exit.pid()
    }

    /// The child's exit, shared with pollables and communicates.
    pub fn exit(&self) -> &Arc<ChildExit> {
        &self.exit
    }
}

impl Drop for Process {
    /// The guest gave up the process without waiting for it: kill it (a
    /// pollable or communicate still holding its exit then sees `-9`).
    fn drop(&mut self) {
        self.exit.kill_group();
    }
}
