//! The pooled engine (`procgate::runner::guest_pool`), whose memory slots
//! pass from one guest to the next, keeps the promises of the on-demand
//! one: a guest never sees what a previous guest left in its memory, the
//! memory limit and the deadline hold, and a full pool refuses the next
//! guest with an error while the guests in it are unaffected.

host_tests_for!(pool_residue);

use procgate::runner::{
    engine_with, guest_pool, DeadlineExceeded, GuestLimits, MemoryExceeded, RunEnd, Runner,
};
use procgate::wasmtime::component::Component;
use procgate::wasmtime::{Config, Engine, PoolConcurrencyLimitError};
use procgate::wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use procgate::wasmtime_wasi::WasiCtx;
use procgate::ProcgateCtx;
use procgate_tests::{allow, guest_path};
use std::time::Duration;

/// Pages the writer fills and the reader grows: 4 MiB.
const PAGES: &str = "64";

/// An engine pooled for `guests` guests, and the `pool_residue` guest in it.
fn pooled(guests: u32) -> (Engine, Runner) {
    let mut config = Config::new();
    config.allocation_strategy(guest_pool(guests));
    let engine = engine_with(config).unwrap();
    let component = Component::from_file(&engine, guest_path("pool_residue")).unwrap();
    let runner = Runner::new(&engine, &component).unwrap();
    (engine, runner)
}

/// Runs `pool_residue` with `args` to its end (or its error), within a
/// minute; returns its stdout.
fn run(
    rt: &tokio::runtime::Runtime,
    runner: &Runner,
    args: &[&str],
    limits: GuestLimits,
) -> anyhow::Result<String> {
    let out = MemoryOutputPipe::new(1 << 16);
    let mut wasi = WasiCtx::builder();
    wasi.arg("pool_residue").args(args).stdout(out.clone());
    let ctx = ProcgateCtx::new(allow(&["sleep"]).build().unwrap());
    let code = rt.block_on(async {
        let run = runner.run_with(wasi.build(), ctx, limits);
        tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .expect("the guest did not end within a minute")
    })?;
    anyhow::ensure!(code == 0, "exit {code}");
    Ok(String::from_utf8_lossy(&out.contents()).into_owned())
}

#[test]
fn slot_reused_starts_clean() {
    let (engine, runner) = pooled(1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let none = GuestLimits::default();
    for round in 0..3 {
        run(&rt, &runner, &["write", PAGES], none).unwrap();
        let metrics = engine.pooling_allocator_metrics().unwrap();
        assert!(
            metrics.unused_warm_memories() >= 1,
            "round {round}: the writer's slot is not kept warm for reuse"
        );
        let out = run(&rt, &runner, &["read", PAGES], none)
            .unwrap_or_else(|e| panic!("round {round}: the reader failed in a used slot: {e:#}"));
        assert_eq!(
            out, "nonzero 0\nmark 0\n",
            "round {round}: the reader saw what the writer left in its slot"
        );
    }
}

#[test]
fn pooled_guest_keeps_its_memory_limit() {
    let (_engine, runner) = pooled(1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let limits = GuestLimits {
        max_memory: Some(2 << 20),
        ..GuestLimits::default()
    };
    // 4 MiB more than the guest starts with, against a 2 MiB limit.
    let err = run(&rt, &runner, &["write", PAGES], limits).unwrap_err();
    assert!(err.downcast_ref::<MemoryExceeded>().is_some(), "{err:?}");
    // The slot it leaves is clean for the next guest.
    let out = run(&rt, &runner, &["read", PAGES], GuestLimits::default()).unwrap();
    assert_eq!(out, "nonzero 0\nmark 0\n");
}

#[test]
fn pooled_guest_keeps_its_deadline() {
    let (_engine, runner) = pooled(1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let limits = GuestLimits {
        deadline: Some(Duration::from_millis(300)),
        ..GuestLimits::default()
    };
    // `sleep 30` outlives the deadline: the guest is stopped at it.
    let err = run(&rt, &runner, &["hold"], limits).unwrap_err();
    assert!(err.downcast_ref::<DeadlineExceeded>().is_some(), "{err:?}");
    // Its slot is free again.
    let out = run(&rt, &runner, &["read", "1"], GuestLimits::default()).unwrap();
    assert_eq!(out, "nonzero 0\nmark 0\n");
}

#[test]
fn full_pool_refuses_the_next_guest_and_keeps_the_first() {
    let (_engine, runner) = pooled(1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let held = MemoryOutputPipe::new(1 << 16);
    let holder = {
        let held = held.clone();
        let runner = runner.clone();
        let ctx = ProcgateCtx::new(allow(&["sleep"]).build().unwrap())
            .kill_grace(Duration::from_millis(100));
        let mut wasi = WasiCtx::builder();
        wasi.arg("pool_residue").arg("hold").stdout(held.clone());
        rt.spawn(async move {
            let stop = async { stopped.await.ok() };
            runner
                .run_until(wasi.build(), ctx, GuestLimits::default(), stop)
                .await
        })
    };
    // The holder is in the pool's only slot once it says so.
    let start = std::time::Instant::now();
    while held.contents().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the holder never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let err = run(&rt, &runner, &["read", "1"], GuestLimits::default()).unwrap_err();
    assert!(
        err.chain()
            .any(|e| e.downcast_ref::<PoolConcurrencyLimitError>().is_some()),
        "{err:?}"
    );
    assert!(!holder.is_finished(), "the refused guest ended the holder");
    stop.send(()).unwrap();
    let ended = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(60), holder).await })
        .expect("the holder did not stop")
        .unwrap()
        .unwrap();
    assert_eq!(ended, RunEnd::Cancelled(Some(())));
    // Its slot is free again.
    let out = run(&rt, &runner, &["read", "1"], GuestLimits::default()).unwrap();
    assert_eq!(out, "nonzero 0\nmark 0\n");
}
