//! `guests-*`: the guest of the guests-per-second workloads: it runs
//! `/usr/bin/echo hello` once (stdout piped, `communicate`), checks what it
//! read, and exits. The host instantiates one per guest and counts how
//! many it gets through per second as their number grows.

use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::{Options, PIPE};

fn main() {
    let mut proc =
        create_subprocess_exec("/usr/bin/echo", ["hello"], Options::new().stdout(PIPE)).unwrap();
    let (out, _) = proc.communicate(None).unwrap();
    assert_eq!(out.as_deref(), Some(&b"hello\n"[..]));
    assert_eq!(proc.returncode(), Some(0));
}
