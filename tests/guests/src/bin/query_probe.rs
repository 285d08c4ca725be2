//! Asks the host whether spawns would be allowed (`query-exec`,
//! `query-shell`) and prints each answer, one line per query:
//! `query_probe ALLOWED DENIED MARKER` queries `ALLOWED MARKER` (a program
//! that would create the file MARKER), `DENIED MARKER`, the shell, and
//! `ALLOWED` with a variable the policy does not let the guest set; then,
//! with `run` as a fourth argument, really starts `ALLOWED MARKER`.
use procgate_guest::query::{query_exec, query_shell};
use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::Options;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [allowed, denied, marker, rest @ ..] = &args[..] else {
        println!("usage: query_probe ALLOWED DENIED MARKER [run]");
        return;
    };
    let options = Options::new();
    println!(
        "exec {allowed}: {:?}",
        query_exec(allowed, [marker], &options)
    );
    println!(
        "exec {denied}: {:?}",
        query_exec(denied, [marker], &options)
    );
    let touch = format!("touch {marker}");
    println!("shell: {:?}", query_shell(&touch, &options));
    let with_env = Options::new().env("LD_PRELOAD", "/x.so");
    println!("env: {:?}", query_exec(allowed, [marker], &with_env));
    if rest.first().map(String::as_str) == Some("run") {
        match create_subprocess_exec(allowed, [marker], Options::new()) {
            Ok(p) => println!("run: {:?}", p.wait()),
            Err(e) => println!("run: Err({e:?})"),
        }
    }
}
