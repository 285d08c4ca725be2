//! `--dir HOST::GUEST:ro`: the guest's preopen is read-only (wasmtime-wasi
//! `FsPerms::ReadOnly`), so a guest cannot write into it; without `:ro` it
//! can. (Children's writes under Landlock:
//! `tests/tests/guests/policy_read_only.rs`.)

mod common;

use common::{output, procgate, text};
use procgate_tests::guest_path;

/// `cli_probe copy /data/src.txt /data/DST` with `--dir DIR::/data` + `suffix`.
fn copy(dir: &std::path::Path, suffix: &str, dst: &str) -> (Option<i32>, String) {
    let mut cmd = procgate();
    cmd.arg("run")
        .arg("--no-cache")
        .arg("--dir")
        .arg(format!("{}::/data{suffix}", dir.display()))
        .arg(guest_path("cli_probe"))
        .args(["copy", "/data/src.txt", &format!("/data/{dst}")]);
    let out = output(cmd);
    let (stdout, stderr) = text(&out);
    (out.status.code(), format!("{stdout}{stderr}"))
}

#[test]
fn a_guest_cannot_write_into_a_read_only_dir() {
    let scratch = tempfile::TempDir::new().unwrap();
    let dir = scratch.path();
    std::fs::write(dir.join("src.txt"), "hello\n").unwrap();
    let (code, out) = copy(dir, ":ro", "copy.txt");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("copy failed"), "{out}");
    assert!(!dir.join("copy.txt").exists(), "{out}");
    // Reading it is granted: the copy failed at the write. Without `:ro`
    // the same copy succeeds.
    let (code, out) = copy(dir, "", "copy.txt");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("copied 6"), "{out}");
    assert_eq!(
        std::fs::read_to_string(dir.join("copy.txt")).unwrap(),
        "hello\n"
    );
}
