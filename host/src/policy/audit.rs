//! The audit log: one `tracing` event per decision on
//! [`super::AUDIT_TARGET`], `info` when allowed and `warn` when refused,
//! with the request, the resolved program and cwd, and the rule.

use super::{Decided, Request, Verdict, AUDIT_TARGET};
use crate::error::Result;

/// Logs one decision.
pub(super) fn log(req: &Request<'_>, outcome: &Result<Decided>) {
    match (req, outcome) {
        (Request::Exec { program, args, .. }, Ok(d)) => {
            if let Verdict::Spawn(plan) = &d.verdict {
                tracing::info!(
                    target: AUDIT_TARGET, decision = "allow", request = "exec", program, ?args,
                    resolved = %plan.program.display(), cwd = %plan.cwd.display(),
                    rule = %d.rule, sandbox = d.sandbox,
                    "allowed exec {program:?}"
                );
            }
        }
        (Request::Shell { cmd, .. }, Ok(d)) => {
            if let Verdict::Spawn(plan) = &d.verdict {
                tracing::info!(
                    target: AUDIT_TARGET, decision = "allow", request = "shell", cmd,
                    resolved = %plan.program.display(), cwd = %plan.cwd.display(),
                    rule = %d.rule, sandbox = d.sandbox,
                    "allowed shell {cmd:?}"
                );
            }
        }
        (Request::Signal { pid, signal }, Ok(d)) => tracing::info!(
            target: AUDIT_TARGET, decision = "allow", request = "signal", pid,
            signal = signal.name(), rule = %d.rule,
            "allowed {} to {pid}", signal.name()
        ),
        (
            Request::Exec {
                program, args, cwd, ..
            },
            Err(e),
        ) => tracing::warn!(
            target: AUDIT_TARGET, decision = "deny", request = "exec", program, ?args, ?cwd,
            rule = %e,
            "refused exec {program:?}: {e}"
        ),
        (Request::Shell { cmd, cwd, .. }, Err(e)) => tracing::warn!(
            target: AUDIT_TARGET, decision = "deny", request = "shell", cmd, ?cwd,
            rule = %e,
            "refused shell {cmd:?}: {e}"
        ),
        (Request::Signal { pid, signal }, Err(e)) => tracing::warn!(
            target: AUDIT_TARGET, decision = "deny", request = "signal", pid,
            signal = signal.name(), rule = %e,
            "refused {} to {pid}: {e}", signal.name()
        ),
    }
}
