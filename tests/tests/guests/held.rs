//! Children the guest holds on to: exited children whose handles it keeps
//! are bounded (`limits.max_held`), and a child whose handle it dropped is
//! live until the host has reaped it.

host_tests_for!(held);

use procgate::policy::DEFAULT_MAX_HELD;
use procgate::Policy;
use procgate_tests::{fd_lock, open_fds, run_guest, GuestRun};
use std::time::Duration;

/// A guest keeping thousands of exited children (each with a pidfd and
/// two pipes in the host) under `max_live = 2` is stopped at the held
/// bound with `limit-exceeded`, and the host's descriptors stay bounded.
#[test]
fn held_exited_children_are_bounded_and_host_fds_stay_bounded() {
    let _lock = fd_lock();
    let before = open_fds();
    let policy = Policy::builder()
        .allow_program("true")
        .allow_shell("/bin/sh")
        .update_limits(|l| l.max_live = Some(2))
        .build()
        .unwrap();
    let run = run_guest("held", &["hold", "2000"], policy);
    run.assert_ok();
    let lines = run.lines();
    assert_eq!(
        lines[0],
        format!(
            "stopped at {DEFAULT_MAX_HELD}: LimitExceeded(\"{DEFAULT_MAX_HELD} exited processes \
             still held, limits.max_held is {DEFAULT_MAX_HELD}: drop the handles of finished \
             processes\")"
        ),
        "{run}"
    );
    assert_eq!(lines[1], format!("held {DEFAULT_MAX_HELD}"), "{run}");
    let fds: usize = lines[2]
        .strip_prefix("host fds ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{run}"));
    // Each held child costs a pidfd, two pipe ends and, with a cgroup, its
    // leaf's open `cgroup.procs`; the rest of the allowance is the witness
    // and whatever other tests hold meanwhile. (Unbounded, the 2,000
    // children held about 6,000.)
    let bound = before + 4 * DEFAULT_MAX_HELD + 256;
    assert!(fds <= bound, "host had {fds} fds (bound {bound}):\n{run}");
}

/// The bound is the policy's when it sets one.
#[test]
fn the_held_bound_is_the_policys() {
    let policy = Policy::builder()
        .allow_program("true")
        .allow_shell("/bin/sh")
        .update_limits(|l| l.max_held = Some(3))
        .build()
        .unwrap();
    let run = run_guest("held", &["hold", "10"], policy);
    run.assert_ok();
    assert_eq!(
        run.lines()[..2],
        [
            "stopped at 3: LimitExceeded(\"3 exited processes still held, limits.max_held is 3: \
             drop the handles of finished processes\")",
            "held 3"
        ],
        "{run}"
    );
}

/// A dropped child that ignores SIGTERM is still live during its grace
/// period: dropping a handle does not free a slot before the host reaped
/// the child.
#[test]
fn a_dropped_child_is_live_until_reaped() {
    let policy = Policy::builder()
        .allow_program("true")
        .allow_shell("/bin/sh")
        .update_limits(|l| l.max_live = Some(1))
        .build()
        .unwrap();
    let run = GuestRun::new("held", &["drop-then-spawn"], policy)
        .kill_grace(Duration::from_secs(3))
        .run()
        .unwrap_or_else(|(e, run)| panic!("{e:?}\n{run}"));
    run.assert_ok();
    assert_eq!(
        run.lines(),
        [
            "ready",
            "next Err(LimitExceeded(\"1 live processes, limits.max_live is 1\"))"
        ],
        "{run}"
    );
}
