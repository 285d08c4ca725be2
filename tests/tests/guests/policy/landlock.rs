//! The Landlock sandbox at work: writes outside the grants, what a granted
//! shell can execute, and `require` on any kernel.

use super::{denied, Scratch};
use crate::probe::{exec, probe, s, shell};
use procgate::sandbox::{LandlockMode, Sandbox};
use procgate::Policy;
use procgate_tests::{allow, kernel_landlock_abi, landlock_available};

/// Whether the kernel has Landlock, asked of the kernel itself (not of
/// the code under test); where `scripts/test.sh` found it, a missing
/// Landlock fails the test instead of skipping it.
fn landlock_or_skip() -> bool {
    landlock_available(1)
}

#[test]
fn landlock_denies_writes_outside_the_grants() {
    if !landlock_or_skip() {
        return;
    }
    let sc = Scratch::new("landlock_denies_writes_outside_the_grants");
    let outside = sc.marker("landlock-outside");
    let inside = sc.grant.join("landlock-inside.marker");
    let policy = allow(&["touch"])
        .dir(&sc.grant, "/work")
        .landlock(LandlockMode::Require)
        .build()
        .unwrap();
    let reqs = [
        exec("touch", &[s(&outside)]).pipe(),
        exec("touch", &[s(&inside)]).pipe(),
    ];
    let (lines, run) = probe(policy, &reqs);
    assert!(lines[0].starts_with("rc=Some(1) "), "{run}");
    assert!(lines[0].contains("Permission denied"), "{run}");
    assert_eq!(
        lines[1], "rc=Some(0) out=Some(\"\") err=Some(\"\")",
        "{run}"
    );
    assert!(!outside.exists());
    assert!(inside.exists());
}

#[test]
fn landlock_limits_what_a_granted_shell_can_execute() {
    if !landlock_or_skip() {
        return;
    }
    let sc = Scratch::new("landlock_limits_what_a_granted_shell_can_execute");
    // A program outside the sandbox's read/execute paths.
    let copy = sc.root.join("mytouch");
    std::fs::copy("/usr/bin/touch", &copy).unwrap();
    let marker = sc.grant.join("shell-exec.marker");
    let policy = Policy::builder()
        .allow_shell("/bin/sh")
        .dir(&sc.grant, "/work")
        .landlock(LandlockMode::Require)
        .build()
        .unwrap();
    let reqs = [
        shell(&format!("{} {}", s(&copy), s(&marker))).pipe(),
        shell(&format!("touch {}", s(&marker))).pipe(),
    ];
    let (lines, run) = probe(policy, &reqs);
    assert!(lines[0].starts_with("rc=Some(126) "), "{run}");
    assert!(lines[1].starts_with("rc=Some(0) "), "{run}");
    assert!(marker.exists());
}

#[test]
fn landlock_require_runs_sandboxed_or_refuses() {
    // `require` on a kernel without Landlock must refuse; with it, the
    // child runs confined: a write outside the grant is refused (EACCES)
    // and creates nothing.
    let sc = Scratch::new("landlock_require_runs_sandboxed_or_refuses");
    let outside = sc.marker("require-outside");
    let policy = allow(&["touch"])
        .dir(&sc.grant, "/work")
        .sandbox(Sandbox {
            landlock: LandlockMode::Require,
            ..Sandbox::default()
        })
        .build()
        .unwrap();
    let (lines, run) = probe(policy, &[exec("touch", &[s(&outside)]).pipe()]);
    if kernel_landlock_abi() == 0 {
        assert_eq!(
            lines,
            [denied(
                "sandbox.landlock is \"require\" but this kernel lacks Landlock"
            )],
            "{run}"
        );
    } else {
        assert!(lines[0].starts_with("rc=Some(1) "), "{run}");
        assert!(lines[0].contains("Permission denied"), "{run}");
    }
    assert!(!outside.exists(), "{run}");
}
