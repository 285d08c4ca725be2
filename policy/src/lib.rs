//! procgate's capability policy: what a sandboxed guest may start, with
//! which arguments, environment and working directory, under which limits
//! and sandbox, and which signals it may send — decided without starting
//! anything (no tokio, no wasmtime: this crate builds in seconds).
//!
//! Nothing runs unless the policy says so. Every request from a guest goes
//! through [`Policy::decide_spawn_with`] or [`Policy::decide_signal_with`]
//! (in `decide.rs`), the one place where procgate decides; each decision,
//! allowed or denied, is one `tracing` event on the [`AUDIT_TARGET`]
//! target ([`audit`]). An allowed spawn is a [`SpawnPlan`]: what
//! `procgate-child` starts, exactly.
//!
//! ```
//! use procgate_policy::{ArgRules, Policy, SpawnRequest};
//!
//! let policy = Policy::builder()
//!     .allow_program("ls")
//!     .allow_program_with("find", ArgRules::default().forbid_flag("-exec").forbid_flag("-delete"))
//!     .allow_shell("/bin/sh")
//!     .build()
//!     .unwrap();
//! let plan = policy.decide_spawn(&SpawnRequest::exec("ls", &[])).unwrap();
//! assert_eq!(plan.arg0, "ls");
//! ```

#![deny(missing_docs)]

mod args;
pub mod ask;
pub mod audit;
mod builder;
mod cwd;
mod decide;
#[cfg(test)]
mod decide_tests;
mod declared;
mod deny;
mod env;
mod error;
mod file;
mod file_apply;
mod file_tables;
mod hint;
pub mod hooks;
pub mod learn;
mod learn_diff;
mod learn_file;
mod learn_forms;
mod limit_keys;
mod limits;
mod policy;
mod program_glob;
mod programs;
mod request;
mod rule_limits;
pub mod sandbox;
mod signal;
mod spelling;
mod units;

pub use args::{ArgForm, ArgPattern, ArgRules, PatternError};
pub use ask::ProgramDefault;
pub use builder::PolicyBuilder;
pub use cwd::DirGrant;
pub use declared::{Declaration, DeclarationError, Refusal, MAX_DECLARATION_BYTES};
pub use env::is_refused_env;
pub use error::{BuildError, Error, LearnError, Result};
pub use file::{PolicyFile, PolicyFileError};
pub use hint::how_to_allow;
pub use limits::{
    Limits, OsLimits, Usage, COMMUNICATE_OVERHEAD, DEFAULT_BUFFERED_BYTES,
    DEFAULT_COMMUNICATE_BYTES, DEFAULT_MAX_HELD,
};
pub use policy::Policy;
pub use request::{Command, SignalRequest, SpawnPlan, SpawnRequest};
pub use rule_limits::RuleLimits;
pub use sandbox::{CgroupMode, KernelFacts, LandlockMode, Sandbox};
pub use signal::Signal;
pub use units::{parse_duration, parse_size};

/// The `tracing` target of audit events: one event per decision and per
/// turn in a child's life.
pub const AUDIT_TARGET: &str = "procgate::audit";

/// The search path used to resolve program names when the policy sets none.
/// The guest's `PATH` is never used.
pub const DEFAULT_SEARCH_PATH: &[&str] = &["/usr/local/bin", "/usr/bin", "/bin"];
