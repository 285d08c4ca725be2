//! A host that embeds procgate and is SIGKILLed: no cleanup code of its
//! runs, and every process its guests started, wherever it went, must
//! still end. The host here is this test binary itself, started again
//! with [`HOST`] set, running the guest on a tokio worker thread as an
//! embedder does (not the process's main thread).

use procgate::Policy;
use procgate_tests::{
    dies_within, kernel_cgroup2_dir, kernel_feature, run_guest, scratch, wait_for_file,
};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Set in the host's environment: the scratch directory it reports in.
const HOST: &str = "PROCGATE_TEST_KILLED_HOST_DIR";

fn shell() -> procgate::Policy {
    Policy::builder().allow_shell("/bin/sh").build().unwrap()
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
    let Some(text) = wait_for_file(&pids, Duration::from_secs(60)) else {
        host.kill().unwrap();
        host.wait().unwrap();
        panic!("the host's child wrote no pids within 60 s");
    };
    let mut it = text.split_whitespace().map(|s| s.parse::<u32>().unwrap());
    let (escapee, child) = (it.next().unwrap(), it.next().unwrap());
    host.kill().unwrap(); // SIGKILL: no cleanup code of the host runs
    host.wait().unwrap();
    let child_died = dies_within(child, Duration::from_secs(10));
    let escapee_died = dies_within(escapee, Duration::from_secs(10));
    assert!(
        child_died,
        "the guest's child {child} outlived its killed host"
    );
    assert!(
        escapee_died,
        "the setsid grandchild {escapee} outlived its killed host"
    );
}
