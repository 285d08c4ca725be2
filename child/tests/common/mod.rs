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
