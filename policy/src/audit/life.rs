//! The events of a child's life after the decision that allowed it:
//! started, failed to start, timed out, exited. Each is logged by the
//! auditor of the guest that started the child.

use super::record::{escape_controls, Record};
use super::{wanted, Auditor};
use crate::Error;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// The auditors of the children alive now, by pid (a pid is not reused
/// while its child is unreaped, and the exit is logged before the reap).
static CHILDREN: LazyLock<Mutex<HashMap<u32, Arc<Auditor>>>> = LazyLock::new(Default::default);

fn children() -> std::sync::MutexGuard<'static, HashMap<u32, Arc<Auditor>>> {
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The auditor of the guest that started child `pid`, while its exit is
/// not yet logged.
pub(super) fn auditor_of(pid: u32) -> Option<Arc<Auditor>> {
    children().get(&pid).cloned()
}

/// Logs that the child `pid` started, allowed by decision `decision`, and
/// follows it until its exit is logged. `returncode` says whether its exit
/// was already seen (before it was followed, so not logged then); an exit
/// seen after this call is logged by [`exited`].
pub fn spawned(
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
pub fn spawn_failed(auditor: &Auditor, decision: u64, err: &Error) {
    if !wanted(true) {
        return;
    }
    let mut r = Record::default();
    let (kind, reason) = err.parts();
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
