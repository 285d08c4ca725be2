//! The one system call the Landlock sandbox refuses besides what Landlock
//! covers: `clone3`. Its `CLONE_INTO_CGROUP` starts a process in any
//! cgroup whose directory the caller can open, `O_PATH` included, and
//! where the caller may move processes (root: everywhere). Landlock checks
//! neither an `O_PATH` open nor a cgroup migration, so a sandboxed child
//! could start a process outside the cgroup that contains it, beyond every
//! bound the host keeps (`tests/tests/guests/containment.rs::under_landlock_a_grandchild_cannot_move_itself_out_of_its_cgroup`).
//! Writing a `cgroup.procs` file, the other way out, is a file write that
//! Landlock refuses, and the policy refuses a write grant over a cgroup2
//! mount (`procgate_policy::sandbox::cgroup2_mounts`).
//!
//! `clone3` fails with `ENOSYS`, as container runtimes' default filters
//! do: glibc (`posix_spawn`, `pthread_create`), Python and Rust's std then
//! fall back to `clone`, which cannot name a cgroup.
//!
//! # Caveats
//!
//! The filter matches the system call number 435, `clone3` on every
//! architecture Linux numbers new calls alike on (x86-64, its x32 and i386
//! ABIs, aarch64 and its arm32 compat, riscv64); it is installed only on
//! x86-64 and aarch64 hosts, elsewhere children keep `clone3`.

/// x32's bit in a system call's number (x86-64): masked off, so that x32's
/// `clone3` (435 with the bit) is refused too. No other number becomes
/// 435 by it on these architectures.
const X32_BIT: u32 = 0x4000_0000;

/// `clone3`'s number, the same in every ABI listed above.
const CLONE3: u32 = 435;

const fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

const fn jump_eq(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    }
}

/// `nr & !X32_BIT == 435` → `ENOSYS`; anything else is allowed. The
/// architecture field is not read: 435 is `clone3` in each ABI a process
/// on these hosts can call.
static FILTER: [libc::sock_filter; 5] = [
    // A = seccomp_data.nr (offset 0)
    stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0),
    stmt(libc::BPF_ALU | libc::BPF_AND | libc::BPF_K, !X32_BIT),
    jump_eq(CLONE3, 0, 1),
    stmt(
        libc::BPF_RET | libc::BPF_K,
        libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
    ),
    stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
];

/// Installs the filter on the calling thread (the child, between `clone`
/// and `execve`; `execve` keeps it). Needs `PR_SET_NO_NEW_PRIVS` (or
/// `CAP_SYS_ADMIN`). One plain system call on a static program: no
/// allocation. Returns the errno on failure.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) fn refuse_clone3() -> Result<(), i32> {
    let prog = libc::sock_fprog {
        len: FILTER.len() as libc::c_ushort,
        filter: FILTER.as_ptr().cast_mut(),
    };
    // SAFETY: a plain system call; `prog` lives on our stack and points at
    // a static program the kernel copies and never writes.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &prog as *const libc::sock_fprog,
        )
    };
    if ret < 0 {
        // SAFETY: reads this thread's errno, set by the call just above.
        return Err(unsafe { *libc::__errno_location() });
    }
    Ok(())
}

/// Elsewhere: children keep `clone3` (see the caveats above).
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(crate) fn refuse_clone3() -> Result<(), i32> {
    Ok(())
}
