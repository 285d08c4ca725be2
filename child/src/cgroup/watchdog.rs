//! The host's watchdog: a process of the host's own that, once the host is
//! gone however it ended (`SIGKILL` included), kills this host's guest
//! cgroups (`cgroup.kill`: every process in them, wherever it moved, its
//! own session included) and removes them.
//!
//! It is what lets a child started with a cgroup skip `PR_SET_PDEATHSIG`,
//! and so the hop to a long-lived spawner thread that signal needs (it
//! follows the *thread* that cloned the child): the cgroup, not the
//! thread, is what dies with the host. It covers grandchildren too, which
//! the death signal never did.
//!
//! One per cgroup parent (the host's own cgroup, or a directory the
//! embedder names), started with the first guest cgroup made there. It
//! shares the host's memory (`clone` with `CLONE_VM`, no copy of the
//! host's page tables, no memory of its own to speak of) but has its own
//! descriptor table, holding only the read end of a pipe whose write end
//! only the host holds (close-on-exec), and the parent directory. It
//! blocks every signal, leaves the host's session, and sleeps in `poll`
//! until the pipe reports end-of-file (the host process is gone, or has
//! called `execve`) or, looked at once a second, its parent is no longer
//! the host (the host is gone while a copy of the write end lives on, in a
//! `fork` of the host that did not `execve`). It then kills every `procgate-<host tag>-<digit>…`
//! cgroup in the parent, waits (up to [`KILL_WAIT`]) until they are empty,
//! removes them and exits. The memory it shares stays mapped for it after
//! the host's end (the kernel frees an address space with its last user).
//!
//! Before each spawn the host looks whether its watchdog still runs (one
//! `poll` of its pidfd); a dead one is started again (at most
//! [`STARTS`] times in all, then logged), and while none runs children get
//! the death signal instead.
//!
//! # Caveats
//!
//! - The kernel's OOM killer, when it picks the host, also kills every
//!   process sharing the host's memory, the watchdog with it: the guest
//!   cgroups are then left to the next host's sweep of stale cgroups, and
//!   only children started on the process's main thread (which keep the
//!   death signal) die at once.
//! - A `fork` of the host that does not `execve` holds the pipe's write
//!   end: the watchdog then sees the host gone by its parent changing,
//!   up to a second later.
//! - A child that can signal the watchdog (same user, no Landlock signal
//!   scope) can kill it; the host then starts another before its next
//!   spawn.
//! - x86_64 and Linux only (elsewhere there is no watchdog, and children
//!   get the death signal).
//!
//! Everything the watchdog runs is a raw system call through rustix's
//! `linux_raw` backend: no libc function, no `errno`, no thread-local
//! storage (its thread pointer is the cloning thread's, which may exit
//! before it), no allocation and no panic path it can reach with valid
//! input; it reads only its own [`Args`] and stack, which the host frees
//! only after the watchdog has exited.

use super::files::host_tag;
use super::KILL_WAIT;
use crate::lock::lock;
use procgate_policy::audit::{self, Operational};
use rustix::fd::BorrowedFd;
use rustix::fs::{FileType, Mode, OFlags, RawDir};
use std::ffi::{c_int, c_void, CStr};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// How many watchdogs one parent gets in a host's life (the first and its
/// restarts); past that, children get the death signal.
pub const STARTS: u32 = 4;

/// The watchdog's stack, above one guard page: room for `remove_tree`'s
/// 16 levels (a 1 KiB buffer each) in an unoptimized build many times
/// over; only the pages it touches are ever allocated.
const STACK_SIZE: usize = 256 * 1024;
const GUARD: usize = 4096;

/// Room for `procgate-<pid>.<pidns inode>-`.
const PREFIX_MAX: usize = 64;

/// The watchdog of one cgroup parent.
#[derive(Debug)]
pub(crate) struct Watchdog {
    parent: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    live: Option<Live>,
    starts: u32,
}

/// Every watchdog made, one per cgroup parent.
static ALL: Mutex<Vec<Arc<Watchdog>>> = Mutex::new(Vec::new());

/// The watchdog of one cgroup parent, for the guest cgroups made there
/// (made on first use; one per parent for the host's life).
pub(crate) fn for_parent(parent: &Path) -> Arc<Watchdog> {
    let mut all = lock(&ALL);
    if let Some(w) = all.iter().find(|w| w.parent == parent) {
        return Arc::clone(w);
    }
    let w = Arc::new(Watchdog {
        parent: parent.to_path_buf(),
        state: Mutex::new(State::default()),
    });
    all.push(Arc::clone(&w));
    w
}

/// The pids of this host's running watchdogs (a test that counts the
/// host's children leaves them out).
pub fn watchdog_pids() -> Vec<u32> {
    let all = lock(&ALL);
    all.iter().filter_map(|w| w.pid()).collect()
}

impl Watchdog {
    /// The running watchdog's pid, if one runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        let state = lock(&self.state);
        state.live.as_ref().filter(|l| l.running()).map(|l| l.pid)
    }

    /// Whether a watchdog runs for this parent now, starting one if none
    /// does (and starts are left). One `poll` when it runs.
    pub(crate) fn watching(&self) -> bool {
        let mut state = lock(&self.state);
        if state.live.as_ref().is_some_and(Live::running) {
            return true;
        }
        // Gone (or never started): its stack and arguments are freed only
        // now that it has exited.
        let restart = state.live.take().is_some();
        if state.starts >= STARTS {
            return false;
        }
        state.starts += 1;
        match Live::start(&self.parent) {
            Ok(live) => {
                if restart {
                    audit::operational(Operational::NoWatchdog {
                        reason: "the host's watchdog had exited; another was started",
                    });
                }
                state.live = Some(live);
                true
            }
            Err(e) => {
                let reason = format!(
                    "no watchdog for the guest cgroups in {} ({e}): children get the death signal",
                    self.parent.display()
                );
                audit::operational(Operational::NoWatchdog { reason: &reason });
                false
            }
        }
    }
}

/// A started watchdog, as the host holds it.
#[derive(Debug)]
struct Live {
    pid: u32,
    pidfd: OwnedFd,
    /// The pipe's write end: never written, closed when the host ends.
    _host_end: OwnedFd,
    stack: *mut c_void,
    args: *mut Args,
}

// SAFETY: `stack` and `args` are owned by this `Live` (mapped and boxed by
// `start`), touched by no thread of the host, only freed in `drop`.
unsafe impl Send for Live {}

/// What the watchdog reads: its two descriptors and the name prefix of
/// the host's guest cgroups.
struct Args {
    /// The host's pid: the watchdog's parent while the host lives.
    host: i32,
    pipe: RawFd,
    dir: RawFd,
    prefix: [u8; PREFIX_MAX],
    prefix_len: usize,
}

impl Live {
    fn start(parent: &Path) -> io::Result<Live> {
        if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "no watchdog on this platform",
            ));
        }
        let prefix = format!("procgate-{}-", host_tag(std::process::id()));
        if prefix.len() > PREFIX_MAX {
            return Err(io::Error::other("the host's tag is too long"));
        }
        let dir: OwnedFd = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(parent)?
            .into();
        let (read_end, host_end) = crate::pipes::pipe().map_err(io::Error::other)?;
        let mut args = Box::new(Args {
            host: std::process::id() as i32,
            pipe: read_end.as_raw_fd(),
            dir: dir.as_raw_fd(),
            prefix: [0; PREFIX_MAX],
            prefix_len: prefix.len(),
        });
        args.prefix[..prefix.len()].copy_from_slice(prefix.as_bytes());
        // SAFETY: a fresh private anonymous mapping, ours alone; its
        // lowest page made inaccessible (a guard against overflow into
        // the host's memory).
        let stack = unsafe {
            let base = libc::mmap(
                std::ptr::null_mut(),
                GUARD + STACK_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            );
            if base == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            if libc::mprotect(base, GUARD, libc::PROT_NONE) < 0 {
                let e = io::Error::last_os_error();
                libc::munmap(base, GUARD + STACK_SIZE);
                return Err(e);
            }
            base
        };
        let args = Box::into_raw(args);
        let top = (stack as usize + GUARD + STACK_SIZE) & !15;
        let mut pidfd: c_int = -1;
        // SAFETY: every signal (glibc's internal ones too) is blocked
        // around the clone, so the watchdog starts with all blocked and
        // never runs a handler; it runs `watch` on `stack` and reads only
        // `args`, both freed only after it has exited (`Drop`). With
        // CLONE_PIDFD the kernel stores its pidfd in `pidfd`.
        let pid = unsafe {
            let mut old: u64 = 0;
            crate::clone_spawn::set_mask(!0, &mut old);
            let pid = libc::clone(
                watch,
                top as *mut c_void,
                libc::CLONE_VM | libc::CLONE_PIDFD | libc::SIGCHLD,
                args as *mut c_void,
                &mut pidfd as *mut c_int,
            );
            let e = io::Error::last_os_error();
            crate::clone_spawn::set_mask(old, std::ptr::null_mut());
            if pid < 0 {
                drop(Box::from_raw(args));
                libc::munmap(stack, GUARD + STACK_SIZE);
                return Err(e);
            }
            pid
        };
        // The watchdog has its own copies of `read_end` and `dir` now.
        drop((read_end, dir));
        Ok(Live {
            pid: pid as u32,
            // SAFETY: the kernel filled in a fresh descriptor we now own.
            pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) },
            _host_end: host_end,
            stack,
            args,
        })
    }

    /// Whether the watchdog has not exited (its pidfd is not readable).
    fn running(&self) -> bool {
        let mut p = libc::pollfd {
            fd: self.pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd on our stack.
        unsafe { libc::poll(&mut p, 1, 0) == 0 }
    }
}

impl Drop for Live {
    /// Only for a watchdog that has exited ([`Watchdog::watching`] drops
    /// it after `running` said so): reaps it and frees its stack and
    /// arguments, which nothing runs on any more.
    fn drop(&mut self) {
        // SAFETY: reaping our own exited child by its pidfd (ECHILD if
        // the host ignores SIGCHLD and the kernel reaped it), then freeing
        // what only it used.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                crate::pidfd::P_PIDFD,
                self.pidfd.as_raw_fd() as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG,
            );
            drop(Box::from_raw(self.args));
            libc::munmap(self.stack, GUARD + STACK_SIZE);
        }
    }
}

/// The watchdog's body. Raw system calls only (see the module's docs).
extern "C" fn watch(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `Args` the host boxed for this watchdog and
    // frees only after it has exited; the descriptors in it are in this
    // process's own table (copied at clone).
    let (args, pipe, dir) = unsafe {
        let args = &*(arg as *const Args);
        (
            args,
            BorrowedFd::borrow_raw(args.pipe),
            BorrowedFd::borrow_raw(args.dir),
        )
    };
    let Some(prefix) = args.prefix.get(..args.prefix_len) else {
        return 1;
    };
    let _ = rustix::process::setsid();
    close_all_but(args.pipe, args.dir);
    // Until the pipe reports end-of-file, or, looked at once a second,
    // the watchdog's parent is no longer the host (it was reparented: the
    // host is gone though a copy of the pipe's write end lives on, in a
    // `fork` of the host, or in this watchdog itself had the host died
    // before `close_all_but` above).
    let mut byte = [0u8; 1];
    let second = rustix::event::Timespec {
        tv_sec: 1,
        tv_nsec: 0,
    };
    loop {
        let host_alive =
            rustix::process::getppid().is_some_and(|p| p.as_raw_nonzero().get() == args.host);
        if !host_alive {
            break;
        }
        let mut fds = [rustix::event::PollFd::new(
            &pipe,
            rustix::event::PollFlags::IN,
        )];
        match rustix::event::poll(&mut fds, Some(&second)) {
            Ok(0) | Err(rustix::io::Errno::INTR) => continue,
            Ok(_) => {}
            Err(_) => break,
        }
        match rustix::io::read(pipe, &mut byte) {
            Ok(0) => break,
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) | Ok(_) => continue,
            Err(_) => break,
        }
    }
    // The host is gone.
    each_guest(dir, prefix, |guest| {
        if let Ok(kill) = rustix::fs::openat(guest, c"cgroup.kill", OFlags::WRONLY, Mode::empty()) {
            let kill = Fd::new(kill);
            let _ = rustix::io::write(kill.as_fd(), b"1");
        }
    });
    let step = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 2_000_000,
    };
    for _ in 0..KILL_WAIT.as_millis() / 2 {
        let mut any = false;
        each_guest(dir, prefix, |guest| any |= populated(guest));
        if !any {
            break;
        }
        let _ = rustix::event::poll(&mut [], Some(&step));
    }
    // Removing entries while listing their directory may skip some: a few
    // passes, until none is left.
    for _ in 0..4 {
        let mut left = false;
        each_guest_name(dir, prefix, |name| {
            left = true;
            remove_tree(dir, name, 0);
        });
        if !left {
            break;
        }
    }
    0
}

/// A descriptor the watchdog closes with a raw `close` (std's `OwnedFd`
/// would call libc's).
struct Fd(RawFd);

impl Fd {
    fn new(fd: OwnedFd) -> Fd {
        use std::os::fd::IntoRawFd;
        Fd(fd.into_raw_fd())
    }
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: open until `drop`.
        unsafe { BorrowedFd::borrow_raw(self.0) }
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: ours, closed once.
        unsafe { rustix::io::close(self.0) };
    }
}

/// Closes every descriptor of the watchdog's table but `keep_a` and
/// `keep_b`, listed from `/proc/self/fd`.
fn close_all_but(keep_a: RawFd, keep_b: RawFd) {
    let Ok(list) = rustix::fs::openat(
        rustix::fs::CWD,
        c"/proc/self/fd",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return;
    };
    let list = Fd::new(list);
    let mut buf = [MaybeUninit::<u8>::uninit(); 1024];
    let mut entries = RawDir::new(list.as_fd(), &mut buf);
    while let Some(Ok(entry)) = entries.next() {
        let Some(fd) = parse_fd(entry.file_name()) else {
            continue;
        };
        if fd != keep_a && fd != keep_b && fd != list.0 {
            // SAFETY: a descriptor of this process's own table, which
            // nothing else in it uses.
            unsafe { rustix::io::close(fd) };
        }
    }
}

fn parse_fd(name: &CStr) -> Option<RawFd> {
    let bytes = name.to_bytes();
    if bytes.is_empty() || bytes.len() > 9 {
        return None;
    }
    let mut n: RawFd = 0;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + RawFd::from(b - b'0');
    }
    Some(n)
}

/// Calls `f` with the name of each of the host's guest cgroups in `dir`:
/// `PREFIX` then a digit (a `k…` cgroup's children were asked not to die
/// with the host).
fn each_guest_name(dir: BorrowedFd<'_>, prefix: &[u8], mut f: impl FnMut(&CStr)) {
    if rustix::fs::seek(dir, rustix::fs::SeekFrom::Start(0)).is_err() {
        return;
    }
    let mut buf = [MaybeUninit::<u8>::uninit(); 2048];
    let mut entries = RawDir::new(dir, &mut buf);
    while let Some(Ok(entry)) = entries.next() {
        let name = entry.file_name().to_bytes();
        let ours = name.starts_with(prefix)
            && name.get(prefix.len()).is_some_and(u8::is_ascii_digit)
            && entry.file_type() == FileType::Directory;
        if ours {
            f(entry.file_name());
        }
    }
}

/// Calls `f` with each of the host's guest cgroups in `dir`, opened.
fn each_guest(dir: BorrowedFd<'_>, prefix: &[u8], mut f: impl FnMut(BorrowedFd<'_>)) {
    each_guest_name(dir, prefix, |name| {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        if let Ok(guest) = rustix::fs::openat(dir, name, flags, Mode::empty()) {
            let guest = Fd::new(guest);
            f(guest.as_fd());
        }
    });
}

/// Whether the cgroup holds a process (its `cgroup.events` does not say
/// `populated 0`).
fn populated(cgroup: BorrowedFd<'_>) -> bool {
    let Ok(events) = rustix::fs::openat(cgroup, c"cgroup.events", OFlags::RDONLY, Mode::empty())
    else {
        return false;
    };
    let events = Fd::new(events);
    let mut buf = [0u8; 256];
    let Ok(n) = rustix::io::read(events.as_fd(), &mut buf) else {
        return false;
    };
    !buf.get(..n).is_some_and(|text| {
        text.windows(b"populated 0".len())
            .any(|w| w == b"populated 0")
    })
}

/// Removes the cgroup `name` in `parent` and every cgroup below it
/// (children first), to a depth of 16.
fn remove_tree(parent: BorrowedFd<'_>, name: &CStr, depth: u32) {
    if depth < 16 {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        if let Ok(dir) = rustix::fs::openat(parent, name, flags, Mode::empty()) {
            let dir = Fd::new(dir);
            let mut buf = [MaybeUninit::<u8>::uninit(); 1024];
            let mut entries = RawDir::new(dir.as_fd(), &mut buf);
            while let Some(Ok(entry)) = entries.next() {
                let sub = entry.file_name();
                if entry.file_type() == FileType::Directory && sub != c"." && sub != c".." {
                    remove_tree(dir.as_fd(), sub, depth + 1);
                }
            }
        }
    }
    let _ = rustix::fs::unlinkat(parent, name, rustix::fs::AtFlags::REMOVEDIR);
}
