//! `procgate run --learn FILE`, then `procgate run --policy FILE`: the same
//! run passes with no denial in the audit log, new behaviour is denied, a
//! second learning run widens the file and prints the diff.

mod common;

use common::{output, procgate, text};
use procgate_tests::{guest_path, scratch};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// `procgate run OPTIONS learn_probe ARGS`, the guest given `dir` as /work,
/// the compiled guest cached in `cache`.
fn run(dir: &Path, cache: &Path, options: &[&str], args: &[&str]) -> Output {
    let mut cmd = procgate();
    cmd.env("PROCGATE_CACHE_DIR", cache)
        .arg("run")
        .args(options)
        .arg("--dir")
        .arg(format!("{}::/work", dir.display()))
        .arg(guest_path("learn_probe"))
        .args(args);
    output(cmd)
}

/// The decisions in an `--audit-json` file: (allowed, denied).
fn decisions(path: &Path) -> (usize, usize) {
    let records: Vec<Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |d: &str| {
        records
            .iter()
            .filter(|r| r["event"] == "decision" && r["decision"] == d)
            .count()
    };
    (count("allow"), count("deny"))
}

const FIRST: &[&str] = &[
    "ls",
    "-l",
    "/etc/hostname",
    ";",
    "ls",
    "-l",
    "/etc/hosts",
    ";",
    "echo",
    "hello",
    ";",
    "@/work",
    "true",
];

#[test]
fn learn_then_run_passes_then_new_behaviour_is_denied_then_learn_widens() {
    let dir = scratch("cli-learn");
    let cache = tempfile::tempdir().unwrap();
    let file = dir.path().join("learned.toml");
    let file_arg = file.to_str().unwrap();
    let audit = dir.path().join("audit.json");
    let audit_arg = audit.to_str().unwrap();

    let out = run(dir.path(), cache.path(), &["--learn", file_arg], FIRST);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(!stdout.contains("denied"), "{stdout}");
    assert!(
        stderr.contains("learned.toml written:\n@@ line 1 @@\n+# procgate policy"),
        "{stderr}"
    );
    let learned = std::fs::read_to_string(&file).unwrap();
    assert!(
        learned.contains("{ match = [\"-l\", { glob = \"/etc/*\" }] }"),
        "{learned}"
    );

    // The same run under the learned file: every decision allowed.
    let out = run(
        dir.path(),
        cache.path(),
        &["--policy", file_arg, "--audit-json", audit_arg],
        FIRST,
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(!stdout.contains("denied"), "{stdout}");
    assert_eq!(decisions(&audit), (4, 0), "{stdout}{stderr}");

    // Something new: another program, another argument form.
    let new = ["cat", "/etc/hosts", ";", "ls", "-la", "/etc/hosts"];
    let out = run(
        dir.path(),
        cache.path(),
        &["--policy", file_arg, "--audit-json", audit_arg],
        &new,
    );
    let (stdout, _) = text(&out);
    let denied = stdout.lines().filter(|l| l.contains(": denied: ")).count();
    assert_eq!(denied, 2, "{stdout}");
    assert_eq!(decisions(&audit), (0, 2), "{stdout}");

    // Learning that run widens the file, and says how.
    let out = run(dir.path(), cache.path(), &["--learn", file_arg], &new);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("learned.toml widened:\n"), "{stderr}");
    assert!(stderr.contains("\n+program = \"cat\"\n"), "{stderr}");
    assert!(
        stderr.contains("\n+    { match = [\"-la\", \"/etc/hosts\"] },\n"),
        "{stderr}"
    );
    let diff = &stderr[stderr.find("widened:\n").unwrap()..];
    assert!(diff.lines().all(|l| !l.starts_with('-')), "{diff}");
    for args in [FIRST, &new[..]] {
        let out = run(
            dir.path(),
            cache.path(),
            &["--policy", file_arg, "--audit-json", audit_arg],
            args,
        );
        let (stdout, _) = text(&out);
        assert!(!stdout.contains("denied"), "{stdout}");
        assert_eq!(decisions(&audit).1, 0, "{stdout}");
    }
}

#[test]
fn learn_and_policy_do_not_go_together() {
    let dir = scratch("cli-learn-usage");
    let cache = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        cache.path(),
        &["--learn", "a.toml", "--policy", "b.toml"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let (_, stderr) = text(&out);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
