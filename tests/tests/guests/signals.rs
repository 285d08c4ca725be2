//! kill, terminate, send-signal; signals after exit.

host_tests_for!(signals);

use procgate_tests::{allow, run_guest};

fn policy() -> procgate::Policy {
    allow(&["sleep", "true"]).build().unwrap()
}

#[test]
fn kill_gives_minus_9() {
    let run = run_guest("signals", &["kill"], policy());
    run.assert_ok();
    assert_eq!(run.lines(), ["running None", "rc -9"], "{run}");
}

#[test]
fn terminate_gives_minus_15() {
    let run = run_guest("signals", &["terminate"], policy());
    run.assert_ok();
    assert_eq!(run.lines(), ["rc -15"], "{run}");
}

#[test]
fn send_signal_hup_gives_minus_1() {
    let run = run_guest("signals", &["hup"], policy());
    run.assert_ok();
    assert_eq!(run.lines(), ["rc -1"], "{run}");
}

#[test]
fn signals_after_exit_are_process_exited() {
    let run = run_guest("signals", &["after-exit"], policy());
    run.assert_ok();
    assert_eq!(
        run.lines(),
        [
            "rc 0",
            "kill Err(ProcessExited)",
            "terminate Err(ProcessExited)",
            "send_signal Err(ProcessExited)"
        ],
        "{run}"
    );
}

#[test]
fn a_signal_the_policy_does_not_allow_is_denied() {
    let policy = allow(&["sleep", "true"])
        .allow_signals([procgate::signals::Signal::Term])
        .build()
        .unwrap();
    let run = run_guest("signals", &["kill-denied"], policy);
    run.assert_ok();
    assert_eq!(
        run.lines(),
        [
            "kill Err(Denied(\"signal kill not in allowed signals\"))",
            "rc -15"
        ],
        "{run}"
    );
}
