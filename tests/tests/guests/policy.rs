//! The policy against a guest trying to get around it: a corpus of bypass
//! attempts (each must be refused and start nothing), and the limits,
//! sandbox and hooks at work.
//!
//! Every case runs the `policy_probe` guest with its own policy, requests
//! and scratch directory; each request that must be refused would show its
//! effect if it ran: a marker file the program would create (which must not
//! exist after), a variable `env` would print (which must not be in the
//! output), or a process a signal would end (which the host checks is still
//! alive).

host_tests_for!(policy_probe);

use crate::probe::{exec, lines_of, on_kept, probe, s, shell, Req};
use procgate::hooks::ProcgateHooks;
use procgate::policy::{ArgForm, ArgPattern, ArgRules, Limits, OsLimits, PolicyBuilder, SpawnPlan};
use procgate::sandbox::{LandlockMode, Sandbox};
use procgate::signals::Signal;
use procgate::Policy;
use procgate_tests::{allow, kernel_feature, kernel_landlock_abi, scratch, GuestRun, PYTHON};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A named bypass attempt: its policy, its requests, what the last one
/// must answer, the marker that must not exist afterwards, and text its
/// output must not hold (what the attack would print if it worked).
struct Case {
    name: &'static str,
    policy: PolicyBuilder,
    reqs: Vec<Req>,
    expect: String,
    marker: PathBuf,
    leak: Option<String>,
}

fn denied(rule: &str) -> String {
    format!("Err(Denied({rule:?}))")
}

fn limit(text: &str) -> String {
    format!("Err(LimitExceeded({text:?}))")
}

fn invalid(text: &str) -> String {
    format!("Err(InvalidArgument({text:?}))")
}

/// The scratch layout a test (or one corpus case) uses, in a directory of
/// its own, removed when it is dropped.
struct Scratch {
    _dir: tempfile::TempDir,
    root: PathBuf,
    bin: PathBuf,
    grant: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = scratch(name);
        let root = dir.path().to_path_buf();
        let bin = root.join("bin");
        let grant = root.join("grant");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(grant.join("sub")).unwrap();
        std::fs::create_dir_all(grant.join("bin")).unwrap();
        // A directory named like an allowed program, to climb out of.
        std::fs::create_dir_all(root.join("echo")).unwrap();
        let link = |target: &str, at: &Path| std::os::unix::fs::symlink(target, at).unwrap();
        link("/usr/bin/touch", &bin.join("evil"));
        link("/usr/bin/touch", &bin.join("echo"));
        link("/usr/bin/sort", &bin.join("mysort"));
        link(PYTHON, &bin.join("py"));
        // Inside the grant: ways out, and a `touch` that relative program
        // names would find from there.
        link(s(&root), &grant.join("out"));
        link("../", &grant.join("up"));
        link("sub", &grant.join("in"));
        link("/usr/bin/touch", &grant.join("touch"));
        link("/usr/bin/touch", &grant.join("bin/touch"));
        Scratch {
            _dir: dir,
            root,
            bin,
            grant,
        }
    }

    fn marker(&self, case: &str) -> PathBuf {
        self.root.join(format!("{case}.marker"))
    }
}

fn forbid(flags: &[&str]) -> ArgRules {
    flags
        .iter()
        .fold(ArgRules::default(), |r, f| r.forbid_flag(*f))
}

fn sort_rules() -> ArgRules {
    forbid(&["-o", "--output", "--compress-program"])
}

fn find_rules() -> ArgRules {
    forbid(&[
        "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls",
    ])
}

fn python_rules() -> ArgRules {
    forbid(&["-c", "-m"])
}

/// The corpus. Each case's last request would create its marker if it ran.
fn corpus(sc: &Scratch) -> Vec<Case> {
    let cases = std::cell::RefCell::new(Vec::new());
    let add = |name: &'static str,
               policy: PolicyBuilder,
               reqs: Vec<Req>,
               expect: String,
               leak: Option<String>| {
        cases.borrow_mut().push(Case {
            name,
            policy,
            reqs,
            expect,
            marker: sc.marker(name),
            leak,
        })
    };
    let case = |name: &'static str, policy: PolicyBuilder, reqs: Vec<Req>, expect: String| {
        add(name, policy, reqs, expect, None)
    };
    let m = |name: &str| sc.marker(name).to_str().unwrap().to_string();
    let echo_only = || allow(&["echo"]);
    let not_allowed = |p: &str| denied(&format!("program {p:?} not in allow list"));
    let relative = |p: &str| {
        denied(&format!(
            "program {p:?} not in allow list (relative paths are never allowed)"
        ))
    };

    // Path tricks: each names `touch` (or a link to it) some other way,
    // one that would find it if allowed: the relative names from the
    // working directory, the grant, which holds `touch` and `bin/touch`.
    let evil = sc.bin.join("evil");
    let fake_echo = sc.bin.join("echo");
    let depth = sc.grant.canonicalize().unwrap().components().count() - 1;
    let to_root_touch = format!("{}usr/bin/touch", "../".repeat(depth));
    // Up from a directory named like the allowed program.
    let through_echo = format!("{}/echo/../bin/evil", s(&sc.root));
    for (name, program) in [
        ("name-not-allowed", "touch"),
        ("absolute-not-allowed", "/usr/bin/touch"),
        ("relative-dot", "./touch"),
        ("relative-dotdot", to_root_touch.as_str()),
        ("name-with-slash", "bin/touch"),
        ("dotdot-inside-absolute", "/usr/bin/../bin/touch"),
        ("double-slashes", "//usr//bin//touch"),
        ("through-allowed-name", through_echo.as_str()),
        ("symlink-to-disallowed", s(&evil)),
        ("symlink-named-like-allowed", s(&fake_echo)),
    ] {
        let expect = if program.contains('/') && !program.starts_with('/') {
            relative(program)
        } else {
            not_allowed(program)
        };
        let policy = echo_only().dir(&sc.grant, "/work").default_cwd("/work");
        case(name, policy, vec![exec(program, &[&m(name)])], expect);
    }
    case(
        "shell-program-by-exec",
        echo_only(),
        vec![exec(
            "sh",
            &["-c", &format!("touch {}", m("shell-program-by-exec"))],
        )],
        not_allowed("sh"),
    );

    // Environment injection, with the guest allowed `pattern`: the child
    // is `env`, which would print the variable if it got it.
    let bin = s(&sc.bin);
    for (name, pattern, var, value) in [
        ("path-injection", "*", "PATH", bin),
        ("ld-preload", "*", "LD_PRELOAD", "/tmp/evil.so"),
        ("ld-library-path", "*", "LD_LIBRARY_PATH", bin),
        ("bash-env", "*", "BASH_ENV", "/tmp/rc"),
        (
            "exported-function",
            "*",
            "BASH_FUNC_echo%%",
            "() { touch x; }",
        ),
        ("python-startup", "*", "PYTHONSTARTUP", "/tmp/x.py"),
        ("git-config-env", "*", "GIT_CONFIG_KEY_0", "core.pager"),
        ("glibc-tunables", "*", "GLIBC_TUNABLES", "x"),
    ] {
        add(
            name,
            // Broad patterns load only with `unsafe_env_globs`; the fixed
            // refusals must hold even then.
            allow(&["env"])
                .allow_guest_env(pattern)
                .unsafe_env_globs(true),
            vec![exec("env", &[]).env(var, value).pipe()],
            denied(&format!("env {var} refused")),
            Some(format!("{var}=")),
        );
    }
    add(
        "env-outside-patterns",
        allow(&["env"]).allow_guest_env("APP_*"),
        vec![exec("env", &[]).env("EVIL", "1").pipe()],
        denied("env EVIL not in guest-settable variables [\"APP_*\"]"),
        Some("EVIL=".into()),
    );

    // Argument rules and their evasions: `sort --output` in every spelling
    // (`@` stands for the marker), by every name of sort.
    let flag = |arg: &str, f: &str| format!("argument {arg:?} carries forbidden flag {f:?}");
    let mysort = sc.bin.join("mysort");
    for (name, program, template, forbidden) in [
        ("long-flag-equals", "sort", "--output=@", "--output"),
        ("long-flag-abbreviated", "sort", "--outp=@", "--output"),
        ("short-flag-attached", "sort", "-o@", "-o"),
        ("short-flags-combined", "sort", "-uo@", "-o"),
        ("shortest-abbreviation", "sort", "--o=@", "--output"),
        (
            "rules-by-absolute-path",
            "/usr/bin/sort",
            "--output=@",
            "--output",
        ),
        (
            "rules-through-symlink",
            s(&mysort),
            "--output=@",
            "--output",
        ),
    ] {
        let arg = template.replace('@', &m(name));
        case(
            name,
            Policy::builder().allow_program_with("sort", sort_rules()),
            vec![exec(program, &[&arg, "/dev/null"])],
            denied(&format!("program \"sort\": {}", flag(&arg, forbidden))),
        );
    }
    case(
        "long-flag-separate",
        Policy::builder().allow_program_with("sort", sort_rules()),
        vec![exec(
            "sort",
            &["--output", &m("long-flag-separate"), "/dev/null"],
        )],
        denied(&format!(
            "program \"sort\": {}",
            flag("--output", "--output")
        )),
    );
    let py = || Policy::builder().allow_program_with("python3", python_rules());
    let py_code = |name: &str| format!("open({:?}, 'w')", m(name));
    let py_denied = |arg: &str, f: &str| denied(&format!("program \"python3\": {}", flag(arg, f)));
    case(
        "python-c",
        py(),
        vec![exec("python3", &["-c", &py_code("python-c")])],
        py_denied("-c", "-c"),
    );
    case(
        "python-combined-c",
        py(),
        vec![exec("python3", &["-Ic", &py_code("python-combined-c")])],
        py_denied("-Ic", "-c"),
    );
    let glued = format!("-c{}", py_code("python-attached-c"));
    case(
        "python-attached-c",
        py(),
        vec![exec("python3", &[&glued])],
        py_denied(&glued, "-c"),
    );
    let py_link = sc.bin.join("py");
    case(
        "python-through-symlink",
        py(),
        vec![exec(
            s(&py_link),
            &["-c", &py_code("python-through-symlink")],
        )],
        py_denied("-c", "-c"),
    );
    // `find DIR -maxdepth 0 <action>`, each action creating the marker `@`.
    for (name, action) in [
        ("find-exec", &["-exec", "touch", "@", ";"][..]),
        ("find-execdir", &["-execdir", "touch", "@", ";"][..]),
        ("find-fprint", &["-fprint", "@"][..]),
    ] {
        let marker = m(name);
        let mut args = vec![s(&sc.grant), "-maxdepth", "0"];
        args.extend(
            action
                .iter()
                .map(|a| if *a == "@" { marker.as_str() } else { a }),
        );
        case(
            name,
            Policy::builder().allow_program_with("find", find_rules()),
            vec![exec("find", &args)],
            denied(&format!("program \"find\": {}", flag(action[0], action[0]))),
        );
    }
    let touch_forms = || {
        let rules = ArgRules::default()
            .form(ArgForm::exact(["-m"]))
            .form(ArgForm::new([ArgPattern::glob(&format!(
                "{}/*",
                s(&sc.grant)
            ))
            .unwrap()]))
            .form(ArgForm::new([
                ArgPattern::regex("[a-z-]+\\.marker").unwrap()
            ]));
        Policy::builder().allow_program_with("touch", rules)
    };
    let no_form = |args: &[&str]| {
        denied(&format!(
            "program \"touch\": arguments {args:?} match none of the 3 allowed forms"
        ))
    };
    // Each touch would create its marker (`@`), and matches no form.
    let climb = format!("{}/../glob-dotdot.marker", s(&sc.grant));
    for (name, args) in [
        ("no-matching-form", vec!["@"]),
        ("exact-form-extra-arg", vec!["-m", "@"]),
        ("glob-dotdot", vec![climb.as_str()]),
        ("regex-is-anchored", vec!["@"]),
    ] {
        let marker = m(name);
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "@" { marker.as_str() } else { a })
            .collect();
        case(
            name,
            touch_forms(),
            vec![exec("touch", &args)],
            no_form(&args),
        );
    }

    // The shell.
    case(
        "shell-not-granted",
        echo_only(),
        vec![shell(&format!("touch {}", m("shell-not-granted")))],
        denied("shell not granted (create-subprocess-shell is off)"),
    );

    // Working directories.
    let grant = || allow(&["touch"]).dir(&sc.grant, "/work");
    let outside = |cwd: &str| denied(&format!("cwd {cwd:?} is not inside a granted directory"));
    // A relative touch would land in the scratch root, outside the grant.
    case(
        "cwd-dotdot",
        grant(),
        vec![exec("touch", &[&m("cwd-dotdot")]).cwd("/work/..")],
        outside("/work/.."),
    );
    case(
        "cwd-outside-grants",
        grant(),
        vec![exec("touch", &[&m("cwd-outside-grants")]).cwd("/etc")],
        outside("/etc"),
    );
    case(
        "cwd-symlink-out",
        grant(),
        vec![exec("touch", &["cwd-symlink-out.marker"]).cwd("/work/out")],
        outside("/work/out"),
    );
    case(
        "cwd-relative-symlink-up",
        grant(),
        vec![exec("touch", &["cwd-relative-symlink-up.marker"]).cwd("/work/up")],
        outside("/work/up"),
    );
    case(
        "cwd-relative",
        grant(),
        vec![exec("touch", &[&m("cwd-relative")]).cwd("work")],
        outside("work"),
    );
    case(
        "cwd-prefix",
        grant(),
        vec![exec("touch", &[&m("cwd-prefix")]).cwd("/workx")],
        outside("/workx"),
    );
    case(
        "cwd-nul",
        grant(),
        vec![exec("touch", &[&m("cwd-nul")]).cwd("/work\0/..")],
        invalid("cwd contains a NUL byte"),
    );

    // Sizes and NUL bytes.
    let small = |max: usize| {
        allow(&["touch"]).update_limits(|l| {
            l.max_arg_bytes = Some(max);
            l.max_env_bytes = Some(max);
        })
    };
    // The marker's own path, spelled long: `ROOT/././.../oversize-args.marker`.
    let long = format!("{}{}/oversize-args.marker", s(&sc.root), "/.".repeat(150));
    // Checked before the program is resolved: it counts as one byte.
    let size = 1 + 1 + long.len() + 1;
    case(
        "oversize-args",
        small(256),
        vec![exec("touch", &[&long])],
        limit(&format!(
            "arguments take at least {size} bytes, over limits.max_arg_bytes (256)"
        )),
    );
    case(
        "oversize-env",
        small(256).allow_guest_env("BIG"),
        vec![exec("touch", &[&m("oversize-env")]).env("BIG", &"x".repeat(300))],
        limit("the guest's variables take 305 bytes, over limits.max_env_bytes (256)"),
    );
    case(
        "nul-in-argument",
        allow(&["touch"]),
        vec![exec("touch", &[&format!("{}\0x", m("nul-in-argument"))])],
        invalid("argument contains a NUL byte"),
    );
    case(
        "nul-in-program",
        allow(&["touch"]),
        vec![exec("touch\0", &[&m("nul-in-program")])],
        invalid("program contains a NUL byte"),
    );
    case(
        "nul-in-env-value",
        allow(&["touch"]).allow_guest_env("A"),
        vec![exec("touch", &[&m("nul-in-env-value")]).env("A", "b\0c")],
        invalid("environment variable contains a NUL byte"),
    );
    case(
        "empty-program",
        allow(&["touch"]),
        // Were an empty program to fall through to its first argument (as
        // `env` or a shell would), this would run touch.
        vec![exec("", &["touch", &m("empty-program")])],
        invalid("empty program name"),
    );

    // Spawning past each limit.
    let counted = |f: fn(&mut Limits)| allow(&["true", "touch", "sleep"]).update_limits(f);
    case(
        "past-max-spawns",
        counted(|l| l.max_spawns = Some(2)),
        vec![
            exec("true", &[]),
            exec("true", &[]),
            exec("touch", &[&m("past-max-spawns")]),
        ],
        limit("limits.max_spawns (2) reached"),
    );
    case(
        "past-max-live",
        counted(|l| l.max_live = Some(2)),
        vec![
            exec("sleep", &["100"]).keep(),
            exec("sleep", &["100"]).keep(),
            exec("touch", &[&m("past-max-live")]),
        ],
        limit("2 live processes, limits.max_live is 2"),
    );

    // Signals.
    case(
        "signal-not-allowed",
        // The host checks from /proc that the kept sleep still runs.
        allow(&["sleep", "true"]).allow_signals([Signal::Term]),
        vec![
            exec("sleep", &["100"]).keep(),
            on_kept("kill-kept", 0).then_check_alive(),
        ],
        "kill Err(Denied(\"signal kill not in allowed signals\")) then alive".to_string(),
    );
    cases.into_inner()
}

/// Runs corpus case number `i` in a scratch directory of its own; returns
/// its name and what went wrong (empty if it was refused and had no
/// effect).
fn run_case(i: usize) -> (&'static str, Vec<String>) {
    let sc = Scratch::new("policy-corpus");
    let case = corpus(&sc).swap_remove(i);
    let policy = case.policy.build().unwrap();
    let (lines, run) = probe(policy, &case.reqs);
    let last = lines.last().cloned().unwrap_or_default();
    let mut failures = Vec::new();
    if !last.starts_with(&case.expect) {
        failures.push(format!("wanted {}\n  got {last}\n{run}", case.expect));
    }
    if case.marker.exists() {
        failures.push("the marker was created".into());
    }
    if let Some(leak) = &case.leak {
        if run.stdout.contains(leak.as_str()) {
            failures.push(format!("the child got {leak}...\n{run}"));
        }
    }
    (case.name, failures)
}

/// Cases that show a real bypass on the code as it is (the attack works):
/// they stay in the corpus, and this test asserts they still get through,
/// so that it fails the day one is fixed and the case must move out of this
/// list. Each is issue 14's to fix.
const KNOWN_OPEN_BYPASSES: &[&str] = &[];

#[test]
fn bypass_corpus_is_refused_and_starts_nothing() {
    let n = corpus(&Scratch::new("policy-corpus")).len();
    assert!(n >= 40, "only {n} cases");
    let mut failures = Vec::new();
    let mut open = Vec::new();
    for i in 0..n {
        let (name, failed) = run_case(i);
        if KNOWN_OPEN_BYPASSES.contains(&name) {
            open.push(name);
            if failed.is_empty() {
                failures.push(format!(
                    "{name}: refused now; move it out of KNOWN_OPEN_BYPASSES"
                ));
            }
        } else if !failed.is_empty() {
            failures.push(format!("{name}: {}", failed.join("\n  ")));
        }
    }
    assert_eq!(open.len(), KNOWN_OPEN_BYPASSES.len(), "{open:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

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

/// (A dropped child stays live until it is reaped:
/// `held::a_dropped_child_is_live_until_reaped`.)
#[test]
fn the_live_count_drops_when_a_child_exits() {
    let policy = allow(&["sleep", "true"])
        .update_limits(|l| l.max_live = Some(1))
        .build()
        .unwrap();
    let reqs = [
        exec("sleep", &["100"]).keep(),
        exec("true", &[]),
        on_kept("kill-kept", 0),
        // Exited (the handle is still held): no longer live.
        exec("true", &[]),
    ];
    let (lines, run) = probe(policy, &reqs);
    assert_eq!(
        lines,
        [
            "kept 0",
            "Err(LimitExceeded(\"1 live processes, limits.max_live is 1\"))",
            "kill Ok(()) wait Ok(-9)",
            "rc=Ok(0)",
        ],
        "{run}"
    );
}

#[test]
fn a_child_past_its_timeout_gets_sigterm() {
    let policy = allow(&["sleep", "true"])
        .update_limits(|l| l.timeout = Some(Duration::from_millis(300)))
        .build()
        .unwrap();
    let reqs = [exec("sleep", &["100"]), exec("true", &[])];
    let (lines, run) = probe(policy, &reqs);
    assert_eq!(lines, ["rc=Ok(-15)", "rc=Ok(0)"], "{run}");
}

#[test]
fn a_child_ignoring_sigterm_is_killed_after_the_grace_period() {
    let policy = Policy::builder()
        .allow_shell("/bin/sh")
        .update_limits(|l| {
            l.timeout = Some(Duration::from_secs(1));
            l.kill_grace = Some(Duration::from_millis(200));
        })
        .build()
        .unwrap();
    // The shell ignores SIGTERM before anything else runs.
    let (lines, run) = probe(policy, &[shell("trap '' TERM; while :; do sleep 1; done")]);
    assert_eq!(lines, ["rc=Ok(-9)"], "{run}");
}

#[test]
fn communicate_past_its_cap_is_limit_exceeded_and_kills_the_child() {
    let policy = allow(&["yes", "head"])
        .update_limits(|l| l.communicate_bytes = Some(100_000))
        .build()
        .unwrap();
    let reqs = [
        exec("yes", &[]).pipe(),
        exec("head", &["-c", "1000", "/dev/zero"]).pipe(),
    ];
    let (lines, run) = probe(policy, &reqs);
    assert_eq!(
        lines[0],
        "communicate Err(LimitExceeded(\"communicate buffered more than 100000 bytes of output; the process was killed\")) wait Ok(-9)",
        "{run}"
    );
    assert!(lines[1].starts_with("rc=Some(0) out=Some("), "{run}");
}

#[test]
fn os_limits_are_set_in_the_child() {
    let policy = allow(&["cat"])
        .update_limits(|l| {
            l.os = OsLimits {
                cpu_secs: Some(7),
                address_space: Some(3 << 30),
                open_files: Some(33),
                processes: Some(44),
                no_new_privs: true,
            }
        })
        .build()
        .unwrap();
    let reqs = [
        exec("cat", &["/proc/self/limits"]).pipe(),
        exec("cat", &["/proc/self/status"]).pipe(),
    ];
    let (lines, run) = probe(policy, &reqs);
    let limits = &lines[0];
    for (name, value) in [
        ("Max cpu time", "7"),
        ("Max address space", &(3u64 << 30).to_string()),
        ("Max open files", "33"),
        ("Max processes", "44"),
    ] {
        let pattern = format!("{name}");
        let line = limits
            .split("\\n")
            .find(|l| l.starts_with(&pattern))
            .unwrap_or_else(|| panic!("no {name} in {run}"));
        let fields: Vec<&str> = line[name.len()..].split_whitespace().collect();
        assert_eq!(&fields[..2], [value, value], "{line}");
    }
    assert!(lines[1].contains("NoNewPrivs:\\t1"), "{run}");
}

#[test]
fn the_cpu_limit_stops_a_busy_child() {
    let policy = allow(&[PYTHON])
        .update_limits(|l| l.os.cpu_secs = Some(1))
        .build()
        .unwrap();
    let (lines, run) = probe(policy, &[exec(PYTHON, &["-c", "while True: pass"])]);
    // SIGXCPU at the soft limit (the hard limit is the same: SIGKILL next).
    assert!(lines[0] == "rc=Ok(-24)" || lines[0] == "rc=Ok(-9)", "{run}");
}

/// Whether the kernel has Landlock, asked of the kernel itself (not of
/// the code under test); where `scripts/test.sh` found it, a missing
/// Landlock fails the test instead of skipping it.
fn landlock_or_skip() -> bool {
    kernel_feature(
        "Landlock",
        kernel_landlock_abi() >= 1,
        "PROCGATE_EXPECT_LANDLOCK",
    )
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

/// Hooks that refuse any spawn with an argument `forbidden` and any
/// signal, and record what they saw.
#[derive(Clone, Default)]
struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl ProcgateHooks for Recorder {
    fn on_spawn(&self, plan: &SpawnPlan) -> Result<(), String> {
        self.0.lock().unwrap().push(format!(
            "spawn {} {:?} in {}",
            plan.program.display(),
            plan.args,
            plan.cwd.display()
        ));
        if plan.args.iter().any(|a| a == "forbidden") {
            return Err("the user said no".into());
        }
        Ok(())
    }

    fn on_signal(&self, _pid: u32, signal: Signal) -> Result<(), String> {
        self.0
            .lock()
            .unwrap()
            .push(format!("signal {}", signal.name()));
        Err("signals need a confirmation".into())
    }
}

#[test]
fn hooks_decide_after_the_policy_allows() {
    let sc = Scratch::new("hooks_decide_after_the_policy_allows");
    let marker = sc.marker("hook");
    let recorder = Recorder::default();
    let policy = allow(&["touch", "sleep"])
        .dir(&sc.grant, "/work")
        .build()
        .unwrap();
    let reqs = [
        exec("touch", &[s(&marker), "forbidden"]),
        exec("sh", &[]),
        exec("sleep", &["100"]).keep(),
        on_kept("kill-kept", 0),
    ];
    let args: Vec<&str> = reqs.iter().map(|r| r.0.as_str()).collect();
    let run = GuestRun::new("policy_probe", &args, policy)
        .hooks(recorder.clone())
        .run()
        .unwrap_or_else(|(e, run)| panic!("{e:?}\n{run}"));
    let lines = lines_of(&run);
    assert_eq!(lines[0], denied("hook refused: the user said no"), "{run}");
    assert_eq!(
        lines[1],
        denied("program \"sh\" not in allow list"),
        "{run}"
    );
    assert_eq!(lines[2], "kept 0", "{run}");
    assert!(
        lines[3].starts_with("kill Err(Denied(\"hook refused: signals need a confirmation\"))"),
        "{run}"
    );
    assert!(!marker.exists());
    let seen = recorder.0.lock().unwrap().clone();
    let grant = sc.grant.canonicalize().unwrap();
    assert_eq!(
        seen,
        [
            format!(
                "spawn /usr/bin/touch [{:?}, \"forbidden\"] in {}",
                s(&marker),
                grant.display()
            ),
            format!("spawn /usr/bin/sleep [\"100\"] in {}", grant.display()),
            "signal kill".to_string(),
        ]
    );
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
