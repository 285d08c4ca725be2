//! Probe: the host's CPU time per guest, by phase, for a guest that does
//! nothing (`bench-noop.wasm`, or the component given), so what wasmtime
//! and procgate cost per guest shows without any child process.
//!
//! ```sh
//! cargo run --release -p procgate-bench --example instantiate -- [N] [WASM]
//! ```
//!
//! Runs N guests (default 2,000) one after another on a current-thread
//! runtime, each as `Runner::run` does it (a WASI context, a
//! `ProcgateCtx`, a store, instantiate, `run`, drop), and prints per
//! guest: the process's CPU time in each phase (µs) and its minor page
//! faults, and the engine's cost and the RSS. The engine is
//! `runner::engine()`; with `PROBE_POOL=G` set it is pooled for G
//! guests (`runner::guest_pool`), each taking the share
//! `PROBE_SHARE=CORE,MEMORIES,TABLES` if set (how the share of
//! `runner::POOL_PER_GUEST` was found: a component needing more is refused
//! when loaded). The component is loaded through a compiled-component
//! cache in `target/bench/probe-compiled`.

use anyhow::{Context, Result};
use procgate::runner::{engine, engine_with, guest_pool, guest_store, GuestLimits, RunState};
use procgate::{Policy, ProcgateCtx};
use std::time::Duration;
use wasmtime::component::Linker;
use wasmtime::StoreLimits;
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::WasiCtx;

fn usage() -> (Duration, i64) {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let u = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let t = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (t(u.ru_utime) + t(u.ru_stime), u.ru_minflt)
}

/// `VmRSS` of `/proc/self/status`, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

#[derive(Default)]
struct Phases {
    cpu: [Duration; P],
    faults: [i64; P],
}

const NAMES: [&str; P] = [
    "contexts",
    "store",
    "instantiate",
    "run",
    "drop store",
    "children",
];
const P: usize = 6;

/// A pooled engine for `guests` guests, each taking at most the share in
/// `PROBE_SHARE` (`CORE,MEMORIES,TABLES`) if set.
fn pooled(guests: u32) -> Result<wasmtime::Engine> {
    let mut pool = guest_pool(guests);
    if let Ok(share) = std::env::var("PROBE_SHARE") {
        let v: Vec<u32> = share.split(',').map(str::parse).collect::<Result<_, _>>()?;
        pool.total_core_instances(guests * v[0])
            .max_core_instances_per_component(v[0])
            .total_memories(guests * v[1])
            .max_memories_per_component(v[1])
            .total_tables(guests * v[2])
            .max_tables_per_component(v[2]);
    }
    let mut config = wasmtime::Config::new();
    config.allocation_strategy(pool);
    engine_with(config)
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(2000);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let wasm = args
        .next()
        .map(Into::into)
        .unwrap_or_else(|| root.join("target/wasm/wasm32-wasip2/release/bench-noop.wasm"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (t0, f0) = usage();
        let engine = match std::env::var("PROBE_POOL") {
            Ok(keep) => pooled(keep.parse()?)?,
            Err(_) => engine()?,
        };
        let (t1, f1) = usage();
        let cache = procgate::cache::ComponentCache::new(root.join("target/bench/probe-compiled"));
        let component = cache
            .load(&engine, &wasm)
            .with_context(|| format!("loading {}", wasm.display()))?;
        let mut linker = Linker::<RunState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        procgate::add_to_linker_async(&mut linker)?;
        let pre = CommandPre::new(linker.instantiate_pre(&component)?)?;
        println!(
            "engine: {:?} CPU, {} faults; RSS {} KiB after loading",
            t1 - t0,
            f1 - f0,
            rss_kib()
        );
        let policy = Policy::builder().allow_program("/usr/bin/echo").build()?;
        let mut phases = Phases::default();
        for i in 0..=n {
            let mut marks = vec![usage()];
            let out = MemoryOutputPipe::new(1 << 16);
            let mut wasi = WasiCtx::builder();
            wasi.arg("noop").stdout(out.clone()).stderr(out.clone());
            let state = RunState {
                wasi: wasi.build(),
                procgate: ProcgateCtx::new(policy.clone()),
                table: procgate::resource_table(),
                limits: StoreLimits::default(),
            };
            marks.push(usage());
            let mut store = guest_store(&engine, state, GuestLimits::default());
            marks.push(usage());
            let command = pre.instantiate_async(&mut store).await?;
            marks.push(usage());
            let ran = command.wasi_cli_run().call_run(&mut store).await;
            marks.push(usage());
            let children = store.data().procgate.children().clone();
            drop(store);
            marks.push(usage());
            children.ended().await;
            marks.push(usage());
            anyhow::ensure!(matches!(ran, Ok(Ok(()))), "guest failed: {ran:?}");
            if i == 0 {
                continue; // the first guest warms up
            }
            for p in 0..P {
                phases.cpu[p] += marks[p + 1].0 - marks[p].0;
                phases.faults[p] += marks[p + 1].1 - marks[p].1;
            }
        }
        let mut total = 0.0;
        for (name, (cpu, faults)) in NAMES.iter().zip(phases.cpu.iter().zip(&phases.faults)) {
            let us = cpu.as_secs_f64() * 1e6 / f64::from(n);
            total += us;
            let faults = *faults as f64 / f64::from(n);
            println!("{name:12} {us:8.1} µs {faults:6.1} faults");
        }
        println!("{:12} {total:8.1} µs", "per guest");
        println!("RSS {} KiB at the end", rss_kib());
        Ok(())
    })
}
