//! Errors as values: denied program, denied shell, not found, bad input.
use procgate_guest::sync::{create_subprocess_exec, create_subprocess_shell};
use procgate_guest::Options;

fn main() {
    let marker = std::env::args().nth(1).unwrap_or_default();
    // Each would create the marker file if it ran.
    let touch = format!("touch {marker}");
    println!(
        "exec {:?}",
        create_subprocess_exec("sh", ["-c", &touch], Options::new()).map(|_| ())
    );
    println!(
        "exec-abs {:?}",
        create_subprocess_exec("/bin/sh", ["-c", &touch], Options::new()).map(|_| ())
    );
    println!(
        "exec-rel {:?}",
        create_subprocess_exec("../../bin/sh", ["-c", &touch], Options::new()).map(|_| ())
    );
    println!(
        "shell {:?}",
        create_subprocess_shell(&touch, Options::new()).map(|_| ())
    );
    println!(
        "missing {:?}",
        create_subprocess_exec("procgate-no-such-program", [""; 0], Options::new()).map(|_| ())
    );
    println!(
        "nul {:?}",
        create_subprocess_exec("true", ["a\0b"], Options::new()).map(|_| ())
    );
    // The host kept serving: an allowed program still runs.
    let p = create_subprocess_exec("true", [""; 0], Options::new()).unwrap();
    println!("true {}", p.wait().unwrap());
}
