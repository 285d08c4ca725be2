//! stdout line by line, stdin streaming, readline then communicate.

host_tests_for!(streams);

use procgate_tests::{allow, run_guest};

#[test]
fn stdout_line_by_line() {
    let run = run_guest("streams", &["lines"], allow(&["sh"]).build().unwrap());
    run.assert_ok();
    assert_eq!(
        run.lines(),
        [
            "got \"line1\\n\"",
            "got \"line2\\n\"",
            "got \"line3\\n\"",
            "got \"tail\"",
            "eof true",
            "rc 0"
        ],
        "{run}"
    );
}

#[test]
fn stdin_streaming_past_a_pipe_buffer() {
    let run = run_guest("streams", &["stdin"], allow(&["wc"]).build().unwrap());
    run.assert_ok();
    assert_eq!(run.lines(), ["lines \"1000\"", "rc 0"], "{run}");
}

#[test]
fn communicate_returns_what_readline_left() {
    let run = run_guest(
        "streams",
        &["readline-then-communicate"],
        allow(&["sh"]).build().unwrap(),
    );
    run.assert_ok();
    assert_eq!(
        run.lines(),
        ["first \"first\\n\"", "rest \"second\\nthird\\n\""],
        "{run}"
    );
}
