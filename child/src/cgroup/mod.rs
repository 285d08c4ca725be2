//! A cgroup v2 per guest, and one inside it per child: what follows a
//! child's descendants wherever they go (their own session, another process
//! group, the host's group), so that the guest's end, a child's timeout and
//! a dropped handle end all of them.
//!
//! The guest's cgroup is made at its first spawn, under the host's own
//! cgroup (from `/proc/self/cgroup` and the cgroup2 mount in
//! `/proc/self/mountinfo`) or under a directory the embedder names
//! ([`crate::Children::with_cgroup`]), as
//! `procgate-<host pid>.<pid namespace>-<n>`.
//! Each child gets a leaf `c<k>` in it (a leaf whose child and descendants
//! are gone is kept and handed to the next child, unless it was killed:
//! `clone3` into a cgroup killed before kills the new child on Linux
//! 6.18): the parent opens the leaf's directory and starts the child in it
//! (`clone3` with `CLONE_INTO_CGROUP`; on kernels without it the child
//! writes `0` to the leaf's `cgroup.procs` before `execve`), so the child
//! and everything it starts are in the leaf from their first instruction. Starting a child
//! in its cgroup costs no migration: writing `cgroup.procs` takes the
//! kernel's thread-group lock for writing, which waits for an RCU grace
//! period. Ending a child reads its leaf's `cgroup.events` once: a leaf
//! that says `populated 0` is left alone (and not read again), one that
//! does not gets `1` in `cgroup.kill` (SIGKILL to every process in the
//! cgroup and its descendants, atomically against forks) and is watched
//! until it is empty. The guest's end (when no spawn of the guest can
//! start a process in it any more) removes the guest's leaves by name and
//! its cgroup; only if that fails because a process is left (the kernel
//! refuses to remove a populated cgroup) is the guest's cgroup killed,
//! watched until empty and removed.
//!
//! A cgroup left by a host that was killed (`procgate-<pid>.<ns>-*` of this
//! pid namespace whose pid is gone) is killed and removed when the next host
//! in the same parent makes its first guest cgroup.

mod files;
mod watchdog;

pub use files::own_cgroup_dir;
pub use watchdog::{watchdog_pids, STARTS as WATCHDOG_STARTS};

use files::{
    host_tag, kill_and_remove_blocking, pids_in, populated_at, remove_stale, remove_tree,
    unpopulated, unpopulated_at, write_file,
};
use procgate_policy::audit::{self, Operational};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What contains one child, and so what its ending reaches.
///
/// ```
/// assert_eq!(procgate_child::cgroup::Containment::Cgroup.name(), "cgroup");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Containment {
    /// A cgroup of its own: ending kills the child and every descendant,
    /// wherever they moved.
    Cgroup,
    /// Its own process group (or session): ending signals the group and
    /// the child (through its pidfd); a descendant that leaves the group
    /// is not followed.
    ProcessGroup,
    /// The host's process group (a child reading the host's terminal, with
    /// no cgroup): ending signals the child alone, through its pidfd.
    ChildOnly,
}

impl Containment {
    /// `cgroup`, `process-group` or `child-only`.
    pub fn name(self) -> &'static str {
        match self {
            Containment::Cgroup => "cgroup",
            Containment::ProcessGroup => "process-group",
            Containment::ChildOnly => "child-only",
        }
    }
}

/// How long ending waits for killed processes to be gone (a process in
/// uninterruptible sleep can outlast SIGKILL); past it the pids are logged
/// and the host goes on without them.
pub const KILL_WAIT: Duration = Duration::from_secs(5);

/// Most leaves of a guest that keep their directory and `cgroup.events`
/// open from one child to the next: a reused leaf then costs no `open`
/// and `close` of either (measured on this machine: opening and closing
/// the directory 4.2 µs, reading `cgroup.events` through a new descriptor
/// 7.2 µs, through a kept one 1 µs). Few, since every descriptor the host
/// holds is copied into each new child and closed at its `execve`.
pub const KEPT_OPEN: usize = 8;

/// A free leaf, with its descriptors if it keeps them.
#[derive(Debug)]
struct Free {
    k: u64,
    open: Option<(OwnedFd, std::fs::File)>,
}

/// One guest's cgroup: the children's leaves are made in it.
#[derive(Debug)]
pub struct GuestCgroup {
    dir: PathBuf,
    next: AtomicU64,
    removed: AtomicBool,
    /// Leaves whose child and descendants are gone, kept for the next
    /// children (making and removing a cgroup costs more than a spawn).
    free: std::sync::Mutex<Vec<Free>>,
    /// Leaves that keep their descriptors open ([`KEPT_OPEN`] at most).
    kept: AtomicUsize,
    /// What kills this cgroup if the host is gone; `None` for children
    /// that are not to die with the host.
    watchdog: Option<Arc<watchdog::Watchdog>>,
}

impl GuestCgroup {
    /// Makes a guest cgroup under `parent`, or under the host's own
    /// cgroup; with `die_with_host`, under the watch of the parent's
    /// watchdog (started now if it is not yet).
    pub(crate) fn create(parent: Option<&Path>, die_with_host: bool) -> io::Result<GuestCgroup> {
        static SERIAL: AtomicU64 = AtomicU64::new(0);
        static STALE_SWEPT: AtomicBool = AtomicBool::new(false);
        // The host's own cgroup does not change under it (procgate never
        // moves the host): parsed once per process.
        static OWN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
        let parent = match parent {
            Some(p) => p.to_path_buf(),
            None => match OWN.get() {
                Some(own) => own.clone(),
                None => {
                    let own = own_cgroup_dir()?;
                    OWN.get_or_init(|| own).clone()
                }
            },
        };
        if !STALE_SWEPT.swap(true, Ordering::SeqCst) {
            remove_stale(&parent);
        }
        let n = SERIAL.fetch_add(1, Ordering::Relaxed);
        // The watchdog kills `procgate-<tag>-<digit>…` when the host is
        // gone; `k<n>` names a guest whose children outlive the host.
        let watchdog = die_with_host.then(|| watchdog::for_parent(&parent));
        if let Some(w) = &watchdog {
            w.watching();
        }
        let kept = if die_with_host { "" } else { "k" };
        let dir = parent.join(format!(
            "procgate-{}-{kept}{n}",
            host_tag(std::process::id())
        ));
        std::fs::create_dir(&dir)?;
        // Whether the kernel has cgroup.kill does not change: looked at once.
        static HAS_KILL: AtomicBool = AtomicBool::new(false);
        if !HAS_KILL.load(Ordering::Relaxed) && dir.join("cgroup.kill").exists() {
            HAS_KILL.store(true, Ordering::Relaxed);
        }
        if !HAS_KILL.load(Ordering::Relaxed) {
            let _ = std::fs::remove_dir(&dir);
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "no cgroup.kill (Linux >= 5.14 needed)",
            ));
        }
        Ok(GuestCgroup {
            dir,
            next: AtomicU64::new(0),
            removed: AtomicBool::new(false),
            free: std::sync::Mutex::new(Vec::new()),
            kept: AtomicUsize::new(0),
            watchdog,
        })
    }

    /// The guest cgroup's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Takes a free leaf for one child (or makes one) and opens it. A free
    /// leaf is not read again: it was seen empty when its child ended, and
    /// only a process moved in from outside could be in it now (root, or
    /// the host's user writing `cgroup.procs`; without Landlock that may be
    /// one of the guest's own children). Such a process shares the next
    /// child's leaf and is ended with it, as it would be with the guest's
    /// cgroup. A free leaf that can no longer be opened is passed over.
    ///
    /// A leaf that keeps its descriptors ([`KEPT_OPEN`]) comes with them
    /// open, once one read of its `cgroup.events` through them says it is
    /// still there (the check the opening made).
    pub(crate) fn leaf(self: &Arc<Self>) -> io::Result<Leaf> {
        let open = |dir: &Path| {
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY)
                .open(dir)
                .map(OwnedFd::from)
        };
        let leaf = |k: u64, fd: OwnedFd, events: Option<std::fs::File>| Leaf {
            k,
            fd: Some(fd),
            events,
            killed: AtomicBool::new(false),
            seen_empty: AtomicBool::new(false),
            guest: Arc::clone(self),
        };
        while let Some(free) = self.free.lock().ok().and_then(|mut f| f.pop()) {
            match free.open {
                // Still there (someone may have removed the empty leaf).
                Some((fd, events)) if populated_at(&events).is_some() => {
                    return Ok(leaf(free.k, fd, Some(events)));
                }
                Some(_) => {
                    self.kept.fetch_sub(1, Ordering::SeqCst);
                }
                None => {
                    if let Ok(fd) = open(&self.leaf_dir(free.k)) {
                        return Ok(leaf(free.k, fd, None));
                    }
                }
            }
        }
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        let dir = self.leaf_dir(k);
        std::fs::create_dir(&dir)?;
        let fd = match open(&dir) {
            Ok(fd) => fd,
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                return Err(e);
            }
        };
        let events = self
            .kept
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < KEPT_OPEN).then_some(n + 1)
            })
            .ok()
            .and_then(|_| {
                let events = std::fs::File::open(dir.join("cgroup.events"));
                if events.is_err() {
                    self.kept.fetch_sub(1, Ordering::SeqCst);
                }
                events.ok()
            });
        Ok(leaf(k, fd, events))
    }

    /// The directory of leaf number `k`. A leaf holds its number, not its
    /// path: a path is about 100 bytes of heap per live child, a number
    /// none, and the path is needed only when the leaf is made, opened
    /// again, read without a kept descriptor, killed or removed.
    fn leaf_dir(&self, k: u64) -> PathBuf {
        self.dir.join(format!("c{k}"))
    }

    /// Kills everything left in the guest's cgroup, waits until it is
    /// empty (up to [`KILL_WAIT`]) and removes it; returns the pids it
    /// could not end. Called once the guest has ended, when no spawn of
    /// its can start a process in it any more. The kernel refuses to
    /// remove a cgroup with a process in it (`EBUSY`), so an empty one is
    /// removed at the first try, neither read nor killed (`cgroup.kill`
    /// takes the kernel's cgroup lock that every other spawn and ending
    /// waits on); only one that is not is killed.
    pub(crate) async fn kill_and_remove(&self) -> Vec<u32> {
        if self.removed.swap(true, Ordering::SeqCst) || self.remove() {
            return Vec::new();
        }
        let _ = write_file(&self.dir.join("cgroup.kill"), "1");
        let end = Instant::now() + KILL_WAIT;
        let mut empty = unpopulated(&self.dir);
        while !empty && Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(2)).await;
            empty = unpopulated(&self.dir);
        }
        if !empty {
            // `populated 0` covers the cgroup and all below it: there is a
            // pid to list only when it is not empty.
            let left = pids_in(&self.dir);
            if !left.is_empty() {
                return left;
            }
        }
        self.remove();
        Vec::new()
    }

    /// Removes the guest cgroup if nothing is in it: the leaves it made by
    /// name (no directory listing), then itself; anything else below it
    /// (a cgroup a child made in its leaf) through a listing. Returns
    /// whether it is gone (a cgroup with a process in it stays).
    fn remove(&self) -> bool {
        for k in 0..self.next.load(Ordering::Relaxed) {
            let leaf = self.leaf_dir(k);
            match std::fs::remove_dir(&leaf) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => remove_tree(&leaf),
                _ => {}
            }
        }
        match std::fs::remove_dir(&self.dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                remove_tree(&self.dir);
                !self.dir.exists()
            }
            _ => true,
        }
    }
}

impl Drop for GuestCgroup {
    /// Not ended through [`crate::Children::ended`]: kill what is
    /// left and remove the cgroup, on a thread of its own if it takes a
    /// while. Every leaf (and so every spawn into one) is gone by now: an
    /// empty cgroup is removed at once, without `cgroup.kill`.
    fn drop(&mut self) {
        if self.removed.swap(true, Ordering::SeqCst) || self.remove() {
            return;
        }
        let dir = self.dir.clone();
        let on_thread = dir.clone();
        let spawned = std::thread::Builder::new()
            .name("procgate-cgroup".into())
            .spawn(move || log_left(&on_thread, kill_and_remove_blocking(&on_thread)));
        if spawned.is_err() {
            // No thread to be had (EAGAIN): here, bounded by KILL_WAIT.
            log_left(&dir, kill_and_remove_blocking(&dir));
        }
    }
}

fn log_left(dir: &Path, left: Vec<u32>) {
    if !left.is_empty() {
        audit::operational(Operational::Unended {
            pids: &left,
            cgroup: Some(dir),
            within: KILL_WAIT,
        });
    }
}

/// One child's cgroup, inside its guest's.
#[derive(Debug)]
pub struct Leaf {
    /// Its number in the guest's cgroup ([`GuestCgroup::leaf_dir`]).
    k: u64,
    fd: Option<OwnedFd>,
    /// Its `cgroup.events`, open if the leaf keeps its descriptors from
    /// one child to the next (one of the guest's [`KEPT_OPEN`]); then `fd`
    /// stays open too.
    events: Option<std::fs::File>,
    /// `cgroup.kill` was written: the leaf is never handed out again (on
    /// Linux 6.18 a child `clone3` starts in a cgroup killed before is
    /// SIGKILLed at birth: measured, `tests/tests/soak.rs`).
    killed: AtomicBool,
    /// `cgroup.events` said `populated 0` after the child was started.
    seen_empty: AtomicBool,
    guest: Arc<GuestCgroup>,
}

impl Leaf {
    /// Whether a watchdog of the host will kill this leaf's processes if
    /// the host is gone (one `poll` of its pidfd; a watchdog that exited is
    /// started again): then the child needs no death signal.
    pub(crate) fn watched(&self) -> bool {
        self.guest.watchdog.as_ref().is_some_and(|w| w.watching())
    }

    /// The leaf's open directory, which the child is started in
    /// (`CLONE_INTO_CGROUP`, or its `cgroup.procs` where the kernel lacks
    /// that).
    pub(crate) fn dir_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        self.fd.as_ref().map(|fd| fd.as_raw_fd())
    }

    /// The child runs: the directory is closed unless the leaf keeps its
    /// descriptors. It is not held for every child's life: a descriptor
    /// held per live child is copied into, and closed at `execve` by,
    /// every later child (measured: with 1,000 children alive, closing
    /// inherited descriptors was the largest single cost of a spawn).
    pub(crate) fn started(&mut self) {
        if self.events.is_none() {
            self.fd = None;
        }
    }

    /// SIGKILL to everything in the leaf (`cgroup.kill`). An empty leaf
    /// is left alone: nothing can enter it but its own child's
    /// descendants, and writing `cgroup.kill` takes the kernel's cgroup
    /// lock that every other spawn and ending waits on.
    pub(crate) fn kill(&self) {
        if !self.is_empty() {
            self.kill_populated();
        }
    }

    /// Whether the leaf holds no process. Once it was seen empty it is
    /// not read again: its child entered it at birth and is gone, and the
    /// host starts nothing else in it until it hands the leaf to its next
    /// child, so only a process moved in from outside (root, or the host's
    /// user writing `cgroup.procs`) could enter it; that one is ended with the guest's
    /// cgroup, or with the next child the leaf is handed to (whose own
    /// ending reads the leaf afresh).
    pub(crate) fn is_empty(&self) -> bool {
        if self.seen_empty.load(Ordering::Relaxed) {
            return true;
        }
        let empty = match &self.events {
            Some(events) => unpopulated_at(events),
            None => unpopulated(&self.dir()),
        };
        if empty {
            self.seen_empty.store(true, Ordering::Relaxed);
        }
        empty
    }

    /// Writes `cgroup.kill` of a leaf just seen populated, and marks it
    /// never to be handed out again.
    fn kill_populated(&self) {
        self.killed.store(true, Ordering::SeqCst);
        let _ = write_file(&self.dir().join("cgroup.kill"), "1");
    }

    /// The leaf's directory.
    pub(crate) fn dir(&self) -> PathBuf {
        self.guest.leaf_dir(self.k)
    }

    /// Waits (up to [`KILL_WAIT`]) until the leaf is empty; returns the
    /// pids still in it.
    pub(crate) async fn emptied(&self) -> Vec<u32> {
        let end = Instant::now() + KILL_WAIT;
        let mut empty = self.is_empty();
        while !empty && Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(2)).await;
            empty = self.is_empty();
        }
        if empty {
            Vec::new()
        } else {
            pids_in(&self.dir())
        }
    }
}

impl Drop for Leaf {
    /// An empty leaf goes back to the guest's free list (with its
    /// descriptors, if it keeps them), unless it was killed (then it is
    /// removed); one with processes left is killed, and removed with the
    /// guest's cgroup.
    fn drop(&mut self) {
        let empty = self.is_empty();
        if !empty {
            self.kill_populated();
        }
        // A leaf that keeps its descriptors has both open.
        let open = self
            .events
            .take()
            .zip(self.fd.take())
            .map(|(e, fd)| (fd, e));
        if empty && !self.killed.load(Ordering::SeqCst) {
            if let Ok(mut free) = self.guest.free.lock() {
                if !self.guest.removed.load(Ordering::SeqCst) {
                    free.push(Free { k: self.k, open });
                    return;
                }
            }
        }
        if open.is_some() {
            self.guest.kept.fetch_sub(1, Ordering::SeqCst);
        }
        if empty {
            let _ = std::fs::remove_dir(self.dir());
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
