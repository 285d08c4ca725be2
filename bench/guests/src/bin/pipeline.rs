//! `pipeline`: `head -c BYTES /dev/zero | cat > /dev/null` built by the
//! guest, the two joined in the host (`Options::stdin_from`), so no byte
//! passes through the guest. Prints MB/s (10^6 bytes/s), timed from the
//! first spawn to both exits. (`tests/guests/src/bin/pipeline.rs` builds
//! pipelines the same way to test them; the two are separate programs of
//! separate crates, one timed, one checked.)
//!
//! Arguments: `BYTES`.

use procgate_bench_guests::{arg_u64, micros, report};
use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::{Options, DEVNULL, PIPE};
use std::time::Instant;

fn main() {
    let bytes = arg_u64(0, 1 << 30);
    let count = bytes.to_string();
    let start = Instant::now();
    let head = create_subprocess_exec(
        "/usr/bin/head",
        ["-c", count.as_str(), "/dev/zero"],
        Options::new().stdout(PIPE),
    )
    .unwrap();
    let cat = create_subprocess_exec(
        "/usr/bin/cat",
        [""; 0],
        Options::new().stdin_from(&head).stdout(DEVNULL),
    )
    .unwrap();
    assert_eq!(cat.wait().unwrap(), 0);
    assert_eq!(head.wait().unwrap(), 0);
    report(bytes as f64 / micros(start), &[]);
}
