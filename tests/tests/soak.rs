//! Soak: many spawn+communicate cycles from one guest leave the host with
//! the descriptors, zombies and (within a bound) memory it had. Alone in its
//! own test binary, so no other test opens descriptors meanwhile.
//!
//! CI runs 2,000 cycles; the full size is
//! `PROCGATE_SOAK=10000 cargo test --release -p procgate-tests --test soak -- --nocapture`.

use procgate_tests::{allow, children, proc_state, run_guest};

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

#[test]
fn soak_spawn_and_communicate_leaks_nothing() {
    let n: usize = std::env::var("PROCGATE_SOAK")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let policy = || allow(&["cat"]).build().unwrap();
    // A first run warms up the engine, the compiled guest and the allocator.
    run_guest("lifetimes", &["soak", "50"], policy()).assert_ok();
    let (fds_before, rss_before, zombies_before) = (fds(), rss_kib(), zombies());
    let run = run_guest("lifetimes", &["soak", &n.to_string()], policy());
    run.assert_ok();
    assert_eq!(run.lines(), [format!("soaked {n}")], "{run}");
    let (fds_after, rss_after, zombies_after) = (fds(), rss_kib(), zombies());
    eprintln!(
        "soak of {n} cycles: fds {fds_before} -> {fds_after}, rss {rss_before} -> {rss_after} KiB, \
         zombie children {zombies_before:?} -> {zombies_after:?}"
    );
    assert_eq!(fds_after, fds_before, "descriptors leaked");
    assert_eq!(zombies_after, zombies_before, "zombies left");
    assert!(children().is_empty(), "children left: {:?}", children());
    // The bound: 32 MiB of growth whatever n (allocator caches, not a
    // per-cycle leak: 10,000 cycles leaking 4 KiB each would exceed it).
    assert!(
        rss_after < rss_before + 32 * 1024,
        "RSS grew from {rss_before} to {rss_after} KiB"
    );
}
