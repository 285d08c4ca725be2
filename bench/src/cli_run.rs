//! `cli-run`: a whole process that runs `echo hello` and prints it, timed
//! from fork to exit: `procgate run --allow echo hello.wasm` (the CLI as it
//! is: whatever it does to load the guest, compile it or take it from a
//! compiled-component cache), the tokio program `procgate-bench
//! native-hello`, and `python3 asyncio_bench.py hello`. One untimed run
//! first (it warms the page cache, and the CLI's cache if it has one), then
//! the median of [`RUNS`].

use crate::measure::{Measurement, Paths, PYTHON};
use crate::workloads::Variant;
use anyhow::{ensure, Result};
use serde_json::json;
use std::process::Command;
use std::time::Instant;

/// Timed runs per measurement.
const RUNS: usize = 5;

fn command(paths: &Paths, variant: Variant) -> Result<Command> {
    Ok(match variant {
        Variant::Procgate => {
            let mut cmd = Command::new(paths.cli());
            cmd.arg("run")
                .args(["--allow", "echo"])
                .arg(paths.wasm("hello"));
            cmd
        }
        Variant::Native => {
            let mut cmd = Command::new(std::env::current_exe()?);
            cmd.arg("native-hello");
            cmd
        }
        Variant::Asyncio => {
            let mut cmd = Command::new(PYTHON);
            cmd.arg(paths.asyncio_script()).arg("hello");
            cmd
        }
    })
}

/// Measures one variant of `cli-run`.
pub fn measure(paths: &Paths, variant: Variant) -> Result<Measurement> {
    let mut runs = Vec::with_capacity(RUNS);
    let mut first = 0.0;
    for i in 0..=RUNS {
        let mut cmd = command(paths, variant)?;
        let start = Instant::now();
        let out = cmd.output()?;
        let took = start.elapsed().as_secs_f64() * 1e3;
        ensure!(
            out.status.success() && out.stdout == b"hello\n",
            "{cmd:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        if i == 0 {
            first = took;
        } else {
            runs.push(took);
        }
    }
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(Measurement::new(sorted[RUNS / 2])
        .extra(json!({ "runs_ms": runs, "untimed_first_ms": first })))
}
