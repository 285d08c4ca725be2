//! Limits at work: live counts, timeouts and their grace, the communicate
//! cap, and the OS limits set in the child.

use crate::probe::{exec, kill_kept, probe, shell};
use procgate::policy::OsLimits;
use procgate::Policy;
use procgate_tests::{allow, PYTHON};
use std::time::Duration;

/// (A dropped child stays live until it is reaped:
/// `held::a_dropped_child_is_live_until_reaped`.)
#[test]
fn the_live_count_drops_when_a_child_exits() {
    let policy = allow(&["sleep", "true"])
        .update_limits(|l| l.max_live = Some(1))
        .build()
        .unwrap();
    let reqs = [
        exec("sleep", &["100"]).keep(),
        exec("true", &[]),
        kill_kept(0),
        // Exited (the handle is still held): no longer live.
        exec("true", &[]),
    ];
    let (lines, run) = probe(policy, &reqs);
    assert_eq!(
        lines,
        [
            "kept 0",
            "Err(LimitExceeded(\"1 live processes, limits.max_live is 1\"))",
            "kill Ok(()) wait Ok(-9)",
            "rc=Ok(0)",
        ],
        "{run}"
    );
}

/// A child that exited is not live though nobody waited for it (its
/// handle kept): the count asks the kernel, it does not wait for the guest.
#[test]
fn an_exited_child_nobody_waited_for_is_not_live() {
    let policy = allow(&["sleep", "true"])
        .update_limits(|l| l.max_live = Some(2))
        .build()
        .unwrap();
    let reqs = [
        exec("true", &[]).keep(),
        // Time for the kept `true` to exit, waited for by the guest.
        exec("sleep", &["0.5"]),
        exec("sleep", &["100"]).keep(),
        // Live: the second kept child only.
        exec("true", &[]),
        kill_kept(1),
    ];
    let (lines, run) = probe(policy, &reqs);
    assert_eq!(
        lines,
        [
            "kept 0",
            "rc=Ok(0)",
            "kept 1",
            "rc=Ok(0)",
            "kill Ok(()) wait Ok(-9)"
        ],
        "{run}"
    );
}

#[test]
fn a_child_past_its_timeout_gets_sigterm() {
    let policy = allow(&["sleep", "true"])
        .update_limits(|l| l.timeout = Some(Duration::from_millis(300)))
        .build()
        .unwrap();
    let reqs = [exec("sleep", &["100"]), exec("true", &[])];
    let (lines, run) = probe(policy, &reqs);
    assert_eq!(lines, ["rc=Ok(-15)", "rc=Ok(0)"], "{run}");
}

#[test]
fn a_child_ignoring_sigterm_is_killed_after_the_grace_period() {
    let policy = Policy::builder()
        .allow_shell("/bin/sh")
        .update_limits(|l| {
            l.timeout = Some(Duration::from_secs(1));
            l.kill_grace = Some(Duration::from_millis(200));
        })
        .build()
        .unwrap();
    // The shell ignores SIGTERM before anything else runs.
    let (lines, run) = probe(policy, &[shell("trap '' TERM; while :; do sleep 1; done")]);
    assert_eq!(lines, ["rc=Ok(-9)"], "{run}");
}

#[test]
fn communicate_past_its_cap_is_limit_exceeded_and_kills_the_child() {
    let policy = allow(&["yes", "head"])
        .update_limits(|l| l.communicate_bytes = Some(100_000))
        .build()
        .unwrap();
    let reqs = [
        exec("yes", &[]).pipe(),
        exec("head", &["-c", "1000", "/dev/zero"]).pipe(),
    ];
    let (lines, run) = probe(policy, &reqs);
    assert_eq!(
        lines[0],
        "communicate Err(LimitExceeded(\"communicate buffered more than 100000 bytes of output; the process was killed\")) wait Ok(-9)",
        "{run}"
    );
    assert!(lines[1].starts_with("rc=Some(0) out=Some("), "{run}");
}

#[test]
fn os_limits_are_set_in_the_child() {
    let policy = allow(&["cat"])
        .update_limits(|l| {
            l.os = OsLimits {
                cpu_secs: Some(7),
                address_space: Some(3 << 30),
                open_files: Some(33),
                processes: Some(44),
                no_new_privs: true,
            }
        })
        .build()
        .unwrap();
    let reqs = [
        exec("cat", &["/proc/self/limits"]).pipe(),
        exec("cat", &["/proc/self/status"]).pipe(),
    ];
    let (lines, run) = probe(policy, &reqs);
    let limits = &lines[0];
    for (name, value) in [
        ("Max cpu time", "7"),
        ("Max address space", &(3u64 << 30).to_string()),
        ("Max open files", "33"),
        ("Max processes", "44"),
    ] {
        let pattern = name.to_string();
        let line = limits
            .split("\\n")
            .find(|l| l.starts_with(&pattern))
            .unwrap_or_else(|| panic!("no {name} in {run}"));
        let fields: Vec<&str> = line[name.len()..].split_whitespace().collect();
        assert_eq!(&fields[..2], [value, value], "{line}");
    }
    assert!(lines[1].contains("NoNewPrivs:\\t1"), "{run}");
}

#[test]
fn the_cpu_limit_stops_a_busy_child() {
    let policy = allow(&[PYTHON])
        .update_limits(|l| l.os.cpu_secs = Some(1))
        .build()
        .unwrap();
    let (lines, run) = probe(policy, &[exec(PYTHON, &["-c", "while True: pass"])]);
    // SIGXCPU at the soft limit (the hard limit is the same: SIGKILL next).
    assert!(lines[0] == "rc=Ok(-24)" || lines[0] == "rc=Ok(-9)", "{run}");
}
