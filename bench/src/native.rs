//! The native variant: each workload with tokio::process, run by `one` in
//! a spawned task of a multi-thread runtime (the configuration procgate's
//! runner uses). Plain tokio as a user writes it: default stdio unless the
//! workload pipes, absolute program paths, one task per child for
//! concurrency (the stronger baseline).

use crate::measure::{rss_kib, Measurement};
use crate::scale;
use crate::workloads::{count, shell_pipeline, Params, OPS, SLEEP, STEPS, WARMUP};
use anyhow::{bail, ensure, Context, Result};
use serde_json::json;
use std::process::Stdio;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// Runs one measurement of `workload` (inside a spawned task).
pub async fn measure(workload: &str, params: &Params) -> Result<Measurement> {
    match workload {
        "spawn" => per_op(spawn_true).await,
        "echo" => per_op(echo_hello).await,
        "stdout-stream" => stdout_stream(params.bytes).await,
        "stdout-communicate" => stdout_communicate(params.communicate_bytes).await,
        "stdout-communicate-copied" => stdout_communicate_copied(params.communicate_bytes).await,
        "stdin-stream" => stdin_stream(params.bytes).await,
        "pipeline" => pipeline(params.bytes).await,
        w if w.starts_with("concurrent-") => concurrent(count(w)).await,
        w if w.starts_with("memory-") => memory(count(w)).await,
        w if w.starts_with("plugins-") => scale::plugins(plugin).await,
        w if w.starts_with("guests-") => scale::guests(w, echo_hello).await,
        other => bail!("no native variant of {other}"),
    }
}

async fn per_op<F: std::future::Future<Output = Result<()>>>(op: fn() -> F) -> Result<Measurement> {
    for _ in 0..WARMUP {
        op().await?;
    }
    let start = Instant::now();
    for _ in 0..OPS {
        op().await?;
    }
    let us = start.elapsed().as_secs_f64() * 1e6;
    Ok(Measurement::new(us / OPS as f64))
}

async fn spawn_true() -> Result<()> {
    let status = Command::new("/usr/bin/true").spawn()?.wait().await?;
    ensure!(status.success());
    Ok(())
}

async fn echo_hello() -> Result<()> {
    let child = Command::new("/usr/bin/echo")
        .arg("hello")
        .stdout(Stdio::piped())
        .spawn()?;
    let out = child.wait_with_output().await?;
    ensure!(out.stdout == b"hello\n");
    Ok(())
}

/// A check of a command's stdout.
type Check = Box<dyn Fn(&[u8]) -> bool + Send>;

/// Step `i` of plugin `plugin` of `plugins-50x20` (the table of the guest
/// `bench/guests/src/bin/plugin.rs`, written again here on purpose: the
/// native side is an independent program, as a tokio user writes it, not
/// coupled to the guest's code): the command, and a check of its stdout.
fn step(plugin: u64, i: u64) -> (Command, Check) {
    let (program, args, check): (_, Vec<String>, Check) = match i % 4 {
        0 => {
            let want = format!("plugin-{plugin} step-{i}\n").into_bytes();
            (
                "/usr/bin/echo",
                vec![format!("plugin-{plugin}"), format!("step-{i}")],
                Box::new(move |out: &[u8]| out == want),
            )
        }
        1 => (
            "/usr/bin/uname",
            vec!["-s".into()],
            Box::new(|out: &[u8]| out == b"Linux\n"),
        ),
        2 => (
            "/usr/bin/ls",
            vec!["/usr".into()],
            Box::new(|out: &[u8]| out.split(|&b| b == b'\n').any(|l| l == b"bin")),
        ),
        _ => (
            "/usr/bin/head",
            vec!["-c".into(), "4096".into(), "/dev/zero".into()],
            Box::new(|out: &[u8]| out.len() == 4096),
        ),
    };
    let mut cmd = Command::new(program);
    cmd.args(args);
    (cmd, check)
}

/// One plugin of `plugins-50x20`: its steps one after another, each
/// command's stdout and stderr captured (`output()`) and checked.
async fn plugin(plugin: u64) -> Result<()> {
    for i in 0..STEPS {
        let (mut cmd, check) = step(plugin, i);
        let out = cmd.output().await?;
        ensure!(out.status.success(), "step {i}: {:?}", out.status);
        ensure!(check(&out.stdout), "step {i} printed {:?}", out.stdout);
        ensure!(out.stderr.is_empty(), "step {i} wrote {:?}", out.stderr);
    }
    Ok(())
}

/// MB/s (10^6 bytes per second) for `bytes` moved since `start`.
fn mb_per_s(bytes: u64, start: Instant) -> f64 {
    bytes as f64 / start.elapsed().as_secs_f64() / 1e6
}

fn head(bytes: u64) -> Command {
    let mut cmd = Command::new("/usr/bin/head");
    cmd.args(["-c", &bytes.to_string(), "/dev/zero"])
        .stdout(Stdio::piped());
    cmd
}

async fn stdout_stream(bytes: u64) -> Result<Measurement> {
    let start = Instant::now();
    let mut child = head(bytes).spawn()?;
    let mut out = child.stdout.take().context("stdout")?;
    let mut buf = vec![0u8; 65536];
    let mut total = 0u64;
    loop {
        let n = out.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    ensure!(child.wait().await?.success());
    ensure!(total == bytes, "read {total} of {bytes} bytes");
    Ok(Measurement::new(mb_per_s(bytes, start)))
}

async fn stdout_communicate(bytes: u64) -> Result<Measurement> {
    let start = Instant::now();
    let out = head(bytes).spawn()?.wait_with_output().await?;
    ensure!(out.stdout.len() as u64 == bytes);
    Ok(Measurement::new(mb_per_s(bytes, start)))
}

/// The floor of procgate's `stdout-communicate`, as a native program: the
/// pipe read into a buffer that stays (the host's), 128 KiB at a time
/// copied on into the one that grows to hold the output (the guest's),
/// the one copy more that procgate's design makes, through memory that
/// stays warm.
async fn stdout_communicate_copied(bytes: u64) -> Result<Measurement> {
    use tokio::io::AsyncReadExt;
    let start = Instant::now();
    let mut child = head(bytes).spawn()?;
    let mut pipe = child.stdout.take().context("stdout")?;
    let mut host = vec![0u8; 128 << 10];
    let mut guest = Vec::new();
    loop {
        let n = pipe.read(&mut host).await?;
        if n == 0 {
            break;
        }
        guest.extend_from_slice(&host[..n]);
    }
    ensure!(child.wait().await?.success());
    ensure!(std::hint::black_box(&guest).len() as u64 == bytes);
    Ok(Measurement::new(mb_per_s(bytes, start)))
}

async fn stdin_stream(bytes: u64) -> Result<Measurement> {
    let buf = vec![0u8; 65536];
    let start = Instant::now();
    let mut child = Command::new("/usr/bin/cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().context("stdin")?;
    let mut left = bytes;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        stdin.write_all(&buf[..n]).await?;
        left -= n as u64;
    }
    stdin.flush().await?;
    drop(stdin);
    ensure!(child.wait().await?.success());
    Ok(Measurement::new(mb_per_s(bytes, start)))
}

/// The reference of `pipeline`: the same pipeline built by `sh -c`.
async fn pipeline(bytes: u64) -> Result<Measurement> {
    let start = Instant::now();
    let status = Command::new("/bin/sh")
        .args(["-c", &shell_pipeline(bytes)])
        .spawn()?
        .wait()
        .await?;
    ensure!(status.success());
    Ok(Measurement::new(mb_per_s(bytes, start)))
}

async fn sleeper(seconds: &'static str) -> Result<()> {
    let status = Command::new("/usr/bin/sleep")
        .arg(seconds)
        .spawn()?
        .wait()
        .await?;
    ensure!(status.success());
    Ok(())
}

async fn concurrent(n: u64) -> Result<Measurement> {
    sleeper("0").await?;
    let start = Instant::now();
    let tasks: Vec<_> = (0..n).map(|_| tokio::spawn(sleeper(SLEEP))).collect();
    for task in tasks {
        task.await??;
    }
    Ok(Measurement::new(start.elapsed().as_secs_f64() * 1e3))
}

async fn memory(n: u64) -> Result<Measurement> {
    let before = rss_kib()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut child = Command::new("/usr/bin/sleep")
                    .arg("600")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()?;
                tx.send(child.id().context("pid")?)?;
                anyhow::Ok(child.wait().await?)
            })
        })
        .collect();
    let mut pids = Vec::new();
    while pids.len() < n as usize {
        pids.push(rx.recv().await.context("a child task failed")?);
    }
    // Every task has started its child; let each reach its `wait`.
    tokio::task::yield_now().await;
    let after = rss_kib()?;
    for pid in pids {
        // SAFETY: a plain kill(2) of our own unreaped child.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    for task in tasks {
        task.await??;
    }
    Ok(Measurement::new((after - before) / n as f64).extra(json!({
        "rss_before_kib": before,
        "rss_alive_kib": after,
        "children": n,
    })))
}

/// `native-hello`: the native counterpart of the `hello` guest, a whole
/// process (`cli-run`'s native variant).
pub fn hello() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        tokio::spawn(async {
            let out = Command::new("echo")
                .arg("hello")
                .stdout(Stdio::piped())
                .spawn()?
                .wait_with_output()
                .await?;
            print!("{}", String::from_utf8_lossy(&out.stdout));
            anyhow::Ok(())
        })
        .await?
    })
}
