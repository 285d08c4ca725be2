//! The Rust guest library beyond asyncio's basics (`guest_api`, both
//! faces), its `std::process::Command` shape (`command`), its
//! `tokio::process::Command` shape (`command_async`), and the `gitlog`
//! example: code written for `std::process::Command` with one `use` line
//! changed.
//!
//! A little over ~400 lines: one short test per behaviour of the guest
//! library's faces, each a case of its guest program.

host_tests_for!(guest_api, command, command_async);

use procgate::policy::{Limits, PolicyFile};
use procgate_tests::{allow, assert_both_faces, root, run_guest, scratch, Run};
use std::process::Command;

/// `guest_api <face> <case>` with the few programs it runs allowed (`rm` is
/// not: its denial is a case).
fn guest_api(face: &str, case: &str) -> Run {
    let policy = allow(&["sleep", "true", "cat", "printf", "sh"]).search_path(["/usr/bin", "/bin"]);
    run_guest("guest_api", &[face, case], policy.build().unwrap())
}

fn check(case: &str, expected: &[&str]) {
    assert_both_faces(expected, |face| guest_api(face, case));
}

#[test]
fn the_exit_pollable_waits_with_wasi_poll_and_outlives_its_process() {
    check(
        "pollable",
        &[
            "first ready [1]",
            "slow ready false",
            "pollable outlives its process true",
            "slow ready after kill true",
            "rc Ok(-9)",
        ],
    );
}

#[test]
fn try_wait_looks_once_without_blocking() {
    check(
        "try_wait",
        &[
            "running Ok(None)",
            "killed Ok(Some(-9))",
            "again Ok(Some(-9)) returncode Some(-9)",
        ],
    );
}

#[test]
fn wait_for_times_out_leaving_the_child_running() {
    check(
        "wait_for",
        &[
            "timed out Ok(None)",
            "still running Ok(None)",
            "exited Ok(Some(-15))",
        ],
    );
}

#[test]
fn start_communicate_gives_the_process_meanwhile_and_the_result() {
    check(
        "start_communicate",
        &[
            "same pid true",
            "result Ok(Some(\"hello\"), None)",
            "rc Some(0)",
        ],
    );
}

/// Output past `limits.buffered_bytes` (6 MiB here; 10.9 MB on stdout and
/// 8 MB on stderr, written by `seq` faster than the guest takes them) is
/// not `limit-exceeded` for the Rust guest library: it takes the output
/// from the host as it arrives (`take-output`), the host pauses its reads
/// at 4 MiB waiting, and the guest gets every byte in order. A guest that
/// did not take it would get `limit-exceeded`
/// (`budget.rs::output_past_the_budget_is_still_limit_exceeded`).
#[test]
fn a_communicate_larger_than_the_hosts_buffer_limit_arrives_whole_and_in_order() {
    let policy = allow(&["sh"])
        .search_path(["/usr/bin", "/bin"])
        .limits(Limits {
            communicate_bytes: Some(32 << 20),
            buffered_bytes: Some(6 << 20),
            ..Default::default()
        })
        .build()
        .unwrap();
    assert_both_faces(
        &[
            "stdout 10888896 bytes, in order true",
            "stderr 8000008 bytes, in order true",
            "rc Some(0)",
        ],
        |face| run_guest("guest_api", &[face, "communicate_large"], policy.clone()),
    );
}

#[test]
fn a_communicate_times_out_and_the_process_can_be_killed_meanwhile() {
    check(
        "communicate_timeout",
        &[
            "try_get true",
            "timed out Ok(true)",
            "after kill Ok(Some((Some([]), None)))",
            "rc Some(-9)",
        ],
    );
}

#[test]
fn a_limit_above_u32_max_is_an_error_not_a_clamp() {
    check(
        "limit",
        &[
            "limit u32::MAX+1 Err(InvalidArgument(\"limit 4294967296 is above the largest the host takes, 4294967295\"))",
            "limit u32::MAX ok true",
        ],
    );
}

#[test]
fn host_and_stream_errors_are_apart_and_stream_errors_say_why() {
    check(
        "errors",
        &[
            "host Denied(\"program \\\"rm\\\" not in allow list\") / denied by policy: program \"rm\" not in allow list",
            "stream Closed(\"the guest closed stdin (close, write_eof or drop)\")",
            "display the stream is closed: the guest closed stdin (close, write_eof or drop)",
            "error Closed(\"the guest closed stdin (close, write_eof or drop)\") is stream true",
            "io BrokenPipe inner true",
            "rc Ok(0)",
            "overrun Separator is not found, and chunk exceed the limit (16 bytes consumed)",
            "overrun Separator is found, but chunk is longer than limit (10 bytes consumed)",
        ],
    );
}

#[test]
fn a_nested_run_is_an_error_and_the_outer_run_goes_on() {
    check(
        "nested",
        &[
            "nested Err(NestedRunError)",
            "text aio::run cannot be called from a running aio::run (await the future instead, or use the blocking face procgate_guest::sync)",
            "outer goes on, rc Ok(0)",
        ],
    );
}

#[test]
fn a_process_moves_between_the_faces_with_its_buffers() {
    check(
        "convert",
        &[
            "sync readline Ok(\"on\")",
            "aio readline Ok(\"e\\n\")",
            "sync communicate Ok(Some(\"two\\nthree\\nfour\\n\"), None)",
            "rc Some(0)",
        ],
    );
}

#[test]
fn write_never_waits_on_either_face() {
    // The blocking face's write used to block until the child read: this
    // child never reads, so the run would hang (the deadline fails it).
    check(
        "write_buffers",
        &["write 1 MiB Ok(())", "closing false", "rc Ok(-9)"],
    );
}

#[test]
fn close_sends_everything_written_before_closing() {
    // Dropping a stream drops what the host still buffers: close flushes
    // first.
    check(
        "close_sends_all",
        &["write Ok(())", "read back 100000 bytes", "rc Ok(0)"],
    );
}

#[test]
fn readuntil_with_several_separators_takes_the_first_match_to_end() {
    check(
        "readuntil_any",
        &[
            "readuntil_any Ok(\"a\\r\\n\")",
            "readuntil_any Ok(\"b;;\")",
            "readuntil_any Ok(\"c\\n\")",
            "readuntil_any Err(IncompleteRead { partial: \"d\", expected: None })",
            "none Err(InvalidArgument(\"separator should contain at least one element\"))",
            "empty Err(InvalidArgument(\"separator should be at least one-byte string\"))",
        ],
    );
}

#[test]
fn writelines_write_eof_and_reading_by_lines() {
    check(
        "lines",
        &[
            "can_write_eof true",
            "after write_eof Err(\"the stream is closed: the guest closed stdin (close, write_eof or drop)\")",
            "lines [\"one\\n\", \"two\\n\", \"three\"]",
            "rc Ok(0)",
        ],
    );
}

/// The policy of `command` (std's shape) and `command_async` (tokio's):
/// echo, sh, sleep, cat, printf, wc allowed (and a program that does not
/// exist); `GREETING` may be set; `/work` is a scratch directory.
fn command_policy() -> (procgate::Policy, tempfile::TempDir) {
    let dir = scratch("command");
    let policy = allow(&[
        "echo",
        "sh",
        "sleep",
        "cat",
        "printf",
        "wc",
        "true",
        "no-such-program",
    ])
    .search_path(["/usr/bin", "/bin"])
    .allow_shell("/bin/sh")
    .allow_guest_env("GREETING")
    .set_env("PATH", "/usr/bin:/bin")
    .dir(dir.path(), "/work");
    (policy.build().unwrap(), dir)
}

/// Runs `command <case>` and checks what it printed.
fn check_command(case: &str, expected: &[&str]) {
    let (policy, _dir) = command_policy();
    let run = run_guest("command", &[case], policy);
    run.assert_ok();
    assert_eq!(run.lines(), expected, "{run}");
}

#[test]
fn command_output_collects_stdout_stderr_and_status() {
    check_command(
        "output",
        &[
            "status exit status: 0 success true",
            "stdout \"hello world\\n\" stderr \"\"",
            "code Some(3) stderr \"oops\\n\"",
        ],
    );
}

#[test]
fn command_status_and_exit_status_as_std() {
    check_command(
        "status",
        &[
            "code Some(7) success false signal None",
            "true exit status: 0",
        ],
    );
}

#[test]
fn command_kill_wait_try_wait_as_std() {
    check_command(
        "kill",
        &[
            "id > 0 true",
            "try_wait None",
            "signal: 9 (SIGKILL) code None signal Some(9)",
            "kill again Ok(())",
            "try_wait Some(\"signal: 9 (SIGKILL)\")",
        ],
    );
}

#[test]
fn command_pipes_are_io_read_and_io_write() {
    check_command(
        "pipes",
        &[
            "read \"line one\\nline two\\nline 3\\n\"",
            "wait exit status: 0",
        ],
    );
    check_command(
        "bufread",
        &["lines [\"a\", \"b\", \"c\"]", "wait exit status: 0"],
    );
    check_command("wait_with_output", &["\"fed\" \"err\\n\" exit status: 0"]);
}

#[test]
fn command_stdio_from_a_childs_stdout_is_a_pipeline() {
    check_command("chain", &["wc \"5\"", "first exit status: 0"]);
}

#[test]
fn command_env_and_current_dir_within_the_policy() {
    // The child runs in the host directory the guest path names.
    let (policy, dir) = command_policy();
    let run = run_guest("command", &["env_cwd"], policy);
    run.assert_ok();
    let host = dir.path().display();
    assert_eq!(
        run.lines(),
        [
            "envs [(\"GREETING\", Some(\"hi\"))] dir Some(\"/work\")".to_string(),
            format!("set \"[hi] {host}\""),
            format!("removed \"[] {host}\""),
            format!("cleared \"[] {host}\""),
        ],
        "{run}"
    );
}

#[test]
fn command_errors_are_io_errors_with_the_typed_error_inside() {
    check_command(
        "errors",
        &[
            "denied kind PermissionDenied inner Some(Denied(\"program \\\"rm\\\" not in allow list\"))",
            "not found kind NotFound",
            "nul kind InvalidInput",
        ],
    );
}

#[test]
fn tokio_shaped_command_output_status_and_async_pipes() {
    let cases: [(&str, &[&str]); 6] = [
        (
            "output",
            &[
                "status exit status: 0 stdout \"hello\\n\"",
                "status code Some(4)",
            ],
        ),
        (
            "pipes",
            &[
                "echoed 300000 bytes, same true",
                "id before wait true",
                "wait exit status: 0",
                "id after wait None",
            ],
        ),
        ("lines", &["lines [\"x\", \"y\"]"]),
        (
            "kill",
            &["try_wait None", "after kill Some(\"signal: 9 (SIGKILL)\")"],
        ),
        ("wait_with_output", &["\"abc\" exit status: 0"]),
        (
            "denied",
            &["kind PermissionDenied denied by policy: program \"rm\" not in allow list"],
        ),
    ];
    for (case, expected) in cases {
        let (policy, _dir) = command_policy();
        let run = run_guest("command_async", &[case], policy);
        run.assert_ok();
        assert_eq!(run.lines(), expected, "case {case}:\n{run}");
    }
}

/// `git` on the host, in `dir`, with a fixed identity and clock.
fn git(dir: &std::path::Path, args: &[&str], date: &str) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@example.org")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@example.org")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git on the host");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_gitlog_example_parses_git_log_through_the_std_command_shape() {
    let dir = scratch("gitlog");
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"], "@0 +0000");
    for (i, subject) in ["first", "second: with a colon", "third"]
        .iter()
        .enumerate()
    {
        let date = format!("@{} +0000", 1_700_000_000 + i * 60);
        std::fs::write(repo.join("file"), subject).unwrap();
        git(repo, &["add", "file"], &date);
        git(repo, &["commit", "-q", "-m", subject], &date);
    }
    let hashes = git(repo, &["log", "--format=%H"], "@0 +0000");
    let hashes: Vec<&str> = hashes.lines().collect();

    // The example's own policy file, plus the scratch repository.
    let path = root().join("examples/rust/gitlog.toml");
    let policy = PolicyFile::load(&path)
        .unwrap()
        .into_builder(path.parent().unwrap())
        .dir(repo, "/scratch")
        .build()
        .unwrap();
    let run = run_guest("gitlog", &["/scratch", "2"], policy);
    run.assert_ok();
    assert_eq!(
        run.lines(),
        [
            format!(
                "{} Ada Lovelace <ada@example.org> 1700000120 third",
                &hashes[0][..12]
            ),
            format!(
                "{} Ada Lovelace <ada@example.org> 1700000060 second: with a colon",
                &hashes[1][..12]
            ),
            "2 commits".to_string(),
        ],
        "{run}"
    );
}

#[test]
fn the_gitlog_example_reads_this_checkout_under_its_policy_file() {
    // As `procgate run --policy examples/rust/gitlog.toml gitlog.wasm`: the
    // policy grants this checkout as /repo.
    let checkout = root();
    if !checkout.join(".git").exists() {
        eprintln!("skipped: {} is not a git checkout", checkout.display());
        return;
    }
    let head = git(&checkout, &["log", "-1", "--format=%H %s"], "@0 +0000");
    let (hash, subject) = head.trim_end().split_once(' ').unwrap();
    let path = root().join("examples/rust/gitlog.toml");
    let policy = PolicyFile::load(&path)
        .unwrap()
        .into_builder(path.parent().unwrap())
        .build()
        .unwrap();
    let run = run_guest("gitlog", &[], policy);
    run.assert_ok();
    let lines = run.lines();
    assert!(lines[0].starts_with(&hash[..12]), "{run}");
    assert!(lines[0].ends_with(subject), "{run}");
    assert!(lines.len() >= 2, "{run}");
}
