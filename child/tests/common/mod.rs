//! Shared by the OS-layer tests: plans, runtimes, process states.

#![allow(dead_code)]

use procgate_policy::{Policy, SpawnPlan, SpawnRequest};
use std::time::Duration;

/// A multi-threaded runtime with one worker.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// The plan of `program args...` under a policy allowing only it (no
/// Landlock, no limits).
pub fn plan(program: &str, args: &[&str]) -> SpawnPlan {
    let policy = Policy::builder().allow_program(program).build().unwrap();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    policy
        .decide_spawn(&SpawnRequest::exec(program, &args))
        .unwrap()
}

/// The state letter of process `pid` (`R`, `S`, `Z`...), `None` once it is
/// gone.
pub fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

/// Whether `pid` is gone (or a zombie) within 5 s.
pub fn dies(pid: u32) -> bool {
    for _ in 0..500 {
        match proc_state(pid) {
            None | Some('Z') => return true,
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    false
}

/// Whether a writable cgroup v2 with `cgroup.kill` is here, found on its
/// own (as `scripts/test.sh` does), not through the code under test. Prints
/// the skip; fails instead of skipping when `PROCGATE_EXPECT_CGROUP` is set.
pub fn cgroup_expected() -> bool {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let found = mountinfo.lines().any(|line| {
        let Some((left, right)) = line.split_once(" - ") else {
            return false;
        };
        let mount = left.split(' ').nth(4).unwrap_or("");
        if !right.starts_with("cgroup2 ") {
            return false;
        }
        let probe =
            std::path::Path::new(mount).join(format!("procgate-probe-{}", std::process::id()));
        let ok = std::fs::create_dir(&probe).is_ok() && probe.join("cgroup.kill").exists();
        let _ = std::fs::remove_dir(&probe);
        ok
    });
    if !found {
        assert!(
            std::env::var_os("PROCGATE_EXPECT_CGROUP").is_none(),
            "PROCGATE_EXPECT_CGROUP is set but no writable cgroup v2 was found"
        );
        eprintln!("skipped: no writable cgroup v2 with cgroup.kill");
    }
    found
}
