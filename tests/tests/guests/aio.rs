//! The async face: several processes at once from one guest; cancelling
//! an in-flight wait or communicate.

host_tests_for!(aio);

use procgate::runner::GuestLimits;
use procgate_tests::{allow, fd_lock, processes_with_arg, run_guest, GuestRun};
use std::time::Duration;

#[test]
fn gather_runs_children_concurrently() {
    let policy = procgate::Policy::builder()
        .allow_shell("/bin/sh")
        .build()
        .unwrap();
    let run = run_guest("aio", &["gather"], policy);
    run.assert_ok();
    // Each line: "<start ns> <end ns>|rc=<i>", in gather order.
    let spans: Vec<(u128, u128)> = run
        .lines()
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let (times, rc) = line.split_once('|').unwrap();
            assert_eq!(rc, format!("rc={i}"), "{run}");
            let (a, b) = times.split_once(' ').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    assert_eq!(spans.len(), 3, "{run}");
    // All three ran at the same time: each started before any ended.
    let last_start = spans.iter().map(|s| s.0).max().unwrap();
    let first_end = spans.iter().map(|s| s.1).min().unwrap();
    assert!(
        last_start < first_end,
        "children did not overlap: {spans:?}"
    );
}

#[test]
fn waits_on_several_exit_pollables_at_once() {
    // Sequential waits deadlock here (see the guest): the deadline fails
    // them.
    let limits = GuestLimits {
        deadline: Some(Duration::from_secs(20)),
        ..Default::default()
    };
    let run = GuestRun::new("aio", &["wait"], allow(&["sh", "cat"]).build().unwrap())
        .limits(limits)
        .run()
        .unwrap_or_else(|(e, run)| panic!("{e:?}\n{run}"));
    run.assert_ok();
    assert_eq!(run.lines(), ["slow 0 fast 4"], "{run}");
}

#[test]
fn fifty_communicates_at_once() {
    let run = run_guest("aio", &["many"], allow(&["sh"]).build().unwrap());
    run.assert_ok();
    assert_eq!(
        run.lines(),
        [format!("sum {}", (0..50).sum::<u32>())],
        "{run}"
    );
}

#[test]
fn a_hundred_and_twenty_processes_in_flight_mixing_communicate_streams_and_waits() {
    // Three descriptors or so each: keep the descriptor-counting tests out.
    let _lock = fd_lock();
    let run = run_guest("aio", &["hundred"], allow(&["cat", "sh"]).build().unwrap());
    run.assert_ok();
    assert_eq!(
        run.lines(),
        [
            "in flight 120",
            "communicate 40 ok",
            "streamed 40 ok",
            "wait 40 ok"
        ],
        "{run}"
    );
}

/// What `cancel_wait` and `cancel_communicate` print after the `cancelled`
/// line: the process is still running, and usable.
const STILL_USABLE: [&str; 5] = [
    "returncode None",
    "kill Ok(())",
    "wait Ok(-9)",
    "communicate Ok(Some(\"\"), None)",
    "returncode Some(-9)",
];

fn cancel(case: &str, cancelled: &str) {
    let policy = allow(&["python3"]).search_path(["/usr/bin"]);
    let run = run_guest("aio", &[case], policy.build().unwrap());
    run.assert_ok();
    let mut expected = vec!["Ok(\"ready\\n\")", cancelled];
    expected.extend(STILL_USABLE);
    assert_eq!(run.lines(), expected, "{run}");
}

#[test]
fn cancelling_a_wait_leaves_the_process_usable_and_killable() {
    cancel("cancel_wait", "wait cancelled true");
}

#[test]
fn cancelling_a_communicate_leaves_the_process_usable_and_killable() {
    cancel("cancel_communicate", "communicate cancelled true");
}

#[test]
fn a_cancelled_readline_loses_nothing() {
    let policy = allow(&["python3"]).search_path(["/usr/bin"]);
    let run = run_guest("aio", &["cancel_readline"], policy.build().unwrap());
    run.assert_ok();
    assert_eq!(
        run.lines(),
        [
            "readline cancelled true",
            "readline Ok(\"partial\\n\")",
            "rc Ok(0)"
        ],
        "{run}"
    );
}

#[test]
fn communicate_sends_what_the_writer_still_buffers_before_its_input() {
    let run = run_guest(
        "aio",
        &["pending_then_communicate"],
        allow(&["cat"]).build().unwrap(),
    );
    run.assert_ok();
    assert_eq!(
        run.lines(),
        [
            "stdout 1048580 bytes, as sent: true",
            "stderr None rc Some(0)"
        ],
        "{run}"
    );
}

/// Attack: creates made at once are all decided before any of their
/// processes has started. Unless the host counts the starts under way
/// (`Children::starting`), every one of them passes the live and spawn
/// bounds, which count only processes already started.
#[test]
fn creates_at_once_are_held_to_the_live_and_spawn_bounds() {
    for (max_live, max_spawns, refusal) in [
        (Some(2), None, "limits.max_live is 2"),
        (None, Some(2), "limits.max_spawns (2) reached"),
    ] {
        let policy = allow(&["sleep"])
            .update_limits(|l| {
                l.max_live = max_live;
                l.max_spawns = max_spawns;
            })
            .build()
            .unwrap();
        let run = run_guest("aio", &["starts", "6"], policy);
        run.assert_ok();
        let lines = run.lines();
        assert_eq!(lines.first(), Some(&"started 2"), "{run}");
        assert_eq!(lines.len(), 2, "one kind of refusal: {run}");
        assert!(lines[1].contains(refusal), "{run}");
    }
}

/// A guest that gives up creates before they are over (their processes
/// being started by the host meanwhile) and ends leaves no process: the
/// host's end of the guest waits for every start under way.
#[test]
fn a_guest_that_gives_up_its_creates_and_ends_leaves_no_process() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    // A sleep of its own to look for: 61.<this run's nanoseconds>.
    let marker = format!("61.{nanos:09}");
    for _ in 0..5 {
        let run = run_guest(
            "aio",
            &["abandon", &marker],
            allow(&["sleep"]).build().unwrap(),
        );
        run.assert_ok();
        assert_eq!(run.lines(), ["given up true"], "{run}");
        let left = processes_with_arg(&marker);
        assert!(left.is_empty(), "left running: {left:?}\n{run}");
    }
}
