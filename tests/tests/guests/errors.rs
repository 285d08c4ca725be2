//! Errors are values: denied program, denied shell, not found, NUL bytes.

host_tests_for!(errors);

use procgate_tests::{allow, run_guest, scratch};

#[test]
fn denials_and_bad_input_start_nothing_and_the_host_keeps_serving() {
    let dir = scratch("errors");
    let marker = dir.path().join("marker");
    let policy = allow(&["true", "procgate-no-such-program"])
        .build()
        .unwrap();
    let run = run_guest("errors", &[marker.to_str().unwrap()], policy);
    run.assert_ok();
    assert_eq!(
        run.lines(),
        [
            "exec Err(Denied(\"program \\\"sh\\\" not in allow list\"))",
            "exec-abs Err(Denied(\"program \\\"/bin/sh\\\" not in allow list\"))",
            "exec-rel Err(Denied(\"program \\\"../../bin/sh\\\" not in allow list (relative paths are never allowed)\"))",
            "shell Err(Denied(\"shell not granted (create-subprocess-shell is off)\"))",
            "missing Err(NotFound(\"program \\\"procgate-no-such-program\\\" is allowed but was not found\"))",
            "nul Err(InvalidArgument(\"argument contains a NUL byte\"))",
            "true 0",
        ],
        "{run}"
    );
    assert!(!marker.exists(), "a denied request ran");
}
