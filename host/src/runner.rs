//! Running a `procgate:subprocess/command` guest: a WASI command whose
//! `run` export is called with WASI and procgate linked in.
//!
//! This is what `procgate run` uses, and what an embedder can use when its
//! guests are commands. An embedder with its own world uses
//! [`crate::add_to_linker_async`] directly.
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
/// guests can be given a wall-clock deadline.
pub fn engine() -> anyhow::Result<Engine> {
    let mut config = wasmtime::Config::new();
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

/// A command guest, compiled and linked once, ready to run many times.
#[derive(Clone)]
pub struct Runner {
    pre: CommandPre<RunState>,
}

impl Runner {
    /// Links a compiled component against WASI and procgate.
    pub fn new(engine: &Engine, component: &Component) -> anyhow::Result<Runner> {
        let mut linker = Linker::<RunState>::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        crate::add_to_linker_async(&mut linker)?;
        let pre = linker.instantiate_pre(component)?;
        Ok(Runner {
            pre: CommandPre::new(pre)?,
        })
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
    pub async fn run_until<T>(
        &self,
        wasi: WasiCtx,
        procgate: ProcgateCtx,
        limits: GuestLimits,
        cancel: impl std::future::Future<Output = T>,
    ) -> anyhow::Result<RunEnd<T>> {
        let children = procgate.children().clone();
        let mut store_limits = StoreLimitsBuilder::new().trap_on_grow_failure(true);
        if let Some(bytes) = limits.max_memory {
            store_limits = store_limits.memory_size(bytes);
        }
        let state = RunState {
            wasi,
            procgate,
            table: crate::resource_table(),
            limits: store_limits.build(),
        };
        let mut store = Store::new(self.pre.engine(), state);
        store.limiter(|s| &mut s.limits);
        // Yield to the host at every epoch tick: a spinning guest then
        // still lets the deadline below fire.
        store.epoch_deadline_async_yield_and_update(1);
        let pre = &self.pre;
        let call = async {
            let command = pre.instantiate_async(&mut store).await?;
            command.wasi_cli_run().call_run(&mut store).await
        };
        let bounded = async {
            match limits.deadline {
                None => call.await,
                Some(deadline) => match tokio::time::timeout(deadline, call).await {
                    Ok(result) => result,
                    Err(_elapsed) => Err(wasmtime::Error::new(DeadlineExceeded(deadline))),
                },
            }
        };
        // Whichever ends first; the other future (and with the guest's
        // call, its borrow of the store) is dropped here.
        let ended = tokio::select! {
            result = bounded => Ok(result),
            value = cancel => Err(value),
        };
        drop(store);
        // The children the guest left are being ended: wait for them.
        children.ended().await;
        let result = match ended {
            Ok(result) => result,
            Err(value) => return Ok(RunEnd::Cancelled(value)),
        };
        match result {
            Ok(Ok(())) => Ok(RunEnd::Exited(0)),
            Ok(Err(())) => Ok(RunEnd::Exited(1)),
            Err(e) => {
                if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                    return Ok(RunEnd::Exited(exit.0));
                }
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
}
