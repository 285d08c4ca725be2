//! The WIT `query-exec` / `query-shell` (issue 16, item 5): the guest
//! asks whether a spawn would be allowed and gets the answer the real
//! request would get, and nothing is started. The audit records of the
//! queries are checked through the CLI (`cli/tests/query.rs`).

host_tests_for!(query_probe);

use procgate_tests::{allow, run_guest};
use tempfile::TempDir;

#[test]
fn a_query_answers_as_the_request_would_and_starts_nothing() {
    let dir = TempDir::new().unwrap();
    let marker = dir.path().join("started");
    let marker = marker.to_str().unwrap();
    let policy = || allow(&["touch"]).build().unwrap();
    let run = run_guest("query_probe", &["touch", "rm", marker], policy());
    run.assert_ok();
    let lines = run.lines();
    assert_eq!(lines[0], "exec touch: Ok(())", "{run}");
    assert_eq!(
        lines[1], r#"exec rm: Err(Denied("program \"rm\" not in allow list"))"#,
        "{run}"
    );
    assert_eq!(
        lines[2], r#"shell: Err(Denied("shell not granted (create-subprocess-shell is off)"))"#,
        "{run}"
    );
    assert!(lines[3].starts_with("env: Err(Denied("), "{run}");
    assert_eq!(lines.len(), 4, "{run}");
    assert!(
        !std::path::Path::new(marker).exists(),
        "a query started the program: {run}"
    );
    // The yes was true: the same request, made for real, runs; and the
    // four queries before it started nothing (a guest may start one
    // child here).
    let one_spawn = allow(&["touch"])
        .update_limits(|l| l.max_spawns = Some(1))
        .build()
        .unwrap();
    let run = run_guest("query_probe", &["touch", "rm", marker, "run"], one_spawn);
    run.assert_ok();
    assert_eq!(run.lines()[4], "run: Ok(0)", "{run}");
    assert!(std::path::Path::new(marker).exists(), "{run}");
}

#[test]
fn a_query_counts_the_limits_as_they_are_now() {
    let dir = TempDir::new().unwrap();
    let marker = dir.path().join("started");
    let policy = allow(&["touch"])
        .update_limits(|l| l.max_spawns = Some(0))
        .build()
        .unwrap();
    let run = run_guest(
        "query_probe",
        &["touch", "rm", marker.to_str().unwrap()],
        policy,
    );
    run.assert_ok();
    assert!(
        run.lines()[0].starts_with("exec touch: Err(LimitExceeded("),
        "{run}"
    );
    assert!(!marker.exists());
}
