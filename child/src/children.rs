//! The children of one guest: how long they get to end, whether they die
//! with the host, their cgroup, what they use (live, held, spawned), and
//! the endings still in progress.

use crate::cgroup::{GuestCgroup, Leaf, KILL_WAIT};
use crate::counted::Counted;
use crate::lifecycle::{self, Kill, Wait};
use crate::lock::wait_until;
use procgate_policy::audit::{self, Operational};
use procgate_policy::{CgroupMode, Error, Result, Usage};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;

/// Most launches of one guest under way at once ([`Children::starting`]):
/// four, twice the two workers of this machine's host and so enough to
/// keep them busy (`bench/README.md`, `concurrent-*`). Each holds its
/// plan (arguments and environment, whose size the guest chooses) until
/// it is over, so this also bounds what a guest starting processes in a
/// loop makes the host hold.
pub const LAUNCHES_AT_ONCE: usize = 4;

/// How long a child the guest gave up gets between SIGTERM and SIGKILL,
/// unless the embedder sets another ([`Children::with_grace`]).
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_millis(200);

/// The children of one guest, shared by its context and every
/// [`crate::Child`] it started: how long they get to end, what they use,
/// the endings still in progress, and the guest's cgroup.
///
/// ```
/// let children = procgate_child::Children::new(std::time::Duration::from_millis(50));
/// assert_eq!(children.live(), 0);
/// ```
#[derive(Debug)]
pub struct Children {
    grace: Duration,
    die_with_host: bool,
    cgroup_mode: CgroupMode,
    cgroup_parent: Option<PathBuf>,
    cgroup: OnceLock<std::result::Result<Arc<GuestCgroup>, String>>,
    guest_gone: AtomicBool,
    /// Every child whose exit is still alive somewhere (in a
    /// [`crate::Child`], a pollable, a communicate, or the task ending
    /// it), by whether its exit was seen.
    counted: Counted,
    spawned: AtomicU64,
    /// Spawns the policy allowed whose launch is under way in a task
    /// ([`Children::starting`]).
    starting: AtomicUsize,
    /// Launches at once ([`LAUNCHES_AT_ONCE`]).
    launches: Arc<tokio::sync::Semaphore>,
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
            cgroup_mode: CgroupMode::default(),
            cgroup_parent: None,
            cgroup: OnceLock::new(),
            guest_gone: AtomicBool::new(false),
            counted: Counted::new(),
            spawned: AtomicU64::new(0),
            starting: AtomicUsize::new(0),
            launches: Arc::new(tokio::sync::Semaphore::new(LAUNCHES_AT_ONCE)),
            ending: AtomicUsize::new(0),
            ended: Notify::new(),
            unended: Mutex::new(Vec::new()),
        }
    }

    /// What the guest uses now, for the policy's limits. A child counts
    /// as **live** from its start until it has exited, whether or not the
    /// guest still holds its handle: a child whose handle was dropped is
    /// live until the host has ended it. A child that has exited but whose
    /// exit is still held (its handle, a pollable, a communicate) counts as
    /// **held**: it pins a zombie, a pidfd and its pipes in the host. The
    /// rest are forgotten. A spawn still being launched
    /// ([`Children::starting`]) counts as live and as spawned.
    ///
    /// ```
    /// let children = procgate_child::Children::default();
    /// assert_eq!(children.usage(), procgate_policy::Usage::default());
    /// ```
    pub fn usage(&self) -> Usage {
        // Read first: a launch that ends meanwhile is counted twice (as
        // starting, then as a child), never not at all.
        let starting = self.starting.load(Ordering::SeqCst);
        let (live, held) = self.counted.count();
        Usage {
            live: live + starting,
            held,
            spawned: self.spawned.load(Ordering::SeqCst) + starting as u64,
        }
    }

    /// Counts a spawn the policy allowed that is launched elsewhere (a
    /// task, while the guest goes on): live and spawned for the limits
    /// until [`Starting::launched`] (after [`crate::spawn()`] returned: the
    /// child is counted itself, or the launch failed), so that launches at
    /// once are held to the same bounds as launches one after another; and
    /// waited for by [`Children::ended`] until the guard is dropped (after
    /// the child went to the guest, or was dropped and so is being ended),
    /// so that the guest's end neither misses nor outruns a child launched
    /// for it.
    ///
    /// At most [`LAUNCHES_AT_ONCE`] are under way: this waits for a place
    /// (counted meanwhile).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let children = std::sync::Arc::new(procgate_child::Children::default());
    /// let mut starting = children.starting().await;
    /// assert_eq!((children.usage().live, children.usage().spawned), (1, 1));
    /// starting.launched();
    /// assert_eq!(children.usage(), procgate_policy::Usage::default());
    /// # });
    /// ```
    pub async fn starting(self: &Arc<Self>) -> Starting {
        self.starting.fetch_add(1, Ordering::SeqCst);
        self.ending.fetch_add(1, Ordering::SeqCst);
        let mut starting = Starting {
            children: Arc::clone(self),
            counted: true,
            place: None,
        };
        // The semaphore is never closed.
        starting.place = Arc::clone(&self.launches).acquire_owned().await.ok();
        starting
    }

    /// How many children are live ([`Children::usage`]).
    pub fn live(&self) -> usize {
        self.usage().live
    }

    /// Counts a new child.
    pub(crate) fn add(&self, exit: Arc<dyn Wait>) {
        self.counted.add(&exit);
        self.spawned.fetch_add(1, Ordering::SeqCst);
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
    /// use procgate_policy::CgroupMode;
    /// let children = procgate_child::Children::default().with_cgroup(CgroupMode::Off, None);
    /// assert_eq!(children.cgroup_mode(), CgroupMode::Off);
    /// ```
    pub fn with_cgroup(self, mode: CgroupMode, parent: Option<PathBuf>) -> Children {
        Children {
            cgroup_mode: mode,
            cgroup_parent: parent,
            ..self
        }
    }

    /// Whether children run in cgroups of their own.
    pub fn cgroup_mode(&self) -> CgroupMode {
        self.cgroup_mode
    }

    /// The settings of these children on a fresh, empty set (for the
    /// context's builder methods).
    pub fn settings(&self) -> Children {
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
        if self.cgroup_mode == CgroupMode::Off {
            return Ok(None);
        }
        let guest = self.cgroup.get_or_init(|| {
            GuestCgroup::create(self.cgroup_parent.as_deref(), self.die_with_host)
                .map(Arc::new)
                .map_err(|e| {
                    static SAID: AtomicBool = AtomicBool::new(false);
                    let e = format!("no cgroup for the guest's children: {e}");
                    if self.cgroup_mode == CgroupMode::BestEffort
                        && !SAID.swap(true, Ordering::SeqCst)
                    {
                        audit::operational(Operational::NoCgroup { reason: &e });
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

    /// Marks the guest as ended (its context was dropped):
    /// [`Children::ended`] then also ends and removes its cgroup.
    pub fn guest_ended(&self) {
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
        audit::operational(Operational::Unended {
            pids,
            cgroup: None,
            within: KILL_WAIT,
        });
        if let Ok(mut u) = self.unended.lock() {
            u.extend_from_slice(pids);
        }
    }

    /// Ends `exit`: at once if it has exited and left nothing to wait for
    /// (`lifecycle::end_exited`), else in the background (`lifecycle::end`
    /// with the grace), counted until it is done: what a dropped
    /// [`crate::Child`] does. Without a tokio runtime, `exit`'s own `Drop`
    /// kills and reaps.
    pub(crate) fn end_in_background<P: Wait + Kill + 'static>(self: &Arc<Self>, exit: Arc<P>) {
        if lifecycle::end_exited(&*exit) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let children = Arc::clone(self);
        children.ending.fetch_add(1, Ordering::SeqCst);
        runtime.spawn(async move {
            let left = lifecycle::end(&*exit, children.grace, KILL_WAIT).await;
            children.record_unended(&left);
            drop(exit);
            children.ending_over();
        });
    }

    /// One ending (or launch) that [`Children::ended`] waits for is over:
    /// the last wakes it.
    fn ending_over(&self) {
        if self.ending.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.ended.notify_waiters();
        }
    }

    /// Waits until every launch under way is over ([`Children::starting`])
    /// and every child the guest gave up has been ended and reaped
    /// (each ending bounded by the grace plus [`KILL_WAIT`]); once the
    /// guest itself has ended, also kills whatever is left in its cgroup
    /// and removes the cgroup. This is the one call that contains
    /// everything after the guest's store is dropped; pids that could not
    /// be ended are in [`Children::unended`].
    pub async fn ended(&self) {
        wait_until(&self.ended, || self.ending.load(Ordering::SeqCst) == 0).await;
        if self.guest_gone.load(Ordering::SeqCst) {
            if let Some(Ok(cg)) = self.cgroup.get() {
                let left = cg.kill_and_remove().await;
                self.record_unended(&left);
            }
        }
    }
}

/// A launch under way ([`Children::starting`]).
#[derive(Debug)]
pub struct Starting {
    children: Arc<Children>,
    /// Whether it still counts for the limits.
    counted: bool,
    /// Its place among the guest's [`LAUNCHES_AT_ONCE`].
    place: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Starting {
    /// The launch is over: it no longer counts for the limits (a child it
    /// started counts itself). [`Children::ended`] still waits for the
    /// guard.
    pub fn launched(&mut self) {
        self.place = None;
        if std::mem::replace(&mut self.counted, false) {
            self.children.starting.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        self.launched();
        self.children.ending_over();
    }
}

impl Default for Children {
    fn default() -> Children {
        Children::new(DEFAULT_KILL_GRACE)
    }
}
