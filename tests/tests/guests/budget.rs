//! `limits.buffered_bytes` charges the bytes a guest's communicates hold,
//! not the buffer capacity they might grow to: a small output fits a small
//! budget, and output past the budget is still `limit-exceeded`.

use crate::probe::{exec, probe};
use procgate::policy::{Limits, COMMUNICATE_OVERHEAD};
use procgate_tests::allow;

fn small_budget() -> procgate::Policy {
    allow(&["echo", "head"])
        .limits(Limits {
            communicate_bytes: Some(1000),
            buffered_bytes: Some(COMMUNICATE_OVERHEAD + 100),
            ..Default::default()
        })
        .build()
        .unwrap()
}

#[test]
fn a_six_byte_output_fits_a_budget_smaller_than_the_per_stream_cap() {
    let (lines, run) = probe(small_budget(), &[exec("echo", &["hello"]).pipe()]);
    assert_eq!(lines.len(), 1, "{run}");
    assert!(
        lines[0].contains("hello") && lines[0].starts_with("rc=Some(0)"),
        "{run}"
    );
}

#[test]
fn output_past_the_budget_is_still_limit_exceeded() {
    let (lines, run) = probe(
        small_budget(),
        &[exec("head", &["-c", "500", "/dev/zero"]).pipe()],
    );
    assert_eq!(lines.len(), 1, "{run}");
    assert!(
        lines[0].contains("LimitExceeded") && lines[0].contains("buffered_bytes"),
        "{run}"
    );
}
