//! `spawn`: start `/usr/bin/true` and wait for it, N times in a row
//! (after W untimed warm-up rounds), with the blocking face. Prints
//! microseconds per spawn+wait.
//!
//! Arguments: `N W [sync|aio]`.

use procgate_bench_guests::time_per_op;
use procgate_guest::{aio, sync, Options};

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
    time_per_op(once_sync, once_aio);
}
