//! What is set up in a child between fork and exec: resource limits,
//! `PR_SET_NO_NEW_PRIVS` and the Landlock sandbox (files, TCP ports, and
//! the scoping of signals and abstract unix sockets).
//!
//! The Landlock ruleset is built in the parent; the child only calls
//! `setrlimit`, `prctl` and `landlock_restrict_self` (plain system calls,
//! safe between clone and exec, [`crate::clone_spawn`]).
//!
//! ```
//! use procgate::sandbox::{LandlockMode, Sandbox};
//!
//! let sandbox = Sandbox { landlock: LandlockMode::BestEffort, ..Sandbox::default() };
//! let policy = procgate::Policy::builder().sandbox(sandbox).build().unwrap();
//! ```

use crate::error::{Error, Result};
use crate::policy::OsLimits;
use landlock::{
    path_beneath_rules, Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, Ruleset,
    RulesetAttr, RulesetCreatedAttr, Scope, ABI,
};
use serde::{Deserialize, Deserializer};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where children may read and execute when the policy turns Landlock on
/// and names no `read` list.
pub const DEFAULT_READ: &[&str] = &["/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/dev"];

/// Files children may always write under Landlock, beside the grants.
pub const ALWAYS_WRITE: &[&str] = &["/dev/null"];

/// The Landlock ABI the ruleset is written for (Linux 6.12: files with
/// truncate and ioctl rules, TCP ports, scoped signals and abstract unix
/// sockets); newer kernels enforce it fully, older ones as much as they can
/// under `best-effort`, and not at all under `require`.
const LANDLOCK_ABI: ABI = ABI::V6;

/// [`LANDLOCK_ABI`] as a number: what `require` needs of the kernel.
pub const REQUIRED_LANDLOCK_ABI: i32 = 6;

/// Whether children may use the network (through Landlock's TCP rules,
/// ABI 4): `"any"` (the default: not restricted), `"none"` (no TCP bind or
/// connect), or a list of grants, `["tcp-connect:443", "tcp-bind:8080"]`.
/// Landlock covers TCP only: UDP, raw sockets and other families are not
/// restricted; unix sockets by path fall under the file rules, abstract
/// ones are scoped to the sandbox.
///
/// ```
/// use procgate::sandbox::{NetGrant, Network};
/// let net: Network = "tcp-connect:443".parse::<NetGrant>().map(|g| Network::Allow(vec![g])).unwrap();
/// assert_eq!(net, Network::Allow(vec![NetGrant::Connect(443)]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Network {
    /// Not restricted.
    #[default]
    Any,
    /// No TCP bind or connect.
    None,
    /// Only these TCP ports.
    Allow(Vec<NetGrant>),
}

/// One TCP port a sandboxed child may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetGrant {
    /// `tcp-connect:PORT`.
    Connect(u16),
    /// `tcp-bind:PORT`.
    Bind(u16),
}

impl std::str::FromStr for NetGrant {
    type Err = String;

    fn from_str(s: &str) -> Result<NetGrant, String> {
        let bad = || format!("{s:?}: expected tcp-connect:PORT or tcp-bind:PORT");
        let (kind, port) = s.split_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        match kind {
            "tcp-connect" => Ok(NetGrant::Connect(port)),
            "tcp-bind" => Ok(NetGrant::Bind(port)),
            _ => Err(bad()),
        }
    }
}

impl<'de> Deserialize<'de> for Network {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Network, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            List(Vec<String>),
        }
        let err = serde::de::Error::custom;
        match Raw::deserialize(d)? {
            Raw::Word(w) if w == "any" => Ok(Network::Any),
            Raw::Word(w) if w == "none" => Ok(Network::None),
            Raw::Word(w) => Err(err(format!(
                "{w:?}: expected \"any\", \"none\" or a list such as [\"tcp-connect:443\"]"
            ))),
            Raw::List(list) => list
                .iter()
                .map(|g| g.parse())
                .collect::<std::result::Result<_, _>>()
                .map(Network::Allow)
                .map_err(err),
        }
    }
}

/// Whether children run in a Landlock sandbox, and what happens where the
/// kernel lacks Landlock.
///
/// ```
/// assert_eq!(procgate::sandbox::LandlockMode::default(), procgate::sandbox::LandlockMode::Off);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LandlockMode {
    /// No Landlock sandbox.
    #[default]
    Off,
    /// Sandbox where the kernel supports it; elsewhere run without (and
    /// say so in the audit log).
    BestEffort,
    /// Sandbox, or refuse to start the child (`denied`).
    Require,
}

/// The filesystem sandbox of a policy.
///
/// ```
/// use procgate::sandbox::{LandlockMode, Sandbox};
/// let sandbox = Sandbox {
///     landlock: LandlockMode::Require,
///     read: Some(vec!["/usr".into(), "/etc".into()]),
///     write: vec!["/tmp".into()],
///     ..Sandbox::default()
/// };
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sandbox {
    /// Landlock on or off.
    pub landlock: LandlockMode,
    /// Where children may read and execute; default [`DEFAULT_READ`].
    /// The program itself is always added; granted directories are readable
    /// (not executable) through their write rule.
    pub read: Option<Vec<PathBuf>>,
    /// Where children may write besides the granted directories (and
    /// [`ALWAYS_WRITE`]); never execute.
    pub write: Vec<PathBuf>,
    /// Whether each child runs in a cgroup of its own (default
    /// best-effort); see [`crate::cgroup`].
    pub cgroup: crate::cgroup::CgroupMode,
    /// TCP ports children may bind or connect to.
    pub network: Network,
}

/// The Landlock sandbox of one child.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LandlockPaths {
    /// Read and execute.
    pub read: Vec<PathBuf>,
    /// Read, write, create and remove; not execute.
    pub write: Vec<PathBuf>,
    /// TCP bind and connect.
    pub network: Network,
    /// Everything must be enforced (`require`): fail rather than run with
    /// part of the sandbox.
    pub require: bool,
}

/// Everything set up in one child before exec, as the policy planned it.
///
/// ```
/// assert!(!procgate::sandbox::ChildSandbox::default().is_set());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildSandbox {
    /// Resource limits and `no_new_privs`.
    pub os: OsLimits,
    /// The Landlock sandbox, if one applies.
    pub landlock: Option<LandlockPaths>,
}

impl ChildSandbox {
    /// Whether anything must run in the child before exec.
    ///
    /// ```
    /// use procgate::sandbox::{ChildSandbox, LandlockPaths};
    /// let sb = ChildSandbox { landlock: Some(LandlockPaths::default()), ..Default::default() };
    /// assert!(sb.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.os.is_set() || self.landlock.is_some()
    }
}

/// The Landlock ABI version of the running kernel; 0 where it lacks
/// Landlock (or has it disabled).
///
/// ```
/// let abi = procgate::sandbox::landlock_abi();
/// assert!(abi >= 0);
/// ```
pub fn landlock_abi() -> i32 {
    static ABI_VERSION: OnceLock<i32> = OnceLock::new();
    *ABI_VERSION.get_or_init(|| {
        const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
        // SAFETY: the documented version query: no ruleset, no memory.
        let v = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<libc::c_void>(),
                0usize,
                LANDLOCK_CREATE_RULESET_VERSION,
            )
        };
        v.max(0) as i32
    })
}

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
        .add_rules(ports.into_iter().map(Ok::<_, landlock::RulesetError>))
        .map_err(landlock_error)?;
    Ok(created.into())
}

/// Why `require` cannot be met on a kernel with Landlock ABI `abi`, if it
/// cannot: procgate asks for [`REQUIRED_LANDLOCK_ABI`].
///
/// ```
/// assert!(procgate::sandbox::require_refusal(6).is_none());
/// let why = procgate::sandbox::require_refusal(1).unwrap();
/// assert!(why.contains("ABI 1") && why.contains("ABI 6"));
/// ```
pub fn require_refusal(abi: i32) -> Option<String> {
    if abi >= REQUIRED_LANDLOCK_ABI {
        return None;
    }
    let has = match abi {
        0 => "lacks Landlock".to_string(),
        n => format!("has Landlock ABI {n}"),
    };
    Some(format!(
        "sandbox.landlock is \"require\" but this kernel {has}; procgate needs ABI \
         {REQUIRED_LANDLOCK_ABI} (Linux 6.12: truncate, ioctl and TCP rules, scoped signals and \
         abstract sockets); use \"best-effort\" to run with what the kernel has"
    ))
}

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
/// `execve` ([`crate::clone_spawn`]).
#[derive(Debug)]
pub(crate) struct ChildSetup {
    os: OsLimits,
    ruleset: Option<OwnedFd>,
}

/// Prepares the child-side setup, if there is any.
pub(crate) fn prepare(sandbox: &ChildSandbox) -> Result<Option<ChildSetup>> {
    if !sandbox.is_set() {
        return Ok(None);
    }
    let ruleset = match &sandbox.landlock {
        Some(paths) => ruleset(paths)?,
        None => None,
    };
    Ok(Some(ChildSetup {
        os: sandbox.os,
        ruleset,
    }))
}

impl ChildSetup {
    /// Applies the setup in the child, between clone and `execve`: only
    /// plain system calls (setrlimit, prctl, landlock_restrict_self), no
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
        Ok(())
    }
}

/// The Landlock paths for one child: the policy's read list (or the
/// default), the program, the granted directories and the write list.
pub(crate) fn landlock_paths(
    sandbox: &Sandbox,
    program: &Path,
    grants: &[PathBuf],
) -> LandlockPaths {
    let mut read: Vec<PathBuf> = match &sandbox.read {
        Some(list) => list.clone(),
        None => DEFAULT_READ.iter().map(PathBuf::from).collect(),
    };
    read.push(program.to_path_buf());
    let mut write: Vec<PathBuf> = grants.to_vec();
    write.extend(sandbox.write.iter().cloned());
    write.extend(ALWAYS_WRITE.iter().map(PathBuf::from));
    LandlockPaths {
        read,
        write,
        network: sandbox.network.clone(),
        require: sandbox.landlock == LandlockMode::Require,
    }
}
