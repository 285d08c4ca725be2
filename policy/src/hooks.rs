//! Embedder hooks: decide a request yourself (ask the user, consult a
//! service, keep a quota) after the static policy has allowed it.
//!
//! A hook sees the fully resolved request (the [`SpawnPlan`]: absolute
//! program, arguments, environment, working directory) and may refuse it;
//! the guest then gets `denied` with the hook's reason, and the refusal is
//! part of the same audit event as the policy's decision. Hooks run on the
//! host call's thread: a hook that blocks (a dialog, say) blocks the guest
//! that asked, which is what a guest waiting for permission expects.
//!
//! ```
//! use procgate_policy::hooks::ProcgateHooks;
//! use procgate_policy::SpawnPlan;
//!
//! struct NoNetworkTools;
//! impl ProcgateHooks for NoNetworkTools {
//!     fn on_spawn(&self, plan: &SpawnPlan) -> Result<(), String> {
//!         if plan.args.iter().any(|a| a.starts_with("http")) {
//!             return Err("no URLs, please".into());
//!         }
//!         Ok(())
//!     }
//! }
//! let policy = procgate_policy::Policy::builder().allow_program("curl").build().unwrap();
//! let args = ["https://example.com".to_string()];
//! let req = procgate_policy::SpawnRequest::exec("curl", &args);
//! assert!(policy.decide_spawn_with(&req, &NoNetworkTools).is_err());
//! ```

use crate::request::SpawnPlan;
use crate::signal::Signal;
use std::sync::Arc;

/// Decisions an embedder adds to the static policy. Every method defaults
/// to allowing, so implement only what you need.
///
/// ```
/// struct Everything;
/// impl procgate_policy::hooks::ProcgateHooks for Everything {}
/// ```
pub trait ProcgateHooks: Send + Sync {
    /// Called for each spawn the policy allowed, just before it starts.
    /// `Err(reason)` refuses it: the guest gets `denied: hook refused:
    /// <reason>`.
    fn on_spawn(&self, plan: &SpawnPlan) -> Result<(), String> {
        let _ = plan;
        Ok(())
    }

    /// Called for each signal the policy allowed, to the guest's own child
    /// `pid`. `Err(reason)` refuses it.
    fn on_signal(&self, pid: u32, signal: Signal) -> Result<(), String> {
        let _ = (pid, signal);
        Ok(())
    }
}

/// The default hooks: allow whatever the policy allowed.
///
/// ```
/// use procgate_policy::hooks::{AllowAll, ProcgateHooks};
/// assert!(AllowAll.on_signal(1, procgate_policy::Signal::Term).is_ok());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl ProcgateHooks for AllowAll {}

/// Shared hooks: one decider for several guests (each guest's context
/// holds a clone).
///
/// ```
/// use procgate_policy::hooks::{AllowAll, ProcgateHooks};
/// use std::sync::Arc;
/// let shared: Arc<dyn ProcgateHooks> = Arc::new(AllowAll);
/// let for_a = shared.clone();
/// assert!(for_a.on_signal(1, procgate_policy::Signal::Term).is_ok());
/// ```
impl<T: ProcgateHooks + ?Sized> ProcgateHooks for Arc<T> {
    fn on_spawn(&self, plan: &SpawnPlan) -> Result<(), String> {
        (**self).on_spawn(plan)
    }

    fn on_signal(&self, pid: u32, signal: Signal) -> Result<(), String> {
        (**self).on_signal(pid, signal)
    }
}
