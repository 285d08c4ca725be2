//! procgate: Python's `asyncio.subprocess` API, served to sandboxed
//! WebAssembly guests through the WIT package `procgate:subprocess@0.1.0`.
//!
//! An embedder owns a [`ProcgateCtx`] (the guest's [`Policy`] and where its
//! inherited stdio goes) in its store data, implements [`ProcgateView`] to
//! hand it out, and adds procgate to its linker beside WASI with
//! [`add_to_linker_async`]. Every request the guest makes is decided by the
//! policy, at one place ([`Policy::decide`]), and logged as an audit event.
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
//!     table: ResourceTable::new(),
//! };
//! # let _ = state; Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod bindings;
pub mod communicate;
mod error;
mod host;
pub mod policy;
pub mod process;
pub mod runner;
pub mod signals;
pub mod spawn;
pub mod streams;

pub use error::{Error, Result};
pub use policy::Policy;
pub use spawn::{InheritedOutput, InheritedStdio};

use wasmtime::component::{HasData, Linker, ResourceTable};

/// The procgate state of one guest: its policy and where the stdio its
/// children inherit goes. The embedder keeps it in its store data.
///
/// ```
/// let ctx = procgate::ProcgateCtx::new(procgate::Policy::default());
/// ```
#[derive(Debug)]
pub struct ProcgateCtx {
    policy: Policy,
    inherited: InheritedStdio,
}

impl ProcgateCtx {
    /// A context deciding by `policy`, whose children inherit nothing from
    /// the host: `inherit` means `/dev/null` for stdin and discarded output,
    /// until [`ProcgateCtx::inherit`] says otherwise.
    pub fn new(policy: Policy) -> ProcgateCtx {
        ProcgateCtx {
            policy,
            inherited: InheritedStdio::default(),
        }
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
    pub fn policy(&self) -> &Policy {
        &self.policy
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
