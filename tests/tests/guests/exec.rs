//! create-subprocess-exec and create-subprocess-shell, communicate, wait.

host_tests_for!(exec, shell_status);

use procgate_tests::{allow, run_guest};

#[test]
fn exec_communicate_without_input() {
    let run = run_guest("exec", &["echo"], allow(&["echo"]).build().unwrap());
    run.assert_ok();
    let lines = run.lines();
    assert!(lines[0].starts_with("pid "), "{run}");
    assert_eq!(
        &lines[1..],
        [
            "stdout \"hello world\\n\"",
            "stderr None",
            "returncode Some(0)",
            "wait 0"
        ],
        "{run}"
    );
}

#[test]
fn exec_communicate_with_input() {
    let run = run_guest("exec", &["cat"], allow(&["cat"]).build().unwrap());
    run.assert_ok();
    assert_eq!(
        run.lines(),
        ["stdout \"some data\"", "returncode Some(0)"],
        "{run}"
    );
}

#[test]
fn wait_sets_returncode() {
    let run = run_guest("exec", &["wait"], allow(&["sh"]).build().unwrap());
    run.assert_ok();
    assert_eq!(
        run.lines(),
        ["before None", "wait 3", "after Some(3)", "again 3"],
        "{run}"
    );
}

#[test]
fn shell_exit_status_is_returncode() {
    let policy = procgate::Policy::builder()
        .allow_shell("/bin/sh")
        .build()
        .unwrap();
    let run = run_guest("shell_status", &["exit7"], policy);
    run.assert_ok();
    assert_eq!(run.lines(), ["returncode 7"], "{run}");
}

#[test]
fn shell_runs_a_pipeline() {
    let policy = procgate::Policy::builder()
        .allow_shell("/bin/sh")
        .build()
        .unwrap();
    let run = run_guest("shell_status", &["pipeline"], policy);
    run.assert_ok();
    assert_eq!(
        run.lines(),
        [
            "stdout \"xyz\\n\"",
            "stderr \"err\\n\"",
            "returncode Some(0)"
        ],
        "{run}"
    );
}
