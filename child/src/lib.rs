//! procgate's child processes: the OS layer under the wasmtime glue.
//!
//! A spawn the policy allowed ([`procgate_policy::SpawnPlan`]) is started
//! by [`spawn()`](spawn::spawn): the stdio, the process group, a cgroup of
//! its own ([`cgroup`]), the sandbox mechanism (`setup.rs`: rlimits,
//! `no_new_privs`, Landlock, and `seccomp.rs`: no `clone3` under Landlock) and then the one launch path, `clone(CLONE_VM
//! | CLONE_VFORK | CLONE_PIDFD)` in `clone_spawn.rs` (`clone3` with
//! `CLONE_INTO_CGROUP` too when the child has a cgroup). What comes back is a
//! [`Child`]: its exit ([`ChildExit`], watched through the pidfd), its
//! pipes ([`pipes`]), counted among the guest's [`Children`]. Dropping a
//! `Child` ends it and everything it started (SIGTERM, a grace, SIGKILL
//! to its cgroup or group) and reaps it. [`communicate`] feeds and drains
//! the pipes under the policy's byte limits; a child's timeout is watched
//! by one task.
//!
//! This crate depends on `procgate-policy` for the plan it carries out
//! (the plan *is* the launch configuration: program, arguments,
//! environment, cwd, sandbox, timeout), for the error type the guest sees
//! and for the audit log of a child's life. It knows nothing of wasmtime.

#![deny(missing_docs)]

pub mod cgroup;
mod child;
mod children;
mod clone_spawn;
pub mod communicate;
mod counted;
mod exit;
pub mod lifecycle;
mod lock;
mod pidfd;
pub mod pipes;
mod seccomp;
mod setup;
pub mod spawn;
mod timeout;

pub use child::{Child, Pipe, Unavailable};
pub use children::{Children, Starting, DEFAULT_KILL_GRACE, LAUNCHES_AT_ONCE};
pub use exit::ChildExit;
pub use spawn::{spawn, Input, Output, Stdio};
