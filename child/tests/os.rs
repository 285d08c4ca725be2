//! The OS layer with real processes: pipes carry bytes both ways, a child
//! inherits no descriptor but 0-2, and a child's cgroup ends a descendant
//! that left its process group.

mod common;

use common::{cgroup_expected, dies, first_line, plan, proc_state, runtime, shell_plan};
use procgate_child::communicate::{Budget, Communicate};
use procgate_child::{spawn, Children, Input, Output, Stdio};
use procgate_policy::{CgroupMode, Limits};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

fn stdio(stdin: Input, stdout: Output) -> Stdio {
    Stdio {
        stdin,
        stdout,
        stderr: Output::Devnull,
        start_new_session: false,
    }
}

#[test]
fn bytes_go_through_the_stdin_and_stdout_pipes() {
    let rt = runtime();
    rt.block_on(async {
        let children = Arc::new(Children::default());
        let mut child = spawn(
            &plan("cat", &[]),
            stdio(Input::Pipe, Output::Pipe),
            &children,
        )
        .unwrap();
        let input = child.stdin.take().unwrap();
        let output = child.stdout.shared().cloned().unwrap();
        input.write_all(b"hello through a pipe\n").await.unwrap();
        drop(input);
        let mut got = bytes::BytesMut::new();
        let read = async { while output.read(&mut got, 1 << 16).await.unwrap() > 0 {} };
        tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .expect("cat did not end at end of its input");
        assert_eq!(&got[..], b"hello through a pipe\n");
        assert_eq!(child.exit().wait().await, 0);
    });
}

#[test]
fn communicate_stops_at_its_byte_limit_and_kills_the_child() {
    let rt = runtime();
    rt.block_on(async {
        let children = Arc::new(Children::default());
        let mut child = spawn(
            &plan("yes", &[]),
            stdio(Input::Devnull, Output::Pipe),
            &children,
        )
        .unwrap();
        let limits = Limits {
            communicate_bytes: Some(1000),
            ..Limits::default()
        };
        let budget = Budget::new(1 << 20);
        let c = Communicate::take(&mut child, None, &limits, &budget).unwrap();
        let out = tokio::time::timeout(Duration::from_secs(30), c.run())
            .await
            .expect("communicate did not stop at its limit");
        let err = out.unwrap_err().to_string();
        assert!(
            err.starts_with("limit exceeded: communicate buffered more than 1000"),
            "{err}"
        );
        assert_eq!(child.exit().returncode(), Some(-libc::SIGKILL));
        assert_eq!(budget.used(), 0, "the communicate gave its bytes back");
    });
}

/// The descriptors of process `pid`, once it has exec'd `comm`.
/// The descriptors of `pid` once it runs `comm` and has reached its first
/// sleep (`nanosleep` or `clock_nanosleep`, as `/proc/PID/syscall` says):
/// the dynamic loader, which runs under the new name, opens
/// `ld.so.cache` and the libraries as fd 3 for a moment, and a look
/// before the program's own code ran saw that (a flake in CI).
fn fds_after_exec(pid: u32, comm: &str) -> Vec<String> {
    let asleep = |syscall: &str| {
        let nr = syscall
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<i64>().ok());
        nr == Some(libc::SYS_nanosleep) || nr == Some(libc::SYS_clock_nanosleep)
    };
    for _ in 0..500 {
        let now = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
        if now.trim() == comm && asleep(&syscall) {
            let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            fds.sort();
            return fds;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{pid} never slept as {comm}");
}

#[test]
fn a_child_inherits_only_its_three_standard_descriptors() {
    let rt = runtime();
    // A descriptor of the host without close-on-exec: only the launcher's
    // close_range keeps it from the child.
    // SAFETY: dup of stderr; the new descriptor is owned below.
    let leaked = unsafe { libc::dup(2) };
    assert!(leaked > 2);
    // SAFETY: `leaked` is a fresh descriptor nobody else owns.
    let leaked = unsafe { OwnedFd::from_raw_fd(leaked) };
    let children = Arc::new(Children::default());
    let child = {
        let _rt = rt.enter();
        spawn(
            &plan("sleep", &["60"]),
            stdio(Input::Pipe, Output::Pipe),
            &children,
        )
        .unwrap()
    };
    let fds = fds_after_exec(child.pid(), "sleep");
    assert_eq!(fds, ["0", "1", "2"], "fd {} leaked?", leaked.as_raw_fd());
    let pid = child.pid();
    rt.block_on(async move {
        drop(child);
        children.ended().await;
    });
    assert!(dies(pid));
}

#[test]
fn the_cgroup_ends_a_descendant_that_left_the_process_group() {
    if !cgroup_expected() {
        return;
    }
    let rt = runtime();
    let children = Arc::new(Children::default().with_cgroup(CgroupMode::Require, None));
    let cmd = "setsid sleep 60 & echo $!; exec sleep 60";
    let plan = shell_plan(cmd);
    let (grandchild, pid) = rt.block_on(async {
        let mut child = spawn(&plan, stdio(Input::Devnull, Output::Pipe), &children).unwrap();
        let line = first_line(&mut child).await;
        let grandchild: u32 = line.trim().parse().unwrap();
        // Until it has left the shell's group: its own session, running sleep.
        for _ in 0..500 {
            let comm = std::fs::read_to_string(format!("/proc/{grandchild}/comm"));
            // SAFETY: getsid only reads the session id of a pid.
            let sid = unsafe { libc::getsid(grandchild as i32) };
            if comm.is_ok_and(|c| c.trim() == "sleep") && sid == grandchild as i32 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let pid = child.pid();
        // Only the child's own cgroup is ended here: the guest lives on.
        drop(child);
        children.ended().await;
        (grandchild, pid)
    });
    assert!(dies(pid), "the child outlived its dropped handle");
    assert!(
        dies(grandchild),
        "grandchild {grandchild} in its own session survived: {:?}",
        proc_state(grandchild)
    );
    // The guest ends: its cgroup goes.
    children.guest_ended();
    rt.block_on(children.ended());
    let guest_cgroup = children.cgroup_dir().expect("no cgroup was made");
    assert!(
        !guest_cgroup.exists(),
        "{} was left",
        guest_cgroup.display()
    );
}

#[test]
fn two_children_at_once_start_each_in_a_leaf_of_their_own() {
    // The `clone3(CLONE_INTO_CGROUP)` path; `cgroup_procs_join.rs` runs
    // the same check on the `cgroup.procs` path.
    common::two_live_children_each_start_in_a_leaf_of_their_own();
}
