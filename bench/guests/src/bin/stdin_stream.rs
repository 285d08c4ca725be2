//! `stdin-stream`: write BYTES zero bytes into `/usr/bin/cat` (stdout
//! `/dev/null`) through the child's stdin stream, 64 KiB at a time, then
//! close it and wait. Prints MB/s (10^6 bytes/s), timed from the spawn to
//! the exit.
//!
//! Arguments: `BYTES [raw|sync|aio]`. The bench uses `raw`, the fastest
//! loop: `check-write`, `write` of what it permits, and the stream's
//! pollable when it permits nothing, straight from the bindings. `sync` is
//! the guest library's blocking `StreamWriter::write` (which hands the host
//! 4096 bytes per call, the most `blocking-write-and-flush` takes); `aio`
//! is `write` + `drain().await` per chunk.

use procgate_bench_guests::{arg_str, arg_u64, json_str, micros, raw_exec, raw_options, report};
use procgate_guest::bindings::procgate::subprocess::types::Stdio;
use procgate_guest::{aio, sync, Options, DEVNULL, PIPE};
use std::time::Instant;

const CHUNK: usize = 65536;

fn raw(bytes: u64, buf: &[u8]) {
    let proc = raw_exec(
        "/usr/bin/cat",
        &[],
        &raw_options(Stdio::Pipe, Stdio::Devnull),
    );
    let stream = proc.stdin().unwrap();
    let mut left = bytes;
    while left > 0 {
        let permit = stream.check_write().expect("check-write");
        if permit == 0 {
            stream.subscribe().block();
            continue;
        }
        let n = left.min(permit).min(CHUNK as u64) as usize;
        stream.write(&buf[..n]).expect("write");
        left -= n as u64;
    }
    stream.blocking_flush().expect("flush");
    drop(stream);
    assert_eq!(proc.wait().unwrap(), 0);
}

fn with_sync(bytes: u64, buf: &[u8]) {
    let options = Options::new().stdin(PIPE).stdout(DEVNULL);
    let mut proc = sync::create_subprocess_exec("/usr/bin/cat", [""; 0], options).unwrap();
    let stdin = proc.stdin.as_mut().unwrap();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        stdin.write(&buf[..n]).unwrap();
        left -= n as u64;
    }
    stdin.drain().unwrap();
    stdin.close();
    assert_eq!(proc.wait().unwrap(), 0);
}

async fn with_aio(bytes: u64, buf: &[u8]) {
    let options = Options::new().stdin(PIPE).stdout(DEVNULL);
    let mut proc = aio::create_subprocess_exec("/usr/bin/cat", [""; 0], options)
        .await
        .unwrap();
    let stdin = proc.stdin.as_mut().unwrap();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        stdin.write(&buf[..n]).unwrap();
        stdin.drain().await.unwrap();
        left -= n as u64;
    }
    stdin.close();
    stdin.wait_closed().await;
    assert_eq!(proc.wait().await.unwrap(), 0);
}

fn main() {
    let bytes = arg_u64(0, 1 << 30);
    let mode = arg_str(1, "raw");
    let buf = vec![0u8; CHUNK];
    let start = Instant::now();
    match mode.as_str() {
        "raw" => raw(bytes, &buf),
        "sync" => with_sync(bytes, &buf),
        "aio" => aio::run(with_aio(bytes, &buf)).expect("the outermost aio::run"),
        other => panic!("unknown mode {other}"),
    }
    report(bytes as f64 / micros(start), &[("mode", json_str(&mode))]);
}
