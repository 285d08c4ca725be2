//! Whatever way a guest ends, its children and grandchildren are ended
//! (SIGTERM, grace, SIGKILL to the group) and nothing is left in /proc.

host_tests_for!(endings);

use procgate::runner::{DeadlineExceeded, GuestLimits, MemoryExceeded};
use procgate_tests::{allow, wait_gone, Checkpoints, GuestRun, Run};
use std::time::Duration;

/// The run, and the checkpoints that saw the child and grandchild alive.
type Ended = (Run, Checkpoints);

fn start(mode: &str, session: bool, limits: GuestLimits) -> Result<Ended, (anyhow::Error, Ended)> {
    let mut args = vec![mode];
    if session {
        args.push("session");
    }
    let checkpoints = Checkpoints::default();
    GuestRun::new("endings", &args, allow(&["sh", "true"]).build().unwrap())
        .limits(limits)
        .kill_grace(Duration::from_millis(100))
        .hooks(checkpoints.clone())
        .run()
        .map(|run| (run, checkpoints.clone()))
        .map_err(|(e, run)| (e, (run, checkpoints)))
}

/// The child and grandchild pids the guest printed.
fn pids(run: &Run) -> [u32; 2] {
    let line = run.lines()[0];
    let mut words = line.split(' ');
    assert_eq!(words.next(), Some("child"), "{run}");
    let child = words.next().unwrap().parse().unwrap();
    assert_eq!(words.next(), Some("grandchild"), "{run}");
    let grandchild = words.next().unwrap().parse().unwrap();
    assert_eq!(words.collect::<Vec<_>>(), ["alive", "descendant"], "{run}");
    [child, grandchild]
}

fn assert_all_gone((run, checkpoints): &Ended) {
    for pid in pids(run) {
        assert!(
            wait_gone(checkpoints.seen(pid)),
            "process {pid} outlived its guest: {:?}",
            procgate_tests::proc_state(pid)
        );
    }
}

#[test]
fn drop_ends_child_and_grandchild() {
    let run = start("drop", false, GuestLimits::default()).unwrap();
    run.0.assert_ok();
    assert_eq!(run.0.lines()[1], "dropped");
    assert_all_gone(&run);
}

#[test]
fn return_ends_child_and_grandchild() {
    let run = start("return", false, GuestLimits::default()).unwrap();
    run.0.assert_ok();
    assert_all_gone(&run);
}

#[test]
fn return_ends_a_new_session_too() {
    let run = start("return", true, GuestLimits::default()).unwrap();
    run.0.assert_ok();
    assert_all_gone(&run);
}

#[test]
fn exit_ends_child_and_grandchild() {
    let run = start("exit", false, GuestLimits::default()).unwrap();
    assert_eq!(run.0.code, 5, "{}", run.0);
    assert_all_gone(&run);
}

#[test]
fn trap_ends_child_and_grandchild() {
    let (err, run) = start("trap", false, GuestLimits::default()).unwrap_err();
    assert!(format!("{err:?}").contains("unreachable"), "{err:?}");
    assert_all_gone(&run);
}

#[test]
fn deadline_stops_a_spinning_guest() {
    let limits = GuestLimits {
        deadline: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let (err, run) = start("spin", false, limits).unwrap_err();
    assert!(
        err.downcast_ref::<DeadlineExceeded>().is_some() || format!("{err:?}").contains("deadline"),
        "{err:?}"
    );
    assert_all_gone(&run);
}

#[test]
fn deadline_drops_the_store_of_a_guest_blocked_in_wait() {
    let limits = GuestLimits {
        deadline: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let (err, run) = start("block", false, limits).unwrap_err();
    assert!(format!("{err:?}").contains("deadline"), "{err:?}");
    assert!(!run.0.stdout.contains("unreachable"), "{}", run.0);
    assert_all_gone(&run);
}

#[test]
fn memory_limit_stops_a_ballooning_guest() {
    let limits = GuestLimits {
        max_memory: Some(64 << 20),
        ..Default::default()
    };
    let (err, run) = start("balloon", false, limits).unwrap_err();
    assert!(
        err.downcast_ref::<MemoryExceeded>().is_some()
            || format!("{err:#}").contains("memory limit"),
        "{err:?}"
    );
    assert_all_gone(&run);
}
