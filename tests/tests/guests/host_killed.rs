//! A host that embeds procgate and is SIGKILLed: no cleanup code of its
//! runs, and every process its guests started, wherever it went, must
//! still end. The host here is this test binary itself, started again
//! with [`HOST`] set, running the guest on a tokio worker thread as an
//! embedder does (not the process's main thread).

use procgate::Policy;
use procgate_tests::{kernel_cgroup2_dir, kernel_feature, proc_state, run_guest, scratch};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Set in the host's environment: the scratch directory it reports in.
const HOST: &str = "PROCGATE_TEST_KILLED_HOST_DIR";

fn shell() -> procgate::Policy {
    Policy::builder().allow_shell("/bin/sh").build().unwrap()
}

/// Whether `pid` is gone or a zombie, waiting up to 10 s; one that is
/// not is killed so the test leaves nothing behind.
fn dies(pid: u32) -> bool {
    for _ in 0..1000 {
        match proc_state(pid) {
            None | Some('Z') => return true,
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    // SAFETY: a plain system call.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    false
}

#[test]
fn the_guests_whole_tree_dies_when_an_embedding_host_is_killed() {
    if let Some(dir) = std::env::var_os(HOST) {
        // The host: its guest's child writes the pids of an escaped
        // grandchild (its own session) and of itself, then stays.
        let dir = Path::new(&dir);
        let script = format!(
            "setsid sleep 600 </dev/null >/dev/null 2>&1 & p=$!; \
             while [ \"$(cut -d' ' -f6 /proc/$p/stat)\" != $p ]; do sleep 0.01; done; \
             echo \"$p $$\" > '{d}/pids.tmp'; mv '{d}/pids.tmp' '{d}/pids'; exec sleep 600",
            d = dir.display()
        );
        run_guest("containment", &["inherit", &script], shell());
        return;
    }
    if !kernel_feature(
        "a writable cgroup v2",
        kernel_cgroup2_dir().is_some(),
        "PROCGATE_EXPECT_CGROUP",
    ) {
        return;
    }
    let dir = scratch("killed-host");
    let mut host = Command::new(std::env::current_exe().unwrap())
        .args([
            "host_killed::the_guests_whole_tree_dies_when_an_embedding_host_is_killed",
            "--exact",
            "--nocapture",
        ])
        .env(HOST, dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pids = dir.path().join("pids");
    let mut text = None;
    for _ in 0..6000 {
        if let Ok(t) = std::fs::read_to_string(&pids) {
            text = Some(t);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let Some(text) = text else {
        host.kill().unwrap();
        host.wait().unwrap();
        panic!("the host's child wrote no pids within 60 s");
    };
    let mut it = text.split_whitespace().map(|s| s.parse::<u32>().unwrap());
    let (escapee, child) = (it.next().unwrap(), it.next().unwrap());
    host.kill().unwrap(); // SIGKILL: no cleanup code of the host runs
    host.wait().unwrap();
    let child_died = dies(child);
    let escapee_died = dies(escapee);
    assert!(child_died, "the guest's child {child} outlived its killed host");
    assert!(
        escapee_died,
        "the setsid grandchild {escapee} outlived its killed host"
    );
}
