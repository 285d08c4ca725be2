//! A guest that declares what it needs (`procgate_guest::declare!`: the
//! programs `echo`, and `tar` with `--version` only, the variable `LANG`,
//! SIGTERM, two live children) and then runs each program named on its
//! command line, without arguments, printing what became of each:
//!
//! ```text
//! echo: exit 0
//! tar: denied by policy: program "tar" not in allow list
//! ```

procgate_guest::declare!(
    r#"
[programs]
allow = ["echo"]

[[programs.rules]]
program = "tar"
args = [{ match = ["--version"] }]

[env]
guest_may_set = ["LANG"]

[signals]
allow = ["term"]

[limits]
max_live = 2
"#
);

use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::{Options, PIPE};

fn main() {
    for program in std::env::args().skip(1) {
        let none: [&str; 0] = [];
        let outcome = create_subprocess_exec(&program, none, Options::new().stdout(PIPE)).and_then(
            |mut p| {
                p.communicate(None)?;
                Ok(p.returncode().unwrap_or(-1))
            },
        );
        match outcome {
            Ok(code) => println!("{program}: exit {code}"),
            Err(e) => println!("{program}: {e}"),
        }
    }
}
