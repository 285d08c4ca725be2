//! The audit log: one event per decision ([`super::Policy::decide_with`])
//! and per turn in a child's life (started, failed to start, timed out,
//! exited), each a `tracing` event on [`super::AUDIT_TARGET`] (`info`, or
//! `warn` for refusals, spawn failures, timeouts and suppressions).
//!
//! Every event carries its machine-grade record as one JSON object in the
//! field `record` (schema below); the event's message is a one-line
//! readable summary with every control character escaped. [`JsonLines`]
//! is a `tracing-subscriber` layer that writes the records, one per line
//! (the CLI's `--audit-json FILE`).
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
//! | `run` | string or null | the guest run id ([`crate::ProcgateCtx::run_id`]); null only for a [`super::Policy::decide`] called outside any context |
//! | `seq` | number | the event's number within its run, from 1 |
//! | `event` | string | `decision`, `spawn`, `spawn-failed`, `timeout`, `exit` or `suppressed` |
//! | `truncated` | bool | whether a field below was cut to [`FIELD_MAX`] |
//!
//! `decision` (every field always present, null where it does not apply):
//!
//! | field | type | meaning |
//! | --- | --- | --- |
//! | `decision` | string | `allow` or `deny` |
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
//! | `how_to_allow` | string or null | refused: the flag and policy key that would allow it ([`super::how_to_allow`]), where there is one |
//! | `pid` | number or null | signal: the child it is for |
//! | `signal` | string or null | signal: its name (`SIGTERM`, ...) |
//!
//! `spawn`: `decision` (the `seq` of the decision that allowed it), `pid`,
//! `resolved`. `spawn-failed`: `decision`, `error`, `reason`. `timeout`:
//! `pid`, `after_ms` (the policy's timeout), `signal` (`SIGTERM`, then
//! `SIGKILL` after the grace period). `exit`: `pid`, `returncode` (`-N`
//! after signal `N`). `suppressed`: `count` (refusals not logged in the
//! window that just ended).

use super::{Decided, Policy, Request, Verdict, AUDIT_TARGET};
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
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
/// [`crate::ProcgateCtx`].
///
/// ```
/// let a = procgate::policy::audit::Auditor::new(Some("run-1".into()));
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
    /// let a = procgate::policy::audit::Auditor::new_run_id();
    /// assert_eq!(a.len(), 16);
    /// assert_ne!(a, procgate::policy::audit::Auditor::new_run_id());
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
    fn emit(
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

/// The auditor of decisions made outside any [`crate::ProcgateCtx`].
pub(super) static DIRECT: LazyLock<Auditor> = LazyLock::new(|| Auditor::new(None));

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// Bytes `c` takes inside a JSON string.
fn json_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// The longest prefix of `s` whose JSON-escaped form fits in `max` bytes,
/// how many bytes of `s` are left out, and the prefix's escaped size.
fn clip(s: &str, max: usize) -> (&str, usize, usize) {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        if used + json_len(c) > max {
            return (&s[..i], s.len() - i, used);
        }
        used += json_len(c);
    }
    (s, 0, used)
}

/// `s` with control characters written as escapes (`\n`, `\u{1b}`), so it
/// stays on one line of a text log.
fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// Builds the fields of one record, cutting each to [`FIELD_MAX`].
#[derive(Default)]
struct Record {
    fields: Map<String, Value>,
    truncated: bool,
}

impl Record {
    /// The clipped form of `s`, marked if cut.
    fn text(&mut self, s: &str) -> String {
        let (kept, cut, _) = clip(s, FIELD_MAX);
        if cut == 0 {
            return kept.to_string();
        }
        self.truncated = true;
        format!("{kept}…[+{cut} bytes]")
    }

    fn str(&mut self, key: &str, s: Option<&str>) {
        let v = s.map_or(Value::Null, |s| self.text(s).into());
        self.fields.insert(key.into(), v);
    }

    fn null(&mut self, key: &str) {
        self.fields.insert(key.into(), Value::Null);
    }

    fn put(&mut self, key: &str, v: impl Into<Value>) {
        self.fields.insert(key.into(), v.into());
    }

    /// A list of strings, [`FIELD_MAX`] bytes in all (with quotes and
    /// commas).
    fn list(&mut self, key: &str, items: &[String]) {
        let mut budget = FIELD_MAX;
        let mut out = Vec::new();
        for item in items {
            if budget <= 3 {
                self.truncated = true;
                break;
            }
            let (kept, cut, used) = clip(item, budget - 3);
            budget -= 3 + used;
            out.push(Value::from(kept));
            if cut > 0 {
                self.truncated = true;
                break;
            }
        }
        self.put(key, out);
    }

    /// An environment as a name → value object, [`FIELD_MAX`] bytes in
    /// all; the values of secret names are null.
    fn env(&mut self, env: &[(String, String)], policy: &Policy) {
        let mut budget = FIELD_MAX;
        let mut out = Map::new();
        for (name, value) in env {
            // Quotes, colon, comma, and room for a null.
            if budget <= 10 {
                self.truncated = true;
                break;
            }
            let (name, cut, used) = clip(name, budget - 10);
            budget -= 6 + used;
            let (value, cut) = if cut > 0 {
                (Value::Null, cut)
            } else if policy.is_secret_env(name) {
                budget -= 4;
                (Value::Null, 0)
            } else {
                let (kept, cut, used) = clip(value, budget);
                budget -= used;
                (Value::from(kept), cut)
            };
            out.insert(name.to_string(), value);
            if cut > 0 {
                self.truncated = true;
                break;
            }
        }
        self.put("env", out);
    }
}

/// The WIT error case of `e`, and its text without the case.
fn error_parts(e: &Error) -> (&'static str, String) {
    match e {
        Error::Denied(s) => ("denied", s.clone()),
        Error::NotFound(s) => ("not-found", s.clone()),
        Error::PermissionDenied(s) => ("permission-denied", s.clone()),
        Error::InvalidArgument(s) => ("invalid-argument", s.clone()),
        Error::LimitExceeded(s) => ("limit-exceeded", s.clone()),
        Error::ProcessExited => ("process-exited", e.to_string()),
        Error::Io(s) => ("io", s.clone()),
        Error::Trap(t) => ("trap", t.to_string()),
    }
}

/// Logs one decision (rate-limited if it is a denial or a signal);
/// returns its `seq`, or 0 if it was suppressed.
pub(super) fn decision(
    auditor: &Auditor,
    policy: &Policy,
    req: &Request<'_>,
    outcome: &Result<Decided>,
) -> u64 {
    let allowed = outcome.is_ok();
    if !wanted(!allowed) {
        return 0;
    }
    let limited = outcome.is_err() || matches!(req, Request::Signal { .. });
    if limited && !auditor.admit() {
        return 0;
    }
    let mut r = Record::default();
    r.put("decision", if allowed { "allow" } else { "deny" });
    let (request, what) = match req {
        Request::Exec { program, .. } => ("exec", format!("exec {:?}", r.text(program))),
        Request::Shell { cmd, .. } => ("shell", format!("shell {:?}", r.text(cmd))),
        Request::Signal { pid, signal } => ("signal", format!("{} to {pid}", signal.name())),
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
    ] {
        r.null(key);
    }
    match *req {
        Request::Exec {
            program,
            args,
            env,
            cwd,
            ..
        } => {
            r.str("program", Some(program));
            r.list("args", args);
            r.str("cwd", cwd);
            if outcome.is_err() {
                r.env(env, policy);
            }
        }
        Request::Shell { cmd, env, cwd, .. } => {
            r.str("cmd", Some(cmd));
            r.str("cwd", cwd);
            if outcome.is_err() {
                r.env(env, policy);
            }
        }
        Request::Signal { pid, signal } => {
            r.put("pid", pid);
            r.put("signal", signal.name());
        }
    }
    let message = match outcome {
        Ok(d) => {
            r.str("rule", Some(&d.rule));
            if let Verdict::Spawn(plan) = &d.verdict {
                r.str("resolved", Some(&plan.program.to_string_lossy()));
                r.str("host_cwd", Some(&plan.cwd.to_string_lossy()));
                r.put("sandbox", d.sandbox);
                r.env(&plan.env, policy);
            }
            format!("allowed {what}")
        }
        Err(e) => {
            let (kind, reason) = error_parts(e);
            r.put("error", kind);
            // How to allow it: said once, here, beside the rule (the guest
            // gets the rule alone).
            let how = super::how_to_allow(&reason);
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
            format!("refused {what}: {kind}: {}{hint}", escape_controls(&reason))
        }
    };
    auditor.emit(!allowed, "decision", &message, r.fields, r.truncated)
}

/// Whether an audit event at `warn` (else `info`) level goes anywhere: a
/// record nobody reads is not built (it would cost every spawn a few JSON
/// objects).
fn wanted(warn: bool) -> bool {
    if warn {
        tracing::enabled!(target: AUDIT_TARGET, tracing::Level::WARN)
    } else {
        tracing::enabled!(target: AUDIT_TARGET, tracing::Level::INFO)
    }
}

/// The auditors of the children alive now, by pid (a pid is not reused
/// while its child is unreaped, and the exit is logged before the reap).
static CHILDREN: LazyLock<Mutex<HashMap<u32, Arc<Auditor>>>> = LazyLock::new(Default::default);

fn children() -> std::sync::MutexGuard<'static, HashMap<u32, Arc<Auditor>>> {
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Logs that the child `pid` started, allowed by decision `decision`, and
/// follows it until its exit is logged. `returncode` looks at whether it
/// already exited (before it was followed).
pub(crate) fn spawned(
    auditor: &Arc<Auditor>,
    decision: u64,
    pid: u32,
    resolved: &Path,
    containment: &str,
    returncode: impl FnOnce() -> Option<i32>,
) {
    if wanted(false) {
        let mut r = Record::default();
        r.put("decision", decision);
        r.put("pid", pid);
        r.str("resolved", Some(&resolved.to_string_lossy()));
        r.put("containment", containment);
        let message = format!(
            "started {} as pid {pid}",
            escape_controls(&r.text(&resolved.to_string_lossy()))
        );
        auditor.emit(false, "spawn", &message, r.fields, r.truncated);
    }
    // Followed even when spawns are not logged: its timeout (a warning)
    // may be.
    children().insert(pid, Arc::clone(auditor));
    // An exit seen before the insert above found nobody to log it.
    if let Some(rc) = returncode() {
        exited(pid, rc);
    }
}

/// Logs that a spawn allowed by decision `decision` failed to start.
pub(crate) fn spawn_failed(auditor: &Auditor, decision: u64, err: &Error) {
    if !wanted(true) {
        return;
    }
    let mut r = Record::default();
    let (kind, reason) = error_parts(err);
    r.put("decision", decision);
    r.put("error", kind);
    let reason = r.text(&reason);
    r.put("reason", reason.as_str());
    let message = format!("spawn failed: {kind}: {}", escape_controls(&reason));
    auditor.emit(true, "spawn-failed", &message, r.fields, r.truncated);
}

/// Logs the exit of child `pid` with `returncode`, once (later calls and
/// children procgate did not start are ignored).
pub fn exited(pid: u32, returncode: i32) {
    let Some(auditor) = children().remove(&pid) else {
        return;
    };
    if !wanted(false) {
        return;
    }
    let mut r = Record::default();
    r.put("pid", pid);
    r.put("returncode", returncode);
    let message = format!("pid {pid} exited with {returncode}");
    auditor.emit(false, "exit", &message, r.fields, false);
}

/// Logs that child `pid` ran past its timeout `after` and gets `signal`,
/// delivered through `containment` (`cgroup`, `process-group` or
/// `child-only`).
pub fn timed_out(pid: u32, after: Duration, signal: &str, containment: &str) {
    if !wanted(true) {
        return;
    }
    let Some(auditor) = children().get(&pid).cloned() else {
        return;
    };
    let mut r = Record::default();
    r.put("pid", pid);
    r.put("after_ms", after.as_millis() as u64);
    r.put("signal", signal);
    r.put("containment", containment);
    let message =
        format!("timeout after {after:?}: {signal} to process {pid} and its {containment}");
    auditor.emit(true, "timeout", &message, r.fields, false);
}

/// A `tracing-subscriber` layer writing the `record` of every audit event
/// as one line to a writer: the JSON-lines audit log.
///
/// ```no_run
/// use tracing_subscriber::prelude::*;
/// let file = std::fs::File::create("audit.jsonl").unwrap();
/// tracing_subscriber::registry()
///     .with(procgate::policy::audit::JsonLines::new(file))
///     .init();
/// ```
pub struct JsonLines<W> {
    out: Mutex<W>,
}

impl<W: std::io::Write> JsonLines<W> {
    /// Writes records to `out`.
    pub fn new(out: W) -> JsonLines<W> {
        JsonLines {
            out: Mutex::new(out),
        }
    }
}

struct RecordField(Option<String>);

impl tracing::field::Visit for RecordField {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "record" {
            self.0 = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

impl<S, W> tracing_subscriber::Layer<S> for JsonLines<W>
where
    S: tracing::Subscriber,
    W: std::io::Write + Send + 'static,
{
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != AUDIT_TARGET {
            return;
        }
        let mut field = RecordField(None);
        event.record(&mut field);
        if let Some(line) = field.0 {
            let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
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
