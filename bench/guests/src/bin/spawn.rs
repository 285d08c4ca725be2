//! `spawn`: start `/usr/bin/true` and wait for it, N times in a row
//! (after W untimed warm-up rounds), with the blocking face. Prints
//! microseconds per spawn+wait.
//!
//! Arguments: `N W [sync|aio]`.

use procgate_bench_guests::{arg_str, arg_u64, json_str, micros, report};
use procgate_guest::{aio, sync, Options};
use std::time::Instant;

fn once_sync() {
    let proc = sync::create_subprocess_exec("/usr/bin/true", [""; 0], Options::new()).unwrap();
    assert_eq!(proc.wait().unwrap(), 0);
}

async fn once_aio() {
    let proc = aio::create_subprocess_exec("/usr/bin/true", [""; 0], Options::new())
        .await
        .unwrap();
    assert_eq!(proc.wait().await.unwrap(), 0);
}

fn main() {
    let n = arg_u64(0, 200);
    let warmup = arg_u64(1, 20);
    let face = arg_str(2, "sync");
    let elapsed = match face.as_str() {
        "sync" => {
            (0..warmup).for_each(|_| once_sync());
            let start = Instant::now();
            (0..n).for_each(|_| once_sync());
            micros(start)
        }
        "aio" => aio::run(async {
            for _ in 0..warmup {
                once_aio().await;
            }
            let start = Instant::now();
            for _ in 0..n {
                once_aio().await;
            }
            micros(start)
        }),
        other => panic!("unknown face {other}"),
    };
    report(elapsed / n as f64, &[("face", json_str(&face))]);
}
