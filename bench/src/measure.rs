//! One measurement of one variant, in a fresh process: `procgate-bench one
//! WORKLOAD VARIANT [params]` prints it as one JSON line, which the driver
//! reads. Also the paths every part of the bench agrees on.

use crate::workloads::{Params, Variant};
use crate::{cli_run, guest, native, scale, start};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What a measurement prints: its value in the workload's unit, and any
/// details worth keeping.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    /// The value, in the workload's unit.
    pub value: f64,
    /// Details (a breakdown, the raw numbers).
    #[serde(default)]
    pub extra: serde_json::Value,
}

impl Measurement {
    /// A measurement without details.
    pub fn new(value: f64) -> Measurement {
        Measurement {
            value,
            extra: serde_json::Value::Object(Default::default()),
        }
    }

    /// With these details.
    pub fn extra(mut self, extra: serde_json::Value) -> Measurement {
        self.extra = extra;
        self
    }
}

/// Where things are: the workspace, the guests, the compiled-component
/// cache, the CLI, the asyncio script.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The workspace root.
    pub root: PathBuf,
}

impl Paths {
    /// The workspace this binary was built from (`PROCGATE_BENCH_ROOT`
    /// overrides it).
    pub fn new() -> Paths {
        let root = std::env::var_os("PROCGATE_BENCH_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .parent()
                    .expect("bench/ has a parent")
                    .to_path_buf()
            });
        Paths { root }
    }

    /// A built guest program: `name` (`stdout_stream`) is built as
    /// `bench-stdout-stream.wasm`, apart from the test programs' names.
    pub fn wasm(&self, name: &str) -> PathBuf {
        self.root
            .join("target/wasm/wasm32-wasip2/release")
            .join(format!("bench-{}.wasm", name.replace('_', "-")))
    }

    /// The compiled form of a guest program, made by the driver.
    pub fn cwasm(&self, name: &str) -> PathBuf {
        self.root.join("target/bench").join(format!("{name}.cwasm"))
    }

    /// The procgate CLI (release build).
    pub fn cli(&self) -> PathBuf {
        self.root.join("target/release/procgate")
    }

    /// The asyncio side of the bench.
    pub fn asyncio_script(&self) -> PathBuf {
        self.root.join("bench/asyncio_bench.py")
    }
}

/// The Python the asyncio variant runs (Debian's 3.11).
pub const PYTHON: &str = "/usr/bin/python3";

/// This process's resident set size, in KiB (`VmRSS` of
/// `/proc/self/status`).
pub fn rss_kib() -> Result<f64> {
    status_kib("VmRSS")
}

/// CPU time this process has used so far (user + system, all threads),
/// in seconds: `getrusage(RUSAGE_SELF)`. Its children's time is not in it.
pub fn cpu_s() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// A KiB field of `/proc/self/status`: `VmRSS` (resident now), `VmHWM`
/// (the peak resident set size since the process started).
pub fn status_kib(field: &str) -> Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))
        .with_context(|| format!("no {field} in /proc/self/status"))?;
    let kib = line
        .split_whitespace()
        .nth(1)
        .with_context(|| format!("malformed {field}"))?
        .parse()?;
    Ok(kib)
}

/// `one WORKLOAD VARIANT [params]`: measures once and prints the JSON line.
pub fn one(workload: &str, variant: Variant, params: &Params) -> Result<()> {
    let paths = Paths::new();
    let measurement = match (workload, variant) {
        ("cli-run", _) => cli_run::measure(&paths, variant)?,
        (w, Variant::Procgate) if w.starts_with("start-") => start::measure(&paths, w)?,
        (_, Variant::Asyncio) => bail!("the driver runs the asyncio variant itself"),
        (w, v) => {
            // Like an embedder's host: a multi-thread runtime, the work in
            // a spawned task on a worker (so each spawn takes the hop to a
            // spawner thread; `procgate run`, whose guest runs on the main
            // thread, does not: that is `cli-run`).
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let w = w.to_string();
            let params = params.clone();
            runtime.block_on(async move {
                tokio::spawn(async move {
                    let scale = w.starts_with("plugins-") || w.starts_with("guests-");
                    match v {
                        Variant::Native => native::measure(&w, &params).await,
                        _ if scale => scale::measure(&paths, &w, &params).await,
                        _ => guest::measure(&paths, &w, &params).await,
                    }
                })
                .await?
            })?
        }
    };
    println!("{}", serde_json::to_string(&measurement)?);
    Ok(())
}
