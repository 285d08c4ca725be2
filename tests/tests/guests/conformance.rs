//! CPython's own asyncio subprocess tests, restated for procgate: one test
//! per case of `tests/conformance/README.md`, named after the CPython test.
//! Each runs the `conformance` guest with real processes on both faces of
//! the guest library, under a policy that allows exactly what the case
//! uses.

host_tests_for!(conformance);

use procgate::policy::PolicyBuilder;
use procgate::Policy;
use procgate_tests::{
    allow, assert_both_faces, fd_lock, open_fds, root, run_guest, scratch, Checkpoints, GuestRun,
    Run, FACES,
};

/// `python3`, Debian's (`procgate_tests::PYTHON`), and nothing else.
fn python() -> PolicyBuilder {
    allow(&["python3"]).search_path(["/usr/bin"])
}

/// The shell and nothing else.
fn shell() -> PolicyBuilder {
    Policy::builder().allow_shell("/bin/sh")
}

fn run_case(face: &str, case: &str, args: &[&str], policy: PolicyBuilder) -> Run {
    let mut argv = vec![face, case];
    argv.extend(args);
    run_guest("conformance", &argv, policy.build().unwrap())
}

/// Runs `case` on both faces and checks what it printed.
fn check(case: &str, policy: fn() -> PolicyBuilder, expected: &[&str]) {
    assert_both_faces(expected, |face| run_case(face, case, &[], policy()));
}

#[test]
fn test_stdin_stdout() {
    check("stdin_stdout", python, &["data \"some data\"", "rc 0"]);
}

#[test]
fn test_communicate() {
    check(
        "communicate",
        python,
        &["stdout Some(\"some data\") stderr None", "rc Some(0)"],
    );
}

#[test]
fn test_shell() {
    check("shell", shell, &["rc 7"]);
}

#[test]
fn test_start_new_session() {
    check("start_new_session", shell, &["rc 8"]);
}

#[test]
fn test_kill() {
    check("kill", python, &["running None", "rc -9"]);
}

#[test]
fn test_terminate() {
    check("terminate", python, &["rc -15"]);
}

#[test]
fn test_send_signal() {
    check("send_signal", python, &["line \"sleeping\\n\"", "rc -1"]);
}

#[test]
fn test_communicate_ignore_broken_pipe() {
    check(
        "communicate_ignore_broken_pipe",
        python,
        &["Ok(None, None) rc Some(0)"],
    );
}

#[test]
fn test_stdin_not_inheritable() {
    check(
        "stdin_not_inheritable",
        python,
        &["stdout Some(\"3\\n\") stderr Some(\"\") rc Some(0)"],
    );
}

#[test]
fn test_empty_input() {
    check(
        "empty_input",
        python,
        &["stdout Some(\"0\\n\") stderr Some(\"\") rc Some(0)"],
    );
}

#[test]
fn test_devnull_input() {
    check(
        "devnull_input",
        python,
        &["stdout Some(\"0\\n\") stderr Some(\"\") rc Some(0)"],
    );
}

#[test]
fn test_devnull_output() {
    check(
        "devnull_output",
        python,
        &["stdout None stderr Some(\"\") rc Some(0)"],
    );
}

#[test]
fn test_devnull_error() {
    check(
        "devnull_error",
        python,
        &["stdout Some(\"3\\n\") stderr None rc Some(0)"],
    );
}

#[test]
fn test_close_kill_running() {
    for face in FACES {
        let run = GuestRun::new(
            "conformance",
            &[face, "close_kill_running"],
            python().allow_program("true").build().unwrap(),
        )
        .hooks(Checkpoints::default())
        .run()
        .unwrap_or_else(|(e, run)| panic!("{face}: {e:?}\n{run}"));
        run.assert_ok();
        assert_eq!(
            run.lines()[1..],
            ["before drop alive", "after drop gone"],
            "{face}: {run}"
        );
    }
}

#[test]
fn test_popen_error() {
    let dir = scratch("popen-error");
    let dir = dir.path();
    // A file that exists but cannot be executed: permission denied.
    let noexec = dir.join("noexec");
    std::fs::write(&noexec, "#!/bin/sh\nexit 0\n").unwrap();
    let noexec = noexec.to_str().unwrap();
    // A program that is allowed but does not exist: not found.
    let missing = dir.join("missing");
    let missing = missing.to_str().unwrap();
    let policy = || allow(&[noexec, missing]);
    let times = 100;
    // Other tests that open many descriptors wait meanwhile.
    let _lock = fd_lock();
    for face in FACES {
        // Once before counting: compiling the guest, the engine and the
        // first runtime may keep descriptors for good.
        run_case(face, "popen_error", &[noexec, missing, "1"], policy()).assert_ok();
        let before = open_fds();
        let run = run_case(
            face,
            "popen_error",
            &[noexec, missing, &times.to_string()],
            policy(),
        );
        // Descriptors of tests running meanwhile come and go; a leak stays.
        let bound = before + times / 2;
        let mut after = open_fds();
        for _ in 0..50 {
            if after < bound {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            after = open_fds();
        }
        run.assert_ok();
        assert_eq!(
            run.lines(),
            [
                format!("noexec PermissionDenied {times}"),
                format!("missing NotFound {times}")
            ],
            "{face}: {run}"
        );
        // Every failed spawn asked for three pipes: a leak would show as
        // hundreds of descriptors.
        assert!(
            after < bound,
            "{face}: {before} descriptors open before {times} failed spawns, {after} after"
        );
    }
}

#[test]
fn test_proc_exited() {
    check(
        "proc_exited",
        python,
        &[
            "rc 0",
            "send_signal Err(ProcessExited)",
            "terminate Err(ProcessExited)",
            "kill Err(ProcessExited)",
        ],
    );
}

/// Hooks that, when the guest signals its child `pid`, look in this (the
/// host) process's `/proc/self/fdinfo` for a pidfd of that child (a
/// descriptor whose info has `Pid:\t<pid>`), and record whether there is
/// one.
#[derive(Clone, Default)]
struct PidfdSeen(std::sync::Arc<std::sync::Mutex<Vec<bool>>>);

impl procgate::hooks::ProcgateHooks for PidfdSeen {
    fn on_signal(&self, pid: u32, _signal: procgate::signals::Signal) -> Result<(), String> {
        let wanted = format!("Pid:\t{pid}");
        let found = std::fs::read_dir("/proc/self/fdinfo")
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .any(|info| info.lines().any(|l| l == wanted));
        self.0.lock().unwrap().push(found);
        Ok(())
    }
}

#[test]
fn test_create_subprocess_with_pidfd() {
    // The host watches each child through a pidfd: one is open in the
    // host for the child while the guest signals it.
    for face in FACES {
        let seen = PidfdSeen::default();
        let run = GuestRun::new(
            "conformance",
            &[face, "terminate"],
            python().build().unwrap(),
        )
        .hooks(seen.clone())
        .run()
        .unwrap_or_else(|(e, run)| panic!("{face}: {e:?}\n{run}"));
        run.assert_ok();
        assert_eq!(run.lines(), ["rc -15"], "{face}: {run}");
        assert_eq!(
            *seen.0.lock().unwrap(),
            [true],
            "{face}: no pidfd of the child in the host"
        );
    }
    // And two guests at once, on two host threads (and two runtimes), one
    // on each face of the guest library.
    let runs: Vec<(&str, Run)> = std::thread::scope(|s| {
        let threads: Vec<_> = FACES
            .iter()
            .map(|face| s.spawn(move || (*face, run_case(face, "communicate", &[], python()))))
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    for (face, run) in runs {
        run.assert_ok();
        assert_eq!(
            run.lines(),
            ["stdout Some(\"some data\") stderr None", "rc Some(0)"],
            "{face}: {run}"
        );
    }
}

#[test]
fn the_conformance_table_is_in_step_with_the_tests() {
    let table = std::fs::read_to_string(root().join("tests/conformance/README.md")).unwrap();
    let mut tests = String::new();
    // The modules and their submodules (`policy/`, ...).
    let mut dirs = vec![root().join("tests/tests/guests")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                tests += &std::fs::read_to_string(path).unwrap();
            }
        }
    }
    // The last cell of every row names tests, in backquotes.
    let named: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| ---"))
        .filter_map(|l| l.trim_end_matches(" |").rsplit(" | ").next())
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .collect();
    for name in &named {
        assert!(
            tests.contains(&format!("fn {name}()")),
            "tests/conformance/README.md names {name}, which is no test"
        );
    }
    let this = std::fs::read_to_string(root().join("tests/tests/guests/conformance.rs")).unwrap();
    for line in this.lines() {
        if let Some(name) = line.strip_prefix("fn test_") {
            let name = format!("test_{}", name.trim_end_matches("() {"));
            assert!(
                named.contains(&name.as_str()),
                "{name} is not in tests/conformance/README.md"
            );
        }
    }
}
