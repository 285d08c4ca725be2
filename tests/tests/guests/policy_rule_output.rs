//! Per-program `communicate_bytes` and `pass_env` (`[[programs.rules]]`;
//! issue 16, item 5) with real children, through the `policy_probe` guest:
//! a rule's smaller output cap holds for its program only, and a rule's
//! `pass_env` hands its program's children only the host variables it
//! names. Both narrow the guest-wide setting, never widen it.

use crate::probe::{exec, probe};
use procgate::policy::RuleLimits;
use procgate::Policy;

/// 70,000 bytes of `0` on stdout, no newline: more than a pipe holds, so
/// a child past its cap is still writing when it is killed.
const ZEROS: usize = 70_000;
const PRINT_ZEROS: &str = "printf '%070000d' 0";

fn cap(bytes: usize) -> RuleLimits {
    RuleLimits {
        communicate_bytes: Some(bytes),
        ..RuleLimits::default()
    }
}

fn pass(names: &[&str]) -> RuleLimits {
    RuleLimits {
        pass_env: Some(names.iter().map(|n| n.to_string()).collect()),
        ..RuleLimits::default()
    }
}

fn over(cap: usize) -> String {
    format!(
        "communicate Err(LimitExceeded(\"communicate buffered more than {cap} bytes of output; \
         the process was killed\")) wait Ok(-9)"
    )
}

/// `sh`'s rule caps its output at 100 bytes: its 70,000 bytes are refused
/// (and the child killed), while `printf`, under the guest-wide 100,000,
/// hands all of them to the guest.
#[test]
fn a_rules_output_cap_holds_for_its_program_only() {
    let policy = Policy::builder()
        .allow_program("sh")
        .allow_program("printf")
        .communicate_bytes(100_000)
        .program_limits("sh", cap(100))
        .build()
        .unwrap();
    let (lines, run) = probe(
        policy,
        &[
            exec("sh", &["-c", PRINT_ZEROS]).pipe(),
            exec("printf", &["%070000d", "0"]).pipe(),
        ],
    );
    assert_eq!(lines[0], over(100), "{run}");
    let zeros = "0".repeat(ZEROS);
    let all = format!("rc=Some(0) out=Some({zeros:?}) err=Some(\"\")");
    let start = &lines[1][..lines[1].len().min(200)];
    assert!(lines[1] == all, "printf's line starts {start:?}");
}

/// A rule's cap above the guest's is clamped to the guest's: the rule
/// cannot widen it.
#[test]
fn a_rules_output_cap_cannot_widen_the_guests() {
    let policy = Policy::builder()
        .allow_program("sh")
        .communicate_bytes(100)
        .program_limits("sh", cap(1 << 20))
        .build()
        .unwrap();
    let (lines, run) = probe(policy, &[exec("sh", &["-c", PRINT_ZEROS]).pipe()]);
    assert_eq!(lines[0], over(100), "{run}");
}

/// The guest-wide `env.pass` passes A and B; `env`'s rule passes only A,
/// `printenv` (no rule) gets both.
#[test]
fn a_rules_pass_env_passes_only_the_names_it_lists() {
    std::env::set_var("PROCGATE_RULE_PASS_A", "a-from-host");
    std::env::set_var("PROCGATE_RULE_PASS_B", "b-from-host");
    let policy = Policy::builder()
        .allow_program("env")
        .allow_program("printenv")
        .pass_env("PROCGATE_RULE_PASS_A")
        .pass_env("PROCGATE_RULE_PASS_B")
        .program_limits("env", pass(&["PROCGATE_RULE_PASS_A"]))
        .build()
        .unwrap();
    let (lines, run) = probe(
        policy,
        &[exec("env", &[]).pipe(), exec("printenv", &[]).pipe()],
    );
    let a = "PROCGATE_RULE_PASS_A=a-from-host\n";
    let b = "PROCGATE_RULE_PASS_B=b-from-host\n";
    let out = |s: String| format!("rc=Some(0) out=Some({s:?}) err=Some(\"\")");
    assert_eq!(lines[0], out(a.to_string()), "{run}");
    assert_eq!(lines[1], out(format!("{a}{b}")), "{run}");
}

/// A rule may not pass a variable the guest-wide `env.pass` does not: the
/// policy does not load.
#[test]
fn a_rules_pass_env_outside_env_pass_does_not_load() {
    let err = Policy::builder()
        .allow_program("env")
        .pass_env("PROCGATE_RULE_PASS_A")
        .program_limits("env", pass(&["PROCGATE_RULE_PASS_SECRET"]))
        .build()
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "programs.rules pass_env \"PROCGATE_RULE_PASS_SECRET\" of \"env\" is not in env.pass: a \
         rule narrows the host variables passed to children, never widens them"
    );
}
