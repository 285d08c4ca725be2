//! `concurrent-N`: N `sleep 0.2` children at once from one guest, each
//! started and awaited in its own future, all under one `aio::gather`
//! (asyncio.gather). Prints the wall time in milliseconds, after one
//! untimed warm-up spawn.
//!
//! Arguments: `N [SECONDS]`.

use procgate_bench_guests::{arg_str, arg_u64, micros, report};
use procgate_guest::{aio, Options};
use std::time::Instant;

async fn sleeper(seconds: &str) -> i32 {
    let proc = aio::create_subprocess_exec("/usr/bin/sleep", [seconds], Options::new())
        .await
        .unwrap();
    proc.wait().await.unwrap()
}

fn main() {
    let n = arg_u64(0, 200);
    let seconds = arg_str(1, "0.2");
    let elapsed = aio::run(async {
        sleeper("0").await;
        let start = Instant::now();
        let codes = aio::gather((0..n).map(|_| sleeper(&seconds))).await;
        assert!(codes.iter().all(|&c| c == 0));
        micros(start)
    })
    .expect("the outermost aio::run");
    report(elapsed / 1e3, &[]);
}
