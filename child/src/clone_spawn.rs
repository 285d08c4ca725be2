//! Starting a child with `clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD)` (with
//! a cgroup, `clone3` with `CLONE_INTO_CGROUP` too), the way glibc's
//! `posix_spawn` does, plus what `posix_spawn` cannot do: the
//! pidfd taken atomically with the child, `PR_SET_PDEATHSIG`, joining the
//! child's cgroup, closing every inherited descriptor, and the sandbox's
//! rlimits and Landlock.
//!
//! std's `Command` forks as soon as a pre-exec hook is installed, and a fork
//! copies the host's page tables: measured here, about 300 µs per spawn in a
//! host running wasmtime. Sharing the address space until `execve` costs
//! none of that. The child runs [`child`] on a stack of its own, makes only
//! plain system calls (raw ones where glibc's wrappers would hide its
//! internal signals), and reports a failure through memory it shares with
//! the parent (which sleeps until the child has called `execve` or exited).
//!
//! Every child is started from one of a few long-lived threads of the host
//! when it gets the death signal: `PR_SET_PDEATHSIG` fires when the *thread* that
//! started the child exits, so a child started from a short-lived thread (an
//! embedder's `block_in_place`, a runtime shutting down a worker) would be
//! killed while the guest still holds it. The process's main thread, whose
//! end is the process's, starts its children itself. A child in a cgroup
//! the host's watchdog watches (`crate::cgroup`'s watchdog kills the
//! host's guest cgroups once the host is gone) needs no death signal and
//! is started on the calling thread, whatever thread that is.
//!
//! Longer than ~400 lines on purpose: the one launch path and every `unsafe`
//! step of it (the child's stack, the shared block, what runs between
//! `clone` and `execve`) stay in one file, so their `SAFETY` arguments are
//! read together.

use crate::setup::ChildSetup;
use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CString};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

/// Which process group the child joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// A new process group led by the child.
    New,
    /// A new session (`setsid`), which is a new group too.
    Session,
    /// The host's own group (a child reading the host's terminal).
    Host,
}

/// What the child needs, prepared by the parent (no allocation in the child).
pub struct Spec<'a> {
    /// The absolute path to execute.
    pub program: &'a Path,
    /// `argv[0]`.
    pub arg0: &'a str,
    /// The rest of `argv`.
    pub args: &'a [String],
    /// The whole environment.
    pub env: &'a [(String, String)],
    /// The working directory, by path (used when `cwd_fd` is `None`).
    pub cwd: &'a Path,
    /// The opened working directory: the child `fchdir`s into it.
    pub cwd_fd: Option<RawFd>,
    /// The descriptors that become the child's 0, 1 and 2.
    pub stdio: [RawFd; 3],
    /// The child's process group.
    pub group: Group,
    /// The child dies with the host: `PR_SET_PDEATHSIG(SIGKILL)`, started
    /// from a long-lived spawner thread, unless `watched`.
    pub die_with_host: bool,
    /// The host's watchdog kills the child's cgroup if the host is gone
    /// (`crate::cgroup` watchdog): no death signal, no spawner thread
    /// (the main thread, whose end is the process's, still sets it: it
    /// costs one `prctl` there).
    pub watched: bool,
    /// The child's cgroup, an open directory: the child starts in it
    /// (`clone3` with `CLONE_INTO_CGROUP`), or, on a kernel without that,
    /// writes `0` to its `cgroup.procs` first.
    pub cgroup_dir: Option<RawFd>,
    /// Resource limits and Landlock, applied last before `execve`.
    pub setup: Option<&'a ChildSetup>,
}

/// Shared between parent and child (same memory until `execve`).
struct Shared {
    program: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
    cwd: *const c_char,
    cwd_fd: c_int,
    stdio: [c_int; 3],
    group: Group,
    die_with_host: bool,
    /// The cgroup's directory (for `CLONE_INTO_CGROUP`).
    cgroup_dir: c_int,
    /// Its `cgroup.procs`, opened only where `clone3` cannot place the
    /// child: the child writes `0` to it.
    cgroup_procs: c_int,
    setup: *const ChildSetup,
    host: libc::pid_t,
    /// Set by the child when a step fails: the errno.
    errno: c_int,
}

// SAFETY: the pointers point into the `Prepared` that owns their targets
// (CStrings and vectors, whose heap storage does not move with them) or
// into data the caller of `spawn` keeps alive until the child has exec'd;
// the spawner thread uses them only while that caller waits for it.
unsafe impl Send for Prepared {}

/// A spawn ready to run: the C strings and the shared block.
struct Prepared {
    _strings: Vec<CString>,
    _argv: Vec<*const c_char>,
    _envp: Vec<*const c_char>,
    shared: Shared,
}

fn cstring(s: &[u8]) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte"))
}

/// The kernel's `sigaction`, big enough for every architecture's layout;
/// all zeros is `SIG_DFL` with no flags and an empty mask everywhere, and
/// the handler is the first word everywhere.
type KernelSigaction = [u64; 4];
/// The size of the kernel's signal set (64 signals).
const SIGSET_SIZE: usize = 8;

/// `rt_sigprocmask(SIG_SETMASK, set)` as a raw system call: unlike glibc's
/// wrappers it also blocks or unblocks glibc's internal signals 32 and 33.
///
/// SAFETY (for callers): a plain system call on the calling thread.
pub(crate) unsafe fn set_mask(set: u64, old: *mut u64) {
    // SAFETY: as the function's contract says: a plain system call on this
    // thread, `set` on our stack and `old` the caller's.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &set as *const u64,
            old,
            SIGSET_SIZE,
        );
    }
}

/// Marks every descriptor from 3 up close-on-exec: `close_range` where the
/// kernel has it (Linux 5.11), else `fcntl` on each up to `RLIMIT_NOFILE`.
/// Returns the errno of a failure.
///
/// SAFETY (for callers): only plain system calls.
unsafe fn cloexec_from_3() -> Result<(), c_int> {
    // SAFETY: plain system calls on this process's own descriptor table
    // and on `lim`, which lives on our stack.
    unsafe {
        const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, CLOSE_RANGE_CLOEXEC) == 0 {
            return Ok(());
        }
        let errno = *libc::__errno_location();
        if errno != libc::ENOSYS && errno != libc::EINVAL {
            return Err(errno);
        }
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) < 0 {
            return Err(*libc::__errno_location());
        }
        let max = lim.rlim_cur.min(1 << 20) as c_int;
        for fd in 3..max {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
        Ok(())
    }
}

/// The child's side: runs between `clone` and `execve`, in the parent's
/// memory, with every signal blocked (glibc's 32 and 33 too).
extern "C" fn child(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the parent's `Shared`, alive while the parent sleeps
    // in clone (CLONE_VFORK). Only plain system calls below: no
    // allocation, no lock, nothing that touches glibc's state.
    unsafe {
        let s = &mut *(arg as *mut Shared);
        macro_rules! check {
            ($call:expr) => {
                if $call < 0 {
                    s.errno = *libc::__errno_location();
                    libc::_exit(127);
                }
            };
        }
        // A handler of the host must never run here: every handled signal
        // back to its default, glibc's internal ones included (raw system
        // calls: glibc's sigaction refuses 32 and 33). Ignored signals stay
        // ignored, except SIGPIPE (which Rust's runtime ignores) and
        // SIGCHLD (whoever ignores it in the host, a child expects to be
        // able to wait for its own children).
        for sig in 1..=64 {
            if sig == libc::SIGKILL || sig == libc::SIGSTOP {
                continue;
            }
            let mut old: KernelSigaction = [0; 4];
            let got = libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                std::ptr::null::<KernelSigaction>(),
                &mut old as *mut KernelSigaction,
                SIGSET_SIZE,
            );
            let reset = match old[0] as usize {
                _ if sig == libc::SIGCHLD => true,
                libc::SIG_DFL => false,
                libc::SIG_IGN => sig == libc::SIGPIPE,
                _ => true,
            };
            if got == 0 && reset {
                let dfl: KernelSigaction = [0; 4];
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    &dfl as *const KernelSigaction,
                    std::ptr::null_mut::<KernelSigaction>(),
                    SIGSET_SIZE,
                );
            }
        }
        match s.group {
            Group::Session => check!(libc::setsid()),
            Group::New => check!(libc::setpgid(0, 0)),
            Group::Host => {}
        }
        if s.die_with_host {
            check!(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0));
            if libc::getppid() != s.host {
                // The host died before the prctl: do not run at all.
                s.errno = libc::ESRCH;
                libc::_exit(127);
            }
        }
        if s.cgroup_procs >= 0 {
            check!(libc::write(
                s.cgroup_procs,
                b"0".as_ptr() as *const c_void,
                1
            ));
        }
        // Sources below 3 that are not their own target move out of the way.
        for i in 0..3 {
            let fd = s.stdio[i];
            if fd < 3 && fd != i as c_int {
                let moved = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3);
                check!(moved);
                s.stdio[i] = moved;
            }
        }
        for i in 0..3 {
            let fd = s.stdio[i];
            if fd == i as c_int {
                check!(libc::fcntl(fd, libc::F_SETFD, 0));
            } else {
                check!(libc::dup2(fd, i as c_int));
            }
        }
        if s.cwd_fd >= 0 {
            check!(libc::fchdir(s.cwd_fd));
        } else {
            check!(libc::chdir(s.cwd));
        }
        // Nothing of the host's beyond 0, 1 and 2 survives the exec.
        if let Err(errno) = cloexec_from_3() {
            s.errno = errno;
            libc::_exit(127);
        }
        if let Some(setup) = s.setup.as_ref() {
            if let Err(errno) = setup.apply() {
                s.errno = errno;
                libc::_exit(127);
            }
        }
        set_mask(0, std::ptr::null_mut());
        libc::execve(s.program, s.argv, s.envp);
        s.errno = *libc::__errno_location();
        libc::_exit(127)
    }
}

impl Prepared {
    fn new(spec: &Spec<'_>) -> io::Result<Prepared> {
        use std::os::unix::ffi::OsStrExt;
        let mut strings = vec![
            cstring(spec.program.as_os_str().as_bytes())?,
            cstring(spec.cwd.as_os_str().as_bytes())?,
        ];
        let argc = 1 + spec.args.len();
        for a in std::iter::once(spec.arg0).chain(spec.args.iter().map(String::as_str)) {
            strings.push(cstring(a.as_bytes())?);
        }
        // Sorted by name, as std's Command passes them.
        let mut env: Vec<&(String, String)> = spec.env.iter().collect();
        env.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, v) in env {
            strings.push(cstring(format!("{k}={v}").as_bytes())?);
        }
        let ptrs = |range: std::ops::Range<usize>| -> Vec<*const c_char> {
            strings[range]
                .iter()
                .map(|c| c.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect()
        };
        let argv = ptrs(2..2 + argc);
        let envp = ptrs(2 + argc..strings.len());
        let shared = Shared {
            program: strings[0].as_ptr(),
            argv: argv.as_ptr(),
            envp: envp.as_ptr(),
            cwd: strings[1].as_ptr(),
            cwd_fd: spec.cwd_fd.unwrap_or(-1),
            stdio: spec.stdio,
            group: spec.group,
            die_with_host: spec.die_with_host,
            cgroup_dir: spec.cgroup_dir.unwrap_or(-1),
            cgroup_procs: -1,
            setup: spec
                .setup
                .map_or(std::ptr::null(), |s| s as *const ChildSetup),
            host: 0,
            errno: 0,
        };
        Ok(Prepared {
            _strings: strings,
            _argv: argv,
            _envp: envp,
            shared,
        })
    }

    /// Clones the child on this thread; returns its pid and pidfd once it
    /// has called `execve`.
    fn run(mut self) -> io::Result<(u32, OwnedFd)> {
        // SAFETY: a plain system call.
        self.shared.host = unsafe { libc::getpid() };
        // The child's stack: this thread's buffer, taken out of its slot
        // while the child runs on it (so no one else can use it), its top
        // 16-byte aligned (it grows down). Reused across spawns: a fresh
        // 256 KiB allocation is an `mmap`, page faults and a `munmap`
        // per spawn.
        let mut stack = STACK
            .take()
            .unwrap_or_else(|| Box::new_uninit_slice(STACK_SIZE));
        let top = {
            let end = stack.as_mut_ptr() as usize + stack.len();
            (end & !15) as *mut c_void
        };
        let mut pidfd: c_int = -1;
        let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD;
        let shared = &mut self.shared as *mut Shared as *mut c_void;
        // SAFETY: every signal (glibc's internal ones too) is blocked around
        // the clone so no handler runs in the child before it resets them;
        // the child only touches `shared` and what it points to, and runs
        // on `stack`, all alive and used by no one else until clone
        // returns (CLONE_VFORK: this thread sleeps until the child has
        // called `execve`, which leaves our memory, or exited). With CLONE_PIDFD the kernel
        // stores the child's pidfd in `pidfd` (the parent_tid argument).
        let pid = unsafe {
            let mut old: u64 = 0;
            set_mask(!0, &mut old);
            let mut pid = -libc::ENOSYS;
            if self.shared.cgroup_dir >= 0 && !NO_CLONE_INTO_CGROUP.load(Ordering::Relaxed) {
                let args = CloneArgs {
                    flags: flags as u64 | CLONE_INTO_CGROUP,
                    pidfd: &mut pidfd as *mut c_int as u64,
                    exit_signal: libc::SIGCHLD as u64,
                    stack: stack.as_mut_ptr() as u64,
                    stack_size: (top as usize - stack.as_mut_ptr() as usize) as u64,
                    cgroup: self.shared.cgroup_dir as u64,
                    ..CloneArgs::default()
                };
                pid = clone3_vm(&args, child, shared);
                if pid == -libc::ENOSYS || pid == -libc::EINVAL || pid == -libc::E2BIG {
                    // No clone3, or no CLONE_INTO_CGROUP (Linux < 5.7):
                    // the child joins by writing cgroup.procs.
                    NO_CLONE_INTO_CGROUP.store(true, Ordering::Relaxed);
                    pid = -libc::ENOSYS;
                }
            }
            if pid == -libc::ENOSYS {
                if self.shared.cgroup_dir >= 0 {
                    self.shared.cgroup_procs = libc::openat(
                        self.shared.cgroup_dir,
                        c"cgroup.procs".as_ptr(),
                        libc::O_WRONLY | libc::O_CLOEXEC,
                    );
                }
                pid = if self.shared.cgroup_dir >= 0 && self.shared.cgroup_procs < 0 {
                    -*libc::__errno_location()
                } else {
                    let pid = libc::clone(
                        child,
                        top,
                        flags | libc::SIGCHLD,
                        shared,
                        &mut pidfd as *mut c_int,
                    );
                    if pid < 0 {
                        -*libc::__errno_location()
                    } else {
                        pid
                    }
                };
                if self.shared.cgroup_procs >= 0 {
                    libc::close(self.shared.cgroup_procs);
                }
            }
            set_mask(old, std::ptr::null_mut());
            if pid < 0 {
                return Err(io::Error::from_raw_os_error(-pid));
            }
            pid
        };
        // SAFETY: the kernel filled in a fresh descriptor we now own.
        let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
        // SAFETY: the child wrote it (or not) before the parent resumed.
        let errno = unsafe { std::ptr::read_volatile(&self.shared.errno) };
        STACK.set(Some(stack));
        if errno != 0 {
            // SAFETY: reaping our own failed child, by its pidfd.
            unsafe {
                let mut info: libc::siginfo_t = std::mem::zeroed();
                libc::waitid(
                    crate::pidfd::P_PIDFD,
                    std::os::fd::AsRawFd::as_raw_fd(&pidfd) as libc::id_t,
                    &mut info,
                    libc::WEXITED,
                );
            }
            return Err(io::Error::from_raw_os_error(errno));
        }
        Ok((pid as u32, pidfd))
    }
}

/// `CLONE_INTO_CGROUP` (Linux 5.7; a `clone3` flag, past 32 bits).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Set once `clone3` turned out to lack `CLONE_INTO_CGROUP` here: from
/// then on children join their cgroup by writing `cgroup.procs`.
static NO_CLONE_INTO_CGROUP: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// From now on, this process's children join their cgroup the way they do
/// on kernels without `CLONE_INTO_CGROUP` (writing `0` to the leaf's
/// `cgroup.procs` before `execve`), so that path is tested on a kernel that
/// has `clone3` (`child/tests/cgroup_procs_join.rs`). Both paths contain
/// the child from its first instruction; this one is slower.
#[doc(hidden)]
pub fn join_cgroups_through_procs_file() {
    NO_CLONE_INTO_CGROUP.store(true, Ordering::Relaxed);
}

/// The kernel's `struct clone_args` (its first version with `cgroup`,
/// Linux 5.7).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// `clone3(args)` whose child calls `f(arg)` on the stack `args` names
/// and exits with what it returns, as glibc's `clone` does for `clone`:
/// a system call whose child returns on another stack cannot return into
/// compiled Rust, so the child's side is in the assembly. Returns the
/// child's pid to the parent, or `-errno`.
///
/// SAFETY (for callers): `args` names a stack (16-byte aligned top) that
/// nothing else uses until the child has called `execve` or exited, and,
/// with `CLONE_VM`, `f` may only make plain system calls (it runs in this
/// process's memory); `args.pidfd`, if set, points to a writable `c_int`.
#[cfg(target_arch = "x86_64")]
unsafe fn clone3_vm(
    args: &CloneArgs,
    f: extern "C" fn(*mut c_void) -> c_int,
    arg: *mut c_void,
) -> c_int {
    let ret: i64;
    // SAFETY: as the function's contract says. The parent falls through to
    // label 2 with the result in rax; rcx and r11 are clobbered by
    // `syscall`, and the parent's stack is not touched (the child's `call`
    // pushes onto its own stack, whose top the kernel put in rsp). The
    // child gets r12 and r13 as the parent had them, calls `f(arg)` with a
    // zeroed frame pointer, and exits with its return value (`SYS_exit`,
    // 60) if it ever returns.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "xor ebp, ebp",
            "mov rdi, r12",
            "call r13",
            "mov edi, eax",
            "mov eax, 60",
            "syscall",
            "ud2",
            "2:",
            inlateout("rax") libc::SYS_clone3 => ret,
            in("rdi") args as *const CloneArgs,
            in("rsi") std::mem::size_of::<CloneArgs>(),
            in("r12") arg,
            in("r13") f,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret as c_int
}

/// Elsewhere: no `clone3` trampoline; children join by `cgroup.procs`.
#[cfg(not(target_arch = "x86_64"))]
unsafe fn clone3_vm(
    _args: &CloneArgs,
    _f: extern "C" fn(*mut c_void) -> c_int,
    _arg: *mut c_void,
) -> c_int {
    -libc::ENOSYS
}

/// The size of the child's stack between `clone` and `execve`.
const STACK_SIZE: usize = 256 * 1024;

thread_local! {
    /// This thread's stack for the children it clones (one at a time:
    /// the thread sleeps while its child runs on it).
    static STACK: Cell<Option<Box<[MaybeUninit<u8>]>>> = const { Cell::new(None) };
}

type Job = (Prepared, mpsc::SyncSender<io::Result<(u32, OwnedFd)>>);

/// The long-lived threads children with the death signal are started
/// from: up to one per CPU (at most [`MAX_SPAWNERS`]), so that spawns
/// asked for at once still run in parallel. Each is made the first time
/// its turn comes, so a host that starts one child at a time (the CLI)
/// makes one thread, not one per CPU.
fn spawner(turn: usize) -> io::Result<&'static Mutex<mpsc::Sender<Job>>> {
    static COUNT: OnceLock<usize> = OnceLock::new();
    static SPAWNERS: [OnceLock<Mutex<mpsc::Sender<Job>>>; MAX_SPAWNERS] =
        [const { OnceLock::new() }; MAX_SPAWNERS];
    let n = *COUNT.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_SPAWNERS)
    });
    let slot = &SPAWNERS[turn % n];
    if let Some(s) = slot.get() {
        return Ok(s);
    }
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name(format!("procgate-spawner-{}", turn % n))
        .stack_size(128 * 1024)
        .spawn(move || {
            // Signals for the process go to other threads.
            // SAFETY: a plain system call on this thread.
            unsafe {
                let mut all: libc::sigset_t = std::mem::zeroed();
                libc::sigfillset(&mut all);
                libc::pthread_sigmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
            }
            for (job, reply) in rx {
                let _ = reply.send(job.run());
            }
        })?;
    // Two callers racing here both made a thread: the loser's sender is
    // dropped, and its thread ends with its channel.
    Ok(slot.get_or_init(|| Mutex::new(tx)))
}

/// Most spawner threads.
const MAX_SPAWNERS: usize = 4;

/// Whether this is the process's main thread (its thread id is the pid).
/// Its end is the process's end (a Rust `main` returning calls `exit`), so
/// a child it starts with the death signal dies with the host and not
/// before: the hop to a spawner thread (two context switches and a
/// cross-CPU wake-up, about 40 µs a spawn) is not needed. `procgate run`
/// drives its guest on the main thread. (A C embedder whose main thread
/// calls `pthread_exit` while the process goes on would see those
/// children killed then: early, never late.)
fn on_main_thread() -> bool {
    // SAFETY: two plain system calls without arguments.
    unsafe { libc::gettid() == libc::getpid() }
}

/// Starts the child; returns its pid and pidfd once it has called
/// `execve`. A failure in the child (program missing, not executable, bad
/// cwd) comes back as the child's errno, and the failed child is reaped
/// here. With the death signal the child is started from one of the
/// long-lived spawner threads (this thread waits for it), unless this is
/// the process's main thread or the host's watchdog watches the child's
/// cgroup (then it gets no death signal: the watchdog kills it).
pub fn spawn(spec: &Spec<'_>) -> io::Result<(u32, OwnedFd)> {
    let mut prepared = Prepared::new(spec)?;
    if !spec.die_with_host {
        return prepared.run();
    }
    if on_main_thread() {
        return prepared.run();
    }
    if spec.watched {
        prepared.shared.die_with_host = false;
        return prepared.run();
    }
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let (reply, result) = mpsc::sync_channel(1);
    let gone = || io::Error::other("the procgate spawner thread is gone");
    spawner(NEXT.fetch_add(1, Ordering::Relaxed))?
        .lock()
        .map_err(|_| gone())?
        .send((prepared, reply))
        .map_err(|_| gone())?;
    // The spawner replies (or drops the reply sender) only once the job
    // is done with everything `spec` points to.
    result.recv().map_err(|_| gone())?
}
