//! Limits: how many children a guest may have and start, how long each may
//! run, how much `communicate` buffers, how big a request may be, and the
//! operating-system limits set in the child before it runs.

use std::time::Duration;

/// How many exited children a guest may hold when the policy says
/// nothing ([`Limits::max_held`]).
pub const DEFAULT_MAX_HELD: usize = 256;

/// The limits of one guest. Every field is off (`None`) by default, except
/// those that bound what the host holds for the guest:
/// `communicate_bytes` (`None` means [`DEFAULT_COMMUNICATE_BYTES`]),
/// `buffered_bytes` (`None` means [`DEFAULT_BUFFERED_BYTES`]) and
/// `max_held` (`None` means [`DEFAULT_MAX_HELD`]). A policy may raise them
/// explicitly; none can be switched off.
///
/// ```
/// use procgate_policy::{Limits, OsLimits};
/// use std::time::Duration;
///
/// let limits = Limits {
///     max_live: Some(4),
///     timeout: Some(Duration::from_secs(30)),
///     os: OsLimits { cpu_secs: Some(10), ..OsLimits::default() },
///     ..Limits::default()
/// };
/// let policy = procgate_policy::Policy::builder().limits(limits).build().unwrap();
/// assert_eq!(policy.limits().max_live, Some(4));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    /// Most children alive at once: started and not yet exited, whether
    /// the guest holds the handle or dropped it (a dropped child counts
    /// until the host has ended and reaped it). Past it: `limit-exceeded`.
    pub max_live: Option<usize>,
    /// Most children that have exited while the guest still holds their
    /// handle (or a pollable of their exit): each pins a zombie, a pidfd
    /// and its pipes in the host. `None` means [`DEFAULT_MAX_HELD`]; past
    /// it: `limit-exceeded`.
    pub max_held: Option<usize>,
    /// Most children the guest may start in its lifetime.
    pub max_spawns: Option<u64>,
    /// Wall-clock time a child may run; then SIGTERM to its process
    /// group, and SIGKILL after the grace period.
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL after a timeout; default the
    /// context's kill grace (`ProcgateCtx::kill_grace` in the `procgate` crate).
    pub kill_grace: Option<Duration>,
    /// Most bytes one `communicate` buffers from each of stdout and
    /// stderr; past it the child is killed and the guest gets
    /// `limit-exceeded`. `None`: [`DEFAULT_COMMUNICATE_BYTES`] (16 MiB).
    pub communicate_bytes: Option<usize>,
    /// Most bytes all of the guest's communicates hold at once: their
    /// input, the stdout and stderr they buffered and the guest has not
    /// taken yet (WIT `take-output`), and [`COMMUNICATE_OVERHEAD`] each for
    /// its task. A communicate that would
    /// go past it gets `limit-exceeded` (its child is killed, as past
    /// `communicate_bytes`). `None`: [`DEFAULT_BUFFERED_BYTES`] (64 MiB).
    pub buffered_bytes: Option<usize>,
    /// Most bytes of program name and arguments (each counted with its
    /// terminating NUL).
    pub max_arg_bytes: Option<usize>,
    /// Most bytes of the child's environment (`KEY=VALUE` plus NUL each).
    pub max_env_bytes: Option<usize>,
    /// Limits set in the child before it runs.
    pub os: OsLimits,
}

/// What `communicate` buffers per stream when the policy does not say:
/// 16 MiB.
pub const DEFAULT_COMMUNICATE_BYTES: usize = 16 << 20;

/// What all communicates of one guest hold at once when the policy does not
/// say: 64 MiB.
pub const DEFAULT_BUFFERED_BYTES: usize = 64 << 20;

/// What each communicate is charged against `buffered_bytes` for its task
/// and bookkeeping, before any data: 4 KiB (more than it uses), so the
/// number of communicates in flight is bounded too.
pub const COMMUNICATE_OVERHEAD: usize = 4 << 10;

impl Limits {
    /// The effective per-stream `communicate` limit.
    ///
    /// ```
    /// let l = procgate_policy::Limits::default();
    /// assert_eq!(l.communicate_cap(), procgate_policy::DEFAULT_COMMUNICATE_BYTES);
    /// ```
    pub fn communicate_cap(&self) -> usize {
        self.communicate_bytes.unwrap_or(DEFAULT_COMMUNICATE_BYTES)
    }

    /// The effective limit on what all communicates of the guest hold.
    ///
    /// ```
    /// let l = procgate_policy::Limits::default();
    /// assert_eq!(l.buffered_cap(), procgate_policy::DEFAULT_BUFFERED_BYTES);
    /// ```
    pub fn buffered_cap(&self) -> usize {
        self.buffered_bytes.unwrap_or(DEFAULT_BUFFERED_BYTES)
    }
}

/// Operating-system limits set in the child between `clone` and `execve`
/// (`procgate-child`'s `clone_spawn.rs`, which starts every child with
/// `clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD)`).
///
/// ```
/// let os = procgate_policy::OsLimits { open_files: Some(64), ..Default::default() };
/// assert!(os.is_set());
/// assert!(!procgate_policy::OsLimits::default().is_set());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OsLimits {
    /// `RLIMIT_CPU`, in seconds (SIGXCPU, then SIGKILL).
    pub cpu_secs: Option<u64>,
    /// `RLIMIT_AS`, in bytes.
    pub address_space: Option<u64>,
    /// `RLIMIT_NOFILE`.
    pub open_files: Option<u64>,
    /// `RLIMIT_NPROC` (counted per user, and not enforced for root).
    pub processes: Option<u64>,
    /// Set `PR_SET_NO_NEW_PRIVS`: no set-uid or file-capability gains.
    pub no_new_privs: bool,
}

impl OsLimits {
    /// Whether any limit is set.
    ///
    /// ```
    /// assert!(!procgate_policy::OsLimits::default().is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        *self != OsLimits::default()
    }
}

impl Limits {
    /// The bound on held children: [`Limits::max_held`], or
    /// [`DEFAULT_MAX_HELD`].
    ///
    /// ```
    /// let limits = procgate_policy::Limits::default();
    /// assert_eq!(limits.held_bound(), procgate_policy::DEFAULT_MAX_HELD);
    /// ```
    pub fn held_bound(&self) -> usize {
        self.max_held.unwrap_or(DEFAULT_MAX_HELD)
    }
}

/// What a guest has used so far: the input of the live-process and spawn
/// limits, counted by the embedding's context.
///
/// ```
/// let usage = procgate_policy::Usage { live: 1, held: 0, spawned: 3 };
/// assert_eq!(usage.live, 1);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Children alive now (not yet exited), handle held or not.
    pub live: usize,
    /// Children that have exited and whose handle (or exit) the guest
    /// still holds.
    pub held: usize,
    /// Children started so far.
    pub spawned: u64,
}

/// Bytes an argument vector takes (each string plus its NUL).
pub(crate) fn arg_bytes<'a>(args: impl IntoIterator<Item = &'a str>) -> usize {
    args.into_iter().map(|a| a.len() + 1).sum()
}
