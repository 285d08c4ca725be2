//! Attacks on the compiled-component cache (issue 12, item 1): an entry is
//! native code the host runs, so nothing but the host itself may put one
//! there. Each test has its own directories as `HOME` or
//! `PROCGATE_CACHE_DIR`.

mod common;

use common::{output, procgate, text};
use procgate_tests::guest_path;
use std::ffi::OsStr;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use tempfile::TempDir;

/// `procgate run --policy examples/rust/NAME.toml` on the Rust example
/// `name`, with `env` set.
fn example(name: &str, env: &[(&str, &OsStr)]) -> Output {
    let mut cmd = procgate();
    cmd.envs(env.iter().copied())
        .args(["run", "--policy", &format!("examples/rust/{name}.toml")])
        .arg(guest_path(name));
    output(cmd)
}

fn assert_date_ran(out: &Output) {
    let (stdout, stderr) = text(out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.starts_with("Current date: "), "{stdout}{stderr}");
}

/// Runs the date example with `env`: it must print the date, and its
/// stderr must contain each of `notes`.
fn date_noting(env: &[(&str, &OsStr)], notes: &[&str]) {
    let out = example("date", env);
    assert_date_ran(&out);
    let (_, stderr) = text(&out);
    for note in notes {
        assert!(stderr.contains(note), "{note:?} not in {stderr}");
    }
}

/// The entries (`*.cwasm`) in `dir`, sorted.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|x| x == "cwasm"));
    found.sort();
    found
}

/// Fills cache `dir` by running the date and shell examples; returns their
/// entries.
fn date_and_shell_entries(env: &[(&str, &OsStr)], dir: &Path) -> (PathBuf, PathBuf) {
    assert_date_ran(&example("date", env));
    let date = entries(dir);
    assert_eq!(date.len(), 1, "{date:?}");
    let out = example("shell", env);
    assert!(out.status.success(), "{}", text(&out).1);
    let shell: Vec<_> = entries(dir).into_iter().filter(|e| *e != date[0]).collect();
    assert_eq!(shell.len(), 1, "{shell:?}");
    (date[0].clone(), shell[0].clone())
}

/// The run ended before the guest started, refusing `grant`.
fn assert_grant_refused(out: &Output, grant: &dyn std::fmt::Debug) {
    let (stdout, stderr) = text(out);
    assert_eq!(out.status.code(), Some(3), "{grant:?}: {stdout}{stderr}");
    let refusal = "overlaps the compiled-component cache";
    assert!(stderr.contains(refusal), "{grant:?}: {stderr}");
    assert_eq!(stdout, "", "{grant:?}: the guest ran");
}

/// (a) A guest granted a directory that contains the cache could replace
/// an entry (here with another guest's, which it finds in the cache) and so
/// choose the native code of the next run. The grant is refused, in every
/// spelling, before the guest starts.
#[test]
fn a_dir_grant_over_the_cache_is_refused() {
    let home = TempDir::new().unwrap();
    let env = [("HOME", home.path().as_os_str())];
    let cache = home.path().join(".cache/procgate/compiled");
    let (date, shell) = date_and_shell_entries(&env, &cache);
    let before = std::fs::read(&date).unwrap();

    std::fs::create_dir(cache.join("sub")).unwrap();
    std::fs::create_dir(home.path().join("work")).unwrap();
    symlink(home.path(), home.path().join("link")).unwrap();
    let policy = home.path().join("dirs.toml");
    std::fs::write(&policy, "[[dirs]]\nhost = \".cache\"\nguest = \"/c\"\n").unwrap();
    let (sub, link, dotdot) = (
        cache.join("sub"),
        home.path().join("link"),
        home.path().join("work/.."),
    );
    let grants: [&[&OsStr]; 6] = [
        &["--dir".as_ref(), home.path().as_os_str()],
        &["--dir".as_ref(), cache.as_os_str()],
        &["--dir".as_ref(), sub.as_os_str()],
        &["--dir".as_ref(), link.as_os_str()],
        &["--dir".as_ref(), dotdot.as_os_str()],
        &["--policy".as_ref(), policy.as_os_str()],
    ];
    for grant in grants {
        let mut cmd = procgate();
        cmd.envs(env)
            .arg("run")
            .args(grant)
            .arg(guest_path("cli_probe"))
            .args(["copy".as_ref(), shell.as_os_str(), date.as_os_str()]);
        assert_grant_refused(&output(cmd), &grant);
        assert_eq!(std::fs::read(&date).unwrap(), before, "{grant:?}");
    }
    assert_date_ran(&example("date", &env));

    // A directory beside the cache is fine.
    let work = home.path().join("work");
    let mut cmd = procgate();
    cmd.envs(env)
        .args(["run".as_ref(), "--dir".as_ref(), work.as_os_str()])
        .arg(guest_path("cli_probe"));
    let out = output(cmd);
    assert!(out.status.success(), "{}", text(&out).1);
}

/// (a) Where the cache does not exist yet, a grant over the place it would
/// be made is refused too (the guest could make it, key and all).
#[test]
fn a_dir_grant_over_a_cache_not_made_yet_is_refused() {
    let home = TempDir::new().unwrap();
    let mut cmd = procgate();
    cmd.env("HOME", home.path())
        .args([
            "run".as_ref(),
            "--no-cache".as_ref(),
            "--dir".as_ref(),
            home.path().as_os_str(),
        ])
        .arg(guest_path("cli_probe"));
    assert_grant_refused(&output(cmd), &home.path());

    // HOME named through a symbolic link, the grant by the real path.
    let real = home.path().join("real");
    std::fs::create_dir(&real).unwrap();
    symlink(&real, home.path().join("home-link")).unwrap();
    let mut cmd = procgate();
    cmd.env("HOME", home.path().join("home-link"))
        .args(["run".as_ref(), "--dir".as_ref(), real.as_os_str()])
        .arg(guest_path("cli_probe"));
    assert_grant_refused(&output(cmd), &real);
}

/// (b) Another guest's valid entry copied over this guest's name (or an
/// entry changed in place) is not loaded: the right guest runs, and the
/// refusal is logged. The entry is replaced, and the next run uses it.
#[test]
fn a_swapped_or_changed_entry_is_not_loaded() {
    let dir = TempDir::new().unwrap();
    let env = [("PROCGATE_CACHE_DIR", dir.path().as_os_str())];
    let (date, shell) = date_and_shell_entries(&env, dir.path());
    std::fs::copy(&shell, &date).unwrap();

    date_noting(&env, &["refused, compiling again", "HMAC does not match"]);

    let out = example("date", &env);
    assert_date_ran(&out);
    assert!(!text(&out).1.contains("cache"), "{}", text(&out).1);

    // One byte changed in the compiled code.
    let mut bytes = std::fs::read(&date).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&date, bytes).unwrap();
    date_noting(&env, &["HMAC does not match"]);
}

/// (c) Symbolic links planted at an entry's name, at the name a temporary
/// file had (`ENTRY.tmpPID`) and at the key's name are not written through.
#[test]
fn symlinks_in_the_cache_are_not_followed() {
    let scratch = TempDir::new().unwrap();
    let dir = scratch.path().join("cache");
    let cache = procgate::cache::ComponentCache::new(dir.clone());
    let engine = procgate::runner::engine().unwrap();
    let wasm = guest_path("cli_probe");
    cache.load(&engine, &wasm).unwrap();
    let entry = entries(&dir).pop().unwrap();
    std::fs::remove_file(&entry).unwrap();

    let victims: Vec<PathBuf> = (0..2)
        .map(|i| scratch.path().join(format!("victim{i}")))
        .collect();
    for victim in &victims {
        std::fs::write(victim, "precious").unwrap();
    }
    symlink(&victims[0], &entry).unwrap();
    let tmp = entry.with_extension(format!("tmp{}", std::process::id()));
    symlink(&victims[1], &tmp).unwrap();
    cache.load(&engine, &wasm).unwrap();
    for victim in &victims {
        assert_eq!(std::fs::read_to_string(victim).unwrap(), "precious");
    }
    assert!(std::fs::symlink_metadata(&entry).unwrap().is_file());

    // The key: a symbolic link there, even to a well-formed key (one the
    // attacker knows), turns the cache off.
    let known_key = scratch.path().join("known-key");
    std::fs::write(&known_key, [7u8; 32]).unwrap();
    std::fs::set_permissions(&known_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    for target in [&victims[0], &known_key] {
        let dir = scratch.path().join("cache2");
        std::fs::create_dir(&dir).unwrap();
        symlink(target, dir.join("hmac-key")).unwrap();
        procgate::cache::ComponentCache::new(dir.clone())
            .load(&engine, &wasm)
            .unwrap();
        assert!(entries(&dir).is_empty(), "{target:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&victims[0]).unwrap(), "precious");
}

/// A file at an entry's name larger than [`MAX_ENTRY_BYTES`] is not read.
///
/// [`MAX_ENTRY_BYTES`]: procgate::cache::MAX_ENTRY_BYTES
#[test]
fn a_huge_entry_is_not_read() {
    let scratch = TempDir::new().unwrap();
    let env = [("PROCGATE_CACHE_DIR", scratch.path().as_os_str())];
    assert_date_ran(&example("date", &env));
    let entry = entries(scratch.path()).pop().unwrap();
    // Sparse: it takes no disk space.
    std::fs::File::options()
        .write(true)
        .open(&entry)
        .unwrap()
        .set_len(procgate::cache::MAX_ENTRY_BYTES + 1)
        .unwrap();
    date_noting(&env, &["more than 1073741824"]);
}

/// (c) A FIFO at an entry's name does not block the host.
#[test]
fn a_fifo_at_an_entry_name_does_not_block() {
    let scratch = TempDir::new().unwrap();
    let env = [("PROCGATE_CACHE_DIR", scratch.path().as_os_str())];
    assert_date_ran(&example("date", &env));
    let entry = entries(scratch.path()).pop().unwrap();
    std::fs::remove_file(&entry).unwrap();
    nix::unistd::mkfifo(&entry, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    date_noting(&env, &["not a regular file"]);
}

/// (d) A cache directory another user owns, or that group or others (or
/// anyone through a parent) can write, is not used: the guest runs
/// uncompiled from it, with a note, and nothing is written there.
#[test]
fn a_cache_dir_others_can_write_is_not_used() {
    let scratch = TempDir::new().unwrap();
    // A legitimate cache, then the shell's entry planted at the date's name.
    let good = scratch.path().join("good");
    let env = [("PROCGATE_CACHE_DIR", good.as_os_str())];
    let (date, shell) = date_and_shell_entries(&env, &good);
    let name = date.file_name().unwrap().to_owned();

    let nobody = scratch.path().join("nobody");
    let open = scratch.path().join("open");
    let shared = scratch.path().join("shared");
    let under_shared = shared.join("cache");
    for dir in [&nobody, &open, &under_shared] {
        std::fs::create_dir_all(dir).unwrap();
        for file in std::fs::read_dir(&good).unwrap().flatten() {
            std::fs::copy(file.path(), dir.join(file.file_name())).unwrap();
        }
        std::fs::copy(&shell, dir.join(&name)).unwrap();
    }
    let is_root = nix::unistd::geteuid().is_root();
    if is_root {
        std::os::unix::fs::chown(&nobody, Some(65534), Some(65534)).unwrap();
    } else {
        eprintln!("not root: the cache owned by another user is not tried");
    }
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();

    for (dir, why) in [
        (&nobody, "is owned by uid 65534"),
        (&open, "is writable by group or others"),
        (&under_shared, "is writable by group or others"),
    ] {
        if dir == &nobody && !is_root {
            continue;
        }
        let listing = |d: &Path| {
            let mut l: Vec<_> = std::fs::read_dir(d)
                .unwrap()
                .flatten()
                .map(|e| e.file_name())
                .collect();
            l.sort();
            l
        };
        let before = listing(dir);
        date_noting(
            &[("PROCGATE_CACHE_DIR", dir.as_os_str())],
            &["not caching compiled components", why],
        );
        assert_eq!(listing(dir), before, "{dir:?}: the host wrote there");
    }
}

/// (e) With no `HOME`, `XDG_CACHE_HOME` or `PROCGATE_CACHE_DIR` there is no
/// cache: nothing is made in the temporary directory, and a note says so.
#[test]
fn no_home_means_no_cache_not_a_shared_one() {
    let tmp = TempDir::new().unwrap();
    date_noting(
        &[("TMPDIR", tmp.path().as_os_str())],
        &["not caching compiled components: no private cache directory"],
    );
    let made: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(made.is_empty(), "{made:?}");
}

/// Hosts starting at once on a new cache agree on one key: every entry
/// any of them wrote is accepted by the next. The directories they made
/// are `0700`.
#[test]
fn hosts_racing_on_a_new_cache_share_one_key() {
    let scratch = TempDir::new().unwrap();
    let dir = scratch.path().join("made/cache");
    let engine = procgate::runner::engine().unwrap();
    let wasm = guest_path("cli_probe");
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                procgate::cache::ComponentCache::new(dir.clone())
                    .load(&engine, &wasm)
                    .unwrap()
            });
        }
    });
    // The directories the host made are 0700.
    for made in [dir.as_path(), dir.parent().unwrap()] {
        let mode = std::fs::metadata(made).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{made:?}");
    }
    let key = std::fs::symlink_metadata(dir.join("hmac-key")).unwrap();
    assert_eq!((key.len(), key.permissions().mode() & 0o777), (32, 0o600));
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 2, "a key and one entry: {names:?}");
    let env = [("PROCGATE_CACHE_DIR", dir.as_os_str())];
    let mut cmd = procgate();
    cmd.envs(env).arg("run").arg(&wasm);
    let out = output(cmd);
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(!text(&out).1.contains("cache"), "{}", text(&out).1);
}
