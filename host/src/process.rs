//! The `process` resource: a child's exit, its signals and its pipes, and
//! the ending of children whose guest gave them up.
//!
//! A child is watched through the pidfd taken atomically with it
//! (`CLONE_PIDFD`): waiting awaits the pidfd's readiness (no task and no
//! SIGCHLD handler per child), `waitid` names the child by its pidfd, and
//! signals go through `pidfd_send_signal`, so they can never reach a
//! recycled pid. Nothing depends on the host's SIGCHLD disposition: if
//! something else reaped the child (SIGCHLD ignored, a `waitpid(-1)`
//! elsewhere), its status comes from the pidfd (`PIDFD_INFO_EXIT`, Linux
//! 6.15) and its group is never signalled again.
//!
//! The exit status is read without reaping (`waitid` with `WNOWAIT`): the
//! exited child stays a zombie while the guest holds its handle, which pins
//! its pid and so its process-group id. Group signals go through the pidfd
//! too (`PIDFD_SIGNAL_PROCESS_GROUP`, Linux 6.9; older kernels `kill(-pgid)`
//! while the child is unreaped). When the handle goes, the host ends the
//! child's cgroup, or its group and the child itself, then reaps it.

use crate::cgroup::{Containment, GuestCgroup, Leaf, KILL_WAIT};
use crate::error::{Error, Result};
use crate::streams::{PipeReader, PipeWriter};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
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

/// `waitid`'s `P_PIDFD` (Linux 5.4).
pub(crate) const P_PIDFD: libc::idtype_t = 3;

/// The children of one guest, shared by its [`crate::ProcgateCtx`] and
/// every [`Process`] it started: how long they get to end, how many are
/// alive, the endings still in progress, and the guest's cgroup.
///
/// ```
/// let children = procgate::process::Children::new(std::time::Duration::from_millis(50));
/// assert_eq!(children.live(), 0);
/// ```
#[derive(Debug)]
pub struct Children {
    grace: Duration,
    die_with_host: bool,
    cgroup_mode: crate::cgroup::CgroupMode,
    cgroup_parent: Option<PathBuf>,
    cgroup: OnceLock<std::result::Result<Arc<GuestCgroup>, String>>,
    guest_gone: AtomicBool,
    live: AtomicUsize,
    ending: AtomicUsize,
    ended: Notify,
    unended: Mutex<Vec<u32>>,
}

impl Children {
    /// A guest's (empty) set of children, ended with `grace` between
    /// SIGTERM and SIGKILL.
    pub fn new(grace: Duration) -> Children {
        Children {
            grace,
            die_with_host: true,
            cgroup_mode: crate::cgroup::CgroupMode::default(),
            cgroup_parent: None,
            cgroup: OnceLock::new(),
            guest_gone: AtomicBool::new(false),
            live: AtomicUsize::new(0),
            ending: AtomicUsize::new(0),
            ended: Notify::new(),
            unended: Mutex::new(Vec::new()),
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

    /// The same settings, with the grace period set.
    pub fn with_grace(self, grace: Duration) -> Children {
        Children { grace, ..self }
    }

    /// The same settings, with `die_with_host` set.
    pub fn with_die_with_host(self, yes: bool) -> Children {
        Children {
            die_with_host: yes,
            ..self
        }
    }

    /// The same settings, with the cgroup mode and the directory the
    /// guest's cgroup is made in (`None`: the host's own cgroup).
    ///
    /// ```
    /// use procgate::cgroup::CgroupMode;
    /// let children = procgate::process::Children::default().with_cgroup(CgroupMode::Off, None);
    /// assert_eq!(children.cgroup_mode(), CgroupMode::Off);
    /// ```
    pub fn with_cgroup(self, mode: crate::cgroup::CgroupMode, parent: Option<PathBuf>) -> Children {
        Children {
            cgroup_mode: mode,
            cgroup_parent: parent,
            ..self
        }
    }

    /// Whether children run in cgroups of their own.
    pub fn cgroup_mode(&self) -> crate::cgroup::CgroupMode {
        self.cgroup_mode
    }

    /// The settings of these children on a fresh, empty set (for the
    /// context's builder methods).
    pub(crate) fn settings(&self) -> Children {
        Children::new(self.grace)
            .with_die_with_host(self.die_with_host)
            .with_cgroup(self.cgroup_mode, self.cgroup_parent.clone())
    }

    /// The guest's cgroup directory, once its first child made it.
    pub fn cgroup_dir(&self) -> Option<PathBuf> {
        match self.cgroup.get() {
            Some(Ok(cg)) => Some(cg.dir().to_path_buf()),
            _ => None,
        }
    }

    /// The cgroup of a new child: `None` when the mode is off, or is
    /// best-effort and no cgroup can be made (said once per host process
    /// in the log);
    /// `denied` when it is `require` and none can be made.
    pub(crate) fn leaf(&self) -> Result<Option<Leaf>> {
        use crate::cgroup::CgroupMode;
        if self.cgroup_mode == CgroupMode::Off {
            return Ok(None);
        }
        let guest = self.cgroup.get_or_init(|| {
            GuestCgroup::create(self.cgroup_parent.as_deref())
                .map(Arc::new)
                .map_err(|e| {
                    static SAID: AtomicBool = AtomicBool::new(false);
                    let e = format!("no cgroup for the guest's children: {e}");
                    if self.cgroup_mode == CgroupMode::BestEffort
                        && !SAID.swap(true, Ordering::SeqCst)
                    {
                        tracing::warn!(target: crate::policy::AUDIT_TARGET,
                            "{e}; children are contained by their process group only");
                    }
                    e
                })
        });
        let leaf = guest.as_ref().map_err(String::clone).and_then(|g| {
            g.leaf()
                .map_err(|e| format!("no cgroup for the child: {e}"))
        });
        match leaf {
            Ok(leaf) => Ok(Some(leaf)),
            Err(e) if self.cgroup_mode == CgroupMode::Require => Err(Error::Denied(format!(
                "sandbox.cgroup is \"require\" but {e}"
            ))),
            Err(_) => Ok(None),
        }
    }

    /// Marks the guest as ended (its [`crate::ProcgateCtx`] was dropped):
    /// [`Children::ended`] then also ends and removes its cgroup.
    pub(crate) fn guest_ended(&self) {
        self.guest_gone.store(true, Ordering::SeqCst);
    }

    /// The pids the host could not end within [`KILL_WAIT`] after SIGKILL
    /// (a process stuck in uninterruptible sleep); each is logged.
    pub fn unended(&self) -> Vec<u32> {
        self.unended.lock().map(|u| u.clone()).unwrap_or_default()
    }

    fn record_unended(&self, pids: &[u32]) {
        if pids.is_empty() {
            return;
        }
        tracing::warn!(target: crate::policy::AUDIT_TARGET, ?pids,
            "could not end these processes within {KILL_WAIT:?} of SIGKILL; going on without them");
        if let Ok(mut u) = self.unended.lock() {
            u.extend_from_slice(pids);
        }
    }

    /// Waits until every child the guest gave up has been ended and reaped
    /// (each ending bounded by the grace plus [`KILL_WAIT`]); once the
    /// guest itself has ended, also kills whatever is left in its cgroup
    /// and removes the cgroup. This is the one call that contains
    /// everything after the guest's store is dropped; pids that could not
    /// be ended are in [`Children::unended`].
    pub async fn ended(&self) {
        loop {
            let notified = self.ended.notified();
            if self.ending.load(Ordering::SeqCst) == 0 {
                break;
            }
            notified.await;
        }
        if self.guest_gone.load(Ordering::SeqCst) {
            if let Some(Ok(cg)) = self.cgroup.get() {
                let left = cg.kill_and_remove().await;
                self.record_unended(&left);
            }
        }
    }
}

impl Default for Children {
    fn default() -> Children {
        Children::new(DEFAULT_KILL_GRACE)
    }
}

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

/// The asyncio return code of a wait status: the exit status, or `-N`
/// after signal `N`.
fn from_wait_status(code: i32, status: i32) -> i32 {
    if code == libc::CLD_EXITED {
        status
    } else {
        -status
    }
}

/// `waitid` on our child by its pidfd, for an exit; `flags` adds `WNOWAIT`
/// and/or `WNOHANG`. Returns the asyncio return code, or `None` if it has
/// not exited (with `WNOHANG`).
fn waitid(pidfd: &OwnedFd, flags: i32) -> io::Result<Option<i32>> {
    // SAFETY: siginfo_t is plain data; zeroed means "no child" for WNOHANG.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: a plain system call writing into `info`.
        let rc = unsafe {
            libc::waitid(
                P_PIDFD,
                pidfd.as_raw_fd() as libc::id_t,
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
    Ok(Some(from_wait_status(info.si_code, status)))
}

/// The exit status of a child someone else reaped, from its pidfd
/// (`PIDFD_GET_INFO` with `PIDFD_INFO_EXIT`, Linux 6.15); `None` on older
/// kernels.
fn exit_from_pidfd(pidfd: &OwnedFd) -> Option<i32> {
    /// `struct pidfd_info` as of Linux 6.15 (`PIDFD_INFO_SIZE_VER0`).
    #[repr(C)]
    struct PidfdInfo {
        mask: u64,
        cgroupid: u64,
        ids: [u32; 11],
        exit_code: i32,
    }
    const PIDFD_INFO_EXIT: u64 = 1 << 3;
    // _IOWR(0xFF, 11, struct pidfd_info) with the 64-byte struct.
    const PIDFD_GET_INFO: libc::c_ulong = 0xC040_FF0B;
    let mut info = PidfdInfo {
        mask: PIDFD_INFO_EXIT,
        cgroupid: 0,
        ids: [0; 11],
        exit_code: 0,
    };
    // SAFETY: the ioctl writes at most the 64 bytes its number encodes.
    let rc = unsafe { libc::ioctl(pidfd.as_raw_fd(), PIDFD_GET_INFO, &mut info) };
    if rc < 0 || info.mask & PIDFD_INFO_EXIT == 0 {
        return None;
    }
    let status = info.exit_code;
    Some(if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    })
}

/// `pidfd_send_signal` with `flags`; `Ok(false)` if there was no process
/// to signal.
fn pidfd_signal(pidfd: &OwnedFd, sig: i32, flags: libc::c_uint) -> io::Result<bool> {
    // SAFETY: a plain system call on a pidfd we own.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            flags,
        )
    };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ESRCH) {
            return Ok(false);
        }
        return Err(err);
    }
    Ok(true)
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
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(rc) = self.returncode.get() {
            return Some(*rc);
        }
        let pidfd = self.pidfd.get_ref();
        match waitid(pidfd, libc::WNOHANG | libc::WNOWAIT) {
            Ok(Some(rc)) => {
                let _ = self.returncode.set(rc);
                crate::policy::audit::exited(self.pid, rc);
                Some(rc)
            }
            Ok(None) => None,
            Err(_) => {
                // Reaped by someone else (SIGCHLD ignored, or a
                // waitpid(-1) elsewhere): its pid and group id are free
                // now, so never signal the group again.
                self.reaped.store(true, Ordering::SeqCst);
                let rc = exit_from_pidfd(pidfd).unwrap_or_else(|| {
                    tracing::warn!(target: crate::policy::AUDIT_TARGET, pid = self.pid,
                        "child {} was reaped outside procgate and this kernel cannot tell its exit status; reporting -9", self.pid);
                    -libc::SIGKILL
                });
                let _ = self.returncode.set(rc);
                Some(rc)
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
                    let _ = waitid(self.pidfd.get_ref(), libc::WNOWAIT);
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
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
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

    /// SIGKILL to the child's cgroup (every descendant, wherever it moved)
    /// or, without one, to its group and to the child through its pidfd.
    pub(crate) fn kill_all(&self) {
        self.signal_group(libc::SIGKILL);
        if let Some(leaf) = &self.leaf {
            leaf.kill();
        }
        self.signal_child(libc::SIGKILL);
    }

    /// Reaps the child if it has exited; returns whether it is reaped.
    fn try_reap(&self) -> bool {
        if self.returncode().is_none() {
            return false;
        }
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
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
        if self.returncode().is_none() {
            self.signal_group(libc::SIGTERM);
            self.signal_child(libc::SIGTERM);
            let _ = tokio::time::timeout(grace, self.wait()).await;
        }
        self.kill_all();
        let mut left = Vec::new();
        if tokio::time::timeout(KILL_WAIT, self.wait()).await.is_err() {
            left.push(self.pid);
        }
        self.try_reap();
        if let Some(leaf) = &self.leaf {
            left.extend(leaf.emptied().await.into_iter().filter(|p| *p != self.pid));
        }
        left
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
                tracing::warn!(target: crate::policy::AUDIT_TARGET, pid,
                    "could not end process {pid} within {KILL_WAIT:?} of SIGKILL; left unreaped");
            }
        };
        let spawned = std::thread::Builder::new()
            .name("procgate-reap".into())
            .spawn(reap);
        if let Err(e) = spawned {
            // No thread to be had (EAGAIN): the child was SIGKILLed just
            // above, so it normally goes at once; wait for it here briefly.
            tracing::warn!(target: crate::policy::AUDIT_TARGET, pid,
                "no thread to reap process {pid} ({e}); reaping it here");
            reap_within(pid, self.pidfd.get_ref(), Duration::from_millis(100));
        }
    }
}

/// Waits up to `within` for the killed child `pid` behind `pidfd` to exit,
/// then reaps it and logs its exit. Returns whether it is gone (reaped here,
/// or already reaped elsewhere).
fn reap_within(pid: u32, pidfd: &OwnedFd, within: Duration) -> bool {
    let mut poll = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: a plain system call on our own pollfd.
    unsafe { libc::poll(&mut poll, 1, within.as_millis() as i32) };
    match waitid(pidfd, libc::WNOHANG) {
        Ok(Some(rc)) => {
            crate::policy::audit::exited(pid, rc);
            true
        }
        Ok(None) => false,
        Err(_) => true,
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

    /// What contains the child (for the audit log): its own cgroup, its
    /// process group, or only its pidfd.
    pub fn containment(&self) -> crate::cgroup::Containment {
        self.exit.containment()
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
    /// The guest gave up the process (dropped it, or ended): end it and
    /// everything it started ([`ChildExit::end`]) and reap it, in the
    /// background. A pollable or
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
            let left = exit.end(children.grace).await;
            children.record_unended(&left);
            drop(exit);
            if children.ending.fetch_sub(1, Ordering::SeqCst) == 1 {
                children.ended.notify_waiters();
            }
        });
    }
}
