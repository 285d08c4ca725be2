//! The scale workloads, as a plugin host meets them: `plugins-50x20` (50
//! guests at once, each running 20 short commands with output captured)
//! and `guests-seq-N` / `guests-par-N` (N guests, each instantiated, one
//! `echo`, exit; one after another or all at once).
//!
//! The procgate variant runs like a real host: the guest is loaded once
//! through procgate's compiled-component cache
//! ([`procgate::cache::ComponentCache`], warmed by the driver, so this is a
//! hit: authenticate + deserialize) and linked once into a
//! [`Runner`] (an `InstancePre`); each guest is then a fresh `Store`
//! instantiated from it, with its own WASI context (stdout and stderr
//! captured in memory) and its own `ProcgateCtx` under the bench's policy.
//! Loading and linking happen before the clock starts (a host does them at
//! startup); their time is kept in the sample's details.
//!
//! The engine is the one procgate's rustdoc tells a plugin host to make
//! ([`procgate::runner::guest_pool`]): instances from a pooling allocator
//! sized for the most guests the workload has alive at once
//! ([`pool_size`]), made with the rest before the clock starts. With
//! `PROCGATE_BENCH_POOL=off` it is [`procgate::runner::engine`]
//! (instances on demand, as `procgate run`'s); `bench/README.md`, "Pooled
//! instances", compares the two.

//! The harnesses [`plugins`] and [`guests`] time any variant's "one plugin"
//! or "one guest" future the same way; the native variant passes its own
//! (`native.rs`).

use crate::guest::{ctx, policy};
use crate::measure::{cpu_s, status_kib, Measurement, Paths};
use crate::workloads::{Params, PLUGINS, STEPS};
use anyhow::{ensure, Context, Result};
use procgate::cache::ComponentCache;
use procgate::runner::{engine, engine_with, guest_pool, Runner};
use procgate::Policy;
use serde_json::json;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::WasiCtx;

/// Guests per sample of `guests-*-N`: batches of N are repeated until at
/// least this many guests ran.
const GUESTS_PER_SAMPLE: u64 = 100;

/// procgate's compiled-component cache of the bench (under `target/`).
pub fn cache(paths: &Paths) -> ComponentCache {
    ComponentCache::new(paths.root.join("target/bench/compiled"))
}

/// Fills the compiled-component cache with the scale guests, so every
/// measurement loads them as a hit.
pub fn warm_cache(paths: &Paths) -> Result<()> {
    let engine = engine()?;
    let cache = cache(paths);
    ensure!(
        cache.dir().is_some(),
        "no compiled-component cache directory"
    );
    for name in ["plugin", "once"] {
        cache.load(&engine, &paths.wasm(name))?;
    }
    Ok(())
}

/// The most guests a scale workload has alive at once, which a pooled
/// engine is sized for: [`PLUGINS`] for `plugins-*`, N for `guests-par-N`,
/// one for `guests-seq-N`.
fn pool_size(workload: &str) -> Result<u32> {
    let n = if workload.starts_with("plugins-") {
        PLUGINS
    } else if workload.starts_with("guests-par-") {
        crate::workloads::count(workload)
    } else {
        1
    };
    Ok(u32::try_from(n)?)
}

/// The procgate variant's engine for `workload`: pooled, or on demand
/// with `PROCGATE_BENCH_POOL=off`.
fn host_engine(workload: &str) -> Result<wasmtime::Engine> {
    if std::env::var_os("PROCGATE_BENCH_POOL").is_some_and(|v| v == "off") {
        return engine();
    }
    let mut config = wasmtime::Config::new();
    config.allocation_strategy(guest_pool(pool_size(workload)?));
    engine_with(config)
}

/// A guest ready to run many times, and what making it cost.
struct Host {
    runner: Runner,
    policy: Policy,
    load_ms: f64,
}

impl Host {
    fn new(paths: &Paths, workload: &str, guest: &str, params: &Params) -> Result<Host> {
        let t = Instant::now();
        let engine = host_engine(workload)?;
        let runner = Runner::from_file_cached(&engine, &paths.wasm(guest), &cache(paths))?;
        Ok(Host {
            runner,
            policy: policy(params)?,
            load_ms: t.elapsed().as_secs_f64() * 1e3,
        })
    }

    /// Runs one guest with these arguments to its end; it must exit 0.
    async fn run(&self, name: &str, args: &[String]) -> Result<()> {
        let out = MemoryOutputPipe::new(1 << 16);
        let err = MemoryOutputPipe::new(1 << 16);
        let mut wasi = WasiCtx::builder();
        wasi.arg(name)
            .args(args)
            .stdout(out.clone())
            .stderr(err.clone());
        let procgate = ctx(self.policy.clone());
        let code = self
            .runner
            .run(wasi.build(), procgate)
            .await
            .with_context(|| {
                format!("guest {name}: {}", String::from_utf8_lossy(&err.contents()))
            })?;
        ensure!(
            code == 0,
            "guest {name} {args:?} exited {code}:\n{}{}",
            String::from_utf8_lossy(&out.contents()),
            String::from_utf8_lossy(&err.contents())
        );
        Ok(())
    }
}

/// The procgate variant of a scale workload.
pub async fn measure(paths: &Paths, workload: &str, params: &Params) -> Result<Measurement> {
    if workload.starts_with("plugins-") {
        let host = Arc::new(Host::new(paths, workload, "plugin", params)?);
        let load_ms = host.load_ms;
        let one = move |plugin: u64| {
            let host = host.clone();
            async move {
                let args = [plugin.to_string(), STEPS.to_string()];
                host.run("plugin", &args).await
            }
        };
        let m = plugins(one).await?;
        return Ok(with_load(m, load_ms));
    }
    let host = Arc::new(Host::new(paths, workload, "once", params)?);
    let load_ms = host.load_ms;
    let one = move || {
        let host = host.clone();
        async move { host.run("once", &[]).await }
    };
    let m = guests(workload, one).await?;
    Ok(with_load(m, load_ms))
}

fn with_load(mut m: Measurement, load_ms: f64) -> Measurement {
    if let Some(extra) = m.extra.as_object_mut() {
        extra.insert("load_link_ms".into(), json!(load_ms));
    }
    m
}

/// `plugins-50x20`: [`PLUGINS`] tasks at once, each running `one(plugin)`
/// (which runs [`STEPS`] commands), after one untimed plugin; the value is
/// the wall time in ms, the details the host's peak RSS (`VmHWM`: the
/// whole process, its runtime included) and its RSS before.
pub async fn plugins<F, Fut>(one: F) -> Result<Measurement>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    one(PLUGINS).await.context("warm-up plugin")?;
    let rss_before = status_kib("VmRSS")?;
    let cpu = cpu_s();
    let start = Instant::now();
    let tasks: Vec<_> = (0..PLUGINS).map(|p| tokio::spawn(one(p))).collect();
    for (p, task) in tasks.into_iter().enumerate() {
        task.await?.with_context(|| format!("plugin {p}"))?;
    }
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let cpu_ms = (cpu_s() - cpu) * 1e3;
    let peak = status_kib("VmHWM")?;
    Ok(Measurement::new(ms).extra(json!({
        "host_cpu_ms": cpu_ms,
        "peak_rss_mib": peak / 1024.0,
        "rss_before_mib": rss_before / 1024.0,
        "plugins": PLUGINS,
        "steps": STEPS,
    })))
}

/// `guests-seq-N` / `guests-par-N`: after one untimed guest, batches of N
/// guests (`one()` each), one after another (`seq`) or all at once as N
/// tasks (`par`), repeated until [`GUESTS_PER_SAMPLE`] guests ran; the
/// value is the wall time of all batches per guest, in µs (a mean, the
/// same statistic at every N; the batches' least and greatest are in the
/// details); the details
/// hold the host's CPU time per guest over all batches (`host_cpu_us`,
/// the process's own, not its children's: steadier than wall time on a
/// loaded machine).
pub async fn guests<F, Fut>(workload: &str, one: F) -> Result<Measurement>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let n = crate::workloads::count(workload);
    let concurrent = workload.starts_with("guests-par-");
    one().await.context("warm-up guest")?;
    let batches = GUESTS_PER_SAMPLE.div_ceil(n).max(1);
    let mut per_guest = Vec::with_capacity(batches as usize);
    let cpu = cpu_s();
    let all = Instant::now();
    for _ in 0..batches {
        let start = Instant::now();
        if concurrent {
            let tasks: Vec<_> = (0..n).map(|_| tokio::spawn(one())).collect();
            for task in tasks {
                task.await??;
            }
        } else {
            for _ in 0..n {
                one().await?;
            }
        }
        per_guest.push(start.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
    let wall_us = all.elapsed().as_secs_f64() * 1e6 / (batches * n) as f64;
    let cpu_us = (cpu_s() - cpu) * 1e6 / (batches * n) as f64;
    let mut sorted = per_guest.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(Measurement::new(wall_us).extra(json!({
        "host_cpu_us": cpu_us,
        "guests": n,
        "concurrent": concurrent,
        "batches": batches,
        "batch_min_us": sorted[0],
        "batch_max_us": sorted[sorted.len() - 1],
        "peak_rss_mib": status_kib("VmHWM")? / 1024.0,
    })))
}
