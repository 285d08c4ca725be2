//! Guest start, procgate only: how long until the `hello` guest is
//! instantiated and ready to run, cold (compiled from its `.wasm`), cached
//! (deserialized from a compiled file) and warm (a new store from an
//! `InstancePre` that is already linked). The store is set up exactly as
//! `procgate::runner::Runner::run` sets it up.

use crate::guest::load;
use crate::measure::{Measurement, Paths};
use anyhow::{bail, Result};
use procgate::runner::{engine, RunState};
use procgate::{Policy, ProcgateCtx};
use serde_json::json;
use std::time::Instant;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreLimitsBuilder};
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::WasiCtx;

/// Instantiations timed for `start-warm`, after as many untimed.
const WARM_RUNS: usize = 200;

/// Milliseconds since `start`.
fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// Links a component as `Runner::new` does.
fn link(engine: &Engine, component: &Component) -> Result<CommandPre<RunState>> {
    let mut linker = Linker::<RunState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    procgate::add_to_linker_async(&mut linker)?;
    Ok(CommandPre::new(linker.instantiate_pre(component)?)?)
}

/// A new store and an instance in it, as `Runner::run` makes them.
async fn instantiate(pre: &CommandPre<RunState>, policy: &Policy) -> Result<Store<RunState>> {
    let state = RunState {
        wasi: WasiCtx::builder().build(),
        procgate: ProcgateCtx::new(policy.clone()),
        table: ResourceTable::new(),
        limits: StoreLimitsBuilder::new().trap_on_grow_failure(true).build(),
    };
    let mut store = Store::new(pre.engine(), state);
    store.limiter(|s| &mut s.limits);
    store.epoch_deadline_async_yield_and_update(1);
    pre.instantiate_async(&mut store).await?;
    Ok(store)
}

/// Measures `start-cold`, `start-cached` or `start-warm` once.
pub fn measure(paths: &Paths, workload: &str) -> Result<Measurement> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let engine = engine()?;
    let policy = Policy::builder().allow_program("echo").build()?;
    let paths = paths.clone();
    let workload = workload.to_string();
    runtime.block_on(async move {
        tokio::spawn(async move {
            let t0 = Instant::now();
            let component = match workload.as_str() {
                "start-cold" => Component::from_file(&engine, paths.wasm("hello"))
                    .map_err(anyhow::Error::from)?,
                "start-cached" | "start-warm" => load(&engine, &paths, "hello")?,
                other => bail!("no start workload {other}"),
            };
            let load_ms = ms(t0);
            let t1 = Instant::now();
            let pre = link(&engine, &component)?;
            let link_ms = ms(t1);
            let t2 = Instant::now();
            drop(instantiate(&pre, &policy).await?);
            let instantiate_ms = ms(t2);
            let total = ms(t0);
            if workload != "start-warm" {
                return Ok(Measurement::new(total).extra(json!({
                    "load_ms": load_ms,
                    "link_ms": link_ms,
                    "first_instantiate_ms": instantiate_ms,
                })));
            }
            let mut runs = Vec::with_capacity(WARM_RUNS);
            for i in 0..2 * WARM_RUNS {
                let t = Instant::now();
                let store = instantiate(&pre, &policy).await?;
                let took = ms(t);
                drop(store);
                if i >= WARM_RUNS {
                    runs.push(took);
                }
            }
            runs.sort_by(f64::total_cmp);
            let median = runs[runs.len() / 2];
            Ok(Measurement::new(median).extra(json!({
                "min_ms": runs[0],
                "max_ms": runs[runs.len() - 1],
                "mean_ms": runs.iter().sum::<f64>() / runs.len() as f64,
                "runs": WARM_RUNS,
            })))
        })
        .await?
    })
}
