//! `echo`: `/usr/bin/echo hello` with stdout piped, through `communicate`,
//! N times in a row (after W untimed warm-up rounds). Prints microseconds
//! per operation.
//!
//! Arguments: `N W [sync|aio]`.

use procgate_bench_guests::time_per_op;
use procgate_guest::{aio, sync, Options, PIPE};

fn once_sync() {
    let mut proc =
        sync::create_subprocess_exec("/usr/bin/echo", ["hello"], Options::new().stdout(PIPE))
            .unwrap();
    let (out, _) = proc.communicate(None).unwrap();
    assert_eq!(out.as_deref(), Some(&b"hello\n"[..]));
}

async fn once_aio() {
    let mut proc =
        aio::create_subprocess_exec("/usr/bin/echo", ["hello"], Options::new().stdout(PIPE))
            .await
            .unwrap();
    let (out, _) = proc.communicate(None).await.unwrap();
    assert_eq!(out.as_deref(), Some(&b"hello\n"[..]));
}

fn main() {
    time_per_op(once_sync, once_aio);
}
