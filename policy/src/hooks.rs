//! Embedder hooks: decide requests yourself (ask the user, consult a
//! service, keep a quota).
//!
//! A hook is consulted about two kinds of spawn, told apart by
//! [`Consult`]:
//!
//! - [`Consult::Allowed`]: the static policy allowed it; the hook may
//!   still refuse (a veto, as before the ask tier existed).
//! - [`Consult::Ask`]: the policy's **ask tier** matched (`[programs] ask`,
//!   or `[programs] default = "ask"`; see [`crate::PolicyBuilder::ask_program`]):
//!   the hook decides. A hook that does not answer ([`Answer::none`], what
//!   every hook answers unless it implements [`ProcgateHooks::on_ask`] or
//!   [`ProcgateHooks::on_spawn_async`]) leaves the request denied, with a
//!   message saying how to allow it.
//!
//! What the static policy denies is never asked: a deny entry, a forbidden
//! flag, a variable, a working directory, a limit, the shell. The hook sees
//! the fully resolved request (the [`SpawnPlan`]: absolute program,
//! arguments, environment, working directory, sandbox, and in
//! [`SpawnPlan::rule`] the entry that matched); its answer is part of the
//! same audit event as the policy's decision (`"decision": "asked"` for
//! the ask tier, with who answered).
//!
//! A hook that waits (a dialog, a network call) implements
//! [`ProcgateHooks::on_spawn_async`]: the host awaits the future inside its
//! async host call, so the waiting blocks only the guest that asked, never
//! a runtime thread. The synchronous [`ProcgateHooks::on_spawn`] and
//! [`ProcgateHooks::on_ask`] stay for simple cases (the default
//! `on_spawn_async` calls them); they run on the host call's thread.
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
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The future an asynchronous hook returns (as wasmtime-wasi's
/// `socket_addr_check`: a boxed, `Send` future).
pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;

/// Why a hook is consulted about a spawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consult {
    /// The static policy allowed it: the hook may refuse.
    Allowed,
    /// The policy's ask tier matched: the hook decides; no answer denies.
    Ask,
}

/// A hook's answer about a spawn.
///
/// ```
/// use procgate_policy::hooks::Answer;
/// let a = Answer::allow().by("prompt").remembered("programs.rules: curl [\"-s\"]");
/// assert_eq!(a.verdict, Some(Ok(())));
/// assert_eq!(a.by, "prompt");
/// assert_eq!(Answer::none().verdict, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `Some(Ok(()))` allows, `Some(Err(reason))` refuses (the guest gets
    /// `denied: hook refused: <reason>`), `None` does not answer: an
    /// allowed request goes ahead, an ask-tier request is denied.
    pub verdict: Option<Result<(), String>>,
    /// Who answered, for the audit log's `answered_by`: `hook` unless said
    /// otherwise (the CLI's prompt says `prompt`).
    pub by: String,
    /// What the answer remembered (the policy line written, say), for the
    /// audit log's `remembered`.
    pub remembered: Option<String>,
}

impl Answer {
    /// Allow.
    pub fn allow() -> Answer {
        Answer::from_verdict(Some(Ok(())))
    }

    /// Refuse, with the reason the guest gets.
    pub fn deny(reason: impl Into<String>) -> Answer {
        Answer::from_verdict(Some(Err(reason.into())))
    }

    /// No answer.
    pub fn none() -> Answer {
        Answer::from_verdict(None)
    }

    /// The same answer, given by `who` (for the audit log).
    pub fn by(self, who: impl Into<String>) -> Answer {
        Answer {
            by: who.into(),
            ..self
        }
    }

    /// The same answer, having remembered `what` (for the audit log).
    pub fn remembered(self, what: impl Into<String>) -> Answer {
        Answer {
            remembered: Some(what.into()),
            ..self
        }
    }

    fn from_verdict(verdict: Option<Result<(), String>>) -> Answer {
        Answer {
            verdict,
            by: "hook".into(),
            remembered: None,
        }
    }
}

/// Decisions an embedder adds to the static policy. Every method has a
/// default (allowed requests stay allowed, asks stay unanswered), so
/// implement only what you need.
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

    /// Called for each spawn the policy's ask tier matched
    /// ([`SpawnPlan::rule`] names the ask entry): `Some(Ok(()))` allows it,
    /// `Some(Err(reason))` refuses it, `None` (the default) does not
    /// answer, which denies it.
    fn on_ask(&self, plan: &SpawnPlan) -> Option<Result<(), String>> {
        let _ = plan;
        None
    }

    /// The asynchronous form of [`ProcgateHooks::on_spawn`] and
    /// [`ProcgateHooks::on_ask`], which the host awaits without blocking a
    /// runtime thread. The default calls them.
    ///
    /// ```
    /// use procgate_policy::hooks::{Answer, Consult, HookFuture, ProcgateHooks};
    /// use procgate_policy::{Policy, SpawnPlan, SpawnRequest};
    ///
    /// struct AskLater;
    /// impl ProcgateHooks for AskLater {
    ///     fn on_spawn_async<'a>(&'a self, plan: &'a SpawnPlan, consult: Consult) -> HookFuture<'a> {
    ///         Box::pin(async move {
    ///             // Await a dialog, a service, a channel here.
    ///             match consult {
    ///                 Consult::Ask if plan.args.is_empty() => Answer::allow(),
    ///                 Consult::Ask => Answer::deny("arguments need review"),
    ///                 Consult::Allowed => Answer::none(),
    ///             }
    ///         })
    ///     }
    /// }
    /// let policy = Policy::builder().ask_program("true").build().unwrap();
    /// assert!(policy.decide_spawn_with(&SpawnRequest::exec("true", &[]), &AskLater).is_ok());
    /// ```
    fn on_spawn_async<'a>(&'a self, plan: &'a SpawnPlan, consult: Consult) -> HookFuture<'a> {
        let answer = match consult {
            Consult::Allowed => Answer::from_verdict(Some(self.on_spawn(plan))),
            Consult::Ask => Answer::from_verdict(self.on_ask(plan)),
        };
        Box::pin(std::future::ready(answer))
    }

    /// Called for each signal the policy allowed, to the guest's own child
    /// `pid`. `Err(reason)` refuses it.
    fn on_signal(&self, pid: u32, signal: Signal) -> Result<(), String> {
        let _ = (pid, signal);
        Ok(())
    }
}

/// The default hooks: allow whatever the policy allowed, answer no ask.
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

    fn on_ask(&self, plan: &SpawnPlan) -> Option<Result<(), String>> {
        (**self).on_ask(plan)
    }

    fn on_spawn_async<'a>(&'a self, plan: &'a SpawnPlan, consult: Consult) -> HookFuture<'a> {
        (**self).on_spawn_async(plan, consult)
    }

    fn on_signal(&self, pid: u32, signal: Signal) -> Result<(), String> {
        (**self).on_signal(pid, signal)
    }
}

/// Runs a hook's future to its end on this thread (the synchronous
/// decisions: [`crate::Policy::decide_spawn_with`]); the host awaits it
/// instead.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}
