//! Children do not outlive their handle or their guest.
use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::Options;

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    let p = create_subprocess_exec("sleep", ["1000"], Options::new()).unwrap();
    println!("pid {}", p.pid());
    match case.as_str() {
        // Drop the handle without waiting, then keep running.
        "drop" => {
            drop(p);
            println!("dropped");
            let q = create_subprocess_exec("true", [""; 0], Options::new()).unwrap();
            println!("still serving {}", q.wait().unwrap());
        }
        // End the guest while the child runs.
        "exit" => wasip2::cli::exit::exit_with_code(3),
        other => panic!("unknown case {other}"),
    }
}
