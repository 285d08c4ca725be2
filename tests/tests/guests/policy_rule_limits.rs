//! Per-program limits, working directory and variables
//! (`[[programs.rules]]` `timeout_secs`, `cwd`, `env`, ...; issue 16,
//! item 5) with real children: they apply to that program's children only,
//! and a rule narrows the guest-wide limits, never widens them.

use crate::probe::{exec, probe, s};
use procgate::policy::RuleLimits;
use procgate::Policy;
use std::time::Duration;
use tempfile::TempDir;

fn rule(timeout: Duration) -> RuleLimits {
    RuleLimits {
        timeout: Some(timeout),
        cwd: Some("/work/sub".into()),
        env: vec![("RULE_VAR".into(), "from-rule".into())],
        ..RuleLimits::default()
    }
}

#[test]
fn a_rule_sets_timeout_cwd_and_env_for_its_program_only() {
    let dir = TempDir::new().unwrap();
    let grant = dir.path().canonicalize().unwrap();
    std::fs::create_dir(grant.join("sub")).unwrap();
    let policy = Policy::builder()
        .allow_program("sh")
        .allow_program("env")
        .dir(&grant, "/work")
        .update_limits(|l| l.timeout = Some(Duration::from_secs(60)))
        .program_limits("sh", rule(Duration::from_millis(300)))
        .build()
        .unwrap();
    let (lines, run) = probe(
        policy,
        &[
            exec("sh", &["-c", "sleep 30"]),
            exec("/bin/sh", &["-c", "echo $RULE_VAR; pwd"]).pipe(),
            exec("env", &[]).pipe(),
        ],
    );
    // The rule's 300 ms, not the guest's minute: SIGTERM, or SIGKILL
    // after the grace.
    assert!(lines[0] == "rc=Ok(-15)" || lines[0] == "rc=Ok(-9)", "{run}");
    let expected = format!("out=Some(\"from-rule\\n{}\\n\")", s(&grant.join("sub")));
    assert!(lines[1].contains(&expected), "{expected}\n{run}");
    // Another program gets neither the variable nor the cwd.
    assert!(lines[2].starts_with("rc=Some(0)"), "{run}");
    assert!(!lines[2].contains("RULE_VAR"), "{run}");
}

#[test]
fn a_rule_cannot_widen_the_guest_wide_limits() {
    let dir = TempDir::new().unwrap();
    let grant = dir.path().canonicalize().unwrap();
    std::fs::create_dir(grant.join("sub")).unwrap();
    let policy = Policy::builder()
        .allow_program("sh")
        .dir(&grant, "/work")
        .update_limits(|l| l.timeout = Some(Duration::from_millis(300)))
        .program_limits("sh", rule(Duration::from_secs(600)))
        .build()
        .unwrap();
    let (lines, run) = probe(policy, &[exec("sh", &["-c", "sleep 30"])]);
    assert!(lines[0] == "rc=Ok(-15)" || lines[0] == "rc=Ok(-9)", "{run}");
}

#[test]
fn a_rule_cwd_outside_the_grants_does_not_load() {
    let err = Policy::builder()
        .allow_program("sh")
        .program_limits("sh", rule(Duration::from_secs(1)))
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("programs.rules cwd \"/work/sub\""), "{err}");
}
