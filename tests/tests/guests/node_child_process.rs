//! Node's `node:child_process` in a JavaScript guest
//! (`guests/js/node/child_process.js`): `tests/js/node_child_process.js`, a
//! program written as Node code is written (it imports `node:child_process`,
//! exports nothing, uses `process` and top-level await), runs each case
//! against real processes and must print exactly the case's lines and end
//! with the case's exit status. The cases follow what Node's own
//! `test/parallel/test-child-process-*` tests check (named in the guest);
//! the tests are written anew. The C guest's exit status is here too
//! (`tests/c/exit_status.c`): issue 17 part 6.

use procgate::policy::PolicyBuilder;
use procgate::runner::GuestLimits;
use procgate::signals::Signal;
use procgate::Policy;
use procgate_tests::{other_language_guests, scratch, GuestRun, Run};
use std::time::Duration;

/// A guest that hangs (a child nobody ends, a lost event) fails its case
/// at this deadline instead of hanging the suite.
const DEADLINE: Duration = Duration::from_secs(60);

/// Every program the cases run, and the shell.
fn programs() -> PolicyBuilder {
    [
        "sh",
        "sleep",
        "echo",
        "yes",
        "cat",
        "printf",
        "sort",
        // allowed but on no directory of the search path: ENOENT
        "procgate-no-such-program",
    ]
    .iter()
    .fold(Policy::builder(), |b, p| b.allow_program(*p))
    .allow_shell("/bin/sh")
    .search_path(["/usr/bin", "/bin"])
}

fn all() -> Policy {
    programs().build().unwrap()
}

fn echo_only() -> Policy {
    Policy::builder()
        .allow_program("echo")
        .search_path(["/usr/bin", "/bin"])
        .build()
        .unwrap()
}

fn sigkill_only() -> Policy {
    programs().allow_signals([Signal::Kill]).build().unwrap()
}

fn run(program: &str, args: &[&str], policy: Policy) -> Run {
    let dir = other_language_guests(if program.ends_with(".c") { "c" } else { "js" });
    let name = program.trim_end_matches(".c");
    GuestRun::component(&dir.join(format!("{name}.wasm")), args, policy)
        .limits(GuestLimits {
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

/// One case of `tests/js/node_child_process.js`: its name, its policy, the
/// guest's exit status, its stdout lines, a line its stderr must hold, and
/// a line of stdout that a child wrote straight to it (`stdio: 'inherit'`),
/// which may come anywhere among the guest's own.
struct Case {
    name: &'static str,
    policy: fn() -> Policy,
    code: i32,
    expected: &'static [&'static str],
    stderr: Option<&'static str>,
    inherited: Option<&'static str>,
}

const fn case(name: &'static str, expected: &'static [&'static str]) -> Case {
    Case {
        name,
        policy: all,
        code: 0,
        expected,
        stderr: None,
        inherited: None,
    }
}

const CASES: &[Case] = &[
    case(
        "events",
        &[
            "pid is a number: true",
            "stdout: \"onetwo\"",
            "first: spawn",
            "last: close 7 null",
            "exit before end: true",
            "end before close: true",
            "exitCode: 7 signalCode: null",
        ],
    ),
    case(
        "kill",
        &[
            "kill: true",
            "exit: null SIGTERM",
            "killed: true signalCode: SIGTERM exitCode: null",
            "kill after exit: false",
        ],
    ),
    Case {
        policy: sigkill_only,
        ..case(
            "kill-denied",
            &[
                "kill SIGINT: false",
                "error: EPERM kill",
                "kill 9: true",
                "exit: null SIGKILL",
            ],
        )
    },
    case(
        "enoent",
        &[
            "pid: undefined",
            "error: ENOENT -2 \"spawn procgate-no-such-program\" \"procgate-no-such-program\" [\"a\",\"b\"]",
            "message: spawn procgate-no-such-program ENOENT",
            "close: -2 null",
        ],
    ),
    Case {
        policy: echo_only,
        ..case(
            "denied",
            &[
                "error: EACCES -13 \"spawn cat\" procgate=denied",
                "message: spawn cat EACCES (denied by policy: program \"cat\" not in allow list)",
                "execFile rejected: EACCES program \"cat\" not in allow list",
            ],
        )
    },
    Case {
        policy: echo_only,
        code: 1,
        stderr: Some(
            "Uncaught Error: spawn cat EACCES (denied by policy: program \"cat\" not in allow list)",
        ),
        ..case("unhandled-error", &["spawned"])
    },
    case(
        "exec",
        &[
            "ok: null \"out\\n\" \"err\\n\"",
            "failed: code=3 killed=false signal=null cmd=\"echo out; echo err >&2; exit 3\"",
            "message: \"Command failed: echo out; echo err >&2; exit 3\\nerr\\n\"",
            "output: \"out\\n\" \"err\\n\"",
            "promise: \"promised\\n\" \"\"",
            "rejected: code=2 stdout=\"partial\\n\" stderr=\"\"",
        ],
    ),
    case(
        "execfile",
        &["execFile: null \"$HOME a  b\\n\"", "buffer: true 6869"],
    ),
    case(
        "timeout",
        &[
            "timeout: killed=true signal=SIGKILL code=null cmd=\"sleep 60\"",
            "output: \"\" \"\"",
        ],
    ),
    case(
        "maxbuffer",
        &[
            "error: RangeError ERR_CHILD_PROCESS_STDIO_MAXBUFFER \"stdout maxBuffer length exceeded\"",
            "stdout: \"y\\ny\\ny\\ny\\ny\\n\" (10)",
            "child: killed=true signalCode=SIGTERM",
        ],
    ),
    case(
        "stdin",
        &[
            "write callback",
            "stdin finish",
            "stdout: \"one\\ntwo\\nthree\\n\" chunk types: string",
            "close: 0",
        ],
    ),
    Case {
        stderr: Some("to-stderr"),
        inherited: Some("inherited"),
        ..case(
            "stdio",
            &[
                "inherit streams: null null null",
                "ignore: close 0 stdout null",
                "mixed: stdout \"to-stdout\\n\" stderr stream null",
            ],
        )
    },
    case("pipe", &["sorted: \"c\\nb\\na\\n\""]),
    case(
        "sync",
        &[
            "execFileSync: \"sync\\n\"",
            "spawnSync: status=0 signal=null stdout=\"piped in\"",
            "spawnSync exit: 5",
            "execSync threw: status=2 \"Command failed: exit 2\"",
            "spawnSync missing: ENOENT",
        ],
    ),
    case(
        "deno",
        &[
            "deno: code=4 success=false signal=null",
            "deno output: true \"out\\n\" \"err\\n\"",
            "deno killed: code=137 success=false signal=SIGKILL",
            "deno not piped: TypeError: stdout is not piped",
        ],
    ),
    case(
        "timers",
        &[
            "ticked while the child ran: true",
            "exit: null SIGTERM",
            "a later timer still fires",
        ],
    ),
    Case {
        code: 3,
        ..case("exit-code", &["child exited 3"])
    },
    Case {
        code: 42,
        ..case("exit", &["before exit"])
    },
    case("unref", &["unref: pid number"]),
];

#[test]
fn node_child_process_cases() {
    let mut failures = Vec::new();
    for case in CASES {
        let run = run("node_child_process", &[case.name], (case.policy)());
        let stderr_ok = case
            .stderr
            .is_none_or(|line| run.stderr.lines().any(|l| l == line));
        let mut lines = run.lines();
        let inherited_ok = case.inherited.is_none_or(|line| {
            let at = lines.iter().position(|l| *l == line);
            at.map(|i| lines.remove(i)).is_some()
        });
        if run.code != case.code || lines != case.expected || !stderr_ok || !inherited_ok {
            failures.push(format!(
                "case {}: expected exit {}, {:#?} and on stderr {:?}\n{run}",
                case.name, case.code, case.expected, case.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A CommonJS-style Node program (`tests/js/node_require.js`): `require`
/// of Node's modules, `process.stdout.write`, a child's stdout piped into
/// `process.stdout`, the exit status from `process.exitCode`.
#[test]
fn node_require_style_program() {
    let run = run("node_require", &[], all());
    assert_eq!(run.code, 5, "{run}");
    assert_eq!(
        run.lines(),
        [
            "EventEmitter: function true",
            "promisify: function",
            "execFile: from require",
            "piped to stdout",
            "close 0",
        ],
        "{run}"
    );
}

/// `cwd` inside a directory the policy grants, `env` a variable it allows.
#[test]
fn node_child_process_cwd_and_env() {
    let dir = scratch("node-child-process-options");
    let host = dir.path().to_str().unwrap();
    let policy = programs()
        .dir(host, "/work")
        .allow_guest_env("GREETING")
        .build()
        .unwrap();
    let run = run("node_child_process", &["options", "/work"], policy);
    let expected = [
        format!("cwd and env: \"{host}\\nhello from env\\n\""),
        "shell: \"42\\n\" spawnargs: [\"/bin/sh\",\"-c\",\"echo $((6 * 7))\"]".to_string(),
    ];
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.lines(), expected, "{run}");
}

/// Issue 17 part 6: a C guest ends with its real exit status, through
/// `wasi:cli/exit.exit-with-code` (`guests/c/start.c`): 3 returned from
/// `main`; `exit(n)` from below `main`, stdio flushed first; the low 8 bits
/// of a larger status, as POSIX keeps them.
#[test]
fn c_guest_exit_status() {
    for (args, code, stdout) in [
        (&[][..], 3, "returning 3\n"),
        (&["7"][..], 7, "leaving with 7"),
        (&["0"][..], 0, "leaving with 0"),
        (&["300"][..], 300 & 0xff, "leaving with 300"),
    ] {
        let run = run("exit_status.c", args, Policy::builder().build().unwrap());
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (code, stdout),
            "{args:?}\n{run}"
        );
    }
}
