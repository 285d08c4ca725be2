//! Children do not outlive their handle or their guest; nothing leaks.
//!
//! A child's end is checked from the host with [`Checkpoints`]: the guest
//! has the host see the child alive (a live descendant of the host), and,
//! where the point is that it ends before the guest does, gone while the
//! guest still runs.

host_tests_for!(lifetimes);

use procgate_tests::{allow, run_guest, scratch, wait_gone, Checkpoints, GuestRun, Run};

/// Runs the lifetimes guest's `args` under a policy allowing `programs`
/// (and `true`, for the checkpoints).
fn checked(args: &[&str], programs: &[&str]) -> (Run, Checkpoints) {
    let checkpoints = Checkpoints::default();
    let mut programs = programs.to_vec();
    programs.push("true");
    let run = GuestRun::new("lifetimes", args, allow(&programs).build().unwrap())
        .hooks(checkpoints.clone())
        .run()
        .unwrap_or_else(|(e, run)| panic!("lifetimes trapped: {e:?}\n{run}"));
    (run, checkpoints)
}

fn pid_of(run: &procgate_tests::Run) -> u32 {
    run.lines()[0]
        .strip_prefix("pid ")
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn dropping_an_unwaited_process_terms_kills_and_reaps_it_while_the_guest_runs() {
    let dir = scratch("lifetimes-drop");
    let marker = dir.path().join("term");
    let (run, _) = checked(&["drop", marker.to_str().unwrap()], &["sh"]);
    run.assert_ok();
    // Gone before the guest went on: SIGTERM (the trap wrote the file and
    // kept running), then SIGKILL, then reaped.
    assert_eq!(
        &run.lines()[1..],
        ["ready alive", "dropped, gone", "still serving 0"],
        "{run}"
    );
    assert_eq!(
        std::fs::read_to_string(&marker).ok().as_deref(),
        Some("term\n"),
        "the child never saw SIGTERM: {run}"
    );
}

#[test]
fn a_guest_that_exits_leaves_no_child() {
    let (run, checkpoints) = checked(&["exit"], &["sleep"]);
    assert_eq!(run.code, 3, "{run}");
    assert_eq!(run.lines()[1], "alive", "{run}");
    assert!(
        wait_gone(checkpoints.seen(pid_of(&run))),
        "the guest's child outlived it"
    );
}

#[test]
fn an_exited_child_keeps_its_pid_until_dropped_so_signals_cannot_hit_a_recycled_pid() {
    let (run, checkpoints) = checked(&["pinned"], &["cat"]);
    run.assert_ok();
    assert_eq!(
        &run.lines()[1..],
        [
            "alive",
            "rc 0",
            "state while held Z",
            "kill Err(ProcessExited)",
            "terminate Err(ProcessExited)"
        ],
        "{run}"
    );
    assert!(
        wait_gone(checkpoints.seen(pid_of(&run))),
        "the zombie was not reaped when the guest ended"
    );
}

#[test]
fn wait_returns_at_the_childs_exit_though_a_grandchild_holds_its_stdout() {
    let run = run_guest(
        "lifetimes",
        &["background"],
        allow(&["sh"]).build().unwrap(),
    );
    run.assert_ok();
    assert_eq!(run.lines(), ["line \"started\\n\"", "rc 0"], "{run}");
}

#[test]
fn writing_to_a_child_that_exited_is_a_stream_error_not_a_crash() {
    let run = run_guest(
        "lifetimes",
        &["write-after-exit", "64"],
        allow(&["true"]).build().unwrap(),
    );
    run.assert_ok();
    assert_eq!(
        run.lines(),
        [
            "rc 0",
            "write Err(Closed(\"the child closed its stdin or exited (broken pipe)\"))"
        ],
        "{run}"
    );
}

/// Fifty guests at once on one runtime, each with its own policy: their
/// exit codes and outputs.
async fn fifty(engine_runner: procgate::runner::Runner) -> Vec<(i32, i32, String)> {
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let runner = engine_runner.clone();
            tokio::spawn(async move {
                let programs: &[&str] = if i % 2 == 0 { &["sh", "echo"] } else { &["sh"] };
                let policy = allow(programs).build().unwrap();
                let out = wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(1 << 16);
                let mut wasi = wasmtime_wasi::WasiCtx::builder();
                wasi.stdout(out.clone()).args(&["lifetimes", "own"]);
                let code = runner
                    .run(wasi.build(), procgate::ProcgateCtx::new(policy))
                    .await
                    .unwrap();
                (i, code, String::from_utf8(out.contents().to_vec()).unwrap())
            })
        })
        .collect();
    let mut outputs = Vec::new();
    for t in tasks {
        outputs.push(t.await.unwrap());
    }
    outputs
}

#[test]
fn fifty_guests_at_once_each_with_its_own_policy_and_children() {
    let engine_runner = procgate_tests::runner("lifetimes");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // All fifty within two minutes, or the test fails (no hang).
    let outputs = rt.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(120), fifty(engine_runner))
            .await
            .expect("fifty guests did not end within 2 minutes")
    });
    for (i, code, out) in outputs {
        assert_eq!(code, 0, "guest {i}: {out}");
        let echo = if i % 2 == 0 {
            "echo Ok(Ok(0))".to_string()
        } else {
            "echo Err(Denied(\"program \\\"echo\\\" not in allow list\"))".to_string()
        };
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            ["mine true", echo.as_str()],
            "guest {i}"
        );
    }
}
