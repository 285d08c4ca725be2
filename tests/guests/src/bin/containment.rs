//! Containment: what a child inherits, and children that try to leave the
//! guest's control (their own session, another process group).
//!
//! Cases (`argv[1]`), each starting `sh -c SCRIPT` (`argv[2]`):
//! - `out SCRIPT`: stdout piped back; prints it, then `rc N`.
//! - `inherit SCRIPT`: inherited stdio; prints `rc N` after it.
//! - `wait SCRIPT`: waits, prints `rc N`, then sleeps `argv[3]` seconds
//!   holding the handle (the test looks at the host meanwhile).
//! - `drop SCRIPT`: waits, drops the handle, then sleeps `argv[3]` seconds.
//! - `hold SCRIPT`: waits and ends the guest while holding the handle.
//! - `ready SCRIPT`: stdout piped; reads one line, prints it, and ends the
//!   guest while the child runs.
use procgate_guest::sync::create_subprocess_shell;
use procgate_guest::{Options, PIPE};
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (case, script) = (args[0].as_str(), args[1].as_str());
    let pause = || {
        let secs: f64 = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(0.0);
        std::thread::sleep(Duration::from_secs_f64(secs));
    };
    match case {
        "out" => {
            let mut p = create_subprocess_shell(script, Options::new().stdout(PIPE)).unwrap();
            let (out, _) = p.communicate(None).unwrap();
            print!("{}", String::from_utf8_lossy(&out.unwrap()));
            println!("rc {}", p.wait().unwrap());
        }
        "inherit" => {
            let p = create_subprocess_shell(script, Options::new()).unwrap();
            println!("rc {}", p.wait().unwrap());
        }
        "wait" => {
            let p = create_subprocess_shell(script, Options::new()).unwrap();
            println!("rc {}", p.wait().unwrap());
            pause();
            drop(p);
        }
        "drop" => {
            let p = create_subprocess_shell(script, Options::new()).unwrap();
            println!("rc {}", p.wait().unwrap());
            drop(p);
            println!("dropped");
            pause();
        }
        "ready" => {
            let mut p = create_subprocess_shell(script, Options::new().stdout(PIPE)).unwrap();
            let line = p.stdout.as_mut().unwrap().readline().unwrap();
            print!("{}", String::from_utf8_lossy(&line));
            std::mem::forget(p);
        }
        "hold" => {
            let p = create_subprocess_shell(script, Options::new()).unwrap();
            println!("rc {}", p.wait().unwrap());
            std::mem::forget(p);
        }
        other => panic!("unknown case {other}"),
    }
}
