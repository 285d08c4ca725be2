//! Hostile input through the WIT boundary: each a typed error (or a trap of
//! that guest alone), and the host still serves the next guest.

host_tests_for!(hostile);

use procgate::policy::Limits;
use procgate_tests::{allow, run_guest, GuestRun};

/// The host is still serving: the next guest on the same engine works.
fn next_guest_runs() {
    let run = run_guest("exec", &["echo"], allow(&["echo"]).build().unwrap());
    run.assert_ok();
    assert_eq!(run.lines()[1], "stdout \"hello world\\n\"", "{run}");
}

#[test]
fn a_hundred_megabytes_of_arguments_is_a_typed_error() {
    let limited = allow(&["true"])
        .limits(Limits {
            max_arg_bytes: Some(1 << 20),
            ..Default::default()
        })
        .build()
        .unwrap();
    let run = run_guest("hostile", &["big-args"], limited);
    run.assert_ok();
    assert!(
        run.lines()[0].starts_with("big Err(LimitExceeded(\"arguments take"),
        "{run}"
    );
    // Without a policy limit the kernel refuses it (E2BIG): the request is
    // too large, so limit-exceeded, never io.
    let run = run_guest("hostile", &["big-args"], allow(&["true"]).build().unwrap());
    run.assert_ok();
    assert!(
        run.lines()[0].starts_with("big Err(LimitExceeded("),
        "{run}"
    );
    next_guest_runs();
}

#[test]
fn ten_thousand_processes_at_once_past_the_limit() {
    let policy = allow(&["sleep"])
        .limits(Limits {
            max_live: Some(40),
            ..Default::default()
        })
        .build()
        .unwrap();
    let run = run_guest("hostile", &["flood"], policy);
    run.assert_ok();
    assert_eq!(
        run.lines(),
        ["started 40 limited 9960 other []", "all killed true"],
        "{run}"
    );
    next_guest_runs();
}

#[test]
fn a_gibibyte_into_a_child_that_exits_at_once() {
    let run = run_guest("hostile", &["stdin-1g"], allow(&["true"]).build().unwrap());
    run.assert_ok();
    assert_eq!(
        run.lines(),
        ["write Err(Closed(\"the child closed its stdin or exited (broken pipe)\")) rc 0"],
        "{run}"
    );
    next_guest_runs();
}

#[test]
fn a_handle_used_after_drop_traps_only_that_guest() {
    let (err, run) = GuestRun::new(
        "hostile",
        &["use-after-drop"],
        allow(&["true"]).build().unwrap(),
    )
    .run()
    .unwrap_err();
    assert_eq!(run.lines(), ["dropped"], "{run}");
    // The canonical ABI catches it ("unknown handle index" or, if the
    // slot was reused, "used with the wrong type") before the host sees it.
    assert!(format!("{err:?}").contains("handle index"), "{err:?}");
    next_guest_runs();
}
