//! The `procgate` command line: the reference's examples under their policy
//! files, exit codes, denials on stderr, broken policy files.

use procgate_tests::{guest_path, root, scratch_dir};
use std::process::{Command, Output};

fn procgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procgate"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("running procgate")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn example(name: &str, extra: &[&str]) -> Output {
    let wasm = guest_path(name);
    let policy = format!("examples/rust/{name}.toml");
    let mut args = vec!["run", "--policy", &policy, wasm.to_str().unwrap()];
    args.extend_from_slice(extra);
    procgate(&args)
}

#[test]
fn shell_example_prints_exit_status_and_stderr() {
    let out = example("shell", &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let first = stdout.lines().next().unwrap();
    // GNU ls exits 2 here; the reference's BSD ls exits 1.
    let code: i32 = first
        .strip_prefix("['ls /zzz' exited with ")
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or_else(|| panic!("{stdout}"))
        .parse()
        .unwrap();
    assert!(code > 0, "{stdout}");
    assert_eq!(stdout.lines().nth(1), Some("[stderr]"), "{stdout}");
    assert!(
        stdout.contains("/zzz") && stdout.contains("No such file or directory"),
        "{stdout}"
    );
    assert!(!stdout.contains("[stdout]"), "{stdout}");
}

#[test]
fn gather_example_runs_both_commands_at_once() {
    let out = example("gather", &["--timestamps"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("['date +%s%N; ls /zzz; sleep 0.5; date +%s%N' exited with "),
        "{stdout}"
    );
    assert!(stdout.contains("hello\n"), "{stdout}");
    // The children's own clocks: [start, end] of each command, in ns.
    let stamps: Vec<u128> = stdout
        .lines()
        .filter(|l| l.len() >= 19 && l.bytes().all(|b| b.is_ascii_digit()))
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(stamps.len(), 4, "{stdout}");
    let (ls, sleep) = ((stamps[0], stamps[1]), (stamps[2], stamps[3]));
    // Overlap: each started before the other ended.
    assert!(
        ls.0 < sleep.1 && sleep.0 < ls.1,
        "no overlap: ls {ls:?} sleep {sleep:?}"
    );
    assert!(
        sleep.1 - sleep.0 >= 1_000_000_000,
        "sleep 1 took {} ns",
        sleep.1 - sleep.0
    );
}

#[test]
fn date_example_reads_one_line_from_python() {
    let out = example("date", &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let line = stdout.lines().next().unwrap();
    let date = line
        .strip_prefix("Current date: ")
        .unwrap_or_else(|| panic!("{stdout}"));
    // e.g. 2026-11-25 20:14:40.629302
    assert_eq!(date.len(), 26, "{line}");
    assert_eq!(&date[4..5], "-", "{line}");
    assert_eq!(&date[10..11], " ", "{line}");
}

#[test]
fn guest_exit_code_becomes_the_cli_exit_code() {
    let wasm = guest_path("lifetimes");
    let out = procgate(&["run", "--allow", "sleep", wasm.to_str().unwrap(), "exit"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

#[test]
fn a_denied_spawn_is_logged_on_stderr_with_its_rule() {
    let dir = scratch_dir("cli-denied");
    let marker = dir.join("marker");
    let wasm = guest_path("errors");
    let out = procgate(&[
        "run",
        "--allow",
        "true",
        wasm.to_str().unwrap(),
        marker.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("program \"/bin/sh\" not in allow list"),
        "{stderr}"
    );
    assert!(stderr.contains("shell not granted"), "{stderr}");
    assert!(!marker.exists());
}

/// Runs a guest under a policy file with `text`; returns the output and
/// the file's path.
fn run_with_policy_text(name: &str, text: &str) -> (Output, std::path::PathBuf) {
    let policy = scratch_dir(name).join("broken.toml");
    std::fs::write(&policy, text).unwrap();
    let wasm = guest_path("exec");
    let out = procgate(&[
        "run",
        "--policy",
        policy.to_str().unwrap(),
        wasm.to_str().unwrap(),
        "echo",
    ]);
    (out, policy)
}

#[test]
fn a_broken_policy_file_is_refused_before_the_guest_starts() {
    let (out, policy) = run_with_policy_text(
        "cli-policy",
        "[programs]\nallow = [\"ls\"]\n[shell]\nalow = true\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:4:1", policy.display())),
        "{stderr}"
    );
    assert!(stderr.contains("alow"), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "the guest ran: {}",
        text(&out.stdout)
    );
}

#[test]
fn audit_json_writes_one_json_line_per_decision() {
    let dir = scratch_dir("cli-audit-json");
    let marker = dir.join("marker");
    let audit = dir.join("audit.jsonl");
    let wasm = guest_path("errors");
    let out = procgate(&[
        "run",
        "--allow",
        "true",
        "--audit-json",
        audit.to_str().unwrap(),
        wasm.to_str().unwrap(),
        marker.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = std::fs::read_to_string(&audit).unwrap();
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let decisions: Vec<_> = records
        .iter()
        .filter(|r| r["event"] == "decision")
        .collect();
    // The errors guest makes seven requests: six refused, one allowed
    // (then started and exited: two more events).
    assert_eq!(decisions.len(), 7, "{log}");
    assert_eq!(records.len(), 9, "{log}");
    let first = decisions[0];
    assert_eq!(first["decision"], "deny", "{first}");
    assert_eq!(first["request"], "exec");
    assert_eq!(first["program"], "sh");
    assert_eq!(first["reason"], "program \"sh\" not in allow list");
    let last = decisions[6];
    assert_eq!(last["decision"], "allow", "{last}");
    assert_eq!(last["resolved"], "/usr/bin/true");
    assert_eq!(last["rule"], "programs: \"true\"");
    assert!(!marker.exists());
}

#[test]
fn a_broken_policy_file_names_the_key_path() {
    let (out, policy) = run_with_policy_text(
        "cli-policy-key",
        "[programs]\nallow = [\"ls\"]\n\n[limits]\nmax_live = \"four\"\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:5:12: limits.max_live: ", policy.display())),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn policy_flags_add_limits_to_the_policy() {
    let wasm = guest_path("errors");
    let dir = scratch_dir("cli-limits");
    let marker = dir.join("marker");
    // One spawn allowed in all: the guest's final `true` is past it.
    let out = procgate(&[
        "run",
        "--allow",
        "true",
        "--max-spawns",
        "0",
        wasm.to_str().unwrap(),
        marker.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("limits.max_spawns (0) reached"), "{stderr}");
}

#[test]
fn children_die_when_the_host_is_killed() {
    use std::io::BufRead;
    let wasm = guest_path("lifetimes");
    let mut host = Command::new(env!("CARGO_BIN_EXE_procgate"))
        .args(["run", "--allow", "sleep", wasm.to_str().unwrap(), "hold"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(host.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid: u32 = line
        .trim()
        .strip_prefix("pid ")
        .unwrap_or_else(|| panic!("{line}"))
        .parse()
        .unwrap();
    assert!(
        procgate_tests::proc_state(pid).is_some(),
        "the child is not running"
    );
    host.kill().unwrap(); // SIGKILL: no cleanup code of the host runs
    host.wait().unwrap();
    assert!(
        procgate_tests::wait_gone(pid),
        "the child outlived its killed host"
    );
}
