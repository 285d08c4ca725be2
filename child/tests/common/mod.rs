//! Shared by the OS-layer tests: plans, runtimes, process states.

#![allow(dead_code)]

use procgate_policy::{Policy, SpawnPlan, SpawnRequest};
use std::time::Duration;

mod cgroup2;
// Each test binary uses a part of `common`.
#[allow(unused_imports)]
pub use cgroup2::cgroup_expected;

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

/// Two children alive at once each start in a leaf of their own under the
/// guest's cgroup: each prints its cgroup v2 path, then stays alive so the
/// next child gets another leaf. Skips (printing why) without a writable
/// cgroup v2.
pub fn two_live_children_each_start_in_a_leaf_of_their_own() {
    use procgate_child::{spawn, Children, Input, Output, Stdio};
    use std::sync::Arc;
    if !cgroup_expected() {
        return;
    }
    let rt = runtime();
    let children =
        Arc::new(Children::default().with_cgroup(procgate_policy::CgroupMode::Require, None));
    let plan = shell_plan("grep ^0:: /proc/self/cgroup; exec sleep 60");
    let stdio = || Stdio {
        stdin: Input::Devnull,
        stdout: Output::Pipe,
        stderr: Output::Devnull,
        start_new_session: false,
    };
    let lines = rt.block_on(async {
        let mut a = spawn(&plan, stdio(), &children).unwrap();
        let mut b = spawn(&plan, stdio(), &children).unwrap();
        let lines = [first_line(&mut a).await, first_line(&mut b).await];
        drop((a, b));
        children.guest_ended();
        children.ended().await;
        lines
    });
    let guest = children.cgroup_dir().expect("no cgroup was made");
    let guest = guest.file_name().unwrap().to_string_lossy().into_owned();
    let leaf = |line: &str| {
        let path = line.trim().strip_prefix("0::").unwrap_or("").to_string();
        let (parent, leaf) = path.rsplit_once('/').unwrap_or(("", ""));
        assert!(
            parent.ends_with(&format!("/{guest}")) && leaf.starts_with('c'),
            "the child ran in {path}, not in a leaf of {guest}"
        );
        leaf.to_string()
    };
    assert_ne!(
        leaf(&lines[0]),
        leaf(&lines[1]),
        "two live children shared a leaf"
    );
}
