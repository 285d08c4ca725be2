//! A guest's cgroup dropped while processes are still in it (its last
//! child's handle dropped outside any runtime, so the leaf was only just
//! killed) is not abandoned: `GuestCgroup`'s `Drop` waits until it is
//! empty and removes it.

mod common;

use common::{cgroup_expected, dies, first_line, runtime, shell_plan};
use procgate_child::{spawn, Children, Input, Output, Stdio};
use procgate_policy::CgroupMode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn a_guest_cgroup_dropped_while_populated_is_emptied_and_removed() {
    if !cgroup_expected() {
        return;
    }
    let rt = runtime();
    let children = Arc::new(Children::default().with_cgroup(CgroupMode::Require, None));
    // Many processes, one of them holding 256 MiB it touched (its exit
    // takes a while to free it), so that the cgroup is still populated
    // for a while after `cgroup.kill`.
    let cmd = "for i in $(seq 100); do sleep 60 & done; \
               exec python3 -c 'import time; b = b\"x\" * (256 << 20); print(len(b), flush=True); time.sleep(60)'";
    let plan = shell_plan(cmd);
    let stdio = Stdio {
        stdin: Input::Devnull,
        stdout: Output::Pipe,
        stderr: Output::Devnull,
        start_new_session: false,
    };
    let child = rt.block_on(async {
        let mut child = spawn(&plan, stdio, &children).unwrap();
        first_line(&mut child).await;
        child
    });
    let dir = children.cgroup_dir().expect("no cgroup was made");
    let pid = child.pid();
    // Outside the runtime: the handle's own `Drop` kills the leaf, then
    // the last holder of the guest cgroup goes with `children`.
    drop(child);
    drop(children);
    let deadline = Instant::now() + Duration::from_secs(15);
    while dir.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = dir.exists();
    if left {
        // Clean up what the code under test abandoned, then fail.
        let _ = std::fs::write(dir.join("cgroup.kill"), "1");
        std::thread::sleep(Duration::from_millis(500));
        if let Ok(subs) = std::fs::read_dir(&dir) {
            for sub in subs.flatten().filter(|e| e.path().is_dir()) {
                let _ = std::fs::remove_dir(sub.path());
            }
        }
        let _ = std::fs::remove_dir(&dir);
    }
    assert!(
        !left,
        "the populated guest cgroup {} was abandoned",
        dir.display()
    );
    assert!(dies(pid), "the shell outlived its cgroup");
}
