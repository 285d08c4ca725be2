//! procgate: Python's `asyncio.subprocess` API, served to sandboxed
//! WebAssembly guests through the WIT package `procgate:subprocess@0.1.0`.
//!
//! This crate is the wasmtime glue; the work is done in two crates below it,
//! each depending only on the one before:
//!
//! - `procgate-policy` ([`policy`]): the policy, its file format, the
//!   decisions (`decide.rs`: [`Policy::decide_spawn_with`],
//!   [`Policy::decide_signal_with`]), hooks, the audit log, the sandbox
//!   plan. No tokio, no wasmtime.
//! - `procgate-child`: launching a planned child (every child starts
//!   through `clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD)` in its
//!   `clone_spawn.rs`), its cgroup, the Landlock and rlimit mechanism,
//!   pipes, exit watching through the pidfd, communicate, timeouts, and
//!   ending whole process trees.
//! - here: the bindings, one file per WIT interface (`host/types.rs`,
//!   `host/subprocess.rs`), the `wasi:io` streams and pollables over the
//!   child's pipes and exit, the [`ProcgateCtx`], the [`runner`] and the
//!   compiled-component [`cache`].
//!
//! An embedder owns a [`ProcgateCtx`] (the guest's [`Policy`] and where its
//! inherited stdio goes) in its store data, implements [`ProcgateView`] to
//! hand it out, and adds procgate to its linker beside WASI with
//! [`add_to_linker_async`]. Every request the guest makes is decided by the
//! policy (and the embedder's [`hooks`]), at one place, and logged as one
//! audit event. Children belong to the guest: when it drops a process
//! handle unwaited or its store is dropped, the host kills and reaps them.
//!
//! The crate re-exports the [`wasmtime`] and [`wasmtime_wasi`] it is built
//! on (48.x): use them rather than your own, so the types match.
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

#![deny(missing_docs)]

pub mod bindings;
pub mod cache;
mod communicate;
mod ctx;
pub mod declare;
mod error;
mod host;
mod inherit;
mod process;
pub mod runner;
mod streams;

pub use communicate::FutureCommunicate;
pub use ctx::{
    add_to_linker_async, resource_table, HasProcgate, ProcgateCtx, ProcgateCtxView, ProcgateView,
    MAX_TABLE_ENTRIES,
};
pub use error::{Error, Result};
pub use inherit::{InheritedOutput, InheritedStdio};
pub use process::Process;
pub use procgate_policy::{self as policy, hooks, sandbox, Policy};
pub use {wasmtime, wasmtime_wasi};

/// POSIX signals a guest may send (`procgate_policy::Signal`).
pub mod signals {
    pub use procgate_policy::Signal;
}

/// Cgroups: the policy's mode, and the host's own cgroup directory.
pub mod cgroup {
    pub use procgate_child::cgroup::{own_cgroup_dir, watchdog_pids, Containment};
    pub use procgate_policy::CgroupMode;
}
