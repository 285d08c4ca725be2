//! The operational events of the child layer (`procgate-child`): what the
//! host could not do for a child or a guest's cgroup, logged here, at the
//! one audit place, so that they carry a record like every other event
//! (the CLI's `--audit-json` writes them too) instead of being free-form
//! log lines of the layer that noticed them.

use super::life::auditor_of;
use super::record::escape_controls;
use super::DIRECT;
use serde_json::{Map, Value};
use std::path::Path;
use std::time::Duration;

/// One operational event of the child layer.
#[derive(Debug, Clone, Copy)]
pub enum Operational<'a> {
    /// Processes still there `within` after SIGKILL (a process in
    /// uninterruptible sleep); the host goes on without them.
    Unended {
        /// Their pids.
        pids: &'a [u32],
        /// The cgroup they are in, if it is known.
        cgroup: Option<&'a Path>,
        /// How long the host waited for them.
        within: Duration,
    },
    /// A cgroup left by a host that is gone (pid `host_pid`), removed;
    /// `populated` if processes were left in it (they were killed; `left`
    /// could not be ended).
    StaleCgroup {
        /// The cgroup's directory.
        cgroup: &'a Path,
        /// The pid of the host that made it.
        host_pid: u32,
        /// Whether processes were left in it.
        populated: bool,
        /// The pids that could not be ended.
        left: &'a [u32],
    },
    /// No cgroup could be had for a guest's children (`best-effort`):
    /// they are contained by their process group only.
    NoCgroup {
        /// Why.
        reason: &'a str,
    },
    /// The host's watchdog (what kills the guest cgroups when the host is
    /// gone) could not be started, or had exited and was started again.
    NoWatchdog {
        /// Why.
        reason: &'a str,
    },
    /// Child `pid` was reaped outside procgate and the kernel cannot tell
    /// its exit status: it is reported as `-9`.
    ExitUnknown {
        /// The child.
        pid: u32,
    },
    /// No thread could be had to reap child `pid` in the background
    /// (`error`): it is reaped on the calling thread, briefly.
    NoReapThread {
        /// The child.
        pid: u32,
        /// Why no thread.
        error: &'a str,
    },
}

impl Operational<'_> {
    /// The record's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Operational::Unended { .. } => "unended",
            Operational::StaleCgroup { .. } => "stale-cgroup",
            Operational::NoCgroup { .. } => "no-cgroup",
            Operational::NoWatchdog { .. } => "no-watchdog",
            Operational::ExitUnknown { .. } => "exit-unknown",
            Operational::NoReapThread { .. } => "no-reap-thread",
        }
    }

    /// The one-line readable message.
    fn message(&self) -> String {
        match *self {
            Operational::Unended {
                pids,
                cgroup,
                within,
            } => match cgroup {
                Some(dir) => format!(
                    "could not end these processes of cgroup {} within {within:?} of SIGKILL; \
                     going on without them: {pids:?}",
                    dir.display()
                ),
                None => format!(
                    "could not end these processes within {within:?} of SIGKILL; going on \
                     without them: {pids:?}"
                ),
            },
            Operational::StaleCgroup {
                cgroup,
                host_pid,
                populated: false,
                ..
            } => format!(
                "removed the empty cgroup {} of a host that is gone (pid {host_pid})",
                cgroup.display()
            ),
            Operational::StaleCgroup {
                cgroup,
                host_pid,
                populated: true,
                left,
            } => format!(
                "removed the cgroup {} of a host that is gone (pid {host_pid}), killing what \
                 was left in it (could not end: {left:?})",
                cgroup.display()
            ),
            Operational::NoCgroup { reason } => {
                format!("{reason}; children are contained by their process group only")
            }
            Operational::NoWatchdog { reason } => reason.to_string(),
            Operational::ExitUnknown { pid } => format!(
                "child {pid} was reaped outside procgate and this kernel cannot tell its exit \
                 status; reporting -9"
            ),
            Operational::NoReapThread { pid, error } => {
                format!("no thread to reap process {pid} ({error}); reaping it here")
            }
        }
    }
}

/// Logs an operational event of the child layer: a warning (an
/// information for the removal of an empty stale cgroup) with the record
/// `event: "operational"`, its `kind` and the fields of the variant
/// (`pid`, `pids`, `cgroup`, `host_pid`, `left`, `reason`), on the
/// auditor of the guest whose child it is about when that is known.
pub fn operational(event: Operational<'_>) {
    let mut rec = Map::new();
    rec.insert("kind".into(), event.kind().into());
    let path = |p: &Path| Value::from(p.to_string_lossy().into_owned());
    let pids = |p: &[u32]| Value::from(p.to_vec());
    let mut pid = None;
    match event {
        Operational::Unended {
            pids: p,
            cgroup,
            within,
        } => {
            rec.insert("pids".into(), pids(p));
            rec.insert("cgroup".into(), cgroup.map_or(Value::Null, path));
            rec.insert("within_ms".into(), (within.as_millis() as u64).into());
            pid = p.first().copied();
        }
        Operational::StaleCgroup {
            cgroup,
            host_pid,
            populated,
            left,
        } => {
            rec.insert("cgroup".into(), path(cgroup));
            rec.insert("host_pid".into(), host_pid.into());
            rec.insert("populated".into(), populated.into());
            rec.insert("left".into(), pids(left));
        }
        Operational::NoCgroup { reason } | Operational::NoWatchdog { reason } => {
            rec.insert("reason".into(), reason.into());
        }
        Operational::ExitUnknown { pid: p } => {
            rec.insert("pid".into(), p.into());
            pid = Some(p);
        }
        Operational::NoReapThread { pid: p, error } => {
            rec.insert("pid".into(), p.into());
            rec.insert("error".into(), error.into());
            pid = Some(p);
        }
    }
    let warn = !matches!(
        event,
        Operational::StaleCgroup {
            populated: false,
            ..
        }
    );
    let message = escape_controls(&event.message());
    match pid.and_then(auditor_of) {
        Some(auditor) => auditor.emit(warn, "operational", &message, rec, false),
        None => DIRECT.emit(warn, "operational", &message, rec, false),
    };
}
