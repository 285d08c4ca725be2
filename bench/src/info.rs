//! What the report says about the run: the machine, its load, the commit,
//! and the containment the procgate variant ran under.

use crate::guest::sandbox;
use crate::measure::{Paths, PYTHON};
use crate::report::RunInfo;
use crate::workloads::Params;
use procgate::sandbox::LandlockMode;
use std::process::Command;

/// The output of a command, trimmed; `?` if it failed.
pub fn shell(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "?".into())
}

/// The load averages over 1, 5 and 15 minutes.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// What the run is, and on what (the load after is filled in at the end).
pub fn run_info(
    paths: &Paths,
    rounds: usize,
    params: &Params,
    cpus: Option<String>,
    quick: bool,
) -> RunInfo {
    let root = paths.root.to_string_lossy().into_owned();
    let mut commit = shell("git", &["-C", &root, "rev-parse", "--short", "HEAD"]);
    // --no-optional-locks: look, never touch the index.
    let dirty = shell(
        "git",
        &[
            "--no-optional-locks",
            "-C",
            &root,
            "status",
            "--porcelain",
            "--untracked-files=no",
        ],
    );
    if !dirty.is_empty() {
        commit.push_str("+dirty");
    }
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "?".into());
    RunInfo {
        date: shell("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_string())
            .unwrap_or_else(|_| "?".into()),
        cpu,
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_before: loadavg(),
        load_after: String::new(),
        commit,
        python: shell(PYTHON, &["--version"]),
        rounds,
        bytes: params.bytes,
        communicate_bytes: params.communicate_bytes,
        stream_mode: params.stream_mode.clone(),
        face: params.face.clone(),
        duration_s: 0.0,
        cpus,
        containment: containment(),
        quick,
    }
}

/// The containment of the procgate variant's children, as the bench's
/// policy asks for it and as this machine allows it.
pub fn containment() -> String {
    let sandbox = match sandbox() {
        Ok(s) => s,
        Err(e) => return format!("invalid: {e:#}"),
    };
    let cgroup = match std::env::var("PROCGATE_BENCH_CGROUP") {
        Ok(mode) => format!("cgroup `{mode}` (PROCGATE_BENCH_CGROUP)"),
        Err(_) => "cgroup `best-effort` (the default)".to_string(),
    };
    let cgroup_dir = match procgate::cgroup::own_cgroup_dir() {
        Ok(dir) => {
            let probe = dir.join(format!("procgate-bench-probe-{}", std::process::id()));
            let writable = std::fs::create_dir(&probe).is_ok();
            let _ = std::fs::remove_dir(&probe);
            format!(
                "the host's cgroup v2 `{}` {}",
                dir.display(),
                if writable {
                    "is writable"
                } else {
                    "is not writable (children get no cgroup under best-effort)"
                }
            )
        }
        Err(e) => format!("no cgroup v2 for the host ({e})"),
    };
    let landlock = match sandbox.landlock {
        LandlockMode::Off => "off",
        LandlockMode::BestEffort => "best-effort",
        LandlockMode::Require => "require",
    };
    let landlock_from = if std::env::var_os("PROCGATE_BENCH_LANDLOCK").is_some() {
        "PROCGATE_BENCH_LANDLOCK"
    } else {
        "the default"
    };
    let deathsig = if std::env::var_os("PROCGATE_BENCH_NO_DEATHSIG").is_some() {
        "children do not die with the host (PROCGATE_BENCH_NO_DEATHSIG)"
    } else {
        "children die with the host"
    };
    format!(
        "{cgroup}, {cgroup_dir}; Landlock `{landlock}` ({landlock_from}), \
         kernel Landlock ABI {}; {deathsig}",
        procgate::sandbox::landlock_abi()
    )
}
