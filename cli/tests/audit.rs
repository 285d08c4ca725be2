//! The audit log of `procgate run`: the JSON records parse as schema v1
//! says, a hostile guest can neither flood the log past the stated rate nor
//! forge a line of the readable log.

use procgate::policy::audit::{FIELD_MAX, LIMITED_PER_SECOND};
use procgate_tests::{guest_path, root};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

/// Most bytes of one refused-request record (JSON) or readable line: five
/// fields of at most `FIELD_MAX` escaped bytes (doubled for the backslashes
/// JSON adds to escapes already made) plus the fixed fields.
const EVENT_MAX: usize = 10 * FIELD_MAX + 1024;

/// The log bytes per second a guest's refusals can cause, in each log.
const BYTES_PER_SECOND: usize = LIMITED_PER_SECOND as usize * EVENT_MAX + 256;

fn procgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procgate"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("running procgate")
}

/// Runs the `audit_events` guest with `case` under the policy `toml`;
/// returns the CLI's output and the parsed audit records.
fn run_logged(dir: &Path, toml: &str, args: &[&str]) -> (Output, Vec<Value>, usize) {
    let policy = dir.join("policy.toml");
    std::fs::write(&policy, toml).unwrap();
    let audit = dir.join("audit.jsonl");
    let wasm = guest_path("audit_events");
    let mut argv = vec![
        "run",
        "-v",
        "--policy",
        policy.to_str().unwrap(),
        "--audit-json",
        audit.to_str().unwrap(),
        wasm.to_str().unwrap(),
    ];
    argv.extend_from_slice(args);
    let out = procgate(&argv);
    let text = std::fs::read_to_string(&audit).unwrap();
    let records = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (out, records, text.len())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn events<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["event"] == kind).collect()
}

#[test]
fn a_flood_of_huge_denied_requests_stays_under_the_stated_rate() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (out, records, bytes) = run_logged(
        dir.path(),
        "[programs]\nallow = [\"true\"]\n[limits]\nmax_arg_bytes = 4096\n",
        &["flood", "300"],
    );
    let secs = started.elapsed().as_secs() as usize + 1;
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(text(&out.stdout), "{\"limit-exceeded\": 300}\n");
    // Every refusal is accounted for: logged, or counted as suppressed.
    let decisions = events(&records, "decision");
    let suppressed: u64 = events(&records, "suppressed")
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(decisions.len() as u64 + suppressed, 300, "{records:?}");
    // At most LIMITED_PER_SECOND per one-second window.
    assert!(
        decisions.len() <= (secs + 1) * LIMITED_PER_SECOND as usize,
        "{} refusals logged in {secs} s",
        decisions.len()
    );
    for d in &decisions {
        assert_eq!(d["error"], "limit-exceeded");
        assert_eq!(d["truncated"], true);
        assert!(d["args"].to_string().len() <= FIELD_MAX + 16, "{d}");
    }
    // The stated rate, in both logs, over however long the run took.
    let limit = (secs + 1) * BYTES_PER_SECOND;
    assert!(
        bytes <= limit,
        "{bytes} bytes of JSON in {secs} s, over {limit}"
    );
    assert!(
        stderr.len() <= limit,
        "{} bytes on stderr in {secs} s, over {limit}",
        stderr.len()
    );
    println!(
        "300 refusals of 10 MiB each: {bytes} bytes of JSON, {} on stderr, in {secs} s",
        stderr.len()
    );
}

#[test]
fn a_newline_in_a_name_cannot_forge_a_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let (out, records, _) = run_logged(dir.path(), "[programs]\nallow = [\"true\"]\n", &["forge"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(text(&out.stdout), "env denied\nprogram denied\n");
    // Two refusals: two lines, neither a forged one.
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    for line in &lines {
        assert!(
            line.trim_start().starts_with("WARN refused exec "),
            "{stderr}"
        );
    }
    assert!(lines[0].contains(r"LD_X\n WARN"), "{stderr}");
    // The JSON keeps the real name.
    let names: Vec<&String> = records[0]["env"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["LD_X\n WARN refused exec \"forged\": denied"]);
    assert_eq!(records[1]["program"], "true\n INFO allowed exec \"forged\"");
}

#[test]
fn records_follow_schema_v1_through_a_childs_life() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken");
    std::fs::write(&broken, "#!/nonexistent/interpreter\n").unwrap();
    let mut perms = std::fs::metadata(&broken).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&broken, perms).unwrap();
    let broken = broken.to_str().unwrap();
    let policy = format!(
        "[programs]\nallow = [\"true\", \"env\", \"sleep\", \"{broken}\"]\n\
         [env]\nguest_may_set = [\"TOKEN\", \"NAME\"]\nsecret = [\"TOKEN\"]\n\
         [limits]\ntimeout_secs = 0.5\nkill_grace_secs = 0.2\n"
    );
    let (out, records, _) = run_logged(dir.path(), &policy, &["lifecycle", broken]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let pid_of = |what: &str| -> u64 {
        let line = stdout.lines().find(|l| l.starts_with(what)).unwrap();
        line.split(' ').nth(2).unwrap().parse().unwrap()
    };
    let all = format!("{records:#?}");

    // Every record: v 1, one run id, seq 1, 2, 3, ...
    let run = records[0]["run"].as_str().unwrap().to_string();
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["v"], 1, "{r}");
        assert_eq!(r["run"], run.as_str(), "{r}");
        assert_eq!(r["seq"], i as u64 + 1, "{r}");
        assert!(r["ts_ms"].as_u64().unwrap() > 1_700_000_000_000, "{r}");
    }
    let by_pid = |kind: &str, pid: u64| -> &Value {
        records
            .iter()
            .find(|r| r["event"] == kind && r["pid"] == pid)
            .unwrap_or_else(|| panic!("no {kind} for {pid}: {all}"))
    };
    let decision_of = |spawn: &Value| -> &Value {
        let seq = spawn["decision"].as_u64().unwrap();
        &records[seq as usize - 1]
    };

    // true: allowed with real arrays and nulls, started with its pid, exited 0.
    let pid = pid_of("true pid");
    let spawn = by_pid("spawn", pid);
    let allow = decision_of(spawn);
    assert_eq!(allow["decision"], "allow", "{allow}");
    assert_eq!(allow["request"], "exec");
    assert_eq!(allow["args"], serde_json::json!(["a b", "[\"c\"]"]));
    assert_eq!(allow["cwd"], Value::Null);
    assert_eq!(allow["error"], Value::Null);
    assert_eq!(allow["resolved"], spawn["resolved"]);
    assert!(allow["env"].is_object(), "{allow}");
    assert_eq!(by_pid("exit", pid)["returncode"], 0);

    // env: the child's environment, with the secret's value withheld.
    assert!(stdout.contains("sees token true"), "{stdout}");
    let pid = pid_of("env pid");
    let allow = decision_of(by_pid("spawn", pid));
    assert_eq!(allow["env"]["TOKEN"], Value::Null, "{allow}");
    assert_eq!(allow["env"]["NAME"], "x", "{allow}");
    assert!(!all.contains("hunter2"), "{all}");

    // sleep: timed out (SIGTERM), exited -15.
    let pid = pid_of("sleep pid");
    let timeout = by_pid("timeout", pid);
    assert_eq!(timeout["signal"], "SIGTERM");
    assert_eq!(timeout["after_ms"], 500);
    assert_eq!(by_pid("exit", pid)["returncode"], -15);

    // broken: allowed, then failed to start; once blocking, once started
    // in a task (the async face), which logs the failure.
    assert!(stdout.contains("\nbroken not-found"), "{stdout}");
    assert!(stdout.contains("aio-broken not-found"), "{stdout}");
    let failed = events(&records, "spawn-failed");
    assert_eq!(failed.len(), 2, "{all}");
    for failed in failed {
        assert_eq!(failed["error"], "not-found");
        let allow = decision_of(failed);
        assert_eq!(allow["decision"], "allow");
        assert_eq!(allow["program"], broken);
    }

    // true, started in a task: its decision, start and exit.
    let pid = pid_of("aio-true pid");
    let spawn = by_pid("spawn", pid);
    assert_eq!(decision_of(spawn)["args"], serde_json::json!(["aio"]));
    assert_eq!(by_pid("exit", pid)["returncode"], 0);

    // sh: refused, with nulls where nothing was resolved.
    assert!(stdout.contains("sh denied"), "{stdout}");
    let deny = records.iter().find(|r| r["program"] == "sh").unwrap();
    assert_eq!(deny["decision"], "deny", "{deny}");
    assert_eq!(deny["program"], "sh");
    assert_eq!(deny["error"], "denied");
    assert_eq!(deny["resolved"], Value::Null);
    assert_eq!(deny["cwd"], Value::Null);
    assert_eq!(deny["args"], serde_json::json!([]));
    assert_eq!(deny["truncated"], false);
}
