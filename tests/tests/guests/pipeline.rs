//! Host-side pipelines (`stdio::stdout-of`): the bytes go from one child to
//! the next in the host; the policy decides every process of the pipeline.

host_tests_for!(pipeline);

use procgate_tests::{allow, run_guest};

#[test]
fn head_into_wc_counts_every_byte() {
    let run = run_guest(
        "pipeline",
        &["bytes"],
        allow(&["head", "wc"]).build().unwrap(),
    );
    run.assert_ok();
    assert_eq!(run.lines(), ["wc \"3000000\" head 0"], "{run}");
}

#[test]
fn the_second_child_reads_the_very_pipe_the_first_writes() {
    // Relayed in the host, not through the guest: the second child's stdin
    // is the first child's stdout pipe itself.
    let run = run_guest("pipeline", &["same-pipe"], allow(&["sh"]).build().unwrap());
    run.assert_ok();
    assert_eq!(
        run.lines(),
        ["wc \"3000000\" rcs 0 0", "a pipe true the same true"],
        "{run}"
    );
}

#[test]
fn three_stages() {
    let run = run_guest(
        "pipeline",
        &["three"],
        allow(&["printf", "sort", "head"]).build().unwrap(),
    );
    run.assert_ok();
    assert_eq!(run.lines(), ["first \"a\\n\"", "rcs 0 0 0"], "{run}");
}

#[test]
fn the_policy_decides_every_stage_and_a_refused_stage_leaves_the_pipe() {
    let run = run_guest("pipeline", &["denied"], allow(&["echo"]).build().unwrap());
    run.assert_ok();
    assert_eq!(
        run.lines(),
        [
            "tr Err(Denied(\"program \\\"tr\\\" not in allow list\"))",
            "echo still has \"hello\\n\""
        ],
        "{run}"
    );
}

#[test]
fn only_a_held_stdout_pipe_can_feed_a_pipeline_once() {
    let run = run_guest(
        "pipeline",
        &["not-piped"],
        allow(&["echo", "wc"]).build().unwrap(),
    );
    run.assert_ok();
    let lines = run.lines();
    assert!(
        lines[0].starts_with("wc Err(InvalidArgument(\"stdout-of: process"),
        "{run}"
    );
    assert!(
        lines[0].contains("was not created with stdout pipe"),
        "{run}"
    );
    assert!(
        lines[1].starts_with("second Err(InvalidArgument(\"stdout-of: the stdout of process"),
        "{run}"
    );
    assert!(lines[1].contains("was already taken"), "{run}");
    assert_eq!(lines[2], "first \"6\"", "{run}");
}
