//! Starting a child with `clone(CLONE_VM | CLONE_VFORK)`, the way glibc's
//! `posix_spawn` does, plus the one thing `posix_spawn` cannot do:
//! `PR_SET_PDEATHSIG`, so the child dies with the host.
//!
//! std's `Command` forks as soon as a pre-exec hook is installed, and a fork
//! copies the host's page tables: measured here, about 300 µs per spawn in a
//! host running wasmtime. Sharing the address space until `execve` costs
//! none of that. The child runs [`child`] on a stack of its own, makes only
//! plain system calls, and reports a failure through memory it shares with
//! the parent (which sleeps until the child has called `execve` or exited).

use std::ffi::{c_char, c_int, c_void, CString};
use std::io;
use std::os::fd::RawFd;
use std::path::Path;

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
    /// The working directory.
    pub cwd: &'a Path,
    /// The descriptors that become the child's 0, 1 and 2.
    pub stdio: [RawFd; 3],
    /// `setsid` instead of a new process group.
    pub new_session: bool,
}

/// Shared between parent and child (same memory until `execve`).
struct Shared {
    program: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
    cwd: *const c_char,
    stdio: [c_int; 3],
    new_session: bool,
    host: libc::pid_t,
    /// Set by the child when a step fails: the errno.
    errno: c_int,
}

fn cstring(s: &[u8]) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte"))
}

/// The child's side: runs between `clone` and `execve`, in the parent's
/// memory, with every signal blocked.
extern "C" fn child(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the parent's `Shared`, alive while the parent sleeps
    // in clone (CLONE_VFORK). Only async-signal-safe calls below.
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
        // back to its default (ignored ones stay ignored, except SIGPIPE,
        // which Rust's runtime ignores and children expect by default).
        for sig in 1..65 {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction != libc::SIG_DFL
                && (old.sa_sigaction != libc::SIG_IGN || sig == libc::SIGPIPE)
            {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &dfl, std::ptr::null_mut());
            }
        }
        if s.new_session {
            check!(libc::setsid());
        } else {
            check!(libc::setpgid(0, 0));
        }
        check!(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0));
        if libc::getppid() != s.host {
            // The host died before the prctl: do not run at all.
            s.errno = libc::ESRCH;
            libc::_exit(127);
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
        check!(libc::chdir(s.cwd));
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        libc::execve(s.program, s.argv, s.envp);
        s.errno = *libc::__errno_location();
        libc::_exit(127)
    }
}

/// Starts the child; returns its pid once it has called `execve`. A failure
/// in the child (program missing, not executable, bad cwd) comes back as
/// the child's errno, and the failed child is reaped here.
pub fn spawn(spec: &Spec<'_>) -> io::Result<u32> {
    use std::os::unix::ffi::OsStrExt;
    let program = cstring(spec.program.as_os_str().as_bytes())?;
    let cwd = cstring(spec.cwd.as_os_str().as_bytes())?;
    let argv_c: Vec<CString> = std::iter::once(spec.arg0)
        .chain(spec.args.iter().map(String::as_str))
        .map(|a| cstring(a.as_bytes()))
        .collect::<io::Result<_>>()?;
    // Sorted by name, as std's Command passes them.
    let mut env: Vec<&(String, String)> = spec.env.iter().collect();
    env.sort_by(|a, b| a.0.cmp(&b.0));
    let envp_c: Vec<CString> = env
        .iter()
        .map(|(k, v)| cstring(format!("{k}={v}").as_bytes()))
        .collect::<io::Result<_>>()?;
    let argv: Vec<*const c_char> = argv_c
        .iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const c_char> = envp_c
        .iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let mut shared = Shared {
        program: program.as_ptr(),
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        cwd: cwd.as_ptr(),
        stdio: spec.stdio,
        new_session: spec.new_session,
        // SAFETY: a plain system call.
        host: unsafe { libc::getpid() },
        errno: 0,
    };
    // The child's stack: 256 KiB, 16-byte aligned top (it grows down).
    let mut stack = vec![0u8; 256 * 1024];
    let top = {
        let end = stack.as_mut_ptr() as usize + stack.len();
        (end & !15) as *mut c_void
    };
    // SAFETY: signals are blocked around the clone so no handler runs in the
    // child before it resets them; the child only touches `shared` and the
    // strings above, all alive until clone returns (CLONE_VFORK).
    let pid = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let pid = libc::clone(
            child,
            top,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            &mut shared as *mut Shared as *mut c_void,
        );
        let err = io::Error::last_os_error();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        if pid < 0 {
            return Err(err);
        }
        pid
    };
    // SAFETY: the child wrote it (or not) before the parent resumed.
    let errno = unsafe { std::ptr::read_volatile(&shared.errno) };
    drop(stack);
    if errno != 0 {
        // SAFETY: reaping our own failed child.
        unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        return Err(io::Error::from_raw_os_error(errno));
    }
    Ok(pid as u32)
}
