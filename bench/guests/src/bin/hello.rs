//! `hello`: the small guest of the start and `procgate run` workloads: runs
//! `echo hello` with stdout piped through `communicate` and prints what it
//! read.

use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::{Options, PIPE};

fn main() {
    let mut proc = create_subprocess_exec("echo", ["hello"], Options::new().stdout(PIPE)).unwrap();
    let (out, _) = proc.communicate(None).unwrap();
    print!("{}", String::from_utf8_lossy(&out.unwrap()));
}
