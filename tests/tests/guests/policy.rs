//! The policy against a guest trying to get around it: a corpus of bypass
//! attempts (each must be refused and start nothing), and the limits,
//! sandbox and hooks at work.
//!
//! Every case runs the `policy_probe` guest with its own policy and
//! requests; each request that must be refused names a marker file the
//! program would create if it ran, and the marker must not exist after.

use procgate::hooks::ProcgateHooks;
use procgate::policy::{ArgForm, ArgPattern, ArgRules, Limits, OsLimits, PolicyBuilder, SpawnPlan};
use procgate::sandbox::{landlock_abi, LandlockMode, Sandbox};
use procgate::signals::Signal;
use procgate::Policy;
use procgate_tests::{allow, run_guest, scratch_dir, GuestRun, Run, PYTHON};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One request of the probe (see `tests/guests/src/bin/policy_probe.rs`).
#[derive(Clone)]
struct Req(String);

fn escape(s: &str) -> String {
    s.replace('\0', "\\0").replace('\n', "\\n")
}

fn exec(program: &str, args: &[&str]) -> Req {
    let mut text = format!("exec\nprogram={}", escape(program));
    for a in args {
        text += &format!("\narg={}", escape(a));
    }
    Req(text)
}

fn shell(cmd: &str) -> Req {
    Req(format!("shell\ncmd={}", escape(cmd)))
}

fn on_kept(op: &str, idx: usize) -> Req {
    Req(format!("{op}\nidx={idx}"))
}

impl Req {
    fn env(self, k: &str, v: &str) -> Req {
        Req(format!("{}\nenv={}={}", self.0, escape(k), escape(v)))
    }
    fn cwd(self, cwd: &str) -> Req {
        Req(format!("{}\ncwd={}", self.0, escape(cwd)))
    }
    fn pipe(self) -> Req {
        Req(format!("{}\npipe=1", self.0))
    }
    fn keep(self) -> Req {
        Req(format!("{}\nkeep=1", self.0))
    }
    fn kill(self) -> Req {
        Req(format!("{}\nkill=1", self.0))
    }
}

/// Runs the probe under `policy` and returns its output lines, without
/// the step numbers.
fn probe(policy: Policy, reqs: &[Req]) -> (Vec<String>, Run) {
    let args: Vec<&str> = reqs.iter().map(|r| r.0.as_str()).collect();
    let run = run_guest("policy_probe", &args, policy);
    run.assert_ok();
    (lines_of(&run), run)
}

fn lines_of(run: &Run) -> Vec<String> {
    run.lines()
        .iter()
        .map(|l| l.split_once(' ').map(|(_, r)| r).unwrap_or(l).to_string())
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A named bypass attempt: its policy, its requests, what the last one
/// must answer, and the marker that must not exist afterwards.
struct Case {
    name: &'static str,
    policy: PolicyBuilder,
    reqs: Vec<Req>,
    expect: String,
    marker: PathBuf,
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

/// The scratch layout the corpus uses.
struct Scratch {
    root: PathBuf,
    bin: PathBuf,
    grant: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        let root = scratch_dir("policy-corpus");
        let bin = root.join("bin");
        let grant = root.join("grant");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(grant.join("sub")).unwrap();
        let link = |target: &str, at: &Path| std::os::unix::fs::symlink(target, at).unwrap();
        link("/usr/bin/touch", &bin.join("evil"));
        link("/usr/bin/touch", &bin.join("echo"));
        link("/usr/bin/sort", &bin.join("mysort"));
        link(PYTHON, &bin.join("py"));
        // Inside the grant: ways out.
        link(s(&root), &grant.join("out"));
        link("../", &grant.join("up"));
        link("sub", &grant.join("in"));
        Scratch { root, bin, grant }
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
    let mut cases = Vec::new();
    let mut case = |name: &'static str, policy: PolicyBuilder, reqs: Vec<Req>, expect: String| {
        cases.push(Case {
            name,
            policy,
            reqs,
            expect,
            marker: sc.marker(name),
        })
    };
    let m = |name: &str| sc.marker(name).to_str().unwrap().to_string();
    let echo_only = || allow(&["echo"]);
    let not_allowed = |p: &str| denied(&format!("program {p:?} not in allow list"));
    let relative = |p: &str| {
        denied(&format!(
            "program {p:?} not in allow list (relative paths are never allowed)"
        ))
    };

    // Path tricks: each names `touch` (or a link to it) some other way.
    let evil = sc.bin.join("evil");
    let fake_echo = sc.bin.join("echo");
    for (name, program) in [
        ("name-not-allowed", "touch"),
        ("absolute-not-allowed", "/usr/bin/touch"),
        ("relative-dot", "./touch"),
        ("relative-dotdot", "../../usr/bin/touch"),
        ("name-with-slash", "bin/touch"),
        ("dotdot-inside-absolute", "/usr/bin/../bin/touch"),
        ("double-slashes", "//usr//bin//touch"),
        ("through-allowed-file", "/usr/bin/echo/../touch"),
        ("symlink-to-disallowed", s(&evil)),
        ("symlink-named-like-allowed", s(&fake_echo)),
    ] {
        let expect = if program.contains('/') && !program.starts_with('/') {
            relative(program)
        } else {
            not_allowed(program)
        };
        case(name, echo_only(), vec![exec(program, &[&m(name)])], expect);
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

    // Environment injection, with the guest allowed `pattern`.
    let bin = s(&sc.bin);
    for (name, pattern, var, value) in [
        ("path-injection", "*", "PATH", bin),
        ("ld-preload", "*", "LD_PRELOAD", "/tmp/evil.so"),
        ("ld-library-path", "*", "LD_LIBRARY_PATH", bin),
        (
            "ld-preload-named-by-glob",
            "LD_*",
            "LD_PRELOAD",
            "/tmp/x.so",
        ),
        (
            "ld-preload-named-exactly",
            "LD_PRELOAD",
            "LD_PRELOAD",
            "/tmp/x.so",
        ),
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
        case(
            name,
            echo_only().allow_guest_env(pattern),
            vec![exec("echo", &[&m(name)]).env(var, value)],
            denied(&format!("env {var} refused")),
        );
    }
    case(
        "env-outside-patterns",
        echo_only().allow_guest_env("APP_*"),
        vec![exec("echo", &[&m("env-outside-patterns")]).env("EVIL", "1")],
        denied("env EVIL not in guest-settable variables [\"APP_*\"]"),
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
        ("extra-dashes", "sort", "---output=@", "--output"),
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
            .form(ArgForm::exact(["--version"]))
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
        ("exact-form-extra-arg", vec!["--version", "@"]),
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
    let long = format!("{}{}", m("oversize-args"), "x".repeat(300));
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
        allow(&["touch"]).allow_guest_env("*"),
        vec![exec("touch", &[&m("nul-in-env-value")]).env("A", "b\0c")],
        invalid("environment variable contains a NUL byte"),
    );
    case(
        "empty-program",
        allow(&["touch"]),
        vec![exec("", &[&m("empty-program")])],
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
        allow(&["sleep", "touch"]).allow_signals([Signal::Term]),
        vec![exec("sleep", &["100"]).keep(), on_kept("kill-kept", 0)],
        "kill Err(Denied(\"signal kill not in allowed signals\"))".to_string(),
    );
    cases
}

#[test]
fn bypass_corpus_is_refused_and_starts_nothing() {
    let sc = Scratch::new();
    let cases = corpus(&sc);
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let _ = std::fs::remove_file(&case.marker);
        let policy = case.policy.build().unwrap();
        let (lines, run) = probe(policy, &case.reqs);
        let last = lines.last().cloned().unwrap_or_default();
        if !last.starts_with(&case.expect) {
            failures.push(format!(
                "{}: wanted {}\n  got {last}\n{run}",
                case.name, case.expect
            ));
        }
        if case.marker.exists() {
            failures.push(format!("{}: the marker was created", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn shell_metacharacters_passed_to_exec_stay_literal() {
    let dir = scratch_dir("policy-literal");
    let marker = dir.join("marker");
    let m = s(&marker);
    let policy = allow(&["echo"]).dir(&dir, "/work").build().unwrap();
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
    let sc = Scratch::new();
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
    let sc = Scratch::new();
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

#[test]
fn the_live_count_drops_when_a_child_exits_or_its_handle_goes() {
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
        exec("sleep", &["100"]).keep(),
        on_kept("drop-kept", 1),
        // Dropped: no longer live.
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
            "kept 1",
            "dropped true",
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

fn landlock_or_skip(test: &str) -> bool {
    if landlock_abi() == 0 {
        eprintln!("skipping {test}: this kernel lacks Landlock");
        return false;
    }
    true
}

#[test]
fn landlock_denies_writes_outside_the_grants() {
    if !landlock_or_skip("landlock_denies_writes_outside_the_grants") {
        return;
    }
    let sc = Scratch::new();
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
    if !landlock_or_skip("landlock_limits_what_a_granted_shell_can_execute") {
        return;
    }
    let sc = Scratch::new();
    // A program outside the sandbox's read/execute paths.
    let copy = sc.root.join("mytouch");
    std::fs::copy("/usr/bin/touch", &copy).unwrap();
    let marker = sc.grant.join("shell-exec.marker");
    let policy = Policy::builder()
        .allow_shell("/bin/sh")
        .dir(&sc.grant, "/work")
        .landlock(LandlockMode::BestEffort)
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
    let sc = Scratch::new();
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
    // `require` on a kernel without Landlock must refuse; with it, run.
    let sc = Scratch::new();
    let policy = allow(&["true"])
        .dir(&sc.grant, "/work")
        .sandbox(Sandbox {
            landlock: LandlockMode::Require,
            ..Sandbox::default()
        })
        .build()
        .unwrap();
    let (lines, run) = probe(policy, &[exec("true", &[])]);
    if landlock_abi() == 0 {
        assert_eq!(
            lines,
            [denied(
                "sandbox.landlock is \"require\" but this kernel lacks Landlock"
            )],
            "{run}"
        );
    } else {
        assert_eq!(lines, ["rc=Ok(0)"], "{run}");
    }
}

#[test]
fn signals_only_reach_the_guests_own_live_children() {
    // A process that is not the guest's: the guest has no way to name it.
    let mut stranger = std::process::Command::new("sleep")
        .arg("100")
        .spawn()
        .unwrap();
    let policy = allow(&["true"]).build().unwrap();
    // Its own child, after exit: process-exited, never a recycled pid.
    let (lines, run) = probe(policy, &[exec("true", &[]).kill()]);
    assert_eq!(lines, ["rc=Ok(0) kill Err(ProcessExited)"], "{run}");
    assert!(
        stranger.try_wait().unwrap().is_none(),
        "the stranger was hit"
    );
    stranger.kill().unwrap();
    stranger.wait().unwrap();
}
