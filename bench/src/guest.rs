//! The procgate variant: each workload as a wasm guest (`bench/guests`,
//! built as `bench-NAME.wasm`),
//! run by `procgate::runner::Runner` under a policy allowing exactly the
//! programs the workloads start. The guest times its own work and prints
//! the measurement; only `memory-*` is measured here, in the host.
//!
//! Guests are compiled once by the driver ([`precompile`]) and loaded with
//! `Component::deserialize_file`, so a measurement does not pay for (or
//! wait on) compilation.

use crate::measure::{rss_kib, Measurement, Paths};
use crate::workloads::{count, Params, OPS, SLEEP, WARMUP};
use anyhow::{bail, ensure, Context, Result};
use procgate::runner::{engine, Runner};
use procgate::sandbox::{LandlockMode, Sandbox};
use procgate::{Policy, ProcgateCtx};
use serde_json::json;
use std::hash::{Hash, Hasher};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use wasmtime::component::Component;
use wasmtime::Engine;
use wasmtime_wasi::cli::{AsyncStdinStream, AsyncStdoutStream};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::WasiCtx;

/// The guest programs of `bench/guests`.
pub const GUESTS: &[&str] = &[
    "spawn",
    "echo",
    "stdout_stream",
    "stdout_communicate",
    "stdin_stream",
    "pipeline",
    "concurrent",
    "memory",
    "hello",
];

/// The programs the guests start, allowed by the bench's policy.
const PROGRAMS: &[&str] = &[
    "/usr/bin/true",
    "/usr/bin/echo",
    "/usr/bin/head",
    "/usr/bin/cat",
    "/usr/bin/sleep",
    "/usr/bin/uname",
    "/usr/bin/ls",
];

/// The bench's policy: the workloads' programs, `communicate` bounded
/// well above what the workloads move.
pub fn policy(params: &Params) -> Result<Policy> {
    let mut builder = Policy::builder();
    for program in PROGRAMS {
        builder = builder.allow_program(*program);
    }
    let limit = usize::try_from(params.communicate_bytes)? * 2;
    Ok(builder
        .sandbox(sandbox()?)
        .update_limits(|l| {
            l.communicate_bytes = Some(limit);
            // Both outputs of one communicate, past the 64 MiB default.
            l.buffered_bytes = Some(limit.saturating_mul(2));
            // The concurrent workloads hold up to 1,000 exited children
            // until they are all gathered; the default bound is 256.
            l.max_held = Some(4096);
        })
        .build()?)
}

/// The containment the bench's policy asks for:
/// `PROCGATE_BENCH_CGROUP=off|best-effort|require` (default best-effort,
/// procgate's default) and `PROCGATE_BENCH_LANDLOCK=off|best-effort|require`
/// (default off, procgate's default; Landlock's default read list covers
/// every program the workloads start).
pub fn sandbox() -> Result<Sandbox> {
    let var =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
    let landlock = match var("PROCGATE_BENCH_LANDLOCK", "off").as_str() {
        "off" => LandlockMode::Off,
        "best-effort" => LandlockMode::BestEffort,
        "require" => LandlockMode::Require,
        other => bail!("PROCGATE_BENCH_LANDLOCK={other:?}: expected off, best-effort or require"),
    };
    Ok(Sandbox {
        cgroup: var("PROCGATE_BENCH_CGROUP", "best-effort")
            .parse()
            .map_err(anyhow::Error::msg)
            .context("PROCGATE_BENCH_CGROUP")?,
        landlock,
        ..Sandbox::default()
    })
}

/// A guest's procgate context under `policy`
/// (`PROCGATE_BENCH_NO_DEATHSIG` set: children do not die with the host).
pub fn ctx(policy: Policy) -> ProcgateCtx {
    let ctx = ProcgateCtx::new(policy);
    if std::env::var_os("PROCGATE_BENCH_NO_DEATHSIG").is_some() {
        return ctx.die_with_host(false);
    }
    ctx
}

/// Compiles every guest into `target/bench/NAME.cwasm`, unless the one
/// there was made from the same wasm by the same wasmtime.
pub fn precompile(paths: &Paths) -> Result<()> {
    let engine = engine()?;
    std::fs::create_dir_all(paths.cwasm("x").parent().unwrap())?;
    for name in GUESTS {
        let wasm = std::fs::read(paths.wasm(name))
            .with_context(|| format!("reading {}", paths.wasm(name).display()))?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        wasm.hash(&mut hasher);
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let key = format!("{:016x}", hasher.finish());
        let cwasm = paths.cwasm(name);
        let key_file = cwasm.with_extension("key");
        if cwasm.exists() && std::fs::read_to_string(&key_file).ok().as_deref() == Some(&key) {
            continue;
        }
        eprintln!("compiling guest {name}");
        let bytes = Component::new(&engine, &wasm)
            .map_err(anyhow::Error::from)?
            .serialize()
            .map_err(anyhow::Error::from)?;
        std::fs::write(&cwasm, bytes)?;
        std::fs::write(&key_file, key)?;
    }
    Ok(())
}

/// Loads a guest compiled by [`precompile`].
pub fn load(engine: &Engine, paths: &Paths, name: &str) -> Result<Component> {
    let cwasm = paths.cwasm(name);
    // SAFETY: the file was written by `precompile` with this wasmtime.
    unsafe { Component::deserialize_file(engine, &cwasm) }
        .map_err(anyhow::Error::from)
        .with_context(|| format!("loading {} (run the driver first)", cwasm.display()))
}

/// Runs one measurement of `workload` (inside a spawned task).
pub async fn measure(paths: &Paths, workload: &str, params: &Params) -> Result<Measurement> {
    let (guest, args): (&str, Vec<String>) = match workload {
        "spawn" | "echo" => (
            workload,
            vec![OPS.to_string(), WARMUP.to_string(), params.face.clone()],
        ),
        "stdout-stream" => (
            "stdout_stream",
            vec![params.bytes.to_string(), params.stream_mode.clone()],
        ),
        "stdout-communicate" => (
            "stdout_communicate",
            vec![params.communicate_bytes.to_string(), params.face.clone()],
        ),
        "stdin-stream" => (
            "stdin_stream",
            vec![params.bytes.to_string(), params.stream_mode.clone()],
        ),
        "pipeline" => ("pipeline", vec![params.bytes.to_string()]),
        w if w.starts_with("concurrent-") => {
            ("concurrent", vec![count(w).to_string(), SLEEP.to_string()])
        }
        w if w.starts_with("memory-") => return memory(paths, count(w), params).await,
        other => bail!("no guest for {other}"),
    };
    let engine = engine()?;
    let runner = Runner::new(&engine, &load(&engine, paths, guest)?)?;
    let out = MemoryOutputPipe::new(1 << 20);
    let err = MemoryOutputPipe::new(1 << 20);
    let mut wasi = WasiCtx::builder();
    wasi.arg(guest)
        .args(&args)
        .stdout(out.clone())
        .stderr(err.clone());
    let code = runner
        .run(wasi.build(), ctx(policy(params)?))
        .await
        .with_context(|| {
            format!(
                "guest {guest}: {}",
                String::from_utf8_lossy(&err.contents())
            )
        })?;
    let stdout = String::from_utf8_lossy(&out.contents()).into_owned();
    ensure!(
        code == 0,
        "guest {guest} exited {code}:\n{stdout}{}",
        String::from_utf8_lossy(&err.contents())
    );
    let line = stdout.lines().last().context("guest printed nothing")?;
    serde_json::from_str(line).with_context(|| format!("guest printed {line:?}"))
}

/// `memory-N`: the host's RSS before and while the guest holds N live
/// children, driven through the guest's stdio (see the guest `memory`).
async fn memory(paths: &Paths, n: u64, params: &Params) -> Result<Measurement> {
    let engine = engine()?;
    let runner = Runner::new(&engine, &load(&engine, paths, "memory")?)?;
    let (mut to_guest, guest_stdin) = tokio::io::duplex(4096);
    let (guest_stdout, from_guest) = tokio::io::duplex(4096);
    let mut wasi = WasiCtx::builder();
    wasi.arg("memory")
        .arg(n.to_string())
        .stdin(AsyncStdinStream::new(guest_stdin))
        .stdout(AsyncStdoutStream::new(4096, guest_stdout))
        .inherit_stderr();
    let procgate = ProcgateCtx::new(policy(params)?);
    let children = procgate.children().clone();
    let run = tokio::spawn(async move { runner.run(wasi.build(), procgate).await });
    let mut lines = BufReader::new(from_guest).lines();
    let mut expect = async |want: &str| -> Result<()> {
        let line = lines.next_line().await?;
        ensure!(
            line.as_deref() == Some(want),
            "guest said {line:?}, not {want}"
        );
        Ok(())
    };
    expect("ready").await?;
    let before = rss_kib()?;
    to_guest.write_all(b"go\n").await?;
    expect("alive").await?;
    let after = rss_kib()?;
    let live = children.live();
    to_guest.write_all(b"go\n").await?;
    expect("done").await?;
    ensure!(run.await?? == 0, "guest memory failed");
    ensure!(live == n as usize, "{live} children alive, not {n}");
    Ok(Measurement::new((after - before) / n as f64).extra(json!({
        "rss_before_kib": before,
        "rss_alive_kib": after,
        "children": n,
    })))
}
