//! A host that embeds procgate and is SIGKILLed: no cleanup code of its
//! runs, and every process its guests started, wherever it went, must
//! still end. The host here is this test binary itself, started again
//! with [`HOST`] set, running the guest on a tokio worker thread as an
//! embedder does (not the process's main thread).

use procgate::Policy;
use procgate_tests::{
    cgroup2_available, cgroup2_dir_of, dies_within, proc_state, run_guest, scratch, wait_for_file,
    GuestRun, TestCgroup,
};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Set in the host's environment: the scratch directory it reports in.
const HOST: &str = "PROCGATE_TEST_KILLED_HOST_DIR";

fn shell() -> procgate::Policy {
    Policy::builder().allow_shell("/bin/sh").build().unwrap()
}

/// What a test's host does besides running the guest.
#[derive(Clone, Copy, PartialEq)]
enum Case {
    /// Nothing more.
    Plain,
    /// Once the guest's child has written its pids, the host forks a
    /// process that does not `execve` (it holds every descriptor of the
    /// host, the write end of the watchdog's pipe among them) and writes
    /// its pid to `DIR/fork`.
    Fork,
    /// The guest's children are not to die with the host; a guest whose
    /// children do runs first, so that the host has a watchdog.
    Kept,
}

/// The host's side: its guest's child writes the pids of an escaped
/// grandchild (its own session) and of itself to `DIR/pids`, then stays.
fn host(dir: &Path, case: Case) {
    let script = format!(
        "setsid sleep 600 </dev/null >/dev/null 2>&1 & p=$!; \
         while [ \"$(cut -d' ' -f6 /proc/$p/stat)\" != $p ]; do sleep 0.01; done; \
         echo \"$p $$\" > '{d}/pids.tmp'; mv '{d}/pids.tmp' '{d}/pids'; exec sleep 600",
        d = dir.display()
    );
    if case == Case::Fork {
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
    if case == Case::Kept {
        // The watchdog must leave the kept guest alone.
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

/// Starts this test binary as the host of test `name` (in the cgroup
/// `cgroup` if given: it writes itself into `cgroup.procs` first), and
/// waits for the pids it writes to each of `files` in `dir`. A host that
/// does not write them within 60 s is killed and the test fails.
fn start_host(
    name: &str,
    dir: &Path,
    cgroup: Option<&Path>,
    files: &[&str],
) -> (Child, Vec<Vec<u32>>) {
    let mut cmd = match cgroup {
        Some(cgroup) => {
            let mut sh = Command::new("sh");
            sh.args([
                "-c",
                r#"echo $$ > "$1/cgroup.procs" || exit 97; shift; exec "$@""#,
                "sh",
            ])
            .arg(cgroup)
            .arg(std::env::current_exe().unwrap());
            sh
        }
        None => Command::new(std::env::current_exe().unwrap()),
    };
    let mut host = cmd
        .args([&format!("host_killed::{name}"), "--exact", "--nocapture"])
        .env(HOST, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut pids = Vec::new();
    for file in files {
        let Some(text) = wait_for_file(&dir.join(file), Duration::from_secs(60)) else {
            host.kill().unwrap();
            host.wait().unwrap();
            panic!("the host wrote no {file} within 60 s");
        };
        pids.push(
            text.split_whitespace()
                .map(|s| s.parse().unwrap())
                .collect(),
        );
    }
    (host, pids)
}

/// Starts this test binary as the host of test `name`, waits for its
/// guest's pids (and, with a fork, its fork's), SIGKILLs it, and asserts
/// that the guest's child and escaped grandchild die.
fn kill_the_host_and_look(name: &str, case: Case) {
    if !cgroup2_available() {
        return;
    }
    let dir = scratch("killed-host");
    // Away from other hosts' sweeps of dead hosts' cgroups, which would
    // end these children even without the watchdog.
    let own = TestCgroup::new(&format!("killed-host-{}", case as u8)).unwrap();
    let files: &[&str] = if case == Case::Fork {
        &["pids", "fork"]
    } else {
        &["pids"]
    };
    let (mut host, pids) = start_host(name, dir.path(), Some(own.path()), files);
    let (escapee, child) = (pids[0][0], pids[0][1]);
    host.kill().unwrap(); // SIGKILL: no cleanup code of the host runs
    host.wait().unwrap();
    let child_died = dies_within(child, Duration::from_secs(10));
    let escapee_died = dies_within(escapee, Duration::from_secs(10));
    for &pid in pids.get(1).into_iter().flatten() {
        // The fork is no guest's: the watchdog leaves it alone, and the
        // test ends it.
        let alive = matches!(proc_state(pid), Some(s) if s != 'Z');
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

/// In the host this test binary started (`HOST` set): be the host of
/// `case`; in the test itself: `test`.
fn host_or(case: Case, test: impl FnOnce()) {
    match std::env::var_os(HOST) {
        Some(dir) => host(Path::new(&dir), case),
        None => test(),
    }
}

#[test]
fn the_guests_whole_tree_dies_when_an_embedding_host_is_killed() {
    host_or(Case::Plain, || {
        kill_the_host_and_look(
            "the_guests_whole_tree_dies_when_an_embedding_host_is_killed",
            Case::Plain,
        )
    });
}

#[test]
fn the_guests_whole_tree_dies_though_a_fork_of_the_killed_host_holds_its_descriptors() {
    // The fork keeps the write end of the watchdog's pipe open: the
    // watchdog sees the host gone by its own parent changing.
    host_or(Case::Fork, || {
        kill_the_host_and_look(
            "the_guests_whole_tree_dies_though_a_fork_of_the_killed_host_holds_its_descriptors",
            Case::Fork,
        )
    });
}

#[test]
fn children_not_to_die_with_the_host_outlive_it_and_its_watchdog() {
    host_or(Case::Kept, kept_children_outlive_a_killed_host);
}

/// `die_with_host(false)`: the guest's cgroup is named `…-k<n>`, which
/// the watchdog leaves alone, and no death signal is set.
fn kept_children_outlive_a_killed_host() {
    if !cgroup2_available() {
        return;
    }
    let dir = scratch("killed-host-keep");
    // In a cgroup of the test's own: another test's host would sweep
    // these children (a dead host's) out of a shared one.
    let own = TestCgroup::new("keep").unwrap();
    let (mut host, pids) = start_host(
        "children_not_to_die_with_the_host_outlive_it_and_its_watchdog",
        dir.path(),
        Some(own.path()),
        &["pids"],
    );
    let pids = &pids[0];
    let cgroup = std::fs::read_to_string(format!("/proc/{}/cgroup", pids[1])).unwrap();
    host.kill().unwrap();
    host.wait().unwrap();
    // The watchdog acts within milliseconds of the host's end.
    std::thread::sleep(Duration::from_secs(2));
    let alive: Vec<bool> = pids
        .iter()
        .map(|&p| matches!(proc_state(p), Some(s) if s != 'Z'))
        .collect();
    for &pid in pids {
        // SAFETY: a plain system call.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    // The guest's cgroup, emptied now, is the test's to remove.
    let leaf = cgroup2_dir_of(&cgroup);
    let guest = leaf.parent().unwrap().to_path_buf();
    for &pid in pids {
        dies_within(pid, Duration::from_secs(10));
    }
    for _ in 0..500 {
        let _ = std::fs::remove_dir(&leaf);
        if std::fs::remove_dir(&guest).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(guest.parent(), Some(own.path()), "{}", guest.display());
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
