//! Every way a guest can end while its child (which ignores SIGTERM and has
//! forked a grandchild in its process group) still runs.
use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::{Options, PIPE};
use procgate_test_programs::checkpoint;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let session = std::env::args().nth(2).as_deref() == Some("session");
    // The shell ignores SIGTERM, and so does the sleep it starts (ignored
    // signals are inherited).
    let script = "trap '' TERM; sleep 1000 & echo $!; wait";
    let mut p = create_subprocess_exec(
        "sh",
        ["-c", script],
        Options::new().stdout(PIPE).start_new_session(session),
    )
    .unwrap();
    let grandchild = p.stdout.as_mut().unwrap().readline().unwrap();
    let grandchild: u32 = String::from_utf8(grandchild)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The host sees both alive, as its descendants, before the ending.
    println!(
        "child {} grandchild {grandchild} {} {}",
        p.pid(),
        checkpoint("alive", p.pid()),
        checkpoint("descendant", grandchild)
    );
    match mode.as_str() {
        "drop" => {
            drop(p);
            println!("dropped");
        }
        "return" => std::mem::forget(p),
        "exit" => wasip2::cli::exit::exit_with_code(5),
        "trap" => std::process::abort(),
        "spin" => {
            let mut n = 0u64;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "block" => {
            let rc = p.wait();
            println!("unreachable: {rc:?}");
        }
        "balloon" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 1 << 20]);
            }
        }
        other => panic!("unknown mode {other}"),
    }
}
