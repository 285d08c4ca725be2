//! The cgroup filesystem side of containment: the host's own cgroup,
//! reading a cgroup's state, killing and removing a cgroup tree, and the
//! sweep of the cgroups a killed host left behind.

use super::KILL_WAIT;
use procgate_policy::audit::{self, Operational};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The cgroup the host process itself is in, as a directory: the cgroup2
/// mount from `/proc/self/mountinfo` joined with the `0::/path` line of
/// `/proc/self/cgroup`.
///
/// ```
/// // Some(dir) on a host with cgroup v2, None elsewhere.
/// let _ = procgate_child::cgroup::own_cgroup_dir();
/// ```
pub fn own_cgroup_dir() -> io::Result<PathBuf> {
    let not_found = |what: &str| io::Error::new(io::ErrorKind::NotFound, what.to_string());
    let own = std::fs::read_to_string("/proc/self/cgroup")?;
    let path = own
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or_else(|| not_found("no cgroup v2 line in /proc/self/cgroup"))?;
    for mount in procgate_policy::sandbox::cgroup2_mounts() {
        let Some(rel) = path.strip_prefix(mount.root.as_str()) else {
            continue;
        };
        return Ok(mount.mount_point.join(rel.trim_start_matches('/')));
    }
    Err(not_found("no cgroup2 mount in /proc/self/mountinfo"))
}

pub(super) fn write_file(path: &Path, text: &str) -> io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)?
        .write_all(text.as_bytes())
}

/// Whether the cgroup at `dir` holds no process (itself and below); a
/// cgroup that is gone holds none.
pub(super) fn unpopulated(dir: &Path) -> bool {
    populated(dir) != Some(true)
}

/// [`unpopulated`] through `events`, the cgroup's `cgroup.events` kept
/// open: read from its start, the kernel writes the text afresh.
pub(super) fn unpopulated_at(events: &std::fs::File) -> bool {
    populated_at(events) != Some(true)
}

/// [`populated`] through `events`, kept open; `None` if it cannot be read
/// (the cgroup is gone).
pub(super) fn populated_at(events: &std::fs::File) -> Option<bool> {
    use std::os::unix::fs::FileExt;
    let mut buf = [0u8; 128];
    let n = events.read_at(&mut buf, 0).ok()?;
    is_populated(&buf[..n])
}

/// Whether the cgroup at `dir` holds a process (itself and below), from
/// its `cgroup.events`; `None` if that cannot be read (the cgroup is gone).
/// One `read` into a small buffer: `cgroup.events` is two short lines, and
/// the kernel hands out a cgroup file's whole text in the first read
/// (`std::fs::read_to_string` would `statx` the file and read twice).
pub(super) fn populated(dir: &Path) -> Option<bool> {
    use std::io::Read;
    let mut buf = [0u8; 128];
    let n = std::fs::File::open(dir.join("cgroup.events"))
        .and_then(|mut f| f.read(&mut buf))
        .ok()?;
    is_populated(&buf[..n])
}

/// Whether the text of a `cgroup.events` says a process is in the cgroup.
fn is_populated(events: &[u8]) -> Option<bool> {
    let events = std::str::from_utf8(events).ok()?;
    Some(!events.lines().any(|l| l == "populated 0"))
}

/// The pids still in `dir` and its descendants, for the log.
pub(super) fn pids_in(dir: &Path) -> Vec<u32> {
    let mut out: Vec<u32> = std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect();
    for sub in subdirs(dir) {
        out.extend(pids_in(&sub));
    }
    out
}

pub(super) fn subdirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// Removes `dir` and the (empty) cgroups below it.
pub(super) fn remove_tree(dir: &Path) {
    for sub in subdirs(dir) {
        remove_tree(&sub);
    }
    let _ = std::fs::remove_dir(dir);
}

/// Kills everything in the cgroup `dir`, waits (up to [`KILL_WAIT`],
/// blocking) until it is empty, and removes it; returns the pids it could
/// not end.
pub(super) fn kill_and_remove_blocking(dir: &Path) -> Vec<u32> {
    let _ = write_file(&dir.join("cgroup.kill"), "1");
    let end = Instant::now() + KILL_WAIT;
    let mut empty = unpopulated(dir);
    while !empty && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(2));
        empty = unpopulated(dir);
    }
    let left = if empty { Vec::new() } else { pids_in(dir) };
    if left.is_empty() {
        remove_tree(dir);
    }
    left
}

/// This host's tag in the names of its cgroups: its pid and its pid
/// namespace (`<pid>.<pidns inode>`), so that a sweep never takes a live
/// host in another pid namespace for a dead one.
pub(super) fn host_tag(pid: u32) -> String {
    format!("{pid}.{}", pid_namespace())
}

/// The inode of this process's pid namespace (`/proc/self/ns/pid`); a
/// process never changes its own, so it is read once.
fn pid_namespace() -> &'static str {
    static NS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NS.get_or_init(|| {
        std::fs::read_link("/proc/self/ns/pid")
            .map(|l| {
                l.to_string_lossy()
                    .trim_start_matches("pid:[")
                    .trim_end_matches(']')
                    .to_string()
            })
            .unwrap_or_default()
    })
}

/// Kills and removes the cgroups a killed host left under `parent`:
/// `procgate-<pid>.<pidns>-<n>` of this pid namespace whose pid is no
/// longer alive.
pub(super) fn remove_stale(parent: &Path) {
    let own_ns = format!(".{}", pid_namespace());
    for sub in subdirs(parent) {
        let name = sub.file_name().unwrap_or_default().to_string_lossy();
        let Some(tag) = name
            .strip_prefix("procgate-")
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let Some(pid) = tag
            .strip_suffix(own_ns.as_str())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        // A warning when it held processes (they outlived their host);
        // removing an empty one is housekeeping.
        let populated = !unpopulated(&sub);
        let left = kill_and_remove_blocking(&sub);
        audit::operational(Operational::StaleCgroup {
            cgroup: &sub,
            host_pid: pid,
            populated,
            left: &left,
        });
    }
}
