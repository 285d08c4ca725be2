//! asyncio's stream API in the guest library (`StreamReader`,
//! `StreamWriter`, stderr=STDOUT, returncode, process-exited) and the edge
//! semantics of `communicate` and `wait`, each on both faces.

host_tests_for!(streams_api);

use procgate_tests::{allow, assert_both_faces, root, run_guest};

/// Runs `case` of the `streams_api` guest on both faces, with `python3`
/// allowed and nothing else, and checks what it printed.
fn check(case: &str, expected: &[&str]) {
    assert_both_faces(expected, |face| {
        let policy = allow(&["python3"]).search_path(["/usr/bin"]);
        run_guest("streams_api", &[face, case], policy.build().unwrap())
    });
}

#[test]
fn read_n_reads_up_to_n_and_minus_one_reads_to_eof() {
    check(
        "read",
        &[
            "read(0) Ok(\"\")",
            "read(5) Ok(\"hello\")",
            "read(-1) Ok(\" world\")",
            "read(-1) Ok(\"\")",
            "read(5) Ok(\"\")",
            "at_eof true",
            "rc 0",
        ],
    );
}

#[test]
fn readline_returns_the_partial_line_then_empty_bytes_at_eof() {
    check(
        "readline",
        &[
            "readline Ok(\"one\\n\")",
            "readline Ok(\"two\\n\")",
            "readline Ok(\"partial\")",
            "readline Ok(\"\")",
            "readline Ok(\"\")",
            "at_eof true",
            "rc 0",
        ],
    );
}

#[test]
fn readuntil_a_separator_and_incomplete_read_at_eof() {
    check(
        "readuntil",
        &[
            "readuntil Ok(\"a--\")",
            "readuntil Ok(\"b--\")",
            "readuntil Err(IncompleteRead { partial: \"c\", expected: None })",
            "readuntil empty Err(InvalidArgument(\"separator should be at least one-byte string\"))",
            "at_eof true",
            "rc 0",
        ],
    );
}

#[test]
fn readexactly_short_at_eof_carries_the_partial_data() {
    check(
        "readexactly",
        &[
            "readexactly(4) Ok(\"0123\")",
            "readexactly(0) Ok(\"\")",
            "readexactly(10) Err(IncompleteRead { partial: \"456789\", expected: Some(10) })",
            "readexactly(1) Err(IncompleteRead { partial: \"\", expected: Some(1) })",
            "rc 0",
        ],
    );
}

#[test]
fn at_eof_only_once_the_child_closed_its_end_and_all_was_read() {
    check(
        "at_eof",
        &[
            "at_eof false",
            "readline Ok(\"x\\n\")",
            "at_eof false",
            "read(-1) Ok(\"\")",
            "at_eof true",
            "rc 0",
        ],
    );
}

#[test]
fn a_line_past_the_limit_is_limit_overrun() {
    check(
        "limit",
        &[
            "readline Ok(\"short\\n\")",
            "readline Err(LimitOverrun { consumed: 16 })",
            "readline Ok(\"after\\n\")",
            "readuntil Err(LimitOverrun { consumed: 16 })",
            "read(-1) Ok(\"0123456789abcdef--tail\")",
            "rc 0",
        ],
    );
    check(
        "limit_no_separator",
        &[
            "readline Err(LimitOverrun { consumed: 16 })",
            "readline Ok(\"\\n\")",
            "readline Ok(\"next\\n\")",
            "readline Ok(\"\")",
            "rc 0",
        ],
    );
}

#[test]
fn writer_write_drain_close_wait_closed() {
    check(
        "writer",
        &[
            "write Ok(())",
            "write Ok(())",
            "drain Ok(())",
            "is_closing false",
            "is_closing true",
            "write Err(Closed(\"the guest closed stdin (close, write_eof or drop)\"))",
            "drain Err(Closed(\"the guest closed stdin (close, write_eof or drop)\"))",
            "stdout Ok(\"some data\")",
            "rc 0",
        ],
    );
}

#[test]
fn writing_to_a_child_that_exited_is_a_broken_pipe() {
    check(
        "broken_pipe",
        &[
            "rc 0",
            "write+drain Err(Closed(\"the child closed its stdin or exited (broken pipe)\"))",
            "is_closing true",
        ],
    );
}

#[test]
fn stderr_to_stdout_merges_into_the_stdout_stream() {
    check(
        "stderr_to_stdout",
        &[
            "stderr stream false",
            "read(-1) Ok(\"out1\\nerr1\\nout2\\n\")",
            "rc 0",
            "communicate Ok(Some(\"out1\\nerr1\\nout2\\n\"), None)",
        ],
    );
}

#[test]
fn returncode_is_none_until_exit_then_minus_n_after_signal_n() {
    check(
        "returncode",
        &[
            "returncode None",
            "wait -10",
            "returncode Some(-10)",
            "send_signal Err(ProcessExited)",
            "terminate Err(ProcessExited)",
            "kill Err(ProcessExited)",
        ],
    );
}

#[test]
fn communicate_after_exit_returns_what_is_left_and_the_returncode() {
    check(
        "communicate_after_exit",
        &[
            "wait 3",
            "communicate Ok(Some(\"out\\n\"), Some(\"err\\n\"))",
            "returncode Some(3)",
        ],
    );
}

#[test]
fn communicate_closes_stdin_without_input() {
    check(
        "communicate_closes_stdin",
        &[
            "untouched Ok(Some(\"0\\n\"), None)",
            "written Ok(Some(\"2\\n\"), None)",
        ],
    );
}

#[test]
fn communicate_twice_finds_the_pipes_at_eof() {
    check(
        "communicate_twice",
        &[
            "first Ok(Some(\"first\"), Some(\"e\"))",
            "second Ok(Some(\"\"), Some(\"\"))",
            "returncode Some(0)",
        ],
    );
}

#[test]
fn reading_a_pipe_after_the_child_exited_returns_all_then_eof() {
    check(
        "read_after_exit",
        &[
            "wait 0",
            "stdout 50000 bytes, all x: true",
            "read(-1) Ok(\"\")",
            "at_eof true",
            "readline Ok(\"done\\n\")",
            "readline Ok(\"\")",
        ],
    );
}

#[test]
fn megabytes_on_both_pipes_through_communicate() {
    check(
        "megabytes",
        &[
            "stdout 4194304 bytes, as sent: true",
            "stderr 4194304 bytes, as sent: true",
            "returncode Some(0)",
        ],
    );
}

#[test]
fn megabytes_echoed_on_both_pipes_while_the_guest_feeds_stdin() {
    check(
        "megabytes_echo",
        &[
            "stdout 4194304 bytes, as sent: true",
            "stderr 4194304 bytes, as sent: true",
            "returncode Some(0)",
        ],
    );
}

/// The doc comment right above the first line of `file` containing `item`.
fn doc_of(file: &str, item: &str) -> String {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(item))
        .unwrap_or_else(|| panic!("{item} not in {file}"));
    lines[..at]
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with("///"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn wait_documents_the_pipe_deadlock() {
    // asyncio's note on wait(): it can deadlock with stdout=PIPE or
    // stderr=PIPE when the child fills a pipe nobody reads; communicate
    // avoids it.
    for (file, item) in [
        ("guest/src/sync/process.rs", "pub fn wait(&self)"),
        ("guest/src/aio/process.rs", "pub async fn wait(&self)"),
    ] {
        let doc = doc_of(file, item);
        for needle in ["deadlock", "stdout(PIPE)", "stderr(PIPE)", "communicate"] {
            assert!(doc.contains(needle), "{file}: wait's doc lacks {needle:?}");
        }
    }
}
