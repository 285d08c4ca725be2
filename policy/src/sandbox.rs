//! The sandbox *plan* of children, as data: the Landlock paths, TCP
//! grants and scopes, the rlimits ([`OsLimits`]), and the cgroup mode. The
//! mechanism that enforces them lives in `procgate-child`; the kernel's
//! facts it needs to decide come from [`KernelFacts`].
//!
//! ```
//! use procgate_policy::sandbox::{LandlockMode, Sandbox};
//!
//! let sandbox = Sandbox { landlock: LandlockMode::BestEffort, ..Sandbox::default() };
//! let policy = procgate_policy::Policy::builder().sandbox(sandbox).build().unwrap();
//! ```

use crate::limits::OsLimits;
use serde::{Deserialize, Deserializer};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where children may read and execute when the policy turns Landlock on
/// and names no `read` list.
pub const DEFAULT_READ: &[&str] = &["/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/dev"];

/// Files children may always write under Landlock, beside the grants.
pub const ALWAYS_WRITE: &[&str] = &["/dev/null"];

/// The Landlock ABI procgate's ruleset is written for (Linux 6.12: files
/// with truncate and ioctl rules, TCP ports, scoped signals and abstract
/// unix sockets): what `require` needs of the kernel. Newer kernels enforce
/// it fully, older ones as much as they can under `best-effort`.
pub const REQUIRED_LANDLOCK_ABI: i32 = 6;

/// Whether children may use the network (through Landlock's TCP rules,
/// ABI 4): `"any"` (the default: not restricted), `"none"` (no TCP bind or
/// connect), or a list of grants, `["tcp-connect:443", "tcp-bind:8080"]`.
/// Landlock covers TCP only: UDP, raw sockets and other families are not
/// restricted; unix sockets by path fall under the file rules, abstract
/// ones are scoped to the sandbox.
///
/// ```
/// use procgate_policy::sandbox::{NetGrant, Network};
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
/// assert_eq!(procgate_policy::sandbox::LandlockMode::default(), procgate_policy::sandbox::LandlockMode::Off);
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

/// Whether children run in cgroups of their own, and what happens where no
/// cgroup can be made (no writable cgroup v2, or no delegation).
///
/// ```
/// use procgate_policy::CgroupMode;
/// assert_eq!(CgroupMode::default(), CgroupMode::BestEffort);
/// assert_eq!("require".parse::<CgroupMode>(), Ok(CgroupMode::Require));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CgroupMode {
    /// No cgroup: children are contained by their process group (and
    /// killed through their pidfd).
    Off,
    /// A cgroup where one can be made; elsewhere as `Off` (logged once).
    #[default]
    BestEffort,
    /// A cgroup, or refuse to start the child (`denied`).
    Require,
}

impl std::str::FromStr for CgroupMode {
    type Err = String;

    fn from_str(s: &str) -> Result<CgroupMode, String> {
        match s {
            "off" => Ok(CgroupMode::Off),
            "best-effort" => Ok(CgroupMode::BestEffort),
            "require" => Ok(CgroupMode::Require),
            _ => Err(format!(
                "{s:?}: expected \"off\", \"best-effort\" or \"require\""
            )),
        }
    }
}

/// The filesystem sandbox of a policy.
///
/// ```
/// use procgate_policy::sandbox::{LandlockMode, Sandbox};
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
    /// best-effort); see [`CgroupMode`].
    pub cgroup: CgroupMode,
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
    /// Read files and list directories only: the read-only grants.
    pub read_only: Vec<PathBuf>,
    /// TCP bind and connect.
    pub network: Network,
    /// Everything must be enforced (`require`): fail rather than run with
    /// part of the sandbox.
    pub require: bool,
}

/// Everything set up in one child before exec, as the policy planned it.
///
/// ```
/// assert!(!procgate_policy::sandbox::ChildSandbox::default().is_set());
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
    /// use procgate_policy::sandbox::{ChildSandbox, LandlockPaths};
    /// let sb = ChildSandbox { landlock: Some(LandlockPaths::default()), ..Default::default() };
    /// assert!(sb.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.os.is_set() || self.landlock.is_some()
    }
}

/// What the running kernel offers the sandbox, read once when a policy is
/// built ([`crate::PolicyBuilder::kernel`]) and never while deciding.
///
/// ```
/// let facts = procgate_policy::KernelFacts::probe();
/// assert!(facts.landlock_abi >= 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelFacts {
    /// The kernel's Landlock ABI version; 0 where it lacks Landlock.
    pub landlock_abi: i32,
}

impl KernelFacts {
    /// Reads the facts of the running kernel (cached after the first call).
    pub fn probe() -> KernelFacts {
        KernelFacts {
            landlock_abi: landlock_abi(),
        }
    }
}

/// The Landlock ABI version of the running kernel; 0 where it lacks
/// Landlock (or has it disabled).
///
/// ```
/// let abi = procgate_policy::sandbox::landlock_abi();
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

/// One cgroup v2 mount, from `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroup2Mount {
    /// The cgroup the mount shows at its top (`/` for the whole tree).
    pub root: String,
    /// Where it is mounted.
    pub mount_point: PathBuf,
}

/// The cgroup v2 mounts this process sees (none where `/proc` is not
/// mounted). A child that may write in one could write a `cgroup.procs`
/// file there and move itself out of its cgroup, so the policy refuses a
/// Landlock write grant over one.
///
/// ```
/// for m in procgate_policy::sandbox::cgroup2_mounts() {
///     assert!(m.mount_point.is_absolute() && m.root.starts_with('/'));
/// }
/// ```
pub fn cgroup2_mounts() -> Vec<Cgroup2Mount> {
    let Ok(mountinfo) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    mountinfo
        .lines()
        .filter_map(|line| {
            // "id parent dev root mount-point options ... - fstype source opts"
            let (left, right) = line.split_once(" - ")?;
            if right.split(' ').next() != Some("cgroup2") {
                return None;
            }
            let fields: Vec<&str> = left.split(' ').collect();
            Some(Cgroup2Mount {
                root: fields.get(3)?.to_string(),
                mount_point: PathBuf::from(fields.get(4)?),
            })
        })
        .collect()
}

/// Why `require` cannot be met on a kernel with Landlock ABI `abi`, if it
/// cannot: procgate asks for [`REQUIRED_LANDLOCK_ABI`].
///
/// ```
/// assert!(procgate_policy::sandbox::require_refusal(6).is_none());
/// let why = procgate_policy::sandbox::require_refusal(1).unwrap();
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

/// The Landlock paths for one child: the policy's read list (or the
/// default), the program, the granted directories (`read_only`: those
/// granted read-only) and the write list.
pub(crate) fn landlock_paths(
    sandbox: &Sandbox,
    program: &Path,
    grants: &[PathBuf],
    read_only: &[PathBuf],
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
        read_only: read_only.to_vec(),
        network: sandbox.network.clone(),
        require: sandbox.landlock == LandlockMode::Require,
    }
}
