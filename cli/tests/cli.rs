//! The `procgate` command line: the reference's examples under their policy
//! files, exit codes, denials on stderr, broken policy files.

use procgate_tests::{child_of, guest_path, output_within, root, scratch, wait_gone};
use std::process::{Command, Output};
use std::time::Duration;

/// Runs the CLI to its end (failing the test if it takes over 2 minutes).
fn procgate(args: &[&str]) -> Output {
    output_within(
        Command::new(env!("CARGO_BIN_EXE_procgate"))
            .args(args)
            .current_dir(root()),
        Duration::from_secs(120),
    )
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
    // What ls wrote on its stderr, captured and printed by the guest (its
    // own newline, then print's).
    assert_eq!(
        stdout.lines().skip(1).collect::<Vec<_>>(),
        [
            "[stderr]",
            "ls: cannot access '/zzz': No such file or directory",
            ""
        ],
        "{stdout}"
    );
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
    assert!(
        stdout.contains("ls: cannot access '/zzz': No such file or directory\n"),
        "{stdout}"
    );
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
    let dir = scratch("cli-denied");
    let marker = dir.path().join("marker");
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
    // The denial says how to allow it, once, after the rule.
    let line = stderr
        .lines()
        .find(|l| l.contains("shell not granted"))
        .unwrap();
    assert_eq!(
        line.matches("grant it with --allow-shell or shell.allow = true")
            .count(),
        1,
        "{line}"
    );
    assert_eq!(line.matches("shell not granted").count(), 1, "{line}");
    assert!(!marker.exists());
}

/// Runs a guest under a policy file with `text`; returns the output and
/// the file's path.
fn run_with_policy_text(name: &str, text: &str) -> (Output, procgate_tests::TempDir) {
    let dir = scratch(name);
    let policy = dir.path().join("broken.toml");
    std::fs::write(&policy, text).unwrap();
    let wasm = guest_path("exec");
    let out = procgate(&[
        "run",
        "--policy",
        policy.to_str().unwrap(),
        wasm.to_str().unwrap(),
        "echo",
    ]);
    (out, dir)
}

#[test]
fn a_broken_policy_file_is_refused_before_the_guest_starts() {
    let (out, dir) = run_with_policy_text(
        "cli-policy",
        "[programs]\nallow = [\"ls\"]\n[shell]\nalow = true\n",
    );
    let policy = dir.path().join("broken.toml");
    assert_eq!(out.status.code(), Some(3));
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
    let dir = scratch("cli-audit-json");
    let marker = dir.path().join("marker");
    let audit = dir.path().join("audit.jsonl");
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
    assert_eq!(
        first["how_to_allow"],
        "allow it with --allow sh or programs.allow"
    );
    let last = decisions[6];
    assert_eq!(last["decision"], "allow", "{last}");
    assert_eq!(last["resolved"], "/usr/bin/true");
    assert_eq!(last["rule"], "programs: \"true\"");
    assert!(!marker.exists());
}

#[test]
fn a_broken_policy_file_names_the_key_path() {
    let (out, dir) = run_with_policy_text(
        "cli-policy-key",
        "[programs]\nallow = [\"ls\"]\n\n[limits]\nmax_live = \"four\"\n",
    );
    let policy = dir.path().join("broken.toml");
    assert_eq!(out.status.code(), Some(3));
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
    let dir = scratch("cli-limits");
    let marker = dir.path().join("marker");
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

/// Starts the CLI on the lifetimes guest's `hold` (a child `sleep` it
/// waits for) with `flags`, sees the child alive as the CLI's, SIGKILLs
/// the CLI, and returns whether the child is gone after.
fn child_gone_after_the_host_is_killed(flags: &[&str]) -> bool {
    use std::io::BufRead;
    let wasm = guest_path("lifetimes");
    let mut args = vec!["run", "--allow", "sleep"];
    args.extend(flags);
    args.extend([wasm.to_str().unwrap(), "hold"]);
    let mut host = Command::new(env!("CARGO_BIN_EXE_procgate"))
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = host.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(120));
    let Ok(line) = line else {
        host.kill().unwrap();
        host.wait().unwrap();
        panic!("the guest printed no pid within 2 minutes");
    };
    let pid: u32 = line
        .trim()
        .strip_prefix("pid ")
        .unwrap_or_else(|| panic!("{line}"))
        .parse()
        .unwrap();
    let seen = child_of(host.id(), pid).unwrap_or_else(|e| panic!("the child: {e}"));
    host.kill().unwrap(); // SIGKILL: no cleanup code of the host runs
    host.wait().unwrap();
    wait_gone(seen)
}

#[test]
fn children_die_when_the_host_is_killed() {
    // No sandbox.
    assert!(
        child_gone_after_the_host_is_killed(&[]),
        "the child outlived its killed host"
    );
}

#[test]
fn sandboxed_children_die_when_the_host_is_killed() {
    // With Landlock set up in the child before exec (the same clone path,
    // with more work between clone and execve).
    assert!(
        child_gone_after_the_host_is_killed(&["--landlock", "best-effort"]),
        "the child outlived its killed host"
    );
}

#[test]
fn inherited_output_goes_to_the_clis_own_stdout_and_stderr() {
    // `procgate run` gives children the host's own descriptors
    // (`InheritedOutput::Host`): what a child writes there is the CLI's
    // output, in order with the guest's.
    let wasm = guest_path("stdio");
    let out = procgate(&["run", "--allow-shell", wasm.to_str().unwrap(), "inherit"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "guest before\nto-out\nrc 0\n");
    // A host killed by a test running beside this one leaves a cgroup that
    // this CLI removes, with a warning if processes were left in it: that
    // line is not the child's output.
    let stderr: String = text(&out.stderr)
        .lines()
        .filter(|l| !l.contains("cgroup of a host that is gone"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(stderr, "to-err\n");
}
