//! `stdout-stream`: read BYTES bytes from `head -c BYTES /dev/zero` through
//! the child's stdout stream, then wait for it. Prints MB/s (10^6 bytes/s),
//! timed from the spawn to the exit.
//!
//! Arguments: `BYTES [raw|sync|aio]`. The bench uses `raw`, the fastest
//! loop: `blocking-read(65536)` on the `wasi:io` input-stream straight from
//! the bindings (one host call per chunk, no copy in the guest). `sync` and
//! `aio` are the guest library's `StreamReader::read(65536)` loops.

use procgate_bench_guests::{arg_str, arg_u64, json_str, micros, raw_exec, raw_options, report};
use procgate_guest::bindings::procgate::subprocess::types::Stdio;
use procgate_guest::{aio, sync, Options, PIPE};
use std::time::Instant;
use wasip2::io::streams::StreamError;

const CHUNK: usize = 65536;

fn raw(count: &str) -> u64 {
    let proc = raw_exec(
        "/usr/bin/head",
        &["-c", count, "/dev/zero"],
        &raw_options(Stdio::Inherit, Stdio::Pipe),
    );
    let stream = proc.stdout().unwrap();
    let mut total = 0u64;
    loop {
        match stream.blocking_read(CHUNK as u64) {
            Ok(chunk) => total += chunk.len() as u64,
            Err(StreamError::Closed) => break,
            Err(e) => panic!("read: {e:?}"),
        }
    }
    drop(stream);
    assert_eq!(proc.wait().unwrap(), 0);
    total
}

fn with_sync(count: &str) -> u64 {
    let mut proc = sync::create_subprocess_exec(
        "/usr/bin/head",
        ["-c", count, "/dev/zero"],
        Options::new().stdout(PIPE),
    )
    .unwrap();
    let out = proc.stdout.as_mut().unwrap();
    let mut total = 0u64;
    loop {
        let chunk = out.read(CHUNK as isize).unwrap();
        if chunk.is_empty() {
            break;
        }
        total += chunk.len() as u64;
    }
    assert_eq!(proc.wait().unwrap(), 0);
    total
}

async fn with_aio(count: &str) -> u64 {
    let mut proc = aio::create_subprocess_exec(
        "/usr/bin/head",
        ["-c", count, "/dev/zero"],
        Options::new().stdout(PIPE),
    )
    .await
    .unwrap();
    let out = proc.stdout.as_mut().unwrap();
    let mut total = 0u64;
    loop {
        let chunk = out.read(CHUNK as isize).await.unwrap();
        if chunk.is_empty() {
            break;
        }
        total += chunk.len() as u64;
    }
    assert_eq!(proc.wait().await.unwrap(), 0);
    total
}

fn main() {
    let bytes = arg_u64(0, 1 << 30);
    let mode = arg_str(1, "raw");
    let count = bytes.to_string();
    let start = Instant::now();
    let total = match mode.as_str() {
        "raw" => raw(&count),
        "sync" => with_sync(&count),
        "aio" => aio::run(with_aio(&count)).expect("the outermost aio::run"),
        other => panic!("unknown mode {other}"),
    };
    let us = micros(start);
    assert_eq!(total, bytes);
    report(total as f64 / us, &[("mode", json_str(&mode))]);
}
