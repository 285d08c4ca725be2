//! Guests in four languages, one table of cases: the same guest program
//! written in Rust (`tests/guests/src/bin/cases.rs`), Python, JavaScript
//! and C (`tests/cross_language/cases.{py,js,c}`, built by
//! `scripts/guests-other-languages.sh` with their pinned toolchains) runs
//! each case of [`CASES`] under the case's policy and must print exactly the
//! case's lines. Each language also runs the reference's three examples
//! (`examples/LANG`) under their policy files.

host_tests_for!(cases);

use procgate::policy::PolicyFile;
use procgate::runner::GuestLimits;
use procgate::Policy;
use procgate_tests::{other_language_guests, root, scratch, GuestRun, Run};
use std::process::Command;
use std::time::Duration;

/// One case: the guest's `argv[1]`, the policy it runs under, and the lines
/// every language's guest must print.
struct Case {
    name: &'static str,
    policy: fn() -> Policy,
    expected: &'static [&'static str],
}

fn allow(programs: &[&str]) -> Policy {
    programs
        .iter()
        .fold(Policy::builder(), |b, p| b.allow_program(*p))
        // /usr/bin/python3, never a shim on a tester's PATH.
        .search_path(["/usr/bin", "/bin"])
        .build()
        .unwrap()
}

fn shell() -> Policy {
    Policy::builder().allow_shell("/bin/sh").build().unwrap()
}

/// The cases. `gather` also gets the path of a FIFO in `argv[2]`.
const CASES: &[Case] = &[
    // exec with output
    Case {
        name: "exec",
        policy: || allow(&["echo"]),
        expected: &["stdout: hello from exec\\n", "returncode: 0"],
    },
    // shell denied, then granted, by policy
    Case {
        name: "shell",
        policy: || allow(&["echo"]),
        expected: &["denied: shell not granted (create-subprocess-shell is off)"],
    },
    Case {
        name: "shell",
        policy: shell,
        expected: &["stdout: hello from the shell\\n", "returncode: 0"],
    },
    // a denied program, as the language's native error (Python: a
    // PermissionError subclass; JS: an Error subclass; C: PG_DENIED;
    // Rust: Error::Denied)
    Case {
        name: "denied",
        policy: || allow(&["echo"]),
        expected: &["denied: program \"cat\" not in allow list"],
    },
    // communicate with input
    Case {
        name: "communicate",
        policy: || allow(&["cat"]),
        expected: &["stdout: one\\ntwo\\n", "returncode: 0"],
    },
    // readline, line by line as a child writes them
    Case {
        name: "readline",
        policy: || allow(&["python3"]),
        expected: &[
            "line: alpha\\n",
            "line: beta\\n",
            "line: gamma\\n",
            "eof",
            "returncode: 0",
        ],
    },
    // kill: returncode -9, then signalling the exited process fails
    // (Python's ProcessLookupError)
    Case {
        name: "kill",
        policy: || allow(&["sleep"]),
        expected: &["returncode: -9", "kill after exit: process exited"],
    },
    // two processes at once (gather): the first writes a FIFO the second
    // reads, so neither can finish unless both run at the same time and the
    // guest waits for both at once
    Case {
        name: "gather",
        policy: shell,
        expected: &[
            "[0] returncode 0: a done\\n",
            "[1] returncode 0: b got ping\\n",
        ],
    },
];

/// A deadlocked guest fails its case instead of hanging the test.
const DEADLINE: Duration = Duration::from_secs(60);

/// The guest of one language.
#[derive(Clone, Copy)]
enum Lang {
    Rust,
    Python,
    Js,
    C,
}

impl Lang {
    fn name(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Js => "js",
            Lang::C => "c",
        }
    }

    fn run(self, program: &str, args: &[&str], policy: Policy) -> Run {
        let run = match self {
            Lang::Rust => GuestRun::new("cases", args, policy),
            _ => {
                let dir = other_language_guests(self.name());
                GuestRun::component(&dir.join(format!("{program}.wasm")), args, policy)
            }
        };
        run.limits(GuestLimits {
            deadline: Some(DEADLINE),
            max_memory: None,
        })
        .run()
        .unwrap_or_else(|(e, run)| Run {
            code: -1,
            stderr: format!("{}\ntrapped: {e:?}", run.stderr),
            ..run
        })
    }
}

/// Runs every case against `lang`'s guest; reports all mismatches at once.
fn check_cases(lang: Lang) {
    let mut failures = Vec::new();
    for case in CASES {
        let dir = scratch(&format!("languages-{}-{}", lang.name(), case.name));
        let fifo = dir.path().join("fifo");
        let fifo = fifo.to_str().unwrap();
        let mut args = vec![case.name];
        if case.name == "gather" {
            let made = Command::new("mkfifo").arg(fifo).status().unwrap();
            assert!(made.success(), "mkfifo {fifo}");
            args.push(fifo);
        }
        let run = lang.run("cases", &args, (case.policy)());
        if run.code != 0 || run.lines() != case.expected {
            failures.push(format!(
                "case {} ({}): expected exit 0 and {:#?}\n{run}",
                case.name,
                lang.name(),
                case.expected
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// What GNU ls says on stderr for `ls /zzz`.
const LS_ZZZ_STDERR: &str = "ls: cannot access '/zzz': No such file or directory";

/// The reference's three examples in `examples/LANG`, each under its policy
/// file, print what the reference's do.
fn check_examples(lang: Lang) {
    let dir = root().join("examples").join(lang.name());
    let policy = |name: &str| {
        let path = dir.join(format!("{name}.toml"));
        PolicyFile::load(&path)
            .unwrap()
            .into_builder(path.parent().unwrap())
            .build()
            .unwrap()
    };

    let run = lang.run("shell", &[], policy("shell"));
    // GNU ls exits 2 here; the reference's BSD ls exits 1. Then what ls
    // wrote on its stderr, captured and printed by the guest.
    assert_eq!(run.code, 0, "shell example:\n{run}");
    assert_eq!(
        run.lines(),
        ["['ls /zzz' exited with 2]", "[stderr]", LS_ZZZ_STDERR, ""],
        "{run}"
    );

    let run = lang.run("gather", &[], policy("gather"));
    assert_eq!(run.code, 0, "gather example:\n{run}");
    assert!(
        run.stdout.contains(&format!(
            "['ls /zzz' exited with 2]\n[stderr]\n{LS_ZZZ_STDERR}\n"
        )),
        "{run}"
    );
    assert!(
        run.stdout
            .contains("['sleep 1; echo \"hello\"' exited with 0]\n[stdout]\nhello\n"),
        "{run}"
    );

    let run = lang.run("date", &[], policy("date"));
    assert_eq!(run.code, 0, "date example:\n{run}");
    let date = run
        .stdout
        .strip_prefix("Current date: ")
        .unwrap_or_else(|| panic!("{run}"));
    // `datetime.now()`: 2026-11-25 20:01:02.345678
    assert!(date.len() >= 19 && date.as_bytes()[4] == b'-', "{run}");
}

#[test]
fn rust() {
    check_cases(Lang::Rust);
}

#[test]
fn python() {
    check_cases(Lang::Python);
    check_examples(Lang::Python);
    // The examples are the documentation's code as written: plain
    // `import asyncio`, nothing of procgate.
    for name in ["shell", "gather", "date"] {
        let path = root().join(format!("examples/python/{name}.py"));
        let source = std::fs::read_to_string(&path).unwrap();
        assert!(
            source.starts_with("import asyncio\n") && !source.contains("procgate"),
            "{} must be the documentation's example unchanged",
            path.display()
        );
    }
}

#[test]
fn javascript() {
    check_cases(Lang::Js);
    check_examples(Lang::Js);
}

#[test]
fn c() {
    check_cases(Lang::C);
    check_examples(Lang::C);
}

/// Runs case `args[0]` of the Python guest `guests/python/tests/stdlib.py`
/// (the standard library's `subprocess` and `asyncio`, no procgate import)
/// under `policy`.
fn python_stdlib(args: &[&str], policy: Policy) -> Run {
    Lang::Python.run("stdlib", args, policy)
}

/// `subprocess` unchanged in a Python guest: each case's exact lines and
/// exit status; `sys.exit(n)`, `exit(n)`, `sys.exit("text")` and an
/// uncaught exception end the guest with CPython's status.
#[test]
fn python_stdlib_unchanged() {
    let programs = ["cat", "echo", "false", "true", "sleep", "tr"];
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["text"],
            &["stdout: 'one\\ntwo\\n'", "type: CompletedProcess"],
        ),
        (
            &["check"],
            &["b'42\\n'", "CalledProcessError: 1", "call: 0"],
        ),
        (
            &["timeout"],
            &[
                "TimeoutExpired: ['sleep', '30']",
                "communicate: TimeoutExpired",
                "killed: -9",
            ],
        ),
        (
            &["popen"],
            &[
                "poll while running: None",
                "read: 'through the pipe\\n'",
                "returncode: 0",
                "pipeline: b'PIPED\\n' 0",
                "terminated: -15",
                "signal after exit: ignored",
            ],
        ),
        (
            &["refused"],
            &[
                "preexec_fn: not offered to a procgate guest: preexec_fn (no guest code runs in the child: the host starts it)",
                "pass_fds: not offered to a procgate guest: pass_fds (the guest has no descriptors to give a child)",
                "close_fds: not offered to a procgate guest: close_fds=False (the child gets only its three standard streams)",
                "user: not offered to a procgate guest: user/group/extra_groups (the host's policy decides who the child runs as)",
            ],
        ),
        (
            &["denied"],
            &["denied: program \"rm\" not in allow list"],
        ),
        (
            &["asyncio"],
            &[
                "stdout: b'async\\n' 0",
                "classes: asyncio.subprocess.Process asyncio.streams",
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (args, expected) in cases {
        let policy = procgate_tests::allow(&programs)
            .allow_shell("/bin/sh")
            .build()
            .unwrap();
        let run = python_stdlib(args, policy);
        if run.code != 0 || run.lines() != *expected {
            failures.push(format!(
                "case {args:?}: expected exit 0 and {expected:#?}\n{run}"
            ));
        }
    }
    // Exit statuses, as `python3 program.py` ends.
    let statuses: &[(&[&str], i32, &str)] = &[
        (&["exit", "3"], 3, ""),
        (&["exit", "0"], 0, ""),
        (&["exit", "258"], 2, ""),
        (&["exit-builtin", "7"], 7, ""),
        (&["exit-text"], 1, "bad input\n"),
    ];
    for (args, code, stderr) in statuses {
        let run = python_stdlib(args, procgate_tests::allow(&[]).build().unwrap());
        if run.code != *code || run.stderr != *stderr || !run.stdout.is_empty() {
            failures.push(format!(
                "case {args:?}: expected exit {code}, stderr {stderr:?}\n{run}"
            ));
        }
    }
    let run = python_stdlib(&["raise"], procgate_tests::allow(&[]).build().unwrap());
    if run.code != 1
        || !run
            .stderr
            .ends_with("ZeroDivisionError: division by zero\n")
    {
        failures.push(format!(
            "case raise: expected exit 1 and the traceback\n{run}"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The example, `subprocess.run(["git", "status"],
/// capture_output=True, text=True)`, in a guest whose child runs in a
/// fresh git repository.
#[test]
fn python_subprocess_run_git_status() {
    let repo = scratch("python-git-status");
    let init = Command::new("git")
        .args(["init", "-q", "-b", "main"])
        .arg(repo.path())
        .status()
        .unwrap();
    assert!(init.success(), "git init");
    let dir = repo.path().to_str().unwrap();
    let policy = procgate_tests::allow(&["git"])
        .dir(dir, dir)
        .build()
        .unwrap();
    let run = python_stdlib(&["git"], policy);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.lines(), ["returncode: 0", "branch line: True"], "{run}");
}
