//! An embedder's own store data keeps procgate's guarantees: a guest run by
//! `Runner::<T>` (or `run_guarded`) in the embedder's type is stopped at its
//! deadline, and its child and grandchild are ended with it.

use procgate::runner::{engine, DeadlineExceeded, GuestData, GuestLimits, RunEnd, Runner};
use procgate::wasmtime::component::{Component, ResourceTable};
use procgate::wasmtime::StoreLimits;
use procgate::wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use procgate::wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use procgate::{ProcgateCtx, ProcgateCtxView, ProcgateView};
use procgate_tests::{allow, guest_path, wait_gone, Checkpoints};
use std::time::Duration;

/// An embedder's store data, with a field of its own.
struct Mine {
    name: &'static str,
    wasi: WasiCtx,
    procgate: ProcgateCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for Mine {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl ProcgateView for Mine {
    fn procgate(&mut self) -> ProcgateCtxView<'_> {
        ProcgateCtxView {
            ctx: &mut self.procgate,
            table: &mut self.table,
        }
    }
}

impl GuestData for Mine {
    fn store_limits(&mut self) -> &mut StoreLimits {
        &mut self.limits
    }
}

#[test]
fn the_embedders_own_store_data_keeps_the_deadline_and_ends_the_children() {
    let engine = engine().unwrap();
    let component = Component::from_file(&engine, guest_path("endings")).unwrap();
    let runner = Runner::<Mine>::link(&engine, &component).unwrap();
    let stdout = MemoryOutputPipe::new(1 << 20);
    let checkpoints = Checkpoints::default();
    let mut wasi = WasiCtx::builder();
    wasi.stdout(stdout.clone()).arg("endings").arg("spin");
    let policy = allow(&["sh", "true"]).build().unwrap();
    let mine = Mine {
        name: "spinner",
        wasi: wasi.build(),
        procgate: ProcgateCtx::new(policy)
            .kill_grace(Duration::from_millis(100))
            .hooks(checkpoints.clone()),
        table: procgate::resource_table(),
        limits: StoreLimits::default(),
    };
    assert_eq!(mine.name, "spinner");
    let limits = GuestLimits {
        deadline: Some(Duration::from_millis(300)),
        ..GuestLimits::default()
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let never = std::future::pending::<()>();
    let ended = rt.block_on(async {
        let run = runner.run_data_until(mine, limits, never);
        tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .expect("the deadline did not stop the guest")
    });
    let err = match ended {
        Ok(RunEnd::Exited(code)) => panic!("the spinning guest exited with {code}"),
        Ok(RunEnd::Cancelled(())) => unreachable!("never cancelled"),
        Err(err) => err,
    };
    assert!(err.downcast_ref::<DeadlineExceeded>().is_some(), "{err:?}");
    let out = String::from_utf8_lossy(&stdout.contents()).into_owned();
    let words: Vec<&str> = out.lines().next().unwrap_or("").split(' ').collect();
    let ["child", child, "grandchild", grandchild, "alive", "descendant"] = words[..] else {
        panic!("the guest said {out:?}");
    };
    for pid in [child, grandchild] {
        let pid: u32 = pid.parse().unwrap();
        assert!(
            wait_gone(checkpoints.seen(pid)),
            "process {pid} outlived its guest: {:?}",
            procgate_tests::proc_state(pid)
        );
    }
}
