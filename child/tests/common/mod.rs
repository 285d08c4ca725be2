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

/// The plan of `/bin/sh -c cmd` under a policy allowing only the shell.
pub fn shell_plan(cmd: &str) -> SpawnPlan {
    let policy = Policy::builder().allow_shell("/bin/sh").build().unwrap();
    policy.decide_spawn(&SpawnRequest::shell(cmd)).unwrap()
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

/// Takes the child's stdout pipe and reads its first line (within 30 s,
/// else the test fails).
pub async fn first_line(child: &mut procgate_child::Child) -> String {
    use procgate_child::Pipe;
    let out = match std::mem::replace(&mut child.stdout, Pipe::None) {
        Pipe::Held(out) => out,
        other => panic!("stdout is {other:?}"),
    };
    let mut line = bytes::BytesMut::new();
    while !line.ends_with(b"\n") {
        let read = out.read(&mut line, 64);
        let n = tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .expect("no line from the child within 30 s")
            .unwrap();
        assert!(n > 0, "the child closed its stdout early");
    }
    String::from_utf8_lossy(&line).into_owned()
}
