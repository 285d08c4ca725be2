//! What `procgate` says, exactly, and the exit code it ends with, for each
//! kind of failure (the table in `cli/src/exit.rs` and `procgate --help`).

mod common;

use common::{output, procgate, text};
use procgate_tests::guest_path;
use std::path::Path;
use tempfile::TempDir;

const HINT: &str =
    "a procgate guest is a WASI 0.2 component: build one with `cargo build --target wasm32-wasip2`";

/// Runs `procgate run ARGS` with its own cache directory; (code, stdout, stderr).
fn run(cache: &Path, args: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let mut cmd = procgate();
    cmd.env("PROCGATE_CACHE_DIR", cache).arg("run").args(args);
    let out = output(cmd);
    let (stdout, stderr) = text(&out);
    (out.status.code(), stdout, stderr)
}

fn file(dir: &TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_file_that_is_not_webassembly_exits_4_and_says_what_to_build() {
    let dir = TempDir::new().unwrap();
    let path = file(&dir, "notes.txt", b"hello\n");
    let (code, stdout, stderr) = run(&dir.path().join("c"), &[path.as_os_str()]);
    assert_eq!(code, Some(4), "{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        format!(
            "procgate: {} is not a WebAssembly file; {HINT}\n",
            path.display()
        )
    );
}

#[test]
fn a_core_module_exits_4_and_says_what_to_build() {
    let dir = TempDir::new().unwrap();
    // The smallest valid core module: magic and version 1.
    let path = file(&dir, "core.wasm", b"\0asm\x01\0\0\0");
    let (code, _, stderr) = run(&dir.path().join("c"), &[path.as_os_str()]);
    assert_eq!(code, Some(4), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "procgate: {} is a core WebAssembly module, not a component; {HINT} \
             (a wasm32-wasip1 module can be wrapped: \
             `wasm-tools component new --adapt wasi_snapshot_preview1.wasm`)\n",
            path.display()
        )
    );
}

#[test]
fn a_component_that_is_not_a_command_exits_4_and_says_what_to_build() {
    let dir = TempDir::new().unwrap();
    // The smallest valid component: magic, version 0xd, layer 1; no exports.
    let path = file(&dir, "lib.wasm", b"\0asm\x0d\0\x01\0");
    let (code, _, stderr) = run(&dir.path().join("c"), &[path.as_os_str()]);
    assert_eq!(code, Some(4), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "procgate: {} is a component but not a command: it exports no `wasi:cli/run`; \
             build a program with a `main` (a binary crate) with \
             `cargo build --target wasm32-wasip2`\n",
            path.display()
        )
    );
}

#[test]
fn a_missing_guest_exits_4() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("gone.wasm");
    let (code, _, stderr) = run(&dir.path().join("c"), &[path.as_os_str()]);
    assert_eq!(code, Some(4), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "procgate: cannot read {}: No such file or directory (os error 2)\n",
            path.display()
        )
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = TempDir::new().unwrap();
    let guest = guest_path("cli_probe");
    for (args, says) in [
        (
            &["--no-such-flag"][..],
            "unexpected argument '--no-such-flag'",
        ),
        (
            &["--child-env", "NOEQUALS"],
            "invalid value 'NOEQUALS' for '--child-env <K=V>': \"NOEQUALS\": expected K=V",
        ),
        (
            // The old name is an alias; clap names the flag by its name.
            &["--env", "NOEQUALS"],
            "invalid value 'NOEQUALS' for '--child-env <K=V>': \"NOEQUALS\": expected K=V",
        ),
        (
            &["--timeout", "5 parsecs"],
            "invalid value '5 parsecs' for '--timeout <DURATION>'",
        ),
        (
            &["--max-memory", "lots"],
            "invalid value 'lots' for '--max-memory <SIZE>'",
        ),
        (
            &["--landlock", "maybe"],
            "invalid value 'maybe' for '--landlock <MODE>'",
        ),
    ] {
        let mut all: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        all.push(guest.as_os_str());
        let (code, stdout, stderr) = run(&dir.path().join("c"), &all);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}");
        assert!(
            stderr.starts_with(&format!("error: {says}")),
            "{args:?}: {stderr}"
        );
    }
    let (code, _, stderr) = run(&dir.path().join("c"), &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: the following required arguments were not provided:"),
        "{stderr}"
    );
}

#[test]
fn a_broken_policy_file_exits_3() {
    let dir = TempDir::new().unwrap();
    let policy = file(&dir, "p.toml", b"x = \n");
    let guest = guest_path("cli_probe");
    let (code, stdout, stderr) = run(
        &dir.path().join("c"),
        &["--policy".as_ref(), policy.as_os_str(), guest.as_os_str()],
    );
    assert_eq!(code, Some(3), "{stderr}");
    assert_eq!(stdout, "", "the guest ran");
    assert_eq!(
        stderr,
        format!(
            "procgate: {}:1:5: string values must be quoted, expected literal string\n",
            policy.display()
        )
    );
}

#[test]
fn a_trap_exits_134_and_a_guest_exit_code_passes_through() {
    let dir = TempDir::new().unwrap();
    let cache = dir.path().join("c");
    // `gather` without its arguments: the guest panics (index out of
    // bounds), which in wasm is an `unreachable` trap.
    let guest = guest_path("hostile_memory");
    let (code, _, stderr) = run(&cache, &[guest.as_os_str(), "gather".as_ref()]);
    assert_eq!(code, Some(134), "{stderr}");
    let last = stderr.lines().rfind(|l| l.starts_with("procgate: "));
    assert_eq!(
        last,
        Some("procgate: the guest trapped: error while executing at wasm backtrace:"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with(": wasm trap: wasm `unreachable` instruction executed\n"),
        "{stderr}"
    );
    // `exit` makes the guest exit 3 by itself: passed through, no message.
    let lifetimes = guest_path("lifetimes");
    let (code, _, stderr) = run(
        &cache,
        &[
            "--allow".as_ref(),
            "sleep".as_ref(),
            lifetimes.as_os_str(),
            "exit".as_ref(),
        ],
    );
    assert_eq!(code, Some(3), "{stderr}");
    assert!(!stderr.contains("procgate: "), "{stderr}");
}

#[test]
fn help_lists_the_exit_codes_and_groups_the_flags() {
    let out = output({
        let mut cmd = procgate();
        cmd.args(["run", "--help"]);
        cmd
    });
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0));
    for heading in [
        "Policy:",
        "Environment:",
        "Limits:",
        "Audit log:",
        "Guest:",
        "Examples:",
        "Exit status:",
    ] {
        assert!(
            stdout.lines().any(|l| l == heading),
            "{heading} missing:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("\n  134      the guest trapped"),
        "{stdout}"
    );
}
