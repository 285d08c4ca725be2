//! `memory-N`: keeps N sleeping children alive while the host measures its
//! own memory. The host drives it through the guest's stdio, one line each
//! way per step:
//!
//! 1. the guest prints `ready` and reads a line (the host's baseline);
//! 2. it starts N `sleep 600` children (all stdio `/dev/null`), awaits each
//!    one's exit in its own future under `aio::gather`, prints `alive` and
//!    reads a line (the host measures again);
//! 3. it kills them all, the waits finish, and it prints `done`.
//!
//! Arguments: `N`.

use procgate_bench_guests::arg_u64;
use procgate_guest::{aio, Options, DEVNULL};

fn handshake(line: &str) {
    println!("{line}");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).unwrap();
}

fn main() {
    let n = arg_u64(0, 1000);
    handshake("ready");
    aio::run(async {
        let options = Options::new()
            .stdin(DEVNULL)
            .stdout(DEVNULL)
            .stderr(DEVNULL);
        let mut procs = Vec::new();
        for _ in 0..n {
            let proc = aio::create_subprocess_exec("/usr/bin/sleep", ["600"], options.clone())
                .await
                .unwrap();
            procs.push(proc);
        }
        let waits = aio::gather(procs.iter().map(|p| p.wait()));
        let control = async {
            // `gather` has polled every wait once: each exit is watched.
            handshake("alive");
            for proc in &procs {
                proc.kill().unwrap();
            }
        };
        let (codes, ()) = aio::zip(waits, control).await;
        assert!(codes.iter().all(|c| *c == Ok(-9)));
    })
    .expect("the outermost aio::run");
    println!("done");
}
