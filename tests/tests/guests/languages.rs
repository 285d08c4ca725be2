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
