//! A guest that throws hostile input at the host: every mistake must come
//! back as a typed error (or, for what the component model itself forbids,
//! a trap of this guest alone), and the host must go on serving.
use procgate_guest::bindings::procgate::subprocess::{subprocess as wit_sub, types as wit};
use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::{Options, PIPE};

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    match case.as_str() {
        // 100 arguments of 1 MiB each.
        "big-args" => {
            let big = "x".repeat(1 << 20);
            let args = vec![big.as_str(); 100];
            println!(
                "big {:?}",
                create_subprocess_exec("true", args, Options::new()).map(|_| ())
            );
        }
        // 10,000 processes at once, past the policy's max_live.
        "flood" => {
            let (mut ok, mut limited, mut other) = (Vec::new(), 0, Vec::new());
            for _ in 0..10_000 {
                match create_subprocess_exec("sleep", ["1000"], Options::new()) {
                    Ok(p) => ok.push(p),
                    Err(procgate_guest::HostError::LimitExceeded(_)) => limited += 1,
                    Err(e) => other.push(e),
                }
            }
            println!("started {} limited {limited} other {other:?}", ok.len());
            for p in &ok {
                p.kill().unwrap();
            }
            let codes: Vec<i32> = ok.iter().map(|p| p.wait().unwrap()).collect();
            println!("all killed {}", codes.iter().all(|&c| c == -9));
        }
        // 1 GiB into the stdin of a child that exits at once.
        "stdin-1g" => {
            let mut p =
                create_subprocess_exec("true", [""; 0], Options::new().stdin(PIPE)).unwrap();
            let w = p.stdin.as_mut().unwrap();
            let chunk = vec![0u8; 1 << 20];
            let mut sent = 0usize;
            let mut result = Ok(());
            while sent < 1 << 30 {
                result = w.write(&chunk).and_then(|()| w.drain());
                if result.is_err() {
                    break;
                }
                sent += chunk.len();
            }
            println!("write {result:?} rc {}", p.wait().unwrap());
        }
        // A process handle used after it was dropped: the component model
        // traps this guest before the host sees the call.
        "use-after-drop" => {
            let options = wit::Options {
                stdin: wit::Stdio::Inherit,
                stdout: wit::Stdio::Inherit,
                stderr: wit::Stdio::Inherit,
                limit: None,
                cwd: None,
                env: Vec::new(),
                start_new_session: false,
            };
            let p = wit_sub::create_subprocess_exec("true", &[], &options).unwrap();
            let handle = p.take_handle();
            // SAFETY (for the test's purpose, deliberately not): the handle is
            // dropped, then used again.
            drop(unsafe { wit::Process::from_handle(handle) });
            println!("dropped");
            let stale = unsafe { wit::Process::from_handle(handle) };
            println!("pid {}", stale.pid());
        }
        other => panic!("unknown case {other}"),
    }
}
