//! What a request carries, as the child sees it: arguments stay literal,
//! the environment is exactly the policy's, the working directory stays
//! in a grant, and signals reach only the guest's own live children.

use super::Scratch;
use crate::probe::{exec, probe, s, Req};
use procgate_tests::{allow, scratch};
use std::path::PathBuf;

#[test]
fn shell_metacharacters_passed_to_exec_stay_literal() {
    let dir = scratch("policy-literal");
    let dir = dir.path();
    let marker = dir.join("marker");
    let m = s(&marker);
    let policy = allow(&["echo"]).dir(dir, "/work").build().unwrap();
    let tricks = [
        format!("; touch {m}"),
        format!("$(touch {m})"),
        format!("`touch {m}`"),
        format!("| touch {m}"),
        format!("&& touch {m}"),
        format!("\ntouch {m}"),
    ];
    let reqs: Vec<Req> = tricks
        .iter()
        .map(|t| exec("echo", &[t.as_str()]).pipe())
        .chain([exec("echo", &[">", "marker"]).pipe()])
        .collect();
    let (lines, run) = probe(policy, &reqs);
    for (line, trick) in lines.iter().zip(&tricks) {
        assert_eq!(
            line,
            &format!(
                "rc=Some(0) out=Some({:?}) err=Some(\"\")",
                format!("{trick}\n")
            ),
            "{run}"
        );
    }
    assert_eq!(
        lines[6],
        "rc=Some(0) out=Some(\"> marker\\n\") err=Some(\"\")"
    );
    assert!(!marker.exists(), "{run}");
}

#[test]
fn the_guests_path_is_never_used_even_when_it_may_set_it() {
    let sc = Scratch::new("the_guests_path_is_never_used_even_when_it_may_set_it");
    let marker = sc.marker("guest-path");
    // The guest may set PATH (named exactly), to a directory whose `echo`
    // is really `touch`: the policy's own search path still finds echo.
    let policy = allow(&["echo"]).allow_guest_env("PATH").build().unwrap();
    let req = exec("echo", &[s(&marker)]).env("PATH", s(&sc.bin)).pipe();
    let (lines, run) = probe(policy, &[req]);
    assert_eq!(
        lines,
        [format!(
            "rc=Some(0) out=Some({:?}) err=Some(\"\")",
            format!("{}\n", s(&marker))
        )],
        "{run}"
    );
    assert!(!marker.exists());
}

#[test]
fn children_get_exactly_the_policy_environment() {
    std::env::set_var("PROCGATE_TEST_PASSED", "from-host");
    let policy = allow(&["env"])
        .set_env("LANG", "C.UTF-8")
        .pass_env("PROCGATE_TEST_PASSED")
        .allow_guest_env("APP_*")
        .build()
        .unwrap();
    let (lines, run) = probe(policy, &[exec("env", &[]).env("APP_MODE", "test").pipe()]);
    assert_eq!(
        lines,
        ["rc=Some(0) out=Some(\"APP_MODE=test\\nLANG=C.UTF-8\\nPROCGATE_TEST_PASSED=from-host\\n\") err=Some(\"\")"],
        "{run}"
    );
}

#[test]
fn cwd_inside_a_grant_and_the_default_cwd() {
    let sc = Scratch::new("cwd_inside_a_grant_and_the_default_cwd");
    let policy = allow(&["pwd"])
        .dir(&sc.grant, "/work")
        .default_cwd("/work/sub")
        .build()
        .unwrap();
    let grant = sc.grant.canonicalize().unwrap();
    let reqs = [
        exec("pwd", &["-P"]).pipe(),
        exec("pwd", &["-P"]).cwd("/work").pipe(),
        exec("pwd", &["-P"]).cwd("/work/in").pipe(),
        exec("pwd", &["-P"]).cwd("/work/sub/../sub/.").pipe(),
        exec("pwd", &[]).cwd("/work/missing").pipe(),
    ];
    let (lines, run) = probe(policy, &reqs);
    let at = |p: PathBuf| {
        format!(
            "rc=Some(0) out=Some({:?}) err=Some(\"\")",
            format!("{}\n", p.display())
        )
    };
    assert_eq!(lines[0], at(grant.join("sub")), "{run}");
    assert_eq!(lines[1], at(grant.clone()), "{run}");
    assert_eq!(lines[2], at(grant.join("sub")), "{run}");
    assert_eq!(lines[3], at(grant.join("sub")), "{run}");
    assert!(
        lines[4].starts_with("Err(NotFound(\"cwd \\\"/work/missing\\\""),
        "{run}"
    );
}

/// A pattern that names only refused variables can never grant anything:
/// the policy does not load (the guest could never use it either).
#[test]
fn a_guest_env_pattern_naming_only_refused_variables_does_not_load() {
    for pattern in ["LD_*", "LD_PRELOAD"] {
        let err = allow(&["env"])
            .allow_guest_env(pattern)
            .build()
            .expect_err(pattern);
        assert!(format!("{err:#}").contains(pattern), "{pattern}: {err:#}");
    }
}

#[test]
fn signals_only_reach_the_guests_own_live_children() {
    // The guest's own child exits, leaving a `sleep` in its process group,
    // which a signal to the exited child's group would end: the guest's
    // kill is process-exited, and the host sees the sleep still running
    // while the guest runs (at the guest's end its children's groups go).
    let policy = allow(&["sh", "true"]).build().unwrap();
    let req = exec("sh", &["-c", "sleep 1000 >/dev/null 2>&1 & echo $!"])
        .pipe()
        .kill();
    let req = Req(format!("{}\ncheck=group", req.0));
    let (lines, run) = probe(policy, &[req]);
    assert_eq!(lines.len(), 1, "{run}");
    assert!(lines[0].starts_with("rc=Some(0) out=Some("), "{run}");
    assert!(
        lines[0].ends_with(" kill Err(ProcessExited) then alive in the group"),
        "{run}"
    );
}
