//! Attacks on the cache's stamps (`host/src/cache/stamp.rs`): a cached run
//! of an unchanged guest file reads neither the file nor its hash, trusting
//! the file's (device, inode, size, mtime, ctime). A file rewritten in
//! place must still run its new content, and a stamp copied from another
//! file must not choose what runs. Each test has its own cache and guest
//! copies.

mod common;

use common::{output, procgate, text};
use procgate_tests::guest_path;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use tempfile::TempDir;

/// The date example's policy.
const DATE_POLICY: &str = "examples/rust/date.toml";

/// `procgate run --policy POLICY GUEST` with the cache in `cache` and the
/// cache's debug log on stderr.
fn run(cache: &Path, policy: &str, guest: &Path) -> Output {
    let mut cmd = procgate();
    cmd.env("PROCGATE_CACHE_DIR", cache)
        .env("RUST_LOG", "procgate::cache=debug")
        .args(["run", "--policy", policy])
        .arg(guest);
    output(cmd)
}

/// The guest `name` copied into `dir`, left until it has settled (a stamp
/// is only written for a file last changed at least `SETTLE` ago).
fn settled_copy(dir: &Path, name: &str) -> PathBuf {
    let copy = dir.join(format!("{name}.wasm"));
    std::fs::copy(guest_path(name), &copy).unwrap();
    std::thread::sleep(procgate::cache::SETTLE + Duration::from_millis(200));
    copy
}

/// Runs `guest` and returns its stdout; fails unless it succeeded.
fn stdout_of(cache: &Path, policy: &str, guest: &Path) -> (String, String) {
    let out = run(cache, policy, guest);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    (stdout, stderr)
}

/// The stamps (`*.stamp`) in `dir`.
fn stamps(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|x| x == "stamp"));
    found.sort();
    found
}

/// The guest file is rewritten in place after its stamp was recorded:
/// same inode, same size, its modification time set back to the old one
/// (as `touch -d` would). Its change time moved, so the new content runs,
/// not the stale compiled entry.
#[test]
fn a_guest_rewritten_in_place_with_its_old_mtime_runs_its_new_content() {
    let tmp = TempDir::new().unwrap();
    let cache = tmp.path().join("cache");
    let guest = settled_copy(tmp.path(), "date");
    let (stdout, _) = stdout_of(&cache, DATE_POLICY, &guest);
    assert!(stdout.starts_with("Current date: "), "{stdout}");
    // The second run takes the shortcut (else this test proves nothing).
    let (stdout, stderr) = stdout_of(&cache, DATE_POLICY, &guest);
    assert!(stdout.starts_with("Current date: "), "{stdout}");
    assert!(stderr.contains("by its stamp"), "{stderr}");

    let before = std::fs::metadata(&guest).unwrap();
    let mut bytes = std::fs::read(&guest).unwrap();
    let at = bytes
        .windows(14)
        .position(|w| w == b"Current date: ")
        .expect("the literal in the guest");
    bytes[at..at + 7].copy_from_slice(b"Patched");
    {
        use std::io::{Seek, Write};
        let mut file = std::fs::File::options().write(true).open(&guest).unwrap();
        file.seek(std::io::SeekFrom::Start(at as u64)).unwrap();
        file.write_all(b"Patched").unwrap();
        file.set_modified(before.modified().unwrap()).unwrap();
    }
    let after = std::fs::metadata(&guest).unwrap();
    assert_eq!(
        (after.ino(), after.len(), after.mtime(), after.mtime_nsec()),
        (
            before.ino(),
            before.len(),
            before.mtime(),
            before.mtime_nsec()
        ),
        "the rewrite kept inode, size and mtime"
    );
    assert_eq!(std::fs::read(&guest).unwrap(), bytes);
    // Run once the rewrite has settled too: then only its change time
    // tells the files apart.
    std::thread::sleep(procgate::cache::SETTLE + Duration::from_millis(200));
    let (stdout, _) = stdout_of(&cache, DATE_POLICY, &guest);
    assert!(
        stdout.starts_with("Patched date: "),
        "a stale entry ran: {stdout}"
    );
}

/// A stamp copied over another file's stamp (so that file's run would load
/// the first file's entry) is refused: its HMAC covers its name. The second
/// file runs its own code, with a warning.
#[test]
fn a_stamp_copied_to_another_files_name_is_refused() {
    let tmp = TempDir::new().unwrap();
    let cache = tmp.path().join("cache");
    let date = settled_copy(tmp.path(), "date");
    let shell = settled_copy(tmp.path(), "shell");
    stdout_of(&cache, DATE_POLICY, &date);
    let date_stamp = stamps(&cache);
    assert_eq!(date_stamp.len(), 1, "{date_stamp:?}");
    let shell_policy = "examples/rust/shell.toml";
    let (shell_out, _) = stdout_of(&cache, shell_policy, &shell);
    let shell_stamp: Vec<_> = stamps(&cache)
        .into_iter()
        .filter(|s| *s != date_stamp[0])
        .collect();
    assert_eq!(shell_stamp.len(), 1, "{shell_stamp:?}");

    std::fs::copy(&date_stamp[0], &shell_stamp[0]).unwrap();
    let (stdout, stderr) = stdout_of(&cache, shell_policy, &shell);
    assert_eq!(stdout, shell_out, "another guest's entry ran: {stderr}");
    assert!(!stdout.starts_with("Current date: "), "{stdout}");
    assert!(stderr.contains("HMAC does not match"), "{stderr}");
}
