//! The `process` resource: a child's exit, its signals and its pipes, and
//! the ending of children whose guest gave them up.
//!
//! A child is watched through a pidfd: waiting awaits the pidfd's
//! readiness (no task and no SIGCHLD handler per child), and signals go
//! through `pidfd_send_signal`, so they can never reach a recycled pid.
//!
//! The exit status is read without reaping (`waitid` with `WNOWAIT`): the
//! exited child stays a zombie while the guest holds its handle, which pins
//! its pid and so its process-group id. When the handle goes, the host
//! signals the whole group (grandchildren included) knowing the id still
//! names the guest's group, then reaps the child.

use crate::error::{Error, Result};
use crate::streams::{PipeReader, PipeWriter};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use wasmtime_wasi_io::poll::Pollable;

/// How long a child the guest gave up gets between SIGTERM and SIGKILL,
/// unless the embedder sets another with [`crate::ProcgateCtx::kill_grace`].
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_millis(200);

/// The children of one guest, shared by its [`crate::ProcgateCtx`] and
/// every [`Process`] it started: how long they get to end, how many are
/// alive, and the endings still in progress.
///
/// ```
/// let children = procgate::process::Children::new(std::time::Duration::from_millis(50));
/// assert_eq!(children.live(), 0);
/// ```
#[derive(Debug)]
pub struct Children {
    grace: Duration,
    die_with_host: bool,
    live: AtomicUsize,
    ending: AtomicUsize,
    ended: Notify,
}

impl Children {
    /// A guest's (empty) set of children, ended with `grace` between
    /// SIGTERM and SIGKILL.
    pub fn new(grace: Duration) -> Children {
        Children {
            grace,
            die_with_host: true,
            live: AtomicUsize::new(0),
            ending: AtomicUsize::new(0),
            ended: Notify::new(),
        }
    }

    /// How many process handles of the guest are alive.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// The grace period between SIGTERM and SIGKILL.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// Whether children get `PR_SET_PDEATHSIG(SIGKILL)`, so they die with
    /// the host process (default yes).
    pub fn die_with_host(&self) -> bool {
        self.die_with_host
    }

    /// The same settings, with `die_with_host` set.
    pub fn with_die_with_host(self, yes: bool) -> Children {
        Children {
            die_with_host: yes,
            ..self
        }
    }

    /// Waits until every child the guest gave up has been ended and reaped.
    pub async fn ended(&self) {
        loop {
            let notified = self.ended.notified();
            if self.ending.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Default for Children {
    fn default() -> Children {
        Children::new(DEFAULT_KILL_GRACE)
    }
}

/// The exit of one child: its pidfd, and its return code once it exited.
#[derive(Debug)]
pub struct ChildExit {
    pid: u32,
    pidfd: AsyncFd<OwnedFd>,
    returncode: OnceLock<i32>,
    reaped: AtomicBool,
    lock: Mutex<()>,
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

/// `waitid` on our child `pid` for an exit; `flags` adds `WNOWAIT` and/or
/// `WNOHANG`. Returns the asyncio return code, or `None` if it has not
/// exited (with `WNOHANG`).
fn waitid(pid: u32, flags: i32) -> io::Result<Option<i32>> {
    // SAFETY: siginfo_t is plain data; zeroed means "no child" for WNOHANG.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: a plain system call writing into `info`.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | flags,
            )
        };
        if rc == 0 {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    // SAFETY: waitid filled in the child fields of `info`.
    let (child, status) = unsafe { (info.si_pid(), info.si_status()) };
    if child == 0 {
        return Ok(None);
    }
    Ok(Some(if info.si_code == libc::CLD_EXITED {
        status
    } else {
        -status
    }))
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
            reaped: AtomicBool::new(false),
            lock: Mutex::new(()),
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The return code if the child has exited: the exit status, or `-N`
    /// after signal `N`. The child is not reaped by this.
    pub fn returncode(&self) -> Option<i32> {
        if let Some(rc) = self.returncode.get() {
            return Some(*rc);
        }
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(rc) = self.returncode.get() {
            return Some(*rc);
        }
        match waitid(self.pid, libc::WNOHANG | libc::WNOWAIT) {
            Ok(Some(rc)) => {
                let _ = self.returncode.set(rc);
                crate::policy::audit::exited(self.pid, rc);
                Some(rc)
            }
            Ok(None) => None,
            // Only we reap our children, so this is not expected; report the
            // child as killed rather than waiting forever.
            Err(_) => {
                let _ = self.returncode.set(-libc::SIGKILL);
                Some(-libc::SIGKILL)
            }
        }
    }

    /// Waits for the child to exit and returns its return code. This is
    /// about the child alone: its pipes, and grandchildren holding them, do
    /// not matter.
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
                // The reactor is gone: block instead.
                Err(_) => {
                    let _ = waitid(self.pid, libc::WNOWAIT);
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

    /// Sends `sig` to the child's whole process group (or session, which
    /// is a group too), unless the child has been reaped: until then the
    /// child, running or a zombie, pins the group id.
    pub fn signal_group(&self, sig: i32) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if !self.reaped.load(Ordering::SeqCst) {
            // SAFETY: a plain system call.
            unsafe { libc::kill(-(self.pid as i32), sig) };
        }
    }

    /// Reaps the child if it has exited; returns whether it is reaped.
    fn try_reap(&self) -> bool {
        if self.returncode().is_none() {
            return false;
        }
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if !self.reaped.swap(true, Ordering::SeqCst) {
            let _ = waitid(self.pid, libc::WNOHANG);
        }
        true
    }

    /// Ends the child's process group: SIGTERM, up to `grace` for the child
    /// to exit, then SIGKILL to the group (grandchildren that ignored
    /// SIGTERM included), then reaps the child.
    pub async fn end_group(&self, grace: Duration) {
        if self.returncode().is_none() {
            self.signal_group(libc::SIGTERM);
            let _ = tokio::time::timeout(grace, self.wait()).await;
        }
        self.signal_group(libc::SIGKILL);
        self.wait().await;
        self.try_reap();
    }
}

impl Drop for ChildExit {
    /// Nobody can wait for the child any more: kill its group and reap
    /// it, on a thread of its own if it is not dead yet, so that no zombie
    /// is left whatever state the async runtime is in.
    fn drop(&mut self) {
        if self.reaped.load(Ordering::SeqCst) {
            return;
        }
        self.signal_group(libc::SIGKILL);
        if self.try_reap() {
            return;
        }
        let pid = self.pid;
        std::thread::spawn(move || {
            crate::policy::audit::reaped(pid, waitid(pid, 0).ok().flatten());
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
    children: Arc<Children>,
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
    /// A process handle for the child `exit` watches, counted among the
    /// guest's `children`; its pipes are filled in by the caller.
    pub fn new(exit: ChildExit, children: Arc<Children>) -> Process {
        children.live.fetch_add(1, Ordering::SeqCst);
        Process {
            exit: Arc::new(exit),
            children,
            stdin: Pipe::None,
            stdout: None,
            stdout_taken: false,
            stderr: None,
            stderr_taken: false,
            pumps: Vec::new(),
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.exit.pid()
    }

    /// The child's exit, shared with pollables and communicates.
    pub fn exit(&self) -> &Arc<ChildExit> {
        &self.exit
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

impl Drop for Process {
    /// The guest gave up the process (dropped it, or ended): end its
    /// process group and reap it, in the background. A pollable or
    /// communicate still holding the exit then sees the signal's code.
    fn drop(&mut self) {
        self.children.live.fetch_sub(1, Ordering::SeqCst);
        let exit = Arc::clone(&self.exit);
        let children = Arc::clone(&self.children);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime: ChildExit's own Drop kills and reaps.
            return;
        };
        children.ending.fetch_add(1, Ordering::SeqCst);
        runtime.spawn(async move {
            exit.end_group(children.grace).await;
            drop(exit);
            if children.ending.fetch_sub(1, Ordering::SeqCst) == 1 {
                children.ended.notify_waiters();
            }
        });
    }
}
