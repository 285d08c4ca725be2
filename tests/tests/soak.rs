//! Soak: many spawn+communicate cycles from one guest leave the host with
//! the descriptors, zombies and (within a bound) memory it had. With a
//! writable cgroup v2, every [`ESCAPE_EVERY`]-th cycle also runs a shell
//! whose grandchild leaves its session (`setsid`) and sleeps: none of them
//! may outlive its guest, and no guest or child cgroup may be left. Alone
//! in its own test binary, so no other test opens descriptors meanwhile.
//!
//! CI runs 2,000 cycles; the full size is
//! `PROCGATE_SOAK=10000 cargo test --release -p procgate-tests --test soak -- --nocapture`.

use procgate::runner::GuestLimits;
use procgate_tests::{allow, children, kernel_cgroup2_dir, proc_state, scratch, GuestRun};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One cycle in this many also starts an escaping grandchild.
const ESCAPE_EVERY: usize = 25;

/// The escapee's command line: `sleep` with a number no other test uses,
/// so a pid reused by another process is not taken for it.
const ESCAPEE: &[u8] = b"sleep\x003607\x00";

/// A shell command appending its cgroup (`0::/GUEST/cN`) to `cg`, starting
/// a grandchild in a session of its own (`setsid sleep 3607`) and, once the
/// grandchild has left, appending its pid to `pids`; then it exits.
fn escape_script(pids: &Path, cg: &Path) -> String {
    format!(
        "cat /proc/$$/cgroup >> '{cg}'; setsid sleep 3607 </dev/null >/dev/null 2>&1 & p=$!; \
         while [ \"$(cut -d' ' -f6 /proc/$p/stat)\" != $p ]; do sleep 0.01; done; echo $p >> '{pids}'",
        cg = cg.display(),
        pids = pids.display()
    )
}

/// Whether `pid` is still the escapee (alive, not a zombie), waiting up to
/// 5 s for it to go.
fn escapee_alive(pid: u32) -> bool {
    for _ in 0..500 {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let alive = !matches!(proc_state(pid), None | Some('Z'));
        if !alive || cmdline != ESCAPEE {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// The per-child cgroups (`GUEST/cN`) the escaping shells were in, and
/// their guests' cgroups (the second set).
fn cgroups_seen(cg: &Path) -> (BTreeSet<PathBuf>, BTreeSet<PathBuf>) {
    let root = kernel_cgroup2_dir().unwrap();
    let text = std::fs::read_to_string(cg).unwrap_or_default();
    let (mut leaves, mut guests) = (BTreeSet::new(), BTreeSet::new());
    for path in text.lines().filter_map(|l| l.strip_prefix("0::")) {
        let leaf = root.join(path.trim_start_matches('/'));
        assert!(
            leaf.file_name().unwrap().to_string_lossy().starts_with('c'),
            "the child is not in a per-child cgroup: {}",
            leaf.display()
        );
        guests.insert(leaf.parent().unwrap().to_path_buf());
        leaves.insert(leaf);
    }
    (leaves, guests)
}

/// Open descriptors of this process.
fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Resident set size of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn zombies() -> Vec<u32> {
    children()
        .into_iter()
        .filter(|&pid| proc_state(pid) == Some('Z'))
        .collect()
}

/// Growth of the resident set allowed per cycle, on top of a fixed 8 MiB:
/// a leak of more than 1 KiB + 8 MiB / cycles per cycle fails (5 KiB at
/// CI's 2,000 cycles, 1.8 KiB at 10,000). A run of 2,000 grew by some
/// 32 KiB in all.
const RSS_KIB_PER_CYCLE: u64 = 1;

#[test]
fn soak_spawn_and_communicate_leaks_nothing() {
    let n: usize = std::env::var("PROCGATE_SOAK")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let escape = procgate_tests::cgroup2_available();
    let dir = scratch("soak");
    let (pids, cg) = (dir.path().join("pids"), dir.path().join("cg"));
    let script = escape_script(&pids, &cg);
    let every = if escape { ESCAPE_EVERY } else { 0 };
    let policy = || allow(&["cat"]).allow_shell("/bin/sh").build().unwrap();
    // Room for the cycles (a few ms each) on a loaded machine.
    let limits = GuestLimits {
        deadline: Some(Duration::from_secs(120) + Duration::from_millis(50) * n as u32),
        ..Default::default()
    };
    let soak = |cycles: usize| {
        let args = ["soak", &cycles.to_string(), &every.to_string(), &script];
        let run = GuestRun::new("lifetimes", &args, policy())
            .limits(limits)
            .run()
            .unwrap_or_else(|(e, run)| panic!("{e:?}\n{run}"));
        run.assert_ok();
        assert_eq!(run.lines(), [format!("soaked {cycles}")], "{run}");
    };
    // A first run warms up the engine, the compiled guest and the
    // allocator; a second of half the cycles fills the allocator's caches
    // as far as this size of run does.
    soak(50);
    soak(n / 2);
    let (fds_before, rss_before, zombies_before) = (fds(), rss_kib(), zombies());
    let start = std::time::Instant::now();
    soak(n);
    let took = start.elapsed();
    let (fds_after, rss_after, zombies_after) = (fds(), rss_kib(), zombies());
    let escapees: Vec<u32> = std::fs::read_to_string(&pids)
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    eprintln!(
        "soak of {n} cycles in {took:.1?}: fds {fds_before} -> {fds_after}, rss {rss_before} -> \
         {rss_after} KiB, zombie children {zombies_before:?} -> {zombies_after:?}, {} escaped \
         grandchildren in all three runs",
        escapees.len()
    );
    if escape {
        let expected: usize = [50, n / 2, n].iter().map(|c| c / ESCAPE_EVERY).sum();
        assert_eq!(escapees.len(), expected, "escapes recorded");
        let alive: Vec<u32> = escapees
            .iter()
            .copied()
            .filter(|&p| escapee_alive(p))
            .collect();
        assert!(alive.is_empty(), "escaped grandchildren alive: {alive:?}");
        let (leaves, guests) = cgroups_seen(&cg);
        assert_eq!(guests.len(), 3, "one cgroup per guest run: {guests:?}");
        let left: Vec<_> = leaves
            .iter()
            .chain(&guests)
            .filter(|c| c.exists())
            .collect();
        assert!(left.is_empty(), "cgroups left behind: {left:?}");
    }
    assert_eq!(fds_after, fds_before, "descriptors leaked");
    assert_eq!(zombies_after, zombies_before, "zombies left");
    assert!(children().is_empty(), "children left: {:?}", children());
    // The bound scales with the cycles (see RSS_KIB_PER_CYCLE), on top of
    // a fixed 8 MiB for what does not grow with n (a runtime's threads,
    // the allocator's arenas).
    let bound = 8 * 1024 + RSS_KIB_PER_CYCLE * n as u64;
    assert!(
        rss_after < rss_before + bound,
        "RSS grew from {rss_before} to {rss_after} KiB over {n} cycles (bound {bound} KiB)"
    );
}
