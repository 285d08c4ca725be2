//! Everything after the guest file on `procgate run`'s command line reaches
//! the guest verbatim: an argument meant for the guest never becomes one of
//! procgate's options and never widens the policy (issue 12, item 2).

mod common;

use common::{output, procgate, text};
use procgate_tests::guest_path;

/// What `cli_probe` prints when it was granted nothing.
const NOTHING_GRANTED: [&str; 3] = ["shell denied", "id denied", "/ not preopened"];

/// Runs `cli_probe` with procgate's `before` options and then `after`;
/// checks the probe got `after` as its arguments and was granted nothing.
fn assert_reaches_guest(before: &[&str], after: &[&str]) {
    let mut cmd = procgate();
    cmd.arg("run")
        .args(before)
        .arg(guest_path("cli_probe"))
        .args(after);
    let out = output(cmd);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{after:?}: {stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(format!("args {after:?}").as_str()),
        "{after:?}: {stdout}{stderr}"
    );
    for (line, want) in lines[1..].iter().zip(NOTHING_GRANTED) {
        assert!(line.starts_with(want), "{after:?}: {stdout}{stderr}");
    }
    assert_eq!(lines.len(), 4, "{after:?}: {stdout}{stderr}");
}

#[test]
fn options_after_the_guest_reach_the_guest_and_grant_nothing() {
    let scratch = tempfile::TempDir::new().unwrap();
    let policy = scratch.path().join("shell.toml");
    std::fs::write(
        &policy,
        "[shell]\nallow = true\n[programs]\nallow = [\"id\"]\n",
    )
    .unwrap();
    let policy = policy.to_str().unwrap();
    for after in [
        &["--allow-shell"][..],
        &["--allow", "id"],
        &["--allow=id"],
        &["--shell", "/bin/sh"],
        &["--dir=/"],
        &["--dir", "/"],
        &["--policy", policy],
        &["--help"],
        &["-h"],
        &["-V"],
        &["-v"],
        &["--"],
        &["--", "--allow-shell"],
        &["x", "--allow-shell", "--dir=/"],
        &["run", "--allow-shell"],
    ] {
        assert_reaches_guest(&[], after);
    }
}

#[test]
fn options_before_the_guest_are_procgate_s() {
    let mut cmd = procgate();
    cmd.args(["run", "--allow-shell", "--"])
        .arg(guest_path("cli_probe"))
        .arg("--allow-shell");
    let out = output(cmd);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert_eq!(
        stdout.lines().take(2).collect::<Vec<_>>(),
        [r#"args ["--allow-shell"]"#, "shell allowed, exit 0"],
        "{stderr}"
    );
}

/// The report's attack: the shell example under the date policy (which
/// grants `python3` only), given `--allow-shell` and a command after it.
#[test]
fn allow_shell_after_the_guest_does_not_grant_the_shell() {
    let scratch = tempfile::TempDir::new().unwrap();
    let marker = scratch.path().join("pwned");
    let mut cmd = procgate();
    cmd.args(["run", "--policy", "examples/rust/date.toml"])
        .arg(guest_path("shell"))
        .arg("--allow-shell")
        .arg(format!("touch {}", marker.display()));
    let out = output(cmd);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("shell not granted"), "{stdout}{stderr}");
    assert!(!marker.exists(), "{stdout}{stderr}");
}
