//! `stdout-communicate`: `head -c BYTES /dev/zero` with stdout piped,
//! through `communicate` (all BYTES buffered by the host, then handed to
//! the guest as one list). Prints MB/s (10^6 bytes/s), timed from the spawn
//! to `communicate`'s return.
//!
//! Arguments: `BYTES [sync|aio]`.

use procgate_bench_guests::{arg_str, arg_u64, json_str, micros, report};
use procgate_guest::{aio, sync, Options, PIPE};
use std::time::Instant;

fn main() {
    let bytes = arg_u64(0, 1 << 30);
    let face = arg_str(1, "sync");
    let count = bytes.to_string();
    let args = ["-c", count.as_str(), "/dev/zero"];
    let start = Instant::now();
    let out = match face.as_str() {
        "sync" => {
            let mut proc =
                sync::create_subprocess_exec("/usr/bin/head", args, Options::new().stdout(PIPE))
                    .unwrap();
            proc.communicate(None).unwrap().0.unwrap()
        }
        "aio" => aio::run(async {
            let mut proc =
                aio::create_subprocess_exec("/usr/bin/head", args, Options::new().stdout(PIPE))
                    .await
                    .unwrap();
            proc.communicate(None).await.unwrap().0.unwrap()
        })
        .expect("the outermost aio::run"),
        other => panic!("unknown face {other}"),
    };
    let us = micros(start);
    assert_eq!(out.len() as u64, bytes);
    report(bytes as f64 / us, &[("face", json_str(&face))]);
}
