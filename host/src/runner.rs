//! Running a `procgate:subprocess/command` guest: a WASI command whose
//! `run` export is called with WASI and procgate linked in.
//!
//! About 520 lines, over half of them rustdoc: the runner and the pieces
//! an embedder with its own world reuses (engine, its optional instance
//! pool, store, guarded run) are one lifecycle, shown whole in the
//! examples.
//!
//! This is what `procgate run` uses, and what an embedder can use when its
//! guests are commands ([`Runner`], in its own [`RunState`] or in the
//! embedder's store data). An embedder with its own world links with
//! [`crate::add_to_linker_async`] and keeps the same guarantees (the
//! wall-clock deadline, the memory limit, every child ended and reaped when
//! the guest ends) with [`guest_store`] and [`run_guarded`]:
//!
//! ```no_run
//! use procgate::runner::{engine, guest_store, run_guarded, Ended, GuestData, GuestLimits};
//! use procgate::wasmtime::component::{Component, Linker, ResourceTable};
//! use procgate::wasmtime::StoreLimits;
//! use procgate::{Policy, ProcgateCtx, ProcgateCtxView, ProcgateView};
//!
//! // The embedder's own store data, for its own plugin world.
//! struct Plugin {
//!     name: String,
//!     procgate: ProcgateCtx,
//!     table: ResourceTable,
//!     limits: StoreLimits,
//! }
//! impl ProcgateView for Plugin {
//!     fn procgate(&mut self) -> ProcgateCtxView<'_> {
//!         ProcgateCtxView { ctx: &mut self.procgate, table: &mut self.table }
//!     }
//! }
//! impl GuestData for Plugin {
//!     fn store_limits(&mut self) -> &mut StoreLimits {
//!         &mut self.limits
//!     }
//! }
//!
//! # async fn demo(component: Component) -> anyhow::Result<()> {
//! let engine = engine()?;
//! let mut linker = Linker::<Plugin>::new(&engine);
//! procgate::add_to_linker_async(&mut linker)?;
//! let pre = linker.instantiate_pre(&component)?;
//! let data = Plugin {
//!     name: "formatter".into(),
//!     procgate: ProcgateCtx::new(Policy::builder().allow_program("rustfmt").build()?),
//!     table: procgate::resource_table(),
//!     limits: StoreLimits::default(),
//! };
//! let limits = GuestLimits { deadline: Some(std::time::Duration::from_secs(30)), max_memory: Some(64 << 20) };
//! let store = guest_store(&engine, data, limits);
//! let never = std::future::pending::<()>();
//! let ended = run_guarded(store, limits, |mut store| async move {
//!     let instance = pre.instantiate_async(&mut store).await?;
//!     // ... call the plugin's exports on `store` here ...
//!     let _ = instance;
//!     Ok(())
//! }, never).await?;
//! // Past the deadline or the memory limit: an error; either way every
//! // child the plugin started has been ended and reaped by now.
//! assert!(matches!(ended, Ended::Returned(())));
//! # Ok(()) }
//! ```
//!
//! ```no_run
//! use procgate::runner::{Runner, engine};
//! use procgate::{Policy, ProcgateCtx};
//!
//! # async fn demo() -> anyhow::Result<()> {
//! let engine = engine()?;
//! let runner = Runner::from_file(&engine, "guest.wasm".as_ref())?;
//! let wasi = wasmtime_wasi::WasiCtx::builder().inherit_stdio().build();
//! let policy = Policy::builder().allow_program("ls").build()?;
//! let code = runner.run(wasi, ProcgateCtx::new(policy)).await?;
//! # Ok(()) }
//! ```

use crate::{ProcgateCtx, ProcgateCtxView, ProcgateView};
use anyhow::Context as _;
use std::future::Future;
use std::path::Path;
use std::time::Duration;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The store data of a command guest: its WASI and procgate state and the
/// resource table they share.
pub struct RunState {
    /// The guest's WASI context.
    pub wasi: WasiCtx,
    /// The guest's procgate context.
    pub procgate: ProcgateCtx,
    /// Resources of both.
    pub table: ResourceTable,
    /// The guest's memory and instance limits.
    pub limits: StoreLimits,
}

/// Bounds on one guest run, so a spinning or ballooning guest is stopped
/// (and its children ended like those of any guest that ends).
///
/// ```
/// use std::time::Duration;
/// let limits = procgate::runner::GuestLimits {
///     deadline: Some(Duration::from_secs(30)),
///     max_memory: Some(256 << 20),
/// };
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct GuestLimits {
    /// Wall-clock time the guest may run, host calls included. A guest
    /// spinning in wasm code is interrupted too: the engine's epoch ticks
    /// every [`EPOCH_TICK`] and the guest yields to the host at each tick.
    pub deadline: Option<Duration>,
    /// Bytes of linear memory the guest may grow to (each memory).
    pub max_memory: Option<usize>,
}

/// How often the epoch of an engine made by [`engine`] advances.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The guest ran past [`GuestLimits::deadline`].
#[derive(Debug, thiserror::Error)]
#[error("guest exceeded its wall-clock deadline of {0:?} and was stopped")]
pub struct DeadlineExceeded(pub Duration);

/// How a run under [`Runner::run_until`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd<T> {
    /// The guest ended by itself, with this exit code.
    Exited(i32),
    /// The cancel future resolved first, with this value: the guest was
    /// stopped where it was, and its children were ended and reaped.
    Cancelled(T),
}

/// The guest tried to grow its memory past [`GuestLimits::max_memory`].
#[derive(Debug, thiserror::Error)]
#[error("guest exceeded its memory limit of {0} bytes and was stopped")]
pub struct MemoryExceeded(pub usize);

impl WasiView for RunState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl ProcgateView for RunState {
    fn procgate(&mut self) -> ProcgateCtxView<'_> {
        ProcgateCtxView {
            ctx: &mut self.procgate,
            table: &mut self.table,
        }
    }
}

/// An engine configured for procgate guests: async host calls, and epoch
/// interruption driven by a ticker thread (which ends with the engine), so
/// guests can be given a wall-clock deadline. Instances are allocated on
/// demand (each guest maps its own memory and stack and unmaps them when
/// its store is dropped): no limit on how many guests live at once or on
/// the shape of their components, and nothing reserved up front. This is
/// what `procgate run` uses; a host instantiating many guests can pool
/// them instead ([`engine_with`] and [`guest_pool`], which says what that
/// trades).
pub fn engine() -> anyhow::Result<Engine> {
    engine_with(wasmtime::Config::new())
}

/// As [`engine`], from the embedder's own `config` (procgate turns on
/// epoch interruption in it, which the deadline of [`run_guarded`] needs).
/// For a plugin host, the pooling allocator of [`guest_pool`]:
///
/// ```no_run
/// let mut config = procgate::wasmtime::Config::new();
/// config.allocation_strategy(procgate::runner::guest_pool(100));
/// let engine = procgate::runner::engine_with(config)?;
/// # anyhow::Ok(())
/// ```
pub fn engine_with(mut config: wasmtime::Config) -> anyhow::Result<Engine> {
    config.epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("procgate-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })?;
    Ok(engine)
}

/// Core instances, linear memories and tables the pool of [`guest_pool`]
/// holds per guest: room for the guests of every language procgate ships
/// (measured: Rust, C and JS guests need at most 4 core instances, 1
/// memory and 2 tables; Python 14 core instances, 1 memory, 2 tables). A
/// component needing more is refused when it is loaded into the engine.
pub const POOL_PER_GUEST: PoolShare = PoolShare {
    core_instances: 32,
    memories: 2,
    tables: 4,
};

/// What one guest may take of a pool (see [`POOL_PER_GUEST`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolShare {
    /// Core instances of one component.
    pub core_instances: u32,
    /// Linear memories of one component.
    pub memories: u32,
    /// Tables of one component.
    pub tables: u32,
}

/// A pooling allocator for [`engine_with`], sized for `guests` guests alive
/// at once (a live guest is a store holding an instance), each taking at
/// most [`POOL_PER_GUEST`]: an opt-in for a host that instantiates many
/// guests. Each guest's memory, tables and async stack come from slots
/// reserved when the engine is made, and a slot is reset when its store is
/// dropped (its memory `madvise`d back to zeros and the component's
/// initial image) instead of being mapped and unmapped per guest.
///
/// What it changes (measured in `bench/README.md`, "Pooled instances"):
///
/// - wasmtime's own work per guest (store, instantiate, drop) falls from
///   about 55 to 31 µs of CPU for a guest that does nothing, and the
///   host's CPU per guest of the bench's `guests-seq-1000` (one child per
///   guest) from 589–740 to 533–645 µs (fewer `munmap`s, so fewer TLB
///   shootdowns across the runtime's threads); `plugins-50x20` is a tie;
/// - making the engine costs about 0.2 ms more CPU for one slot and 2.6 ms
///   for 1,000 (so `procgate run`, one guest, uses [`engine`]), and
///   reserves address space for every slot (about 4 GiB per memory slot,
///   none of it resident);
/// - the async stacks of slots once used stay resident (peak RSS of 1,000
///   guests at once 61–70 MiB against 47–66 on demand);
/// - the pool is a limit: past `guests` live guests instantiation fails
///   with [`wasmtime::PoolConcurrencyLimitError`] (that guest does not
///   start; the others are not affected), and a component needing more
///   than its share is refused when it is loaded (test
///   `pool::full_pool_refuses_the_next_guest_and_keeps_the_first`).
///
/// Kept as with [`engine`]: [`GuestLimits::max_memory`] (the pool lets each
/// memory grow to 4 GiB, the most a 32-bit memory can; the store's limiter
/// stops it first: test `pool::pooled_guest_keeps_its_memory_limit`), the
/// deadline (test `pool::pooled_guest_keeps_its_deadline`), and isolation: a guest never sees what a previous guest left
/// in its slot (test `pool::slot_reused_starts_clean`).
///
/// ```
/// use procgate::runner::{engine_with, guest_pool};
/// let mut config = procgate::wasmtime::Config::new();
/// config.allocation_strategy(guest_pool(8));
/// let engine = engine_with(config)?;
/// # anyhow::Ok(())
/// ```
pub fn guest_pool(guests: u32) -> wasmtime::PoolingAllocationConfig {
    let share = POOL_PER_GUEST;
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    pool.total_component_instances(guests)
        .total_core_instances(guests.saturating_mul(share.core_instances))
        .max_core_instances_per_component(share.core_instances)
        .total_memories(guests.saturating_mul(share.memories))
        .max_memories_per_component(share.memories)
        .total_tables(guests.saturating_mul(share.tables))
        .max_tables_per_component(share.tables)
        .total_stacks(guests);
    pool
}

/// What procgate needs of a store's data to run a guest with its
/// guarantees ([`guest_store`], [`run_guarded`], [`Runner::run_data_until`]):
/// the procgate state (for its children) and the [`StoreLimits`] the memory
/// limit is kept in.
pub trait GuestData: ProcgateView + Send + 'static {
    /// Where the store's limits live ([`guest_store`] replaces them).
    fn store_limits(&mut self) -> &mut StoreLimits;
}

impl GuestData for RunState {
    fn store_limits(&mut self) -> &mut StoreLimits {
        &mut self.limits
    }
}

/// How a call under [`run_guarded`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended<R, C> {
    /// The call returned this.
    Returned(R),
    /// The cancel future resolved first, with this value: the guest was
    /// stopped where it was, and its children were ended and reaped.
    Cancelled(C),
}

/// A store for `data`, set up for `limits`: the memory limit (the store's
/// [`StoreLimits`], replaced, trap when a memory would grow past it), and
/// a yield to the host at every epoch tick, so a spinning guest still lets
/// the deadline of [`run_guarded`] fire (use an engine made by [`engine`]).
pub fn guest_store<T: GuestData>(engine: &Engine, mut data: T, limits: GuestLimits) -> Store<T> {
    let mut store_limits = StoreLimitsBuilder::new().trap_on_grow_failure(true);
    if let Some(bytes) = limits.max_memory {
        store_limits = store_limits.memory_size(bytes);
    }
    *data.store_limits() = store_limits.build();
    let mut store = Store::new(engine, data);
    store.limiter(|s| s.store_limits());
    store.epoch_deadline_async_yield_and_update(1);
    store
}

/// Runs `call` (instantiate, call the guest's exports) on `store` within
/// the deadline of `limits` and until `cancel` resolves; then the store is
/// dropped (with `call`, which owns it) and every child the guest left is
/// ended (SIGTERM, the grace, SIGKILL to its cgroup or group) and reaped
/// before this returns. Past the deadline: [`DeadlineExceeded`]; past the
/// memory limit of [`guest_store`]: an error with [`MemoryExceeded`] as
/// context.
pub async fn run_guarded<T, R, C, F>(
    mut store: Store<T>,
    limits: GuestLimits,
    call: impl FnOnce(Store<T>) -> F,
    cancel: impl Future<Output = C>,
) -> anyhow::Result<Ended<R, C>>
where
    T: GuestData,
    F: Future<Output = wasmtime::Result<R>>,
{
    let children = store.data_mut().procgate().ctx.children().clone();
    let call = call(store);
    let bounded = async {
        match limits.deadline {
            None => call.await,
            Some(deadline) => match tokio::time::timeout(deadline, call).await {
                Ok(result) => result,
                Err(_elapsed) => Err(wasmtime::Error::new(DeadlineExceeded(deadline))),
            },
        }
    };
    // Whichever ends first; the other future (and with the guest's call,
    // its store) is dropped here.
    let ended = tokio::select! {
        result = bounded => Ok(result),
        value = cancel => Err(value),
    };
    // The children the guest left are being ended: wait for them.
    children.ended().await;
    let result = match ended {
        Ok(result) => result,
        Err(value) => return Ok(Ended::Cancelled(value)),
    };
    match result {
        Ok(r) => Ok(Ended::Returned(r)),
        Err(e) => {
            let text = format!("{e:?}");
            let e = anyhow::Error::from(e);
            match limits.max_memory {
                Some(bytes) if text.contains("forcing trap when growing memory") => {
                    Err(e.context(MemoryExceeded(bytes)))
                }
                _ => Err(e),
            }
        }
    }
}

/// A command guest, compiled and linked once, ready to run many times, in
/// a [`RunState`] (the default) or the embedder's own store data `T`.
pub struct Runner<T: 'static = RunState> {
    pre: CommandPre<T>,
}

impl<T: 'static> Clone for Runner<T> {
    fn clone(&self) -> Self {
        Runner {
            pre: self.pre.clone(),
        }
    }
}

impl Runner {
    /// Links a compiled component against WASI and procgate.
    pub fn new(engine: &Engine, component: &Component) -> anyhow::Result<Runner> {
        Runner::link(engine, component)
    }

    /// Loads the component at `path` through a compiled-component cache
    /// (compiling it only on a miss) and links it.
    pub fn from_file_cached(
        engine: &Engine,
        path: &Path,
        cache: &crate::cache::ComponentCache,
    ) -> anyhow::Result<Runner> {
        Self::new(engine, &cache.load(engine, path)?)
    }

    /// Compiles the component at `path` and links it.
    pub fn from_file(engine: &Engine, path: &Path) -> anyhow::Result<Runner> {
        let component = Component::from_file(engine, path)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("loading {}", path.display()))?;
        Self::new(engine, &component)
    }

    /// Runs the guest to the end with a fresh store, and returns its exit
    /// code: 0 when `run` returns ok, 1 when it returns an error, the code
    /// given to `wasi:cli/exit`. A trap is an error. The store is dropped
    /// before returning, and every child the guest still held has been
    /// ended (SIGTERM, grace period, SIGKILL to its group) and reaped.
    pub async fn run(&self, wasi: WasiCtx, procgate: ProcgateCtx) -> anyhow::Result<i32> {
        self.run_with(wasi, procgate, GuestLimits::default()).await
    }

    /// As [`Runner::run`], within `limits`: past the deadline the guest is
    /// stopped with [`DeadlineExceeded`], past the memory limit with
    /// [`MemoryExceeded`]; its children are ended either way.
    pub async fn run_with(
        &self,
        wasi: WasiCtx,
        procgate: ProcgateCtx,
        limits: GuestLimits,
    ) -> anyhow::Result<i32> {
        let never = std::future::pending::<std::convert::Infallible>();
        match self.run_until(wasi, procgate, limits, never).await? {
            RunEnd::Exited(code) => Ok(code),
            RunEnd::Cancelled(never) => match never {},
        }
    }

    /// As [`Runner::run_with`], until `cancel` resolves: then the guest is
    /// stopped where it is, its store dropped, and every child it held
    /// ended like those of a guest that ends (SIGTERM, the grace, SIGKILL
    /// to the group) and reaped before this returns
    /// [`RunEnd::Cancelled`] with `cancel`'s value. This is how
    /// `procgate run` ends on SIGINT, SIGTERM or SIGHUP.
    ///
    /// ```no_run
    /// # async fn demo(runner: procgate::runner::Runner) -> anyhow::Result<()> {
    /// use procgate::runner::{GuestLimits, RunEnd};
    /// let wasi = wasmtime_wasi::WasiCtx::builder().build();
    /// let ctx = procgate::ProcgateCtx::new(procgate::Policy::default());
    /// let stop = tokio::time::sleep(std::time::Duration::from_secs(5));
    /// match runner.run_until(wasi, ctx, GuestLimits::default(), stop).await? {
    ///     RunEnd::Exited(code) => println!("exit {code}"),
    ///     RunEnd::Cancelled(()) => println!("stopped; its children are gone"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn run_until<C>(
        &self,
        wasi: WasiCtx,
        procgate: ProcgateCtx,
        limits: GuestLimits,
        cancel: impl Future<Output = C>,
    ) -> anyhow::Result<RunEnd<C>> {
        let state = RunState {
            wasi,
            procgate,
            table: crate::resource_table(),
            limits: StoreLimits::default(),
        };
        self.run_data_until(state, limits, cancel).await
    }
}

impl<T: GuestData + WasiView> Runner<T> {
    /// Links a compiled component against WASI and procgate, to run in the
    /// embedder's store data `T` ([`Runner::run_data_until`]).
    ///
    /// ```no_run
    /// # fn demo<T: procgate::runner::GuestData + procgate::wasmtime_wasi::WasiView>(
    /// #     engine: &procgate::wasmtime::Engine,
    /// #     component: &procgate::wasmtime::component::Component,
    /// # ) -> anyhow::Result<()> {
    /// let runner = procgate::runner::Runner::<T>::link(engine, component)?;
    /// # Ok(()) }
    /// ```
    pub fn link(engine: &Engine, component: &Component) -> anyhow::Result<Runner<T>> {
        let mut linker = Linker::<T>::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        crate::add_to_linker_async(&mut linker)?;
        let pre = linker.instantiate_pre(component)?;
        Ok(Runner {
            pre: CommandPre::new(pre)?,
        })
    }

    /// As [`Runner::run_until`], in the embedder's own store data: the
    /// guest runs in [`guest_store`] under [`run_guarded`], so it keeps the
    /// deadline, the memory limit and the ending of its children.
    pub async fn run_data_until<C>(
        &self,
        data: T,
        limits: GuestLimits,
        cancel: impl Future<Output = C>,
    ) -> anyhow::Result<RunEnd<C>> {
        let store = guest_store(self.pre.engine(), data, limits);
        let pre = &self.pre;
        let call = |mut store: Store<T>| async move {
            let command = pre.instantiate_async(&mut store).await?;
            command.wasi_cli_run().call_run(&mut store).await
        };
        match run_guarded(store, limits, call, cancel).await {
            Ok(Ended::Returned(Ok(()))) => Ok(RunEnd::Exited(0)),
            Ok(Ended::Returned(Err(()))) => Ok(RunEnd::Exited(1)),
            Ok(Ended::Cancelled(value)) => Ok(RunEnd::Cancelled(value)),
            Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Some(exit) => Ok(RunEnd::Exited(exit.0)),
                None => Err(e),
            },
        }
    }
}
