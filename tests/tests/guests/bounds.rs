//! Host memory is bounded by the guest's limits, whatever the guest does:
//! output buffered by communicate, communicates in flight, handles. Each
//! attack runs in a child copy of this test binary (one test alone), whose
//! peak RSS (`VmHWM`, reset through `/proc/self/clear_refs` just before the
//! guest starts) is compared with the bound the README states.

host_tests_for!(hostile_memory);

use procgate::policy::{DEFAULT_BUFFERED_BYTES, DEFAULT_COMMUNICATE_BYTES};
use procgate_tests::{allow, run_guest, GuestRun};
use std::process::Command;

/// Set in the child copy of the test binary: which attack to run.
const CHILD: &str = "PROCGATE_BOUNDS_CHILD";

/// What wasmtime, the runtime and a guest instance take besides what the
/// guest can make the host hold (the `W` of the README's formula).
const BASELINE: u64 = 32 << 20;

/// Bytes per resource-table entry, generously (the `E` of the formula).
const ENTRY_BYTES: u64 = 1024;

/// The README's bound for one guest that holds few processes:
/// W + buffered_bytes + 2 × (communicate_bytes + 1) + table entries × E.
fn bound() -> u64 {
    BASELINE
        + DEFAULT_BUFFERED_BYTES as u64
        + 2 * (DEFAULT_COMMUNICATE_BYTES as u64 + 1)
        + procgate::MAX_TABLE_ENTRIES as u64 * ENTRY_BYTES
}

/// A value in kB from `/proc/self/status`, in bytes.
fn status(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no {key} in /proc/self/status"));
    let kb: u64 = line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

/// Runs the child copy of this binary for `attack`, and returns its
/// output: lines `guest: ...` (what the guest printed, or its trap), then
/// `growth N` (peak RSS over the RSS before the guest started).
fn in_child(test: &str, attack: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(CHILD, attack)
        // A trap's error carries a backtrace when these are set, and
        // printing it loads the test binary's debug information (some
        // 240 MiB, once per process): the environment's cost, not the
        // guest's.
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// In the child: warms up (compiles the guest, starts a runtime once),
/// resets the peak RSS, runs the guest, prints its lines and the growth.
fn measure(run: impl FnOnce() -> String) {
    run_guest("exec", &["echo"], allow(&["echo"]).build().unwrap()).assert_ok();
    let before = status("VmRSS:");
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let lines = run();
    let growth = status("VmHWM:").saturating_sub(before);
    for line in lines.lines() {
        println!("\nguest: {line}");
    }
    println!("\ngrowth {growth} bound {}", bound());
}

/// What the guest printed in the child.
fn guest_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.strip_prefix("guest: "))
        .collect()
}

/// The growth the child reported; asserts it is under the bound.
fn growth_under_bound(text: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.starts_with("growth "))
        .unwrap_or_else(|| panic!("{text}"));
    let growth: u64 = line.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        growth < bound(),
        "host RSS grew by {} MiB, over the bound of {} MiB:\n{text}",
        growth >> 20,
        bound() >> 20
    );
    growth
}

/// The host is still serving: the next guest on the same engine works.
fn next_guest_runs() {
    let run = run_guest("exec", &["echo"], allow(&["echo"]).build().unwrap());
    run.assert_ok();
    assert_eq!(run.lines()[1], "stdout \"hello world\\n\"", "{run}");
}

#[test]
fn a_communicate_of_one_and_a_half_gigabytes_is_cut_at_the_default() {
    match std::env::var(CHILD).as_deref() {
        Ok("communicate") => {
            return measure(|| {
                let run = run_guest(
                    "hostile_memory",
                    &["communicate", "1500000000", "16777216", "16777217"],
                    allow(&["head"]).build().unwrap(),
                );
                run.assert_ok();
                run.stdout
            })
        }
        Ok(_) => return,
        Err(_) => {}
    }
    let text = in_child(
        "bounds::a_communicate_of_one_and_a_half_gigabytes_is_cut_at_the_default",
        "communicate",
    );
    // 16 MiB is the most; one byte more is refused too.
    assert_eq!(
        guest_lines(&text),
        ["limit-exceeded", "ok 16777216", "limit-exceeded"],
        "{text}"
    );
    let growth = growth_under_bound(&text);
    println!("communicate of 1.5 GB: host grew {} MiB", growth >> 20);
    next_guest_runs();
}

#[test]
fn sixty_four_communicates_at_once_share_the_guest_budget() {
    match std::env::var(CHILD).as_deref() {
        Ok("gather") => {
            return measure(|| {
                let run = run_guest(
                    "hostile_memory",
                    &["gather", "64", "100000000"],
                    allow(&["head"]).build().unwrap(),
                );
                run.assert_ok();
                run.stdout
            })
        }
        Ok(_) => return,
        Err(_) => {}
    }
    let text = in_child(
        "bounds::sixty_four_communicates_at_once_share_the_guest_budget",
        "gather",
    );
    assert_eq!(guest_lines(&text), ["ok 0 limited 64 other []"], "{text}");
    let growth = growth_under_bound(&text);
    println!("64 communicates of 100 MB: host grew {} MiB", growth >> 20);
    next_guest_runs();
}

#[test]
fn pollables_until_the_table_is_full_trap_that_guest_alone() {
    match std::env::var(CHILD).as_deref() {
        Ok("handles") => {
            return measure(|| {
                let (err, run) = GuestRun::new(
                    "hostile_memory",
                    &["handles"],
                    allow(&["sleep"]).build().unwrap(),
                )
                .run()
                .unwrap_err();
                format!(
                    "{}trap {}",
                    run.stdout,
                    format!("{err:?}").replace('\n', " ")
                )
            })
        }
        Ok(_) => return,
        Err(_) => {}
    }
    let text = in_child(
        "bounds::pollables_until_the_table_is_full_trap_that_guest_alone",
        "handles",
    );
    let lines = guest_lines(&text);
    // Each pollable takes two entries (the exit watch and the pollable on
    // it): the table's 65,536 are full past 32,000 pollables.
    assert_eq!(
        lines[..3],
        ["held 10000", "held 20000", "held 30000"],
        "{text}"
    );
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[3].starts_with("trap ") && lines[3].contains("resource table has no free keys"),
        "{text}"
    );
    let growth = growth_under_bound(&text);
    println!(
        "pollables until the table is full: host grew {} MiB",
        growth >> 20
    );
    next_guest_runs();
}
