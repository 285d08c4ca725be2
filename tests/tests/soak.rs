//! Soak: many spawn+communicate cycles from one guest leave the host with
//! the descriptors, zombies and (within a bound) memory it had. Alone in its
//! own test binary, so no other test opens descriptors meanwhile.
//!
//! CI runs 2,000 cycles; the full size is
//! `PROCGATE_SOAK=10000 cargo test --release -p procgate-tests --test soak -- --nocapture`.

use procgate::runner::GuestLimits;
use procgate_tests::{allow, children, proc_state, GuestRun};
use std::time::Duration;

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
    let policy = || allow(&["cat"]).build().unwrap();
    // Room for the cycles (a few ms each) on a loaded machine.
    let limits = GuestLimits {
        deadline: Some(Duration::from_secs(120) + Duration::from_millis(50) * n as u32),
        ..Default::default()
    };
    let soak = |cycles: usize| {
        let run = GuestRun::new("lifetimes", &["soak", &cycles.to_string()], policy())
            .limits(limits.clone())
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
    soak(n);
    let (fds_after, rss_after, zombies_after) = (fds(), rss_kib(), zombies());
    eprintln!(
        "soak of {n} cycles: fds {fds_before} -> {fds_after}, rss {rss_before} -> {rss_after} KiB, \
         zombie children {zombies_before:?} -> {zombies_after:?}"
    );
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
