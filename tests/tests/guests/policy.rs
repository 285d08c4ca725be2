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

use crate::probe::{exec, kill_kept, lines_of, probe, s, shell, Req, Step};
use procgate::hooks::ProcgateHooks;
use procgate::policy::{ArgForm, ArgPattern, ArgRules, Limits, OsLimits, PolicyBuilder, SpawnPlan};
use procgate::sandbox::{LandlockMode, Sandbox};
use procgate::signals::Signal;
use procgate::Policy;
use procgate_tests::{allow, kernel_feature, kernel_landlock_abi, scratch, GuestRun, PYTHON};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A named bypass attempt, one row of [`CORPUS`]: its policy (made for the
/// case's scratch layout), its requests, what the last one must answer,
/// and text its output must not hold (what the attack would print if it
/// worked). The last request would create the case's marker `{m}` if it
/// ran, which must not exist afterwards.
struct Case {
    name: &'static str,
    policy: fn(&Scratch) -> PolicyBuilder,
    steps: &'static [Step],
    expect: Expect,
    leak: Option<&'static str>,
}

impl Case {
    const fn new(
        name: &'static str,
        policy: fn(&Scratch) -> PolicyBuilder,
        steps: &'static [Step],
        expect: Expect,
    ) -> Case {
        Case {
            name,
            policy,
            steps,
            expect,
            leak: None,
        }
    }

    const fn leaking(self, text: &'static str) -> Case {
        Case {
            leak: Some(text),
            ..self
        }
    }
}

/// What the last request of a case must answer: the guest's error, or a
/// line of the probe as it starts.
#[derive(Clone, Copy)]
enum Expect {
    Denied(&'static str),
    Limit(&'static str),
    Invalid(&'static str),
    Line(&'static str),
}

impl Expect {
    /// The line the probe prints, from the filled-in text.
    fn line(self, fill: impl Fn(&str) -> String) -> String {
        match self {
            Denied(rule) => denied(&fill(rule)),
            Limit(text) => format!("Err(LimitExceeded({:?}))", fill(text)),
            Invalid(text) => format!("Err(InvalidArgument({:?}))", fill(text)),
            Line(text) => fill(text),
        }
    }
}

use Expect::{Denied, Invalid, Limit, Line};

fn denied(rule: &str) -> String {
    format!("Err(Denied({rule:?}))")
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

    /// `text` of a row of case `case` with its placeholders filled in (see
    /// [`CORPUS`]); braces around anything else stay as they are.
    fn fill(&self, case: &str, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out += &rest[..open];
            let Some(len) = rest[open..].find('}') else {
                break;
            };
            let inner = &rest[open + 1..open + len];
            let repeat = inner
                .rsplit_once('*')
                .and_then(|(t, n)| Some((t, n.parse::<usize>().ok()?)));
            match (inner, repeat) {
                ("m", _) => out += s(&self.marker(case)),
                ("root", _) => out += s(&self.root),
                ("bin", _) => out += s(&self.bin),
                ("grant", _) => out += s(&self.grant),
                ("up", _) => {
                    let depth = self.grant.canonicalize().unwrap().components().count() - 1;
                    out += &"../".repeat(depth)
                }
                (_, Some((text, n))) => out += &text.repeat(n),
                _ => out += &rest[open..=open + len],
            }
            rest = &rest[open + len + 1..];
        }
        out + rest
    }
}

fn forbid(flags: &[&str]) -> ArgRules {
    flags
        .iter()
        .fold(ArgRules::default(), |r, f| r.forbid_flag(*f))
}

// The policies of the corpus.

fn echo_only(_: &Scratch) -> PolicyBuilder {
    allow(&["echo"])
}

fn echo_in_grant(sc: &Scratch) -> PolicyBuilder {
    allow(&["echo"])
        .dir(&sc.grant, "/work")
        .default_cwd("/work")
}

/// `env` with any variable the guest sets: broad patterns load only with
/// `unsafe_env_globs`; the fixed refusals must hold even then.
fn env_any(_: &Scratch) -> PolicyBuilder {
    allow(&["env"]).allow_guest_env("*").unsafe_env_globs(true)
}

fn sort(_: &Scratch) -> PolicyBuilder {
    let rules = forbid(&["-o", "--output", "--compress-program"]);
    Policy::builder().allow_program_with("sort", rules)
}

fn python(_: &Scratch) -> PolicyBuilder {
    Policy::builder().allow_program_with("python3", forbid(&["-c", "-m"]))
}

fn find(_: &Scratch) -> PolicyBuilder {
    let rules = forbid(&[
        "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls",
    ]);
    Policy::builder().allow_program_with("find", rules)
}

/// `touch` with three argument forms: `-m` alone, one path in the grant,
/// one name ending in `.marker`.
fn touch_forms(sc: &Scratch) -> PolicyBuilder {
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
}

fn touch(_: &Scratch) -> PolicyBuilder {
    allow(&["touch"])
}

fn touch_in_grant(sc: &Scratch) -> PolicyBuilder {
    allow(&["touch"]).dir(&sc.grant, "/work")
}

fn touch_small(_: &Scratch) -> PolicyBuilder {
    allow(&["touch"]).update_limits(|l| {
        l.max_arg_bytes = Some(256);
        l.max_env_bytes = Some(256);
    })
}

fn counted(limit: fn(&mut Limits)) -> PolicyBuilder {
    allow(&["true", "touch", "sleep"]).update_limits(limit)
}

/// The corpus, one case a row: name, policy, requests, what the last
/// request answers. In the texts, `{m}` is the case's marker (a path in
/// the scratch root), `{root}`, `{bin}` and `{grant}` the directories of
/// the [`Scratch`] layout, `{up}` as many `../` as lead from the grant to
/// `/`, `{TEXT*N}` TEXT N times, and in the expected answer `{argv_bytes}`
/// the size the host counts for the last request's arguments before it
/// resolves the program (2, for the program and its NUL, plus each
/// argument and its NUL).
#[rustfmt::skip]
const CORPUS: &[Case] = &[
    // Path tricks: each names `touch` (or a link to it) some other way, one
    // that would find it if allowed: the relative names from the working
    // directory, the grant, which holds `touch` and `bin/touch`.
    Case::new("name-not-allowed", echo_in_grant, &[Step::exec("touch", &["{m}"])],
        Denied(r#"program "touch" not in allow list"#)),
    Case::new("absolute-not-allowed", echo_in_grant, &[Step::exec("/usr/bin/touch", &["{m}"])],
        Denied(r#"program "/usr/bin/touch" not in allow list"#)),
    Case::new("relative-dot", echo_in_grant, &[Step::exec("./touch", &["{m}"])],
        Denied(r#"program "./touch" not in allow list (relative paths are never allowed)"#)),
    Case::new("relative-dotdot", echo_in_grant, &[Step::exec("{up}usr/bin/touch", &["{m}"])],
        Denied(r#"program "{up}usr/bin/touch" not in allow list (relative paths are never allowed)"#)),
    Case::new("name-with-slash", echo_in_grant, &[Step::exec("bin/touch", &["{m}"])],
        Denied(r#"program "bin/touch" not in allow list (relative paths are never allowed)"#)),
    Case::new("dotdot-inside-absolute", echo_in_grant, &[Step::exec("/usr/bin/../bin/touch", &["{m}"])],
        Denied(r#"program "/usr/bin/../bin/touch" not in allow list"#)),
    Case::new("double-slashes", echo_in_grant, &[Step::exec("//usr//bin//touch", &["{m}"])],
        Denied(r#"program "//usr//bin//touch" not in allow list"#)),
    // Up from a directory named like the allowed program.
    Case::new("through-allowed-name", echo_in_grant, &[Step::exec("{root}/echo/../bin/evil", &["{m}"])],
        Denied(r#"program "{root}/echo/../bin/evil" not in allow list"#)),
    Case::new("symlink-to-disallowed", echo_in_grant, &[Step::exec("{bin}/evil", &["{m}"])],
        Denied(r#"program "{bin}/evil" not in allow list"#)),
    Case::new("symlink-named-like-allowed", echo_in_grant, &[Step::exec("{bin}/echo", &["{m}"])],
        Denied(r#"program "{bin}/echo" not in allow list"#)),
    Case::new("shell-program-by-exec", echo_only, &[Step::exec("sh", &["-c", "touch {m}"])],
        Denied(r#"program "sh" not in allow list"#)),

    // Environment injection: the child is `env`, which would print the
    // variable if it got it.
    Case::new("path-injection", env_any, &[Step::exec("env", &[]).env("PATH", "{bin}").pipe()],
        Denied("env PATH refused")).leaking("PATH="),
    Case::new("ld-preload", env_any, &[Step::exec("env", &[]).env("LD_PRELOAD", "/tmp/evil.so").pipe()],
        Denied("env LD_PRELOAD refused")).leaking("LD_PRELOAD="),
    Case::new("ld-library-path", env_any, &[Step::exec("env", &[]).env("LD_LIBRARY_PATH", "{bin}").pipe()],
        Denied("env LD_LIBRARY_PATH refused")).leaking("LD_LIBRARY_PATH="),
    Case::new("bash-env", env_any, &[Step::exec("env", &[]).env("BASH_ENV", "/tmp/rc").pipe()],
        Denied("env BASH_ENV refused")).leaking("BASH_ENV="),
    Case::new("exported-function", env_any, &[Step::exec("env", &[]).env("BASH_FUNC_echo%%", "() { touch x; }").pipe()],
        Denied("env BASH_FUNC_echo%% refused")).leaking("BASH_FUNC_echo%%="),
    Case::new("python-startup", env_any, &[Step::exec("env", &[]).env("PYTHONSTARTUP", "/tmp/x.py").pipe()],
        Denied("env PYTHONSTARTUP refused")).leaking("PYTHONSTARTUP="),
    Case::new("git-config-env", env_any, &[Step::exec("env", &[]).env("GIT_CONFIG_KEY_0", "core.pager").pipe()],
        Denied("env GIT_CONFIG_KEY_0 refused")).leaking("GIT_CONFIG_KEY_0="),
    Case::new("glibc-tunables", env_any, &[Step::exec("env", &[]).env("GLIBC_TUNABLES", "x").pipe()],
        Denied("env GLIBC_TUNABLES refused")).leaking("GLIBC_TUNABLES="),
    Case::new("env-outside-patterns", |_| allow(&["env"]).allow_guest_env("APP_*"),
        &[Step::exec("env", &[]).env("EVIL", "1").pipe()],
        Denied(r#"env EVIL not in guest-settable variables ["APP_*"]"#)).leaking("EVIL="),

    // Argument rules and their evasions: `sort --output` in every
    // spelling, by every name of sort.
    Case::new("long-flag-equals", sort, &[Step::exec("sort", &["--output={m}", "/dev/null"])],
        Denied(r#"program "sort": argument "--output={m}" carries forbidden flag "--output""#)),
    Case::new("long-flag-abbreviated", sort, &[Step::exec("sort", &["--outp={m}", "/dev/null"])],
        Denied(r#"program "sort": argument "--outp={m}" carries forbidden flag "--output""#)),
    Case::new("short-flag-attached", sort, &[Step::exec("sort", &["-o{m}", "/dev/null"])],
        Denied(r#"program "sort": argument "-o{m}" carries forbidden flag "-o""#)),
    Case::new("short-flags-combined", sort, &[Step::exec("sort", &["-uo{m}", "/dev/null"])],
        Denied(r#"program "sort": argument "-uo{m}" carries forbidden flag "-o""#)),
    Case::new("shortest-abbreviation", sort, &[Step::exec("sort", &["--o={m}", "/dev/null"])],
        Denied(r#"program "sort": argument "--o={m}" carries forbidden flag "--output""#)),
    Case::new("rules-by-absolute-path", sort, &[Step::exec("/usr/bin/sort", &["--output={m}", "/dev/null"])],
        Denied(r#"program "sort": argument "--output={m}" carries forbidden flag "--output""#)),
    Case::new("rules-through-symlink", sort, &[Step::exec("{bin}/mysort", &["--output={m}", "/dev/null"])],
        Denied(r#"program "sort": argument "--output={m}" carries forbidden flag "--output""#)),
    Case::new("long-flag-separate", sort, &[Step::exec("sort", &["--output", "{m}", "/dev/null"])],
        Denied(r#"program "sort": argument "--output" carries forbidden flag "--output""#)),
    Case::new("python-c", python, &[Step::exec("python3", &["-c", r#"open("{m}", 'w')"#])],
        Denied(r#"program "python3": argument "-c" carries forbidden flag "-c""#)),
    Case::new("python-combined-c", python, &[Step::exec("python3", &["-Ic", r#"open("{m}", 'w')"#])],
        Denied(r#"program "python3": argument "-Ic" carries forbidden flag "-c""#)),
    Case::new("python-attached-c", python, &[Step::exec("python3", &[r#"-copen("{m}", 'w')"#])],
        Denied(r#"program "python3": argument "-copen(\"{m}\", 'w')" carries forbidden flag "-c""#)),
    Case::new("python-through-symlink", python, &[Step::exec("{bin}/py", &["-c", r#"open("{m}", 'w')"#])],
        Denied(r#"program "python3": argument "-c" carries forbidden flag "-c""#)),
    // `find DIR -maxdepth 0 ACTION`, each action creating the marker.
    Case::new("find-exec", find, &[Step::exec("find", &["{grant}", "-maxdepth", "0", "-exec", "touch", "{m}", ";"])],
        Denied(r#"program "find": argument "-exec" carries forbidden flag "-exec""#)),
    Case::new("find-execdir", find, &[Step::exec("find", &["{grant}", "-maxdepth", "0", "-execdir", "touch", "{m}", ";"])],
        Denied(r#"program "find": argument "-execdir" carries forbidden flag "-execdir""#)),
    Case::new("find-fprint", find, &[Step::exec("find", &["{grant}", "-maxdepth", "0", "-fprint", "{m}"])],
        Denied(r#"program "find": argument "-fprint" carries forbidden flag "-fprint""#)),
    // Each touch would create its marker, and matches no form.
    Case::new("no-matching-form", touch_forms, &[Step::exec("touch", &["{m}"])],
        Denied(r#"program "touch": arguments ["{m}"] match none of the 3 allowed forms"#)),
    Case::new("exact-form-extra-arg", touch_forms, &[Step::exec("touch", &["-m", "{m}"])],
        Denied(r#"program "touch": arguments ["-m", "{m}"] match none of the 3 allowed forms"#)),
    Case::new("glob-dotdot", touch_forms, &[Step::exec("touch", &["{grant}/../glob-dotdot.marker"])],
        Denied(r#"program "touch": arguments ["{grant}/../glob-dotdot.marker"] match none of the 3 allowed forms"#)),
    Case::new("regex-is-anchored", touch_forms, &[Step::exec("touch", &["{m}"])],
        Denied(r#"program "touch": arguments ["{m}"] match none of the 3 allowed forms"#)),

    // The shell.
    Case::new("shell-not-granted", echo_only, &[Step::shell("touch {m}")],
        Denied("shell not granted (create-subprocess-shell is off)")),

    // Working directories. A relative touch would land in the scratch
    // root, outside the grant.
    Case::new("cwd-dotdot", touch_in_grant, &[Step::exec("touch", &["{m}"]).cwd("/work/..")],
        Denied(r#"cwd "/work/.." is not inside a granted directory"#)),
    Case::new("cwd-outside-grants", touch_in_grant, &[Step::exec("touch", &["{m}"]).cwd("/etc")],
        Denied(r#"cwd "/etc" is not inside a granted directory"#)),
    Case::new("cwd-symlink-out", touch_in_grant, &[Step::exec("touch", &["cwd-symlink-out.marker"]).cwd("/work/out")],
        Denied(r#"cwd "/work/out" is not inside a granted directory"#)),
    Case::new("cwd-relative-symlink-up", touch_in_grant, &[Step::exec("touch", &["cwd-relative-symlink-up.marker"]).cwd("/work/up")],
        Denied(r#"cwd "/work/up" is not inside a granted directory"#)),
    Case::new("cwd-relative", touch_in_grant, &[Step::exec("touch", &["{m}"]).cwd("work")],
        Denied(r#"cwd "work" is not inside a granted directory"#)),
    Case::new("cwd-prefix", touch_in_grant, &[Step::exec("touch", &["{m}"]).cwd("/workx")],
        Denied(r#"cwd "/workx" is not inside a granted directory"#)),
    Case::new("cwd-nul", touch_in_grant, &[Step::exec("touch", &["{m}"]).cwd("/work\0/..")],
        Invalid("cwd contains a NUL byte")),

    // Sizes and NUL bytes. The marker's own path, spelled long (checked
    // before the program is resolved).
    Case::new("oversize-args", touch_small, &[Step::exec("touch", &["{root}{/.*150}/oversize-args.marker"])],
        Limit("arguments take at least {argv_bytes} bytes, over limits.max_arg_bytes (256)")),
    Case::new("oversize-env", |sc| touch_small(sc).allow_guest_env("BIG"),
        &[Step::exec("touch", &["{m}"]).env("BIG", "{x*300}")],
        Limit("the guest's variables take 305 bytes, over limits.max_env_bytes (256)")),
    Case::new("nul-in-argument", touch, &[Step::exec("touch", &["{m}\0x"])],
        Invalid("argument contains a NUL byte")),
    Case::new("nul-in-program", touch, &[Step::exec("touch\0", &["{m}"])],
        Invalid("program contains a NUL byte")),
    Case::new("nul-in-env-value", |_| allow(&["touch"]).allow_guest_env("A"),
        &[Step::exec("touch", &["{m}"]).env("A", "b\0c")],
        Invalid("environment variable contains a NUL byte")),
    // Were an empty program to fall through to its first argument (as `env`
    // or a shell would), this would run touch.
    Case::new("empty-program", touch, &[Step::exec("", &["touch", "{m}"])],
        Invalid("empty program name")),

    // Spawning past each limit.
    Case::new("past-max-spawns", |_| counted(|l| l.max_spawns = Some(2)),
        &[Step::exec("true", &[]), Step::exec("true", &[]), Step::exec("touch", &["{m}"])],
        Limit("limits.max_spawns (2) reached")),
    Case::new("past-max-live", |_| counted(|l| l.max_live = Some(2)),
        &[Step::exec("sleep", &["100"]).keep(), Step::exec("sleep", &["100"]).keep(), Step::exec("touch", &["{m}"])],
        Limit("2 live processes, limits.max_live is 2")),

    // Signals. The host checks from /proc that the kept sleep still runs.
    Case::new("signal-not-allowed", |_| allow(&["sleep", "true"]).allow_signals([Signal::Term]),
        &[Step::exec("sleep", &["100"]).keep(), Step::kill_kept(0).then_check_alive()],
        Line(r#"kill Err(Denied("signal kill not in allowed signals")) then alive"#)),
];

/// Runs a corpus case in a scratch directory of its own; returns what
/// went wrong (nothing if it was refused and had no effect).
fn run_case(case: &Case) -> Vec<String> {
    let sc = Scratch::new("policy-corpus");
    let fill = |text: &str| sc.fill(case.name, text);
    let policy = (case.policy)(&sc).build().unwrap();
    let reqs: Vec<Req> = case.steps.iter().map(|step| step.req(fill)).collect();
    let (lines, run) = probe(policy, &reqs);
    let last = lines.last().cloned().unwrap_or_default();
    let last_args = case.steps.last().map_or(&[][..], Step::args);
    let argv_bytes = 2 + last_args.iter().map(|a| fill(a).len() + 1).sum::<usize>();
    let expect = case
        .expect
        .line(|text| fill(&text.replace("{argv_bytes}", &argv_bytes.to_string())));
    let mut failures = Vec::new();
    if !last.starts_with(&expect) {
        failures.push(format!("wanted {expect}\n  got {last}\n{run}"));
    }
    if sc.marker(case.name).exists() {
        failures.push("the marker was created".into());
    }
    if let Some(leak) = case.leak {
        if run.stdout.contains(leak) {
            failures.push(format!("the child got {leak}...\n{run}"));
        }
    }
    failures
}

/// Cases that show a real bypass on the code as it is (the attack works):
/// they stay in the corpus, and this test asserts they still get through,
/// so that it fails the day one is fixed and the case must move out of this
/// list. Each is issue 14's to fix.
const KNOWN_OPEN_BYPASSES: &[&str] = &[];

#[test]
fn bypass_corpus_is_refused_and_starts_nothing() {
    let n = CORPUS.len();
    assert_eq!(n, 56, "the corpus has {n} cases");
    let mut names: Vec<&str> = CORPUS.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), n, "two cases share a name (and a marker)");
    let mut failures = Vec::new();
    let mut open = Vec::new();
    for case in CORPUS {
        let (name, failed) = (case.name, run_case(case));
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
        kill_kept(0),
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
        let pattern = name.to_string();
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
        kill_kept(0),
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
