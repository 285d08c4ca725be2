//! The audit log: one event per decision ([`crate::Policy::decide_spawn_with`] and [`crate::Policy::decide_signal_with`])
//! and per turn in a child's life (started, failed to start, timed out,
//! exited), each a `tracing` event on [`crate::AUDIT_TARGET`] (`info`, or
//! `warn` for refusals, spawn failures, timeouts and suppressions).
//!
//! Every event carries its machine-grade record as one JSON object in the
//! field `record` (schema below); the event's message is a one-line
//! readable summary with every control character escaped. The CLI's
//! `--audit-json FILE` writes the records, one per line.
//!
//! A hostile guest cannot flood or forge the log:
//!
//! - every string field is cut to [`FIELD_MAX`] bytes (counted as
//!   JSON-escaped), marked with `…[+N bytes]` and `"truncated": true`;
//!   `args` and `env` are cut to [`FIELD_MAX`] bytes in all;
//! - the readable message escapes control characters, so a newline in a
//!   variable name cannot start a line of its own;
//! - denials and signal decisions (the requests a guest can repeat without
//!   starting anything) are limited to [`LIMITED_PER_SECOND`] per guest per
//!   one-second window; the rest are counted and reported in one
//!   `suppressed` event ("N more denials suppressed") when the next window
//!   opens or the guest's context is dropped. Allowed spawns and the
//!   lifecycle events are never suppressed: each stands for a process that
//!   really started.
//!
//! # Schema, version 1
//!
//! Every record has:
//!
//! | field | type | meaning |
//! | --- | --- | --- |
//! | `v` | number | the schema version, `1` |
//! | `ts_ms` | number | milliseconds since the Unix epoch |
//! | `run` | string or null | the guest run id (`ProcgateCtx::run_id`); null only for a decision made outside any context |
//! | `seq` | number | the event's number within its run, from 1 |
//! | `event` | string | `decision`, `spawn`, `spawn-failed`, `timeout`, `exit`, `suppressed` or `operational` |
//! | `truncated` | bool | whether a field below was cut to [`FIELD_MAX`] |
//!
//! `decision` (every field always present, null where it does not apply):
//!
//! | field | type | meaning |
//! | --- | --- | --- |
//! | `decision` | string | `allow`, `deny`, `asked` (the ask tier matched: see `answer`), or `queried` (a guest's `query-exec`/`query-shell`: nothing was started; `error` is null if the spawn would be allowed, else the error it would get) |
//! | `request` | string | `exec`, `shell` or `signal` |
//! | `program` | string or null | exec: the program as the guest named it |
//! | `args` | array of strings or null | exec: the arguments after the program |
//! | `cmd` | string or null | shell: the command line |
//! | `cwd` | string or null | the working directory the guest asked for (a guest path), null if none |
//! | `env` | object or null | allowed spawn: the child's whole environment; refused spawn: the variables the guest asked for. Name → value; the value is null for names the policy marks secret (`env.secret`) |
//! | `resolved` | string or null | allowed spawn: the absolute path executed |
//! | `host_cwd` | string or null | allowed spawn: the child's working directory on the host |
//! | `sandbox` | string or null | allowed spawn: `none`, `landlock`, or why Landlock is missing |
//! | `rule` | string or null | allowed: the rule that allowed it |
//! | `error` | string or null | refused: the WIT error case (`denied`, `limit-exceeded`, `not-found`, `invalid-argument`, ...) |
//! | `reason` | string or null | refused: why, naming the rule |
//! | `how_to_allow` | string or null | refused: the flag and policy key that would allow it ([`crate::how_to_allow`]), where there is one |
//! | `pid` | number or null | signal: the child it is for |
//! | `signal` | string or null | signal: its name (`SIGTERM`, ...) |
//! | `answer` | string or null | asked: `allow` or `deny` (denied too when nobody answered) |
//! | `answered_by` | string or null | asked: who answered (`hook`, `prompt`, or the hook's own name); null when nobody did |
//! | `remembered` | string or null | asked: what the answer remembered (the policy line written), if anything |
//!
//! `spawn`: `decision` (the `seq` of the decision that allowed it), `pid`,
//! `resolved`. `spawn-failed`: `decision`, `error`, `reason`. `timeout`:
//! `pid`, `after_ms` (the policy's timeout), `signal` (`SIGTERM`, then
//! `SIGKILL` after the grace period). `exit`: `pid`, `returncode` (`-N`
//! after signal `N`). `suppressed`: `count` (refusals not logged in the
//! window that just ended). `operational` (what the host could not do for
//! a child or a cgroup, [`Operational`]): `kind` (`unended`,
//! `stale-cgroup`, `no-cgroup`, `exit-unknown`, `no-reap-thread`) and, by
//! kind, `pid`, `pids`, `cgroup`, `within_ms`, `host_pid`, `populated`,
//! `left`, `reason`, `error`.
//!
//! A little over ~400 lines: about 70 are this module doc with the record
//! schema (the one place it is written) and about 35 are tests.

mod life;
mod ops;
mod record;

pub use life::{exited, spawn_failed, spawned, timed_out};
pub use ops::{operational, Operational};

use crate::request::{Command, SignalRequest, SpawnPlan, SpawnRequest};
use crate::{Error, Policy, AUDIT_TARGET};
use record::{clip, escape_controls, Record};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// The version of the record schema, the `v` of every record.
pub const SCHEMA_VERSION: u64 = 1;

/// Most bytes of one logged field (JSON-escaped); `args` and `env` count
/// as one field each.
pub const FIELD_MAX: usize = 4096;

/// Most denials and signal decisions logged per guest per second; the
/// rest are counted in one `suppressed` event.
pub const LIMITED_PER_SECOND: u32 = 10;

/// The audit state of one guest run: its id, the event counter and the
/// rate limit of its denials. Kept (shared) by its
/// `ProcgateCtx`.
///
/// ```
/// let a = procgate_policy::audit::Auditor::new(Some("run-1".into()));
/// assert_eq!(a.run_id(), Some("run-1"));
/// ```
#[derive(Debug)]
pub struct Auditor {
    run: Option<String>,
    seq: AtomicU64,
    limiter: Mutex<Limiter>,
}

#[derive(Debug, Default)]
struct Limiter {
    window: Option<Instant>,
    logged: u32,
    suppressed: u64,
}

impl Auditor {
    /// The audit state of a run called `run` (control characters escaped
    /// and cut to 128 bytes; `None` for decisions outside any run).
    pub fn new(run: Option<String>) -> Auditor {
        Auditor {
            run: run.map(|r| escape_controls(clip(&r, 128).0)),
            seq: AtomicU64::new(0),
            limiter: Mutex::default(),
        }
    }

    /// A fresh run id: 16 hex digits, unique within this host process and
    /// unlikely to repeat across processes.
    ///
    /// ```
    /// let a = procgate_policy::audit::Auditor::new_run_id();
    /// assert_eq!(a.len(), 16);
    /// assert_ne!(a, procgate_policy::audit::Auditor::new_run_id());
    /// ```
    pub fn new_run_id() -> String {
        use std::hash::{BuildHasher, Hasher};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u32(std::process::id());
        h.write_u128(now_ms());
        format!("{:016x}", h.finish())
    }

    /// The run id.
    pub fn run_id(&self) -> Option<&str> {
        self.run.as_deref()
    }

    /// Whether a limited event may be logged now; emits the summary of
    /// the previous window first when a new one opens.
    fn admit(&self) -> bool {
        let mut l = self.limiter.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let fresh = l
            .window
            .is_none_or(|start| now.duration_since(start) >= Duration::from_secs(1));
        if fresh {
            let missed = std::mem::take(&mut l.suppressed);
            *l = Limiter {
                window: Some(now),
                logged: 0,
                suppressed: 0,
            };
            drop(l);
            self.summary(missed);
            l = self.limiter.lock().unwrap_or_else(|e| e.into_inner());
        }
        if l.logged < LIMITED_PER_SECOND {
            l.logged += 1;
            true
        } else {
            l.suppressed += 1;
            false
        }
    }

    fn summary(&self, missed: u64) {
        if missed > 0 {
            let mut rec = Map::new();
            rec.insert("count".into(), missed.into());
            self.emit(
                true,
                "suppressed",
                &format!("{missed} more denials suppressed"),
                rec,
                false,
            );
        }
    }

    /// Writes one event; returns its `seq`.
    pub(super) fn emit(
        &self,
        warn: bool,
        event: &str,
        message: &str,
        fields: Map<String, Value>,
        truncated: bool,
    ) -> u64 {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let mut rec = Map::new();
        rec.insert("v".into(), SCHEMA_VERSION.into());
        rec.insert("ts_ms".into(), (now_ms() as u64).into());
        rec.insert("run".into(), self.run.clone().into());
        rec.insert("seq".into(), seq.into());
        rec.insert("event".into(), event.into());
        rec.extend(fields);
        rec.insert("truncated".into(), truncated.into());
        let record = Value::Object(rec).to_string();
        let run = self.run.as_deref().unwrap_or("-");
        if warn {
            tracing::warn!(target: AUDIT_TARGET, run, event, record = record.as_str(), "{message}");
        } else {
            tracing::info!(target: AUDIT_TARGET, run, event, record = record.as_str(), "{message}");
        }
        seq
    }
}

impl Drop for Auditor {
    /// Reports the denials suppressed in the last window.
    fn drop(&mut self) {
        let missed = self
            .limiter
            .get_mut()
            .map(|l| l.suppressed)
            .unwrap_or_default();
        self.summary(missed);
    }
}

/// The auditor of decisions made outside any `ProcgateCtx`.
pub(crate) static DIRECT: LazyLock<Auditor> = LazyLock::new(|| Auditor::new(None));

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// What a decision was about, for its record.
pub(crate) enum Asked<'a> {
    /// A spawn.
    Spawn(&'a SpawnRequest<'a>),
    /// A signal.
    Signal(&'a SignalRequest),
}

/// Logs one decision (rate-limited if it is a denial or a signal);
/// returns its `seq`, or 0 if it was suppressed.
/// `outcome` is the plan of an allowed spawn, `None` for an allowed signal;
/// `answer` the hook's answer to an ask-tier request ([`crate::ask`]).
pub(crate) fn decision(
    auditor: &Auditor,
    policy: &Policy,
    asked: Asked<'_>,
    outcome: Result<Option<&SpawnPlan>, &Error>,
    answer: Option<&crate::hooks::Answer>,
) -> u64 {
    logged(auditor, policy, asked, outcome, answer, false)
}

// policy5 (query): begin.
/// Logs one query (`decision: "queried"`, rate-limited as a denial,
/// `info` whatever the answer: nothing was refused or started); `outcome`
/// is what the spawn would have got. Returns its `seq`, or 0.
pub(crate) fn queried(
    auditor: &Auditor,
    policy: &Policy,
    req: &SpawnRequest<'_>,
    outcome: Result<&SpawnPlan, &Error>,
) -> u64 {
    logged(
        auditor,
        policy,
        Asked::Spawn(req),
        outcome.map(Some),
        None,
        true,
    )
}
// policy5 (query): end.

/// [`decision`], or with `query` a [`queried`] record.
fn logged(
    auditor: &Auditor,
    policy: &Policy,
    asked: Asked<'_>,
    outcome: Result<Option<&SpawnPlan>, &Error>,
    answer: Option<&crate::hooks::Answer>,
    query: bool,
) -> u64 {
    let allowed = outcome.is_ok();
    let warn = !allowed && !query;
    if !wanted(warn) {
        return 0;
    }
    let limited = query || outcome.is_err() || matches!(asked, Asked::Signal(_));
    if limited && !auditor.admit() {
        return 0;
    }
    let mut r = Record::default();
    let label = match (query, answer, allowed) {
        (true, _, _) => "queried",
        (false, Some(_), _) => "asked",
        (false, None, true) => "allow",
        (false, None, false) => "deny",
    };
    r.put("decision", label);
    let (request, what) = match asked {
        Asked::Spawn(SpawnRequest {
            command: Command::Exec { program, .. },
            ..
        }) => ("exec", format!("exec {:?}", r.text(program))),
        Asked::Spawn(SpawnRequest {
            command: Command::Shell { cmd },
            ..
        }) => ("shell", format!("shell {:?}", r.text(cmd))),
        Asked::Signal(SignalRequest { pid, signal }) => {
            ("signal", format!("{} to {pid}", signal.name()))
        }
    };
    r.put("request", request);
    for key in [
        "program",
        "args",
        "cmd",
        "cwd",
        "env",
        "resolved",
        "host_cwd",
        "sandbox",
        "rule",
        "error",
        "reason",
        "how_to_allow",
        "pid",
        "signal",
        "answer",
        "answered_by",
        "remembered",
    ] {
        r.null(key);
    }
    let mut what_asked = String::new();
    if let Some(answer) = answer {
        r.put("answer", if allowed { "allow" } else { "deny" });
        if answer.verdict.is_some() {
            r.str("answered_by", Some(&answer.by));
            what_asked = format!(
                ", answered by {}",
                escape_controls(r.text(&answer.by).as_str())
            );
        } else {
            what_asked = ", nobody answered".into();
        }
        r.str("remembered", answer.remembered.as_deref());
    }
    match asked {
        Asked::Spawn(req) => {
            match req.command {
                Command::Exec { program, args } => {
                    r.str("program", Some(program));
                    r.list("args", args);
                }
                Command::Shell { cmd } => r.str("cmd", Some(cmd)),
            }
            r.str("cwd", req.cwd);
            if outcome.is_err() {
                r.env(req.env, policy);
            }
        }
        Asked::Signal(req) => {
            r.put("pid", req.pid);
            r.put("signal", req.signal.name());
        }
    }
    let message = match outcome {
        Ok(None) => {
            r.str("rule", Some("signals"));
            format!("allowed {what}")
        }
        Ok(Some(plan)) => {
            r.str("rule", Some(&plan.rule));
            r.str("resolved", Some(&plan.program.to_string_lossy()));
            r.str("host_cwd", Some(&plan.cwd.to_string_lossy()));
            r.put("sandbox", plan.sandbox_note);
            r.env(&plan.env, policy);
            match query {
                true => format!("queried {what}: would be allowed"),
                false => format!("allowed {what}{what_asked}"),
            }
        }
        Err(e) => {
            let (kind, reason) = e.parts();
            r.put("error", kind);
            // How to allow it: said once, here, beside the rule (the guest
            // gets the rule alone).
            let how = crate::how_to_allow(&reason);
            let reason = r.text(&reason);
            r.put("reason", reason.as_str());
            let hint = match &how {
                Some(how) => {
                    let how = r.text(how);
                    r.put("how_to_allow", how.as_str());
                    format!(" ({})", escape_controls(&how))
                }
                None => String::new(),
            };
            let verb = if query { "queried" } else { "refused" };
            let would = if query { "would be refused: " } else { "" };
            format!(
                "{verb} {what}{what_asked}: {would}{kind}: {}{hint}",
                escape_controls(&reason)
            )
        }
    };
    auditor.emit(warn, "decision", &message, r.fields, r.truncated)
}

/// Whether an audit event at `warn` (else `info`) level goes anywhere: a
/// record nobody reads is not built (it would cost every spawn a few JSON
/// objects).
pub(super) fn wanted(warn: bool) -> bool {
    if warn {
        tracing::enabled!(target: AUDIT_TARGET, tracing::Level::WARN)
    } else {
        tracing::enabled!(target: AUDIT_TARGET, tracing::Level::INFO)
    }
}

#[cfg(test)]
mod tests {
    use super::record::*;
    use super::*;

    #[test]
    fn clip_counts_escaped_bytes_and_keeps_char_boundaries() {
        assert_eq!(clip("abc", 2), ("ab", 1, 2));
        assert_eq!(clip("a\nb", 3), ("a\n", 1, 3));
        assert_eq!(clip("é", 1), ("", 2, 0));
        assert_eq!(clip("\u{1}", 5), ("", 1, 0));
    }

    #[test]
    fn lists_and_env_stay_within_the_field_budget() {
        let mut r = Record::default();
        let args: Vec<String> = (0..5000).map(|i| format!("a{i}")).collect();
        r.list("args", &args);
        assert!(r.truncated);
        assert!(r.fields["args"].to_string().len() <= FIELD_MAX + 8);
        let policy = Policy::builder().secret_env("TOKEN").build().unwrap();
        let mut r = Record::default();
        let env = vec![
            ("TOKEN".to_string(), "hunter2".to_string()),
            ("BIG".to_string(), "x".repeat(100_000)),
        ];
        r.env(&env, &policy);
        assert!(r.truncated);
        assert_eq!(r.fields["env"]["TOKEN"], Value::Null);
        assert!(r.fields["env"].to_string().len() <= FIELD_MAX + 16);
    }

    #[test]
    fn escapes_keep_one_line() {
        assert_eq!(escape_controls("a\nb\u{1b}"), "a\\nb\\u{1b}");
    }
}
