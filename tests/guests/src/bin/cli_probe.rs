//! What a guest of `procgate run` received and may do: prints its
//! arguments, then tries the grants a misparsed command line would have
//! given it (the shell, the program `id`, the directory `/`).
//!
//! `cli_probe copy SRC DST` instead copies a file inside its preopened
//! directories (a guest given `--dir` writing where it was given).
use procgate_guest::sync::{create_subprocess_exec, create_subprocess_shell};
use procgate_guest::Options;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("args {args:?}");
    if let [op, src, dst] = &args[..] {
        if op == "copy" {
            match std::fs::copy(src, dst) {
                Ok(n) => println!("copied {n}"),
                Err(e) => println!("copy failed: {e}"),
            }
            return;
        }
    }
    match create_subprocess_shell("true", Options::new()) {
        Ok(p) => println!("shell allowed, exit {}", p.wait().unwrap()),
        Err(e) => println!("shell denied: {e}"),
    }
    match create_subprocess_exec("id", Vec::<String>::new(), Options::new()) {
        Ok(p) => println!("id allowed, exit {}", p.wait().unwrap()),
        Err(e) => println!("id denied: {e}"),
    }
    match std::fs::read_dir("/") {
        Ok(_) => println!("/ readable"),
        Err(_) => println!("/ not preopened"),
    }
}
