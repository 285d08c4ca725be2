//! Requests the audit log must record without being flooded: each is a
//! typed error for the guest, and the host keeps serving. What the log
//! holds is checked on the CLI's log files in `host/tests/audit.rs`.

host_tests_for!(audit_events);

use procgate::policy::Limits;
use procgate_tests::{allow, run_guest};

#[test]
fn oversized_requests_are_refused_by_size_first() {
    let policy = allow(&["true"])
        .limits(Limits {
            max_arg_bytes: Some(4096),
            ..Default::default()
        })
        .build()
        .unwrap();
    let run = run_guest("audit_events", &["flood", "20"], policy);
    run.assert_ok();
    assert_eq!(run.lines(), ["{\"limit-exceeded\": 20}"], "{run}");
    let run = run_guest("exec", &["echo"], allow(&["echo"]).build().unwrap());
    run.assert_ok();
}

#[test]
fn names_with_newlines_are_refused_as_values() {
    let run = run_guest(
        "audit_events",
        &["forge"],
        allow(&["true"]).build().unwrap(),
    );
    run.assert_ok();
    assert_eq!(run.lines(), ["env denied", "program denied"], "{run}");
}
