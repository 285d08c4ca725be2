//! The async face: several processes at once from one guest.

use procgate_tests::{allow, run_guest};

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
fn waits_on_several_exit_pollables() {
    let run = run_guest("aio", &["wait"], allow(&["sh", "sleep"]).build().unwrap());
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
