//! `--learn` builds its own policy: every policy flag beside it is a usage
//! error (exit 2) naming both flags, never silently ignored; the logging
//! flags and `--dir` still go with it.

mod common;

use common::{output, procgate, text};

/// Each policy flag, with a value where it takes one.
const POLICY_FLAGS: &[&[&str]] = &[
    &["--policy", "p.toml"],
    &["--allow", "ls"],
    &["--allow-shell"],
    &["--shell", "/bin/sh"],
    &["--env", "A=B"],
    &["--child-env", "A=B"],
    &["--pass-env", "HOME"],
    &["--allow-env", "TERM"],
    &["--unsafe-env-globs"],
    &["--max-live", "2"],
    &["--max-held", "2"],
    &["--max-spawns", "2"],
    &["--timeout", "1s"],
    &["--communicate-bytes", "1K"],
    &["--landlock", "require"],
    &["--deny", "sh"],
    &["--profile", "ci"],
];

#[test]
fn learn_refuses_every_policy_flag_with_exit_2() {
    let scratch = tempfile::TempDir::new().unwrap();
    let learned = scratch.path().join("learned.toml");
    let learned = learned.to_str().unwrap();
    for flag in POLICY_FLAGS {
        let mut cmd = procgate();
        cmd.args(["run", "--learn", learned])
            .args(*flag)
            .arg("no-such-guest.wasm");
        let out = output(cmd);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{flag:?}: {stderr}");
        // clap names an alias by its flag's name.
        let named = if flag[0] == "--env" {
            "--child-env"
        } else {
            flag[0]
        };
        assert!(
            stderr.contains("cannot be used with") && stderr.contains(named),
            "{flag:?}: {stderr}"
        );
        assert!(
            !std::path::Path::new(learned).exists(),
            "{flag:?} wrote the file"
        );
    }
}

#[test]
fn learn_goes_with_the_logging_flags_and_dir() {
    let scratch = tempfile::TempDir::new().unwrap();
    let learned = scratch.path().join("learned.toml");
    let audit = scratch.path().join("audit.jsonl");
    let mut cmd = procgate();
    cmd.args(["run", "--learn", learned.to_str().unwrap(), "-v"])
        .args(["--audit-json", audit.to_str().unwrap()])
        .args(["--dir", scratch.path().to_str().unwrap()])
        .arg("no-such-guest.wasm");
    let out = output(cmd);
    let (_, stderr) = text(&out);
    // Past the parser: the guest is missing (exit 4), not a usage error.
    assert_eq!(out.status.code(), Some(4), "{stderr}");
}
