//! Each stdio mode: inherit, pipe, devnull, stdout-for-stderr.

host_tests_for!(stdio);

use procgate_tests::run_guest;

fn shell() -> procgate::Policy {
    procgate::Policy::builder()
        .allow_shell("/bin/sh")
        .allow_program("wc")
        .allow_program("true")
        .build()
        .unwrap()
}

#[test]
fn inherit_goes_to_the_guests_own_stdout_and_stderr() {
    let run = run_guest("stdio", &["inherit"], shell());
    run.assert_ok();
    assert_eq!(run.lines(), ["guest before", "to-out", "rc 0"], "{run}");
    assert_eq!(run.stderr, "to-err\n", "{run}");
}

#[test]
fn inherited_stdin_is_dev_null_unless_the_host_gives_its_own() {
    let run = run_guest("stdio", &["inherit-in"], shell());
    run.assert_ok();
    assert_eq!(run.lines(), ["count \"0\""], "{run}");
}

#[test]
fn devnull_output_gives_none_not_empty_bytes() {
    let run = run_guest("stdio", &["devnull-out"], shell());
    run.assert_ok();
    assert_eq!(run.lines(), ["out None err None rc Some(0)"], "{run}");
    assert_eq!(run.stderr, "", "{run}");
}

#[test]
fn devnull_input_reads_nothing() {
    let run = run_guest("stdio", &["devnull-in"], shell());
    run.assert_ok();
    assert_eq!(run.lines(), ["count \"0\""], "{run}");
}

#[test]
fn pipe_stdout_and_stderr_separately() {
    let run = run_guest("stdio", &["pipe-both"], shell());
    run.assert_ok();
    assert_eq!(
        run.lines(),
        ["out \"to-out\\n\" err \"to-err\\n\""],
        "{run}"
    );
}

#[test]
fn stderr_to_stdout_merges() {
    let run = run_guest("stdio", &["stderr-to-stdout"], shell());
    run.assert_ok();
    assert_eq!(
        run.lines(),
        ["out \"to-out\\nto-err\\n\" err None"],
        "{run}"
    );
}

#[test]
fn invalid_stdio_combinations_are_errors() {
    let run = run_guest("stdio", &["invalid"], shell());
    run.assert_ok();
    assert_eq!(
        run.lines(),
        [
            "stdin=STDOUT InvalidArgument(\"stdout is only valid for stderr, not for stdin\")",
            "stdout=STDOUT InvalidArgument(\"stdout is only valid for stderr, not for stdout\")",
            "limit=0 InvalidArgument(\"limit must be positive\")",
            "input without stdin pipe Ok((None, None))",
            "rc 0",
        ],
        "{run}"
    );
}
