//! The sandbox *mechanism*: what is set up in a child between `clone` and
//! `execve`, as the policy planned it ([`ChildSandbox`]): resource limits,
//! `PR_SET_NO_NEW_PRIVS` and the Landlock sandbox (files, TCP ports, and
//! the scoping of signals and abstract unix sockets).
//!
//! The Landlock ruleset is built in the parent, once per set of paths
//! while those paths name the same files; the child only calls
//! `setrlimit`, `prctl`, `landlock_restrict_self` and `seccomp` (plain
//! system calls, safe between clone and exec, `clone_spawn.rs`). With
//! Landlock, the child also loses `clone3` (`seccomp.rs`), which would
//! let it start a process outside its cgroup.

use crate::lock::lock;
use landlock::{
    path_beneath_rules, Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, Ruleset,
    RulesetAttr, RulesetCreatedAttr, Scope, ABI,
};
use procgate_policy::sandbox::{ChildSandbox, LandlockPaths, NetGrant, Network};
use procgate_policy::{Error, OsLimits, Result};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The Landlock ABI the ruleset is written for; must match
/// [`procgate_policy::sandbox::REQUIRED_LANDLOCK_ABI`], what `require`
/// asks of the kernel.
const LANDLOCK_ABI: ABI = ABI::V6;

fn landlock_error(e: impl std::fmt::Display) -> Error {
    Error::Io(format!("landlock: {e}"))
}

/// Builds the ruleset in the parent; the child only enforces it. Write
/// rules never include `Execute`, so a child cannot run a file it wrote;
/// signals and abstract unix sockets are scoped to the sandbox, so a child
/// cannot signal the host or an unrelated process; TCP is restricted
/// unless the network is `any`.
fn ruleset(paths: &LandlockPaths) -> Result<Option<OwnedFd>> {
    let existing = |list: &[PathBuf]| -> Vec<PathBuf> {
        list.iter().filter(|p| p.exists()).cloned().collect()
    };
    let level = if paths.require {
        CompatLevel::HardRequirement
    } else {
        CompatLevel::BestEffort
    };
    let mut write = AccessFs::from_all(LANDLOCK_ABI);
    write.remove(AccessFs::Execute);
    let mut ruleset = Ruleset::default()
        .set_compatibility(level)
        .handle_access(AccessFs::from_all(LANDLOCK_ABI))
        .map_err(landlock_error)?
        .scope(Scope::from_all(LANDLOCK_ABI))
        .map_err(landlock_error)?;
    if paths.network != Network::Any {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(LANDLOCK_ABI))
            .map_err(landlock_error)?;
    }
    let ports: Vec<NetPort> = match &paths.network {
        Network::Allow(grants) => grants
            .iter()
            .map(|g| match *g {
                NetGrant::Connect(port) => NetPort::new(port, AccessNet::ConnectTcp),
                NetGrant::Bind(port) => NetPort::new(port, AccessNet::BindTcp),
            })
            .collect(),
        _ => Vec::new(),
    };
    let created = ruleset
        .create()
        .map_err(landlock_error)?
        .add_rules(path_beneath_rules(
            existing(&paths.read),
            AccessFs::from_read(LANDLOCK_ABI),
        ))
        .map_err(landlock_error)?
        .add_rules(path_beneath_rules(existing(&paths.write), write))
        .map_err(landlock_error)?
        // Read-only grants: read and list, never write or execute.
        .add_rules(path_beneath_rules(
            existing(&paths.read_only),
            AccessFs::ReadFile | AccessFs::ReadDir,
        ))
        .map_err(landlock_error)?
        .add_rules(ports.into_iter().map(Ok::<_, landlock::RulesetError>))
        .map_err(landlock_error)?;
    Ok(created.into())
}

#[allow(
    trivial_numeric_casts,
    reason = "rlim_t is u64 on 64-bit Linux, narrower elsewhere"
)]
fn setrlimit(resource: libc::__rlimit_resource_t, value: Option<u64>) -> std::io::Result<()> {
    let Some(value) = value else { return Ok(()) };
    let lim = libc::rlimit {
        rlim_cur: value as libc::rlim_t,
        rlim_max: value as libc::rlim_t,
    };
    // SAFETY: setrlimit is async-signal-safe; `lim` lives on our stack.
    if unsafe { libc::setrlimit(resource, &lim) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The child-side setup of one spawn, prepared in the parent: the rlimits
/// and the built Landlock ruleset, applied in the child just before
/// `execve` (`clone_spawn.rs`).
#[derive(Debug)]
pub(crate) struct ChildSetup {
    os: OsLimits,
    ruleset: Option<Arc<OwnedFd>>,
}

/// A ruleset built earlier: the paths it was built from, the identity
/// (device, inode) of each as it was then (`None`: it did not exist), and
/// the ruleset.
struct Built {
    paths: LandlockPaths,
    found: Vec<Option<(u64, u64)>>,
    ruleset: Option<Arc<OwnedFd>>,
}

/// How many built rulesets are kept (one per policy in use, typically).
const BUILT_KEPT: usize = 8;

/// What each read and write path names now: its (device, inode), after
/// symbolic links, or `None` if it does not exist.
fn identities(paths: &LandlockPaths) -> Vec<Option<(u64, u64)>> {
    use std::os::unix::fs::MetadataExt;
    paths
        .read
        .iter()
        .chain(&paths.write)
        .map(|p| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino())))
        .collect()
}

/// The ruleset for `paths`: the one built earlier for the same paths if
/// every path still names what it named then (so a fresh build would
/// give the same rules: Landlock binds a rule to the inode it was opened
/// at), else a new one. A `stat` per path instead of an open, a rule and a
/// close per path and a ruleset per spawn.
fn ruleset_for(paths: &LandlockPaths) -> Result<Option<Arc<OwnedFd>>> {
    static BUILT: Mutex<Vec<Built>> = Mutex::new(Vec::new());
    let found = identities(paths);
    {
        let built = lock(&BUILT);
        if let Some(b) = built.iter().find(|b| b.paths == *paths && b.found == found) {
            return Ok(b.ruleset.clone());
        }
    }
    let ruleset = ruleset(paths)?.map(Arc::new);
    // What the build saw may have changed since `found` was taken; then
    // the entry is simply not found next time and built again.
    let mut built = lock(&BUILT);
    built.retain(|b| b.paths != *paths);
    if built.len() >= BUILT_KEPT {
        built.remove(0);
    }
    built.push(Built {
        paths: paths.clone(),
        found,
        ruleset: ruleset.clone(),
    });
    Ok(ruleset)
}

/// Prepares the child-side setup, if there is any.
pub(crate) fn prepare(sandbox: &ChildSandbox) -> Result<Option<ChildSetup>> {
    if !sandbox.is_set() {
        return Ok(None);
    }
    let ruleset = match &sandbox.landlock {
        Some(paths) => ruleset_for(paths)?,
        None => None,
    };
    Ok(Some(ChildSetup {
        os: sandbox.os,
        ruleset,
    }))
}

impl ChildSetup {
    /// Applies the setup in the child, between clone and `execve`: only
    /// plain system calls (setrlimit, prctl, landlock_restrict_self and,
    /// with Landlock, the seccomp filter of `seccomp.rs`), no
    /// allocation (an `io::Error` from the OS holds just the errno).
    /// Returns the errno of the step that failed.
    pub(crate) fn apply(&self) -> std::result::Result<(), i32> {
        let errno = |e: std::io::Error| e.raw_os_error().unwrap_or(libc::EINVAL);
        let os = self.os;
        setrlimit(libc::RLIMIT_CPU, os.cpu_secs).map_err(errno)?;
        setrlimit(libc::RLIMIT_AS, os.address_space).map_err(errno)?;
        setrlimit(libc::RLIMIT_NOFILE, os.open_files).map_err(errno)?;
        setrlimit(libc::RLIMIT_NPROC, os.processes).map_err(errno)?;
        // SAFETY: plain system calls on this (child) process.
        unsafe {
            if (os.no_new_privs || self.ruleset.is_some())
                && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
            {
                return Err(*libc::__errno_location());
            }
            if let Some(fd) = &self.ruleset {
                if libc::syscall(libc::SYS_landlock_restrict_self, fd.as_raw_fd(), 0) < 0 {
                    return Err(*libc::__errno_location());
                }
            }
        }
        if self.ruleset.is_some() {
            crate::seccomp::refuse_clone3()?;
        }
        Ok(())
    }
}
