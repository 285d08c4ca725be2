//! The probe `procgate run`'s argument tests use (`host/tests/cli_args.rs`),
//! here through the library: it prints its arguments verbatim and reports
//! the shell, `id` and `/` as not granted.

host_tests_for!(cli_probe);

use procgate::Policy;
use procgate_tests::{allow, run_guest};

#[test]
fn cli_probe_prints_its_arguments_and_finds_nothing_granted() {
    let run = run_guest(
        "cli_probe",
        &["--allow-shell", "--dir=/", "--"],
        Policy::default(),
    );
    run.assert_ok();
    let lines = run.lines();
    assert_eq!(
        lines[0], r#"args ["--allow-shell", "--dir=/", "--"]"#,
        "{run}"
    );
    assert!(lines[1].starts_with("shell denied: "), "{run}");
    assert!(lines[2].starts_with("id denied: "), "{run}");
    assert_eq!(lines[3], "/ not preopened", "{run}");
}

#[test]
fn cli_probe_reports_a_granted_shell() {
    let policy = allow(&[]).allow_shell("/bin/sh").build().unwrap();
    let run = run_guest("cli_probe", &[], policy);
    run.assert_ok();
    assert_eq!(run.lines()[1], "shell allowed, exit 0", "{run}");
}
