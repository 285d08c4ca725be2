//! The async hook: a hook that waits for its answer (a dialog, a service)
//! suspends only the guest that asked. On a one-thread runtime, a second
//! guest runs to completion while the first waits in the hook; the hook
//! answers only after that (an ordering, no timing).

use procgate::hooks::{Answer, Consult, HookFuture, ProcgateHooks};
use procgate::policy::SpawnPlan;
use procgate::runner::GuestLimits;
use procgate::wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use procgate::wasmtime_wasi::WasiCtx;
use procgate::{Policy, ProcgateCtx};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;

/// Answers the first ask once `answer` fires; says it was entered first.
struct Gate {
    entered: Mutex<Option<oneshot::Sender<String>>>,
    answer: Mutex<Option<oneshot::Receiver<()>>>,
}

impl ProcgateHooks for Gate {
    fn on_spawn_async<'a>(&'a self, plan: &'a SpawnPlan, consult: Consult) -> HookFuture<'a> {
        Box::pin(async move {
            if consult != Consult::Ask {
                return Answer::none();
            }
            let entered = self.entered.lock().unwrap().take();
            if let Some(tx) = entered {
                let _ = tx.send(plan.rule.clone());
            }
            let answer = self.answer.lock().unwrap().take();
            match answer {
                Some(rx) => match rx.await {
                    Ok(()) => Answer::allow(),
                    Err(_) => Answer::deny("the gate was dropped"),
                },
                None => Answer::deny("asked twice"),
            }
        })
    }
}

fn wasi(out: &MemoryOutputPipe, args: &[&str]) -> WasiCtx {
    let mut wasi = WasiCtx::builder();
    wasi.stdout(out.clone()).args(args);
    wasi.build()
}

/// What the one-thread runtime saw, in order.
#[derive(Debug)]
struct Seen {
    rule: String,
    b_code: i32,
    b_out: String,
    a_done_when_b_was: bool,
    a_code: i32,
    a_out: String,
}

#[test]
fn a_hook_that_waits_keeps_no_runtime_thread() {
    let runner = procgate_tests::runner("exec");
    let (done, seen) = std::sync::mpsc::channel();
    // The runtime's only thread is this one; the test waits with a deadline
    // from outside, so a host call that blocks it fails instead of hanging.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let seen = rt.block_on(async move {
            let (entered_tx, entered_rx) = oneshot::channel();
            let (answer_tx, answer_rx) = oneshot::channel();
            let gate = Gate {
                entered: Mutex::new(Some(entered_tx)),
                answer: Mutex::new(Some(answer_rx)),
            };
            let a_out = MemoryOutputPipe::new(1 << 20);
            let a_ctx = ProcgateCtx::new(Policy::builder().ask_program("echo").build().unwrap())
                .hooks(gate);
            let a_wasi = wasi(&a_out, &["exec", "echo"]);
            let a_runner = runner.clone();
            let a = tokio::spawn(async move {
                a_runner
                    .run_with(a_wasi, a_ctx, GuestLimits::default())
                    .await
            });
            // Guest A is now waiting in the hook.
            let rule = entered_rx.await.expect("the hook was asked");
            let b_out = MemoryOutputPipe::new(1 << 20);
            let b_ctx = ProcgateCtx::new(Policy::builder().allow_program("echo").build().unwrap());
            let b_code = runner
                .run_with(
                    wasi(&b_out, &["exec", "echo"]),
                    b_ctx,
                    GuestLimits::default(),
                )
                .await
                .expect("guest B");
            let a_done_when_b_was = a.is_finished();
            answer_tx
                .send(())
                .expect("guest A still waits for the answer");
            let a_code = a.await.expect("guest A's task").expect("guest A");
            let text = |p: &MemoryOutputPipe| String::from_utf8_lossy(&p.contents()).into_owned();
            Seen {
                rule,
                b_code,
                b_out: text(&b_out),
                a_done_when_b_was,
                a_code,
                a_out: text(&a_out),
            }
        });
        let _ = done.send(seen);
    });
    let seen = seen.recv_timeout(Duration::from_secs(120)).expect(
        "no result in 120 s: the waiting hook blocked the runtime's only thread, so the \
         second guest could not run and the answer never came",
    );
    assert_eq!(seen.rule, "programs.ask: \"echo\"", "{seen:?}");
    assert_eq!(seen.b_code, 0, "{seen:?}");
    assert!(seen.b_out.contains("stdout \"hello world\\n\""), "{seen:?}");
    assert!(!seen.a_done_when_b_was, "{seen:?}");
    assert_eq!(seen.a_code, 0, "{seen:?}");
    assert!(seen.a_out.contains("stdout \"hello world\\n\""), "{seen:?}");
}
