//! The ask tier: programs the policy neither allows nor denies, but asks
//! the embedder's hook (or the CLI's `--prompt`) about.
//!
//! `[programs] ask = ["curl"]` puts a program in the tier; `[programs]
//! default = "ask"` puts every program no entry lists there (the default is
//! `"deny"`). The static policy stays the floor, deny > ask > allow:
//!
//! - a request the static policy allows is not asked (hooks may still
//!   refuse it, [`Consult::Allowed`]);
//! - a request it refuses only because no allow entry lists the program,
//!   or no argument form of its rules matches, is asked if the program is
//!   in the tier ([`Consult::Ask`]): the program must resolve on the search
//!   path to a file nobody but root and the host user can replace, a
//!   forbidden flag of its rules still refuses, and the shared checks
//!   (environment, working directory, sizes, counts, sandbox) still apply;
//! - everything else the static policy refuses (a `deny` entry, a
//!   forbidden flag, a variable, a directory, a limit, the shell) is never
//!   asked.
//!
//! An asked request whose hook gives no answer is denied with a message
//! saying how to allow it. The audit event of an asked request has
//! `"decision": "asked"`, the answer and who gave it.
//!
//! ```
//! use procgate_policy::{Policy, SpawnRequest};
//! let policy = Policy::builder().ask_program("true").build().unwrap();
//! // No hook answers: denied, saying how to allow it.
//! let err = policy.decide_spawn(&SpawnRequest::exec("true", &[])).unwrap_err();
//! assert!(err.to_string().contains("allow it with --allow true or programs.allow"));
//! ```

use crate::audit::{self, Asked, Auditor};
use crate::builder::At;
use crate::hooks::{Answer, Consult, ProcgateHooks};
use crate::request::{Command, SpawnPlan, SpawnRequest};
use crate::spelling::Spelling;
use crate::{programs, BuildError, Error, Policy, PolicyBuilder, Result};
use serde::Deserialize;
use std::path::PathBuf;

/// What the policy does with a program no allow entry lists
/// (`[programs] default`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgramDefault {
    /// Deny it (the default).
    #[default]
    Deny,
    /// Ask the hook or the prompt about it.
    Ask,
}

/// The ask entries as the builder collects them.
#[derive(Debug, Default)]
pub(crate) struct AskEntries {
    ask: Vec<At<String>>,
    default: ProgramDefault,
}

/// The ask tier of a built policy.
#[derive(Debug, Clone, Default)]
pub(crate) struct AskTier {
    ask: Vec<Entry>,
    default: ProgramDefault,
}

/// One entry as written and as resolved.
#[derive(Debug, Clone)]
struct Entry {
    written: String,
    resolved: Option<PathBuf>,
}

impl PolicyBuilder {
    /// Puts a program (a bare name or an absolute path) in the ask tier:
    /// a request for it that no allow entry grants is asked of the
    /// embedder's hook ([`crate::hooks::ProcgateHooks::on_spawn_async`]) or
    /// the CLI's prompt, and denied if nothing answers. See [`crate::ask`].
    ///
    /// ```
    /// let p = procgate_policy::Policy::builder().ask_program("curl").build().unwrap();
    /// ```
    pub fn ask_program(mut self, program: impl Into<String>) -> Self {
        let entry = self.at(program.into());
        self.ask.ask.push(entry);
        self
    }

    /// Puts every program no allow entry lists in the ask tier
    /// (`[programs] default = "ask"`); `false` (the default) denies them.
    ///
    /// ```
    /// let p = procgate_policy::Policy::builder().default_ask(true).build().unwrap();
    /// ```
    pub fn default_ask(mut self, yes: bool) -> Self {
        self.ask.default = if yes {
            ProgramDefault::Ask
        } else {
            ProgramDefault::Deny
        };
        self
    }
}

impl AskTier {
    /// Resolves the entries on `search_path`; an ask entry must resolve to
    /// a file nobody but root and the host user can replace
    /// ([`programs::check_trusted`]; `writable`: where children may write).
    pub(crate) fn new(
        entries: AskEntries,
        search_path: &[PathBuf],
        writable: &[PathBuf],
    ) -> Result<AskTier, BuildError> {
        let resolve = |entries: Vec<At<String>>| {
            entries
                .into_iter()
                .map(|e| {
                    let written = &e.value;
                    if !Spelling::of(written).names_a_program() {
                        return Err(BuildError::new(e.say(format!(
                            "program {written:?}: give a bare name (looked up on the search \
                             path) or an absolute path"
                        ))));
                    }
                    let resolved = programs::resolve(written, search_path);
                    if let Some(path) = &resolved {
                        programs::check_trusted(path, writable).map_err(|why| {
                            BuildError::new(e.say(format!("program {written:?}: {why}")))
                        })?;
                    }
                    Ok(Entry {
                        written: e.value,
                        resolved,
                    })
                })
                .collect::<Result<Vec<Entry>, BuildError>>()
        };
        Ok(AskTier {
            ask: resolve(entries.ask)?,
            default: entries.default,
        })
    }

    /// The ask entry (or the default) that puts `program` in the tier.
    fn entry_for(&self, program: &str, search_path: &[PathBuf]) -> Option<String> {
        let path = programs::resolve(program, search_path)?;
        match self
            .ask
            .iter()
            .find(|e| e.resolved.as_deref() == Some(&path))
        {
            Some(e) => Some(format!("programs.ask: {:?}", e.written)),
            None => (self.default == ProgramDefault::Ask)
                .then(|| "programs.default = \"ask\"".to_string()),
        }
    }
}

/// A spawn after the static policy, before the hooks.
enum Prepared {
    /// The static policy allowed it.
    Allowed(SpawnPlan),
    /// The ask tier matched: the plan it would get.
    Ask(SpawnPlan),
    /// Refused, never asked.
    Refused(Error),
}

impl Policy {
    /// Decides a spawn as [`Policy::decide_spawn_audited`] does, awaiting
    /// the hook's [`ProcgateHooks::on_spawn_async`] instead of blocking on
    /// it: what the host's async call does, so a hook that waits (a dialog)
    /// keeps no runtime thread.
    pub async fn decide_spawn_async(
        &self,
        req: &SpawnRequest<'_>,
        hooks: &dyn ProcgateHooks,
        auditor: &Auditor,
    ) -> (Result<SpawnPlan>, u64) {
        let prepared = self.prepare_spawn(req);
        let answer = match &prepared {
            Prepared::Allowed(plan) => Some(hooks.on_spawn_async(plan, Consult::Allowed).await),
            Prepared::Ask(plan) => Some(hooks.on_spawn_async(plan, Consult::Ask).await),
            Prepared::Refused(_) => None,
        };
        self.conclude(req, prepared, answer, auditor)
    }

    /// The static decision, with the ask tier: a refusal for an unlisted
    /// program or argument list is turned into a question if the tier
    /// covers the program.
    fn prepare_spawn(&self, req: &SpawnRequest<'_>) -> Prepared {
        let search_path = self.programs.search_path();
        // Deny entries (crate::deny) are checked inside both plans, the
        // static one and the asking one (`Programs::accept_as`), so a
        // denied program is refused, never asked.
        let refused = match self.plan_spawn(req) {
            Ok(plan) => return Prepared::Allowed(plan),
            Err(e) => e,
        };
        let entry = match (req.command, &refused, &self.learn) {
            (Command::Exec { program, .. }, Error::Denied(_), None) => {
                self.ask.entry_for(program, search_path)
            }
            _ => None,
        };
        match entry {
            Some(entry) => match self.plan_spawn_asking(req, entry) {
                Ok(plan) => Prepared::Ask(plan),
                Err(e) => Prepared::Refused(e),
            },
            None => Prepared::Refused(refused),
        }
    }

    /// The outcome of a prepared spawn and the hook's answer: one audit
    /// event (and the learn-mode record).
    fn conclude(
        &self,
        req: &SpawnRequest<'_>,
        prepared: Prepared,
        answer: Option<Answer>,
        auditor: &Auditor,
    ) -> (Result<SpawnPlan>, u64) {
        let (outcome, asked) = match prepared {
            Prepared::Refused(e) => (Err(e), None),
            Prepared::Allowed(plan) => match answer.and_then(|a| a.verdict) {
                Some(Err(reason)) => (Err(refused_by("hook", &reason)), None),
                _ => (Ok(plan), None),
            },
            Prepared::Ask(plan) => {
                let answer = answer.unwrap_or_else(Answer::none);
                let outcome = match &answer.verdict {
                    Some(Ok(())) => Ok(plan),
                    Some(Err(reason)) => Err(refused_by(&answer.by, reason)),
                    None => Err(unanswered(req, &plan)),
                };
                (outcome, Some(answer))
            }
        };
        let seq = audit::decision(
            auditor,
            self,
            Asked::Spawn(req),
            outcome.as_ref().map(Some),
            asked.as_ref(),
        );
        if let Some(recorder) = &self.learn {
            recorder.spawn(req, outcome.as_ref());
        }
        (outcome, seq)
    }
}

impl Policy {
    /// The names of the variables every child gets (`env.set`,
    /// `env.pass`): what a request's environment adds is the rest.
    ///
    /// ```
    /// let p = procgate_policy::Policy::builder().set_env("LANG", "C").build().unwrap();
    /// assert_eq!(p.default_env_names(), ["LANG"]);
    /// ```
    pub fn default_env_names(&self) -> Vec<String> {
        let env = self.env.build(&[], false, None).unwrap_or_default();
        env.into_iter().map(|(k, _)| k).collect()
    }
}

/// A refusal by a hook or the prompt.
pub(crate) fn refused_by(who: &str, reason: &str) -> Error {
    Error::Denied(format!("{who} refused: {reason}"))
}

/// The refusal of an ask nobody answered: says how to allow it, as
/// [`crate::how_to_allow`] says it of an unlisted program.
fn unanswered(req: &SpawnRequest<'_>, plan: &SpawnPlan) -> Error {
    let program = match req.command {
        Command::Exec { program, .. } => program,
        Command::Shell { .. } => plan.arg0.as_str(),
    };
    Error::Denied(format!(
        "program {program:?} is in the ask tier ({}) and nothing answered (no hook answers \
         asks, no --prompt): {}, or run with --prompt",
        plan.rule,
        crate::hint::allow_program(program)
    ))
}

#[cfg(test)]
#[path = "ask_tests.rs"]
mod tests;
