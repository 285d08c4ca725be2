//! A guest's declared capabilities: what it says it needs, written in the
//! policy file's own shape (parsed by [`PolicyFile::parse`], so the two
//! cannot drift), checked against the host's policy before the guest
//! starts. The host always wins: a declaration grants nothing, it only
//! lets the host say up front which needs it will refuse.
//!
//! The check decides each need the way a request would be decided
//! (`plan_spawn`, the static policy) but starts nothing, asks no hook,
//! records nothing in learn mode and logs no audit event: it is a dry
//! run whose answer is printed, not a decision on a request.

use crate::error::Error;
use crate::hint::how_to_allow;
use crate::request::SpawnRequest;
use crate::{
    cwd, ArgPattern, Policy, PolicyFile, DEFAULT_BUFFERED_BYTES, DEFAULT_COMMUNICATE_BYTES,
};

/// The most bytes of declaration text a host reads: the text comes from
/// the guest.
pub const MAX_DECLARATION_BYTES: usize = 64 * 1024;

/// What a guest declares it needs: a policy file's text.
///
/// ```
/// use procgate_policy::{Declaration, Policy};
///
/// let declared = Declaration::parse("[programs]\nallow = [\"tar\"]\n", "guest.wasm").unwrap();
/// let refused = Policy::default().refusals(&declared);
/// assert_eq!(
///     refused[0].to_string(),
///     "program \"tar\" not in allow list; allow it with --allow tar or programs.allow"
/// );
/// ```
#[derive(Debug)]
pub struct Declaration {
    file: PolicyFile,
    text: String,
}

impl Declaration {
    /// Parses a declaration (the policy file's shape; unknown keys are
    /// errors); `name` is used in error messages.
    pub fn parse(text: &str, name: &str) -> Result<Declaration, DeclarationError> {
        if text.len() > MAX_DECLARATION_BYTES {
            return Err(DeclarationError(format!(
                "{name}: the declaration takes {} bytes, over {MAX_DECLARATION_BYTES}",
                text.len()
            )));
        }
        Ok(Declaration {
            file: PolicyFile::parse(text, name).map_err(|e| DeclarationError(e.to_string()))?,
            text: text.to_string(),
        })
    }

    /// The declaration's text, as the guest wrote it.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// A declaration that is too large or does not parse as a policy file;
/// the message names the guest, the line and column, and the key.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DeclarationError(String);

/// One declared need the policy refuses: why, and how to allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The refusal, as the guest would get it (without `denied: `).
    pub reason: String,
    /// How to allow it, if the policy can.
    pub hint: Option<String>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)?;
        match &self.hint {
            Some(hint) => write!(f, "; {hint}"),
            None => Ok(()),
        }
    }
}

impl Refusal {
    fn of(error: &Error) -> Refusal {
        let (_, reason) = error.parts();
        Refusal {
            hint: how_to_allow(&reason),
            reason,
        }
    }

    fn new(reason: String, hint: String) -> Refusal {
        Refusal {
            reason,
            hint: Some(hint),
        }
    }
}

impl Policy {
    /// The declared needs this policy refuses, in the declaration's order:
    /// programs (with the exact argument lists of forms made of exact
    /// words only), the shell, variables the guest sets
    /// (`env.guest_may_set`) or expects in its children (`env.set`,
    /// `env.pass`), working directories (`dirs`, `cwd.default`), signals,
    /// and limits the policy sets lower than declared. `search_path` and
    /// `sandbox` are the host's business and not checked. Nothing is
    /// started, audited or recorded. In learn mode nothing is refused.
    pub fn refusals(&self, declared: &Declaration) -> Vec<Refusal> {
        if self.learn.is_some() {
            return Vec::new();
        }
        let d = &declared.file;
        let mut refused = Vec::new();
        for program in &d.programs.allow {
            refused.extend(self.refuses_program(program.get_ref(), None));
        }
        for rule in &d.programs.rules {
            let program = rule.program.get_ref();
            let exact: Vec<Vec<String>> = rule
                .args
                .iter()
                .filter(|form| form.rest.is_none())
                .filter_map(|form| {
                    form.positions
                        .iter()
                        .map(|p| match p {
                            ArgPattern::Exact(word) => Some(word.clone()),
                            _ => None,
                        })
                        .collect()
                })
                .collect();
            if exact.is_empty() {
                refused.extend(self.refuses_program(program, None));
            }
            for args in &exact {
                refused.extend(self.refuses_program(program, Some(args)));
            }
        }
        if d.shell.allow {
            if let Err(e) = self.plan_spawn(&SpawnRequest::shell("")) {
                refused.push(Refusal::of(&e));
            }
        }
        for name in &d.env.guest_may_set {
            let env = [(name.get_ref().clone(), String::new())];
            if let Err(e) = self.env.build(&env, false, None) {
                refused.push(Refusal::of(&e));
            }
        }
        let base = self.env.build(&[], false, None).unwrap_or_default();
        let wanted = d.env.set.keys().chain(&d.env.pass);
        for name in wanted.filter(|n| !base.iter().any(|(k, _)| k == *n)) {
            refused.push(Refusal::new(
                format!("env {name} is not in the children's environment"),
                format!("pass it with --pass-env {name} or env.pass, or set it with --env {name}=VALUE or env.set"),
            ));
        }
        let dirs = d.dirs.iter().map(|dir| {
            dir.guest
                .clone()
                .unwrap_or_else(|| dir.host.get_ref().display().to_string())
        });
        for dir in dirs.chain(d.cwd.default.clone()) {
            if let Err(e) = cwd::resolve(&self.dirs, None, Some(&dir)) {
                refused.push(Refusal::of(&e));
            }
        }
        if let (Some(wanted), Some(allowed)) = (&d.signals.allow, &self.signals) {
            for signal in wanted.iter().filter(|s| !allowed.contains(s)) {
                let e = Error::Denied(format!("signal {} not in allowed signals", signal.name()));
                refused.push(Refusal::of(&e));
            }
        }
        refused.extend(self.refused_limits(d));
        refused
    }

    /// A declared program, with any arguments (`None`: only a refusal of
    /// the program itself counts, not one of its argument rules) or
    /// exactly `args`.
    fn refuses_program(&self, program: &str, args: Option<&Vec<String>>) -> Option<Refusal> {
        let none = Vec::new();
        let e = self
            .plan_spawn(&SpawnRequest::exec(program, args.unwrap_or(&none)))
            .err()?;
        let argument_rule =
            matches!(&e, Error::Denied(m) if m.starts_with(&format!("program {program:?}: ")));
        (args.is_some() || !argument_rule).then(|| Refusal::of(&e))
    }

    /// Limits the policy sets lower than the declaration asks.
    fn refused_limits(&self, d: &PolicyFile) -> Vec<Refusal> {
        let (want, have) = (&d.limits, &self.limits);
        let communicate = have.communicate_bytes.or(Some(DEFAULT_COMMUNICATE_BYTES));
        let buffered = have.buffered_bytes.or(Some(DEFAULT_BUFFERED_BYTES));
        let as_u64 = |v: Option<usize>| v.map(|v| v as u64);
        let secs = |v: Option<std::time::Duration>| v.map(|d| d.as_secs_f64());
        let pairs: [(&str, Option<f64>, Option<f64>); 12] = [
            (
                "max_live",
                f(as_u64(want.max_live)),
                f(as_u64(have.max_live)),
            ),
            (
                "max_held",
                f(as_u64(want.max_held)),
                f(as_u64(Some(have.held_bound()))),
            ),
            ("max_spawns", f(want.max_spawns), f(have.max_spawns)),
            ("timeout_secs", secs(want.timeout_secs), secs(have.timeout)),
            (
                "communicate_bytes",
                f(as_u64(want.communicate_bytes)),
                f(as_u64(communicate)),
            ),
            (
                "buffered_bytes",
                f(as_u64(want.buffered_bytes)),
                f(as_u64(buffered)),
            ),
            (
                "max_arg_bytes",
                f(as_u64(want.max_arg_bytes)),
                f(as_u64(have.max_arg_bytes)),
            ),
            (
                "max_env_bytes",
                f(as_u64(want.max_env_bytes)),
                f(as_u64(have.max_env_bytes)),
            ),
            ("cpu_secs", f(want.cpu_secs), f(have.os.cpu_secs)),
            (
                "address_space_bytes",
                f(want.address_space_bytes),
                f(have.os.address_space),
            ),
            ("open_files", f(want.open_files), f(have.os.open_files)),
            ("processes", f(want.processes), f(have.os.processes)),
        ];
        pairs
            .into_iter()
            .filter_map(|(key, want, have)| match (want, have) {
                (Some(want), Some(have)) if have < want => Some(Refusal::new(
                    format!("limits.{key} is {have}, the guest declares {want}"),
                    format!("raise limits.{key} to {want}"),
                )),
                _ => None,
            })
            .collect()
    }
}

/// A count as a number to compare (counts and sizes fit `f64` exactly up
/// to 2^53).
fn f(v: Option<u64>) -> Option<f64> {
    v.map(|v| v as f64)
}

#[cfg(test)]
#[path = "declared_tests.rs"]
mod tests;
