//! Holds on to children: exited ones whose handles it keeps (`hold N`),
//! and a dropped one that is still being ended (`drop-then-spawn`).
//!
//! `hold N` first starts a witness shell that, once told to, counts the
//! host's open descriptors (`/proc/$PPID/fd`: its parent is the host), then
//! starts and waits up to N children with piped output, keeping every
//! handle, and stops at the first error. It prints where it stopped, how
//! many it held, and the host's descriptor count at that moment.
use procgate_guest::sync::{create_subprocess_exec, create_subprocess_shell};
use procgate_guest::{Options, PIPE};

fn hold(n: usize) {
    let mut witness = create_subprocess_shell(
        "read go; ls /proc/$PPID/fd | wc -l",
        Options::new().stdin(PIPE).stdout(PIPE),
    )
    .unwrap();
    let mut held = Vec::new();
    for i in 0..n {
        let options = Options::new().stdout(PIPE).stderr(PIPE);
        match create_subprocess_exec("true", [""; 0], options) {
            Ok(p) => {
                p.wait().unwrap();
                held.push(p);
            }
            Err(e) => {
                println!("stopped at {i}: {e:?}");
                break;
            }
        }
    }
    println!("held {}", held.len());
    let (out, _) = witness.communicate(Some(b"go\n")).unwrap();
    let fds = String::from_utf8(out.unwrap()).unwrap();
    println!("host fds {}", fds.trim());
}

/// Starts a shell that ignores SIGTERM, drops its handle, and at once
/// asks for another child: the dropped one is still live (the host is
/// ending it, and it has not exited).
fn drop_then_spawn() {
    let mut p = create_subprocess_shell(
        "trap '' TERM; echo ready; sleep 100",
        Options::new().stdout(PIPE),
    )
    .unwrap();
    let ready = p.stdout.as_mut().unwrap().readline().unwrap();
    println!("{}", String::from_utf8_lossy(&ready).trim());
    drop(p);
    let next = create_subprocess_exec("true", [""; 0], Options::new());
    println!("next {:?}", next.map(|p| p.wait()));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("hold") => hold(args[2].parse().unwrap()),
        Some("drop-then-spawn") => drop_then_spawn(),
        other => panic!("unknown case {other:?}"),
    }
}
