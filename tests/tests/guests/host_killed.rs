//! A host that embeds procgate and is SIGKILLed: no cleanup code of its
//! runs, and every process its guests started, wherever it went, must
//! still end. The host here is this test binary itself, started again
//! with [`HOST`] set, running the guest on a tokio worker thread as an
//! embedder does (not the process's main thread).

use procgate::Policy;
use procgate_tests::{
    dies_within, kernel_cgroup2_dir, kernel_feature, proc_state, run_guest, scratch, wait_for_file,
    GuestRun,
};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Set in the host's environment: the scratch directory it reports in.
const HOST: &str = "PROCGATE_TEST_KILLED_HOST_DIR";

fn shell() -> procgate::Policy {
    Policy::builder().allow_shell("/bin/sh").build().unwrap()
}

/// The host's side: its guest's child writes the pids of an escaped
/// grandchild (its own session) and of itself to `DIR/pids`, then stays.
/// With `fork`, once that is written the host also forks a process that
/// does not `execve` (it holds every descriptor of the host, the write end
/// of the watchdog's pipe among them) and writes its pid to `DIR/fork`.
/// With `keep`, the guest's children are not to die with the host.
fn host(dir: &Path, fork: bool, keep: bool) {
    let script = format!(
        "setsid sleep 600 </dev/null >/dev/null 2>&1 & p=$!; \
         while [ \"$(cut -d' ' -f6 /proc/$p/stat)\" != $p ]; do sleep 0.01; done; \
         echo \"$p $$\" > '{d}/pids.tmp'; mv '{d}/pids.tmp' '{d}/pids'; exec sleep 600",
        d = dir.display()
    );
    if fork {
        let dir = dir.to_path_buf();
        std::thread::spawn(move || {
            wait_for_file(&dir.join("pids"), Duration::from_secs(60)).unwrap();
            // SAFETY: the forked child only calls `pause` (async-signal-
            // safe) until it is killed.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                loop {
                    // SAFETY: as above.
                    unsafe { libc::pause() };
                }
            }
            std::fs::write(dir.join("fork.tmp"), pid.to_string()).unwrap();
            std::fs::rename(dir.join("fork.tmp"), dir.join("fork")).unwrap();
        });
    }
    if keep {
        // A guest whose children die with the host first, so that the
        // host has a watchdog, which must leave the kept guest alone.
        let run = run_guest("containment", &["out", "exit 0"], shell());
        assert_eq!(run.lines(), ["rc 0"], "{run}");
        assert!(
            !procgate::cgroup::watchdog_pids().is_empty(),
            "the host has no watchdog"
        );
        let run = GuestRun::new("containment", &["inherit", &script], shell())
            .die_with_host(false)
            .run();
        run.unwrap();
        return;
    }
    run_guest("containment", &["inherit", &script], shell());
}

/// Starts this test binary as the host of test `name`, waits for its
/// guest's pids (and, with `fork`, its fork's), SIGKILLs it, and asserts
/// that the guest's child and escaped grandchild die.
fn kill_the_host_and_look(name: &str, fork: bool) {
    if !kernel_feature(
        "a writable cgroup v2",
        kernel_cgroup2_dir().is_some(),
        "PROCGATE_EXPECT_CGROUP",
    ) {
        return;
    }
    let dir = scratch("killed-host");
    let mut host = Command::new(std::env::current_exe().unwrap())
        .args([&format!("host_killed::{name}"), "--exact", "--nocapture"])
        .env(HOST, dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let wait = |file: &str| {
        let text = wait_for_file(&dir.path().join(file), Duration::from_secs(60));
        text.map(|t| {
            t.split_whitespace()
                .map(|s| s.parse::<u32>().unwrap())
                .collect::<Vec<u32>>()
        })
    };
    let (Some(pids), forked) = (
        wait("pids"),
        if fork { wait("fork") } else { Some(Vec::new()) },
    ) else {
        host.kill().unwrap();
        host.wait().unwrap();
        panic!("the host wrote no pids within 60 s");
    };
    let Some(forked) = forked else {
        host.kill().unwrap();
        host.wait().unwrap();
        panic!("the host's fork wrote no pid within 60 s");
    };
    let (escapee, child) = (pids[0], pids[1]);
    host.kill().unwrap(); // SIGKILL: no cleanup code of the host runs
    host.wait().unwrap();
    let child_died = dies_within(child, Duration::from_secs(10));
    let escapee_died = dies_within(escapee, Duration::from_secs(10));
    for pid in forked {
        // The fork is no guest's: the watchdog leaves it alone, and the
        // test ends it.
        let alive = matches!(procgate_tests::proc_state(pid), Some(s) if s != 'Z');
        // SAFETY: a plain system call.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        assert!(alive, "the host's fork {pid} was killed with the guests");
    }
    assert!(
        child_died,
        "the guest's child {child} outlived its killed host"
    );
    assert!(
        escapee_died,
        "the setsid grandchild {escapee} outlived its killed host"
    );
}

#[test]
fn the_guests_whole_tree_dies_when_an_embedding_host_is_killed() {
    match std::env::var_os(HOST) {
        Some(dir) => host(Path::new(&dir), false, false),
        None => kill_the_host_and_look(
            "the_guests_whole_tree_dies_when_an_embedding_host_is_killed",
            false,
        ),
    }
}

#[test]
fn the_guests_whole_tree_dies_though_a_fork_of_the_killed_host_holds_its_descriptors() {
    // The fork keeps the write end of the watchdog's pipe open: the
    // watchdog sees the host gone by its own parent changing.
    match std::env::var_os(HOST) {
        Some(dir) => host(Path::new(&dir), true, false),
        None => kill_the_host_and_look(
            "the_guests_whole_tree_dies_though_a_fork_of_the_killed_host_holds_its_descriptors",
            true,
        ),
    }
}

#[test]
fn children_not_to_die_with_the_host_outlive_it_and_its_watchdog() {
    let Some(dir) = std::env::var_os(HOST) else {
        return kept_children_outlive_a_killed_host();
    };
    host(Path::new(&dir), false, true);
}

/// `die_with_host(false)`: the guest's cgroup is named `…-k<n>`, which
/// the watchdog leaves alone, and no death signal is set.
fn kept_children_outlive_a_killed_host() {
    if !kernel_feature(
        "a writable cgroup v2",
        kernel_cgroup2_dir().is_some(),
        "PROCGATE_EXPECT_CGROUP",
    ) {
        return;
    }
    let dir = scratch("killed-host-keep");
    // The host runs in a cgroup of the test's own: every host sweeps the
    // cgroups of dead hosts in the cgroup it is in, so one started by
    // another test meanwhile would kill these children.
    let own = kernel_cgroup2_dir()
        .unwrap()
        .join(format!("pgtest-keep-{}", std::process::id()));
    std::fs::create_dir(&own).unwrap();
    let mut host = Command::new("sh")
        .args([
            "-c",
            r#"echo $$ > "$1/cgroup.procs" || exit 97; shift; exec "$@""#,
            "sh",
        ])
        .arg(&own)
        .arg(std::env::current_exe().unwrap())
        .args([
            "host_killed::children_not_to_die_with_the_host_outlive_it_and_its_watchdog",
            "--exact",
            "--nocapture",
        ])
        .env(HOST, dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let Some(text) = wait_for_file(&dir.path().join("pids"), Duration::from_secs(60)) else {
        host.kill().unwrap();
        host.wait().unwrap();
        panic!("the host wrote no pids within 60 s");
    };
    let pids: Vec<u32> = text
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    let cgroup = std::fs::read_to_string(format!("/proc/{}/cgroup", pids[1])).unwrap();
    host.kill().unwrap();
    host.wait().unwrap();
    // The watchdog acts within milliseconds of the host's end.
    std::thread::sleep(Duration::from_secs(2));
    let alive: Vec<bool> = pids
        .iter()
        .map(|&p| matches!(proc_state(p), Some(s) if s != 'Z'))
        .collect();
    for &pid in &pids {
        // SAFETY: a plain system call.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    // The guest's cgroup, emptied now, is the test's to remove.
    let leaf = cgroup.lines().find_map(|l| l.strip_prefix("0::")).unwrap();
    let leaf = kernel_cgroup2_dir()
        .unwrap()
        .join(leaf.trim_start_matches('/'));
    let guest = leaf.parent().unwrap().to_path_buf();
    for pid in &pids {
        dies_within(*pid, Duration::from_secs(10));
    }
    for _ in 0..500 {
        let _ = std::fs::remove_dir(&leaf);
        let _ = std::fs::remove_dir(&guest);
        if std::fs::remove_dir(&own).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(guest.parent(), Some(own.as_path()), "{}", guest.display());
    let name = guest.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.rsplit('-').next().is_some_and(|n| n.starts_with('k')),
        "{name} is not a kept guest's cgroup"
    );
    assert_eq!(
        alive,
        [true, true],
        "a child not to die with the host died with it (escapee, child)"
    );
    assert!(!guest.exists(), "{} was left", guest.display());
}
