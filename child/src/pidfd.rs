//! The system calls on a child's pidfd: `waitid(P_PIDFD)`, the exit status
//! from `PIDFD_GET_INFO`, `pidfd_send_signal`, and the bounded blocking
//! reap used where no async runtime is left.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// `waitid`'s `P_PIDFD` (Linux 5.4).
pub(crate) const P_PIDFD: libc::idtype_t = 3;

/// The asyncio return code of a wait status: the exit status, or `-N`
/// after signal `N`.
pub(crate) fn from_wait_status(code: i32, status: i32) -> i32 {
    if code == libc::CLD_EXITED {
        status
    } else {
        -status
    }
}

/// `waitid` on our child by its pidfd, for an exit; `flags` adds `WNOWAIT`
/// and/or `WNOHANG`. Returns the asyncio return code, or `None` if it has
/// not exited (with `WNOHANG`).
pub(crate) fn waitid(pidfd: &OwnedFd, flags: i32) -> io::Result<Option<i32>> {
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
pub(crate) fn exit_from_pidfd(pidfd: &OwnedFd) -> Option<i32> {
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
pub(crate) fn pidfd_signal(pidfd: &OwnedFd, sig: i32, flags: libc::c_uint) -> io::Result<bool> {
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

/// Waits up to `within` for the killed child `pid` behind `pidfd` to exit,
/// then reaps it and logs its exit. Returns whether it is gone (reaped here,
/// or already reaped elsewhere).
pub(crate) fn reap_within(pid: u32, pidfd: &OwnedFd, within: Duration) -> bool {
    let mut poll = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: a plain system call on our own pollfd.
    unsafe { libc::poll(&mut poll, 1, within.as_millis() as i32) };
    match waitid(pidfd, libc::WNOHANG) {
        Ok(Some(rc)) => {
            procgate_policy::audit::exited(pid, rc);
            true
        }
        Ok(None) => false,
        Err(_) => true,
    }
}
