//! The rows of the bypass corpus and the policies they run under.

use super::super::Scratch;
use super::Case;
use super::Expect::{Denied, Invalid, Limit, Line};
use crate::probe::{s, Step};
use procgate::policy::{ArgForm, ArgPattern, ArgRules, Limits, PolicyBuilder};
use procgate::signals::Signal;
use procgate::Policy;
use procgate_tests::allow;

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
pub(super) const CORPUS: &[Case] = &[
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
