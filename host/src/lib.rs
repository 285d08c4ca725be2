//! procgate: Python's `asyncio.subprocess` API, served to sandboxed
//! WebAssembly guests through the WIT package `procgate:subprocess@0.1.0`.
//!
//! An embedder owns a [`ProcgateCtx`] (the guest's [`Policy`] and where its
//! inherited stdio goes) in its store data, implements [`ProcgateView`] to
//! hand it out, and adds procgate to its linker beside WASI with
//! [`add_to_linker_async`]. Every request the guest makes is decided by the
//! policy (and the embedder's [`hooks`]), at one place
//! ([`Policy::decide_with`]), and logged as one audit event.
//! Children belong to the guest: when it drops a process handle unwaited or
//! its store is dropped, the host kills and reaps them.
//!
//! ```no_run
//! use procgate::{Policy, ProcgateCtx, ProcgateCtxView, ProcgateView};
//! use wasmtime::component::{Linker, ResourceTable};
//! use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
//!
//! struct State {
//!     wasi: WasiCtx,
//!     procgate: ProcgateCtx,
//!     table: ResourceTable,
//! }
//! impl WasiView for State {
//!     fn ctx(&mut self) -> WasiCtxView<'_> {
//!         WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
//!     }
//! }
//! impl ProcgateView for State {
//!     fn procgate(&mut self) -> ProcgateCtxView<'_> {
//!         ProcgateCtxView { ctx: &mut self.procgate, table: &mut self.table }
//!     }
//! }
//!
//! # fn main() -> anyhow::Result<()> {
//! let engine = wasmtime::Engine::default();
//! let mut linker = Linker::<State>::new(&engine);
//! wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
//! procgate::add_to_linker_async(&mut linker)?;
//! let policy = Policy::builder().allow_program("git").build()?;
//! let state = State {
//!     wasi: WasiCtx::builder().inherit_stdio().build(),
//!     procgate: ProcgateCtx::new(policy),
//!     // Bounded: the handles a guest makes bound the host memory they take.
//!     table: procgate::resource_table(),
//! };
//! # let _ = state; Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod bindings;
pub mod cache;
pub mod cgroup;
mod clone_spawn;
pub mod communicate;
mod error;
pub mod hooks;
mod host;
pub mod policy;
pub mod process;
pub mod runner;
pub mod sandbox;
pub mod signals;
pub mod spawn;
pub mod streams;
mod timeout;
pub mod usage;

pub use error::{Error, Result};
pub use policy::Policy;
pub use spawn::{InheritedOutput, InheritedStdio};

use communicate::Budget;
use hooks::{AllowAll, ProcgateHooks};
use policy::audit::Auditor;
use process::Children;
use std::sync::Arc;
use usage::UsageCounter;
use wasmtime::component::{HasData, Linker, ResourceTable};

/// The procgate state of one guest: its policy, the embedder's hooks,
/// where the stdio its children inherit goes, and its children. The
/// embedder keeps it in its store data.
///
/// ```
/// let ctx = procgate::ProcgateCtx::new(procgate::Policy::default());
/// ```
pub struct ProcgateCtx {
    policy: Policy,
    inherited: InheritedStdio,
    children: Arc<Children>,
    hooks: Arc<dyn ProcgateHooks>,
    usage: UsageCounter,
    /// What the guest's communicates hold, against `limits.buffered_bytes`.
    budget: Arc<Budget>,
    /// The guest's run id and audit state.
    audit: Arc<Auditor>,
}

/// Most entries the resource table made by [`resource_table`] holds: the
/// processes, streams, pollables and futures of one guest (WASI's
/// included). Past it, a call returning a `result` gets `limit-exceeded`
/// and one that cannot fail (`subscribe`) traps the guest.
pub const MAX_TABLE_ENTRIES: usize = 1 << 16;

/// A resource table for one guest's store, holding at most
/// [`MAX_TABLE_ENTRIES`] entries (wasmtime's default is a million), so the
/// handles a guest creates bound the host memory they take.
///
/// ```
/// assert_eq!(procgate::resource_table().max_capacity(), procgate::MAX_TABLE_ENTRIES);
/// ```
pub fn resource_table() -> ResourceTable {
    let mut table = ResourceTable::new();
    table.set_max_capacity(MAX_TABLE_ENTRIES);
    table
}

impl std::fmt::Debug for ProcgateCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcgateCtx")
            .field("policy", &self.policy)
            .field("inherited", &self.inherited)
            .field("children", &self.children)
            .field("usage", &self.usage)
            .finish_non_exhaustive()
    }
}

impl ProcgateCtx {
    /// A context deciding by `policy`, whose children inherit nothing from
    /// the host: `inherit` means `/dev/null` for stdin and discarded output,
    /// until [`ProcgateCtx::inherit`] says otherwise.
    pub fn new(policy: Policy) -> ProcgateCtx {
        let children = Children::default().with_cgroup(policy.sandbox().cgroup, None);
        ProcgateCtx {
            budget: Budget::new(policy.limits().buffered_cap()),
            audit: Arc::new(Auditor::new(Some(Auditor::new_run_id()))),
            policy,
            inherited: InheritedStdio::default(),
            children: Arc::new(children),
            hooks: Arc::new(AllowAll),
            usage: UsageCounter::default(),
        }
    }

    /// Sets the embedder's hooks, asked after the static policy allows a
    /// request (see [`hooks`]). The default allows whatever the policy
    /// allows.
    ///
    /// ```
    /// struct AskNobody;
    /// impl procgate::hooks::ProcgateHooks for AskNobody {}
    /// let ctx = procgate::ProcgateCtx::new(procgate::Policy::default()).hooks(AskNobody);
    /// ```
    pub fn hooks(mut self, hooks: impl ProcgateHooks + 'static) -> ProcgateCtx {
        self.hooks = Arc::new(hooks);
        self
    }

    /// Decides a request by the policy and the hooks (one audit event).
    pub(crate) fn decide(&self, req: &policy::Request<'_>) -> Result<policy::Verdict> {
        self.decide_seq(req).0
    }

    /// [`ProcgateCtx::decide`], also returning the `seq` of its audit event.
    pub(crate) fn decide_seq(&self, req: &policy::Request<'_>) -> (Result<policy::Verdict>, u64) {
        self.policy.decide_audited(req, &*self.hooks, &self.audit)
    }

    /// Sets the run id every audit event of this guest carries (control
    /// characters escaped, cut to 128 bytes); by default a fresh random
    /// one ([`policy::audit::Auditor::new_run_id`]).
    ///
    /// ```
    /// let ctx = procgate::ProcgateCtx::new(procgate::Policy::default()).run_id("plugin-7");
    /// assert_eq!(ctx.audit_run_id(), Some("plugin-7"));
    /// ```
    pub fn run_id(mut self, id: impl Into<String>) -> ProcgateCtx {
        self.audit = Arc::new(Auditor::new(Some(id.into())));
        self
    }

    /// The run id of this guest's audit events.
    ///
    /// ```
    /// let ctx = procgate::ProcgateCtx::new(procgate::Policy::default());
    /// assert_eq!(ctx.audit_run_id().unwrap().len(), 16);
    /// ```
    pub fn audit_run_id(&self) -> Option<&str> {
        self.audit.run_id()
    }

    /// Sets how long a child the guest gave up (dropped unwaited, or left
    /// behind when the guest ended) gets between SIGTERM to its process
    /// group and SIGKILL. Default [`process::DEFAULT_KILL_GRACE`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let ctx = procgate::ProcgateCtx::new(procgate::Policy::default())
    ///     .kill_grace(Duration::from_millis(50));
    /// assert_eq!(ctx.children().grace(), Duration::from_millis(50));
    /// ```
    pub fn kill_grace(mut self, grace: std::time::Duration) -> ProcgateCtx {
        let settings = self.children.settings();
        self.children = Arc::new(settings.with_grace(grace));
        self
    }

    /// Sets whether the guest's children are started with
    /// `PR_SET_PDEATHSIG(SIGKILL)`, so that they die if the host process
    /// dies (default yes). Such children are started from one long-lived
    /// thread of the host (the death signal fires when the thread that
    /// started a child exits).
    ///
    /// ```
    /// let ctx = procgate::ProcgateCtx::new(procgate::Policy::default()).die_with_host(false);
    /// assert!(!ctx.children().die_with_host());
    /// ```
    pub fn die_with_host(mut self, yes: bool) -> ProcgateCtx {
        self.children = Arc::new(self.children.settings().with_die_with_host(yes));
        self
    }

    /// Sets the cgroup v2 directory the guest's cgroup is made in (the
    /// delegated subtree of a service, say), instead of the host's own
    /// cgroup; the policy's `sandbox.cgroup` says whether one is used.
    ///
    /// ```
    /// let ctx = procgate::ProcgateCtx::new(procgate::Policy::default())
    ///     .cgroup_parent("/sys/fs/cgroup/my.service/guests");
    /// ```
    pub fn cgroup_parent(mut self, dir: impl Into<std::path::PathBuf>) -> ProcgateCtx {
        let mode = self.children.cgroup_mode();
        self.children = Arc::new(self.children.settings().with_cgroup(mode, Some(dir.into())));
        self
    }

    /// The guest's children: how many are alive, and a way to wait until
    /// those it gave up have been ended and reaped.
    pub fn children(&self) -> &Arc<Children> {
        &self.children
    }

    /// Sets where the children's inherited stdio goes: give the same
    /// streams the guest's WASI stdio has.
    ///
    /// ```
    /// use procgate::{InheritedOutput, InheritedStdio, Policy, ProcgateCtx};
    /// use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
    ///
    /// let out = MemoryOutputPipe::new(1 << 20);
    /// let ctx = ProcgateCtx::new(Policy::default()).inherit(InheritedStdio {
    ///     stdin_from_host: false,
    ///     stdout: InheritedOutput::Stream(Box::new(out.clone())),
    ///     stderr: InheritedOutput::Discard,
    /// });
    /// ```
    pub fn inherit(mut self, inherited: InheritedStdio) -> ProcgateCtx {
        self.inherited = inherited;
        self
    }

    /// The policy this context decides by.
    ///
    /// ```
    /// let ctx = procgate::ProcgateCtx::new(procgate::Policy::default());
    /// assert!(ctx.policy().shell().is_none());
    /// ```
    pub fn policy(&self) -> &Policy {
        &self.policy
    }
}

impl Drop for ProcgateCtx {
    /// The guest has ended: [`Children::ended`] now also ends whatever is
    /// left in its cgroup and removes it.
    fn drop(&mut self) {
        self.children.guest_ended();
    }
}

/// What procgate's host functions work on: the guest's [`ProcgateCtx`] and
/// the store's resource table (shared with WASI, so streams and pollables
/// interoperate).
pub struct ProcgateCtxView<'a> {
    /// The guest's procgate state.
    pub ctx: &'a mut ProcgateCtx,
    /// The store's resource table.
    pub table: &'a mut ResourceTable,
}

/// Implemented by the embedder's store data to give procgate its state; the
/// counterpart of wasmtime-wasi's `WasiView`.
pub trait ProcgateView: Send {
    /// The guest's procgate state and the resource table.
    fn procgate(&mut self) -> ProcgateCtxView<'_>;
}

struct HasProcgate;

impl HasData for HasProcgate {
    type Data<'a> = ProcgateCtxView<'a>;
}

/// Adds the `procgate:subprocess` interfaces to an async linker (WASI is
/// added separately, with `wasmtime_wasi::p2::add_to_linker_async`).
pub fn add_to_linker_async<T: ProcgateView + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    bindings::procgate::subprocess::types::add_to_linker::<T, HasProcgate>(linker, |t| {
        t.procgate()
    })?;
    bindings::procgate::subprocess::subprocess::add_to_linker::<T, HasProcgate>(linker, |t| {
        t.procgate()
    })?;
    Ok(())
}
