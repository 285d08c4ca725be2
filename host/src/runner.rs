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
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
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
}

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

/// An engine configured for procgate guests (async host calls).
pub fn engine() -> anyhow::Result<Engine> {
    let config = wasmtime::Config::new();
    Ok(Engine::new(&config)?)
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

    /// Compiles the component at `path` and links it.
    pub fn from_file(engine: &Engine, path: &Path) -> anyhow::Result<Runner> {
        let component = Component::from_file(engine, path)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("loading {}", path.display()))?;
        Self::new(engine, &component)
    }

    /// Runs the guest to the end with a fresh store, and returns its exit
    /// code: 0 when `run` returns ok, 1 when it returns an error, the code
    /// given to `wasi:cli/exit`. A trap is an error. The store, and with
    /// it every child the guest still holds, is dropped before returning.
    pub async fn run(&self, wasi: WasiCtx, procgate: ProcgateCtx) -> anyhow::Result<i32> {
        let state = RunState {
            wasi,
            procgate,
            table: ResourceTable::new(),
        };
        let mut store = Store::new(self.pre.engine(), state);
        let command = self.pre.instantiate_async(&mut store).await?;
        let result = command.wasi_cli_run().call_run(&mut store).await;
        drop(store);
        match result {
            Ok(Ok(())) => Ok(0),
            Ok(Err(())) => Ok(1),
            Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Some(exit) => Ok(exit.0),
                None => Err(anyhow::Error::from(e)),
            },
        }
    }
}
