//! `procgate run --policy FILE --profile NAME`: the profile's tables go on
//! top of the file's top level; an unknown profile is a usage error (exit
//! 2) naming the profiles the file has.

mod common;

use common::{output, procgate, text};
use procgate_tests::guest_path;

const POLICY: &str = r#"
[programs]
allow = ["true"]

[profiles.with-id.programs]
allow = ["id"]

[profiles.with-shell.shell]
allow = true
"#;

fn run(policy: &std::path::Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = procgate();
    cmd.args(["run", "--no-cache", "--policy"])
        .arg(policy)
        .args(extra)
        .arg(guest_path("cli_probe"));
    let out = output(cmd);
    let (stdout, stderr) = text(&out);
    (out.status.code(), stdout, stderr)
}

#[test]
fn a_profile_adds_to_the_top_level_and_an_unknown_one_is_a_usage_error() {
    let scratch = tempfile::TempDir::new().unwrap();
    let policy = scratch.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let (code, stdout, stderr) = run(&policy, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("shell denied") && stdout.contains("id denied"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&policy, &["--profile", "with-id"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("shell denied") && stdout.contains("id allowed"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&policy, &["--profile", "with-shell"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("shell allowed") && stdout.contains("id denied"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&policy, &["--profile", "with-sh"]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!(
            "--profile: {}: no profile \"with-sh\" (the file has: with-id, with-shell)",
            policy.display()
        )),
        "{stderr}"
    );
}

#[test]
fn a_profile_without_a_policy_file_is_a_usage_error() {
    let mut cmd = procgate();
    cmd.args(["run", "--profile", "ci"])
        .arg(guest_path("cli_probe"));
    let out = output(cmd);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--profile needs --policy FILE"), "{stderr}");
}
