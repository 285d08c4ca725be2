//! `procgate compile`, `procgate cache list|clean|dir`, the cache's byte
//! bound and the progress line while a compile runs. Each test has its own
//! cache directory.

mod common;

use common::{output, procgate, text};
use procgate_tests::guest_path;
use std::path::Path;
use std::process::Command;
use tempfile::TempDir;

/// `procgate ARGS` with `cache` as its cache; (code, stdout, stderr).
fn pg(cache: &Path, env: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = procgate();
    cmd.env("PROCGATE_CACHE_DIR", cache)
        .envs(env.iter().copied())
        .args(args);
    let out = output(cmd);
    let (stdout, stderr) = text(&out);
    (out.status.code(), stdout, stderr)
}

#[test]
fn compile_fills_the_cache_and_cache_commands_list_and_clean_it() {
    let dir = TempDir::new().unwrap();
    let cache = dir.path().join("cache");
    let c = cache.display().to_string();
    let guest = guest_path("cli_probe");
    let g = guest.to_str().unwrap();

    let (code, stdout, stderr) = pg(&cache, &[], &["cache", "dir"]);
    assert_eq!(
        (code, stdout, stderr),
        (Some(0), format!("{c}\n"), String::new())
    );

    let (code, stdout, stderr) = pg(&cache, &[], &["compile", g]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, format!("{g}: compiled and cached\n"));
    // Not a terminal: no progress line.
    assert_eq!(stderr, "");
    let (code, stdout, _) = pg(&cache, &[], &["compile", g]);
    assert_eq!((code, stdout), (Some(0), format!("{g}: already cached\n")));

    let (code, stdout, stderr) = pg(&cache, &[], &["cache", "list"]);
    assert_eq!(code, Some(0), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("{c}: 1 entry, "))
            && lines[0].ends_with(" of 1.0 GB (PROCGATE_CACHE_SIZE)"),
        "{stdout}"
    );
    let name = lines[1].split_whitespace().last().unwrap();
    assert!(name.ends_with(".cwasm") && name.len() == 70, "{stdout}");
    assert!(cache.join(name).is_file());

    let (code, stdout, _) = pg(&cache, &[], &["cache", "clean"]);
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("removed 1 entry ("), "{stdout}");
    assert!(stdout.ends_with(&format!(") from {c}\n")), "{stdout}");
    assert!(!cache.join(name).exists());
    assert!(cache.join("hmac-key").is_file(), "the key stays");
    let (_, stdout, _) = pg(&cache, &[], &["cache", "list"]);
    assert_eq!(
        stdout,
        format!("{c}: 0 entries, 0 B of 1.0 GB (PROCGATE_CACHE_SIZE)\n")
    );
}

#[test]
fn the_byte_bound_evicts_the_least_recently_used_entries() {
    let dir = TempDir::new().unwrap();
    let cache = dir.path().join("cache");
    let probe = guest_path("cli_probe");
    let lifetimes = guest_path("lifetimes");
    // An entry larger than the bound is not kept.
    let (code, stdout, stderr) = pg(
        &cache,
        &[("PROCGATE_CACHE_SIZE", "1K")],
        &["compile", probe.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        format!(
            "{}: compiled, but not cached: larger than the cache's bound of 1.0 KB \
             (PROCGATE_CACHE_SIZE), or the warning above says why\n",
            probe.display()
        )
    );
    // Room for one of the two: the one compiled last stays.
    pg(&cache, &[], &["compile", probe.to_str().unwrap()]);
    let (_, listed, _) = pg(&cache, &[], &["cache", "list"]);
    let probe_entry = listed
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .to_string();
    let size = std::fs::metadata(cache.join(&probe_entry)).unwrap().len();
    let bound = format!("{}", size + size / 2);
    let (code, _, stderr) = pg(
        &cache,
        &[("PROCGATE_CACHE_SIZE", &bound)],
        &["compile", lifetimes.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let (_, listed, _) = pg(&cache, &[], &["cache", "list"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(!cache.join(&probe_entry).exists(), "{listed}");
}

#[test]
fn without_a_cache_directory_cache_commands_exit_125() {
    let mut cmd = procgate();
    cmd.args(["cache", "dir"]);
    let out = output(cmd);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "procgate: no cache directory: PROCGATE_CACHE_DIR, XDG_CACHE_HOME and HOME are unset\n"
    );
}

#[test]
fn a_bad_cache_size_is_a_usage_error() {
    let dir = TempDir::new().unwrap();
    let (code, _, stderr) = pg(
        dir.path(),
        &[("PROCGATE_CACHE_SIZE", "lots")],
        &["cache", "list"],
    );
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        "procgate: PROCGATE_CACHE_SIZE: \"lots\": unknown unit \"lots\" (use K, M, G or T)\n"
    );
}

/// The progress line needs a terminal: `script` gives the CLI a
/// pseudo-terminal as stdin, stdout and stderr. `PROCGATE_PROGRESS_AFTER=0`
/// shows it for any compile (a small guest compiles in well under the
/// default half second), so the test does not depend on speed.
#[test]
fn a_compile_on_a_terminal_shows_a_progress_line() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` (util-linux) to make a pseudo-terminal");
        return;
    }
    let dir = TempDir::new().unwrap();
    let cache = dir.path().join("cache");
    let guest = guest_path("cli_probe");
    let line = format!(
        "{} compile {}",
        env!("CARGO_BIN_EXE_procgate"),
        guest.display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env("PROCGATE_CACHE_DIR", &cache)
        .env("PROCGATE_PROGRESS_AFTER", "0");
    let out = output(cmd);
    let (screen, _) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{screen}");
    let size = std::fs::metadata(&guest).unwrap().len() as f64 / 1024.0;
    assert!(
        screen.starts_with(&format!(
            "compiling cli_probe.wasm ({size:.1} KB) for the first time… cached\r\n"
        )),
        "{screen:?}"
    );
    // A cache hit shows nothing.
    let out = output({
        let mut again = Command::new("script");
        again
            .args(["-qec", &line, "/dev/null"])
            .env("PROCGATE_CACHE_DIR", &cache)
            .env("PROCGATE_PROGRESS_AFTER", "0");
        again
    });
    let (screen, _) = text(&out);
    assert_eq!(screen, format!("{}: already cached\r\n", guest.display()));
    // Not a terminal: nothing, even at once.
    let (code, _, stderr) = pg(
        &dir.path().join("other"),
        &[("PROCGATE_PROGRESS_AFTER", "0")],
        &["compile", guest.to_str().unwrap()],
    );
    assert_eq!((code, stderr), (Some(0), String::new()));
}
