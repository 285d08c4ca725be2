//! The procgate state of one guest ([`ProcgateCtx`]), the view of it host
//! functions work on ([`ProcgateView`]), and the linker entry point
//! ([`add_to_linker_async`], with the [`HasProcgate`] marker).

use crate::bindings;
use crate::inherit::InheritedStdio;
use procgate_child::communicate::Budget;
use procgate_child::Children;
use procgate_policy::audit::Auditor;
use procgate_policy::hooks::{AllowAll, ProcgateHooks};
use procgate_policy::{Policy, SignalRequest, SpawnPlan, SpawnRequest};
use std::sync::Arc;
use wasmtime::component::{HasData, Linker, ResourceTable};

/// The procgate state of one guest: its policy, the embedder's hooks,
/// where the stdio its children inherit goes, and its children. The
/// embedder keeps it in its store data.
///
/// ```
/// let ctx = procgate::ProcgateCtx::new(procgate::Policy::default());
/// ```
pub struct ProcgateCtx {
    pub(crate) policy: Policy,
    pub(crate) inherited: InheritedStdio,
    pub(crate) children: Arc<Children>,
    hooks: Arc<dyn ProcgateHooks>,
    /// What the guest's communicates hold, against `limits.buffered_bytes`.
    pub(crate) budget: Arc<Budget>,
    /// The guest's run id and audit state.
    pub(crate) audit: Arc<Auditor>,
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
        }
    }

    /// Sets the embedder's hooks: asked about what the policy's ask tier
    /// matched, and offered what the static policy allowed to refuse it (see
    /// [`crate::hooks`]). The default allows whatever the policy allows and
    /// answers no ask (so ask-tier requests are denied).
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

    /// Decides a spawn by the policy and the hooks (one audit event);
    /// also returns the `seq` of the event. The hook's future is awaited
    /// here, inside the async host call: a hook that waits (a dialog)
    /// suspends this guest only, never a runtime thread.
    /// (The future borrows the policy, the hooks and the auditor, which are
    /// `Sync`, not the whole context, which is not.)
    pub(crate) fn decide_spawn<'a>(
        &'a self,
        req: &'a SpawnRequest<'a>,
    ) -> impl std::future::Future<Output = (procgate_policy::Result<SpawnPlan>, u64)> + Send + 'a
    {
        let (policy, hooks, audit) = (&self.policy, &*self.hooks, &*self.audit);
        policy.decide_spawn_async(req, hooks, audit)
    }

    /// Decides a signal by the policy and the hooks (one audit event).
    pub(crate) fn decide_signal(&self, req: &SignalRequest) -> procgate_policy::Result<()> {
        self.policy
            .decide_signal_audited(req, &*self.hooks, &self.audit)
    }

    /// Sets the run id every audit event of this guest carries (control
    /// characters escaped, cut to 128 bytes); by default a fresh random
    /// one ([`Auditor::new_run_id`]).
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
    /// group and SIGKILL. Default [`procgate_child::DEFAULT_KILL_GRACE`].
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

/// The [`HasData`] marker of procgate's interfaces: its host functions see
/// a [`ProcgateCtxView`]. For an embedder that calls the generated
/// `add_to_linker` of one interface itself (as wasmtime-wasi's
/// `p2::HasWasi`).
pub struct HasProcgate;

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
