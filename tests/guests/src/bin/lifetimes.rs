//! Children do not outlive their handle or their guest; wait is about the
//! process; signals cannot reach a recycled pid; writing to a child that
//! exited is a stream error; a soak of spawn+communicate cycles (with
//! children whose grandchildren escape their process group).
use procgate_guest::sync::{create_subprocess_exec, create_subprocess_shell};
use procgate_guest::{Options, DEVNULL, PIPE};
use procgate_test_programs::checkpoint;

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_default();
    match case.as_str() {
        // Drop the handle without waiting, then keep running; the host
        // checks, while this guest runs, that the child got SIGTERM (it
        // traps it and writes the file given in argv[2]) and then, as it
        // goes on, SIGKILL.
        "drop" => {
            let marker = args.next().unwrap();
            let script = format!(
                "trap 'echo term > {marker}' TERM; echo ready; while :; do sleep 0.1; done"
            );
            let mut p =
                create_subprocess_exec("sh", ["-c", &script], Options::new().stdout(PIPE)).unwrap();
            let pid = p.pid();
            println!("pid {pid}");
            let ready = p.stdout.as_mut().unwrap().readline().unwrap();
            println!(
                "{} {}",
                String::from_utf8_lossy(&ready).trim(),
                checkpoint("alive", pid)
            );
            drop(p);
            println!("dropped, {}", checkpoint("gone", pid));
            let q = create_subprocess_exec("true", [""; 0], Options::new()).unwrap();
            println!("still serving {}", q.wait().unwrap());
        }
        // Block in wait while the child runs (the host will be killed).
        "hold" => {
            let p = create_subprocess_exec("sleep", ["1000"], Options::new()).unwrap();
            println!("pid {}", p.pid());
            println!("unreachable {:?}", p.wait());
        }
        // End the guest while the child runs.
        "exit" => {
            let p = create_subprocess_exec("sleep", ["1000"], Options::new()).unwrap();
            println!("pid {}", p.pid());
            println!("{}", checkpoint("alive", p.pid()));
            wasip2::cli::exit::exit_with_code(3)
        }
        // After the child exited and was waited, its pid stays taken (a
        // zombie) while the guest holds the handle, so no signal can reach
        // a process that reused it; signals say process-exited.
        "pinned" => {
            let mut p = create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE)).unwrap();
            println!("pid {}", p.pid());
            println!("{}", checkpoint("alive", p.pid()));
            drop(p.stdin.take());
            println!("rc {}", p.wait().unwrap());
            let stat = format!("/proc/{}/stat", p.pid());
            let mut cat =
                create_subprocess_exec("cat", [stat.as_str()], Options::new().stdout(PIPE))
                    .unwrap();
            let (out, _) = cat.communicate(None).unwrap();
            let out = String::from_utf8(out.unwrap()).unwrap();
            let state = out
                .rsplit_once(") ")
                .map(|(_, rest)| &rest[..1])
                .unwrap_or("gone");
            println!("state while held {state}");
            println!("kill {:?}", p.kill());
            println!("terminate {:?}", p.terminate());
        }
        // The child exits at once but leaves a grandchild holding its
        // stdout: wait returns at the child's exit all the same.
        "background" => {
            let mut p = create_subprocess_exec(
                "sh",
                ["-c", "sleep 1000 & echo started"],
                Options::new().stdout(PIPE),
            )
            .unwrap();
            let line = p.stdout.as_mut().unwrap().readline().unwrap();
            println!("line {:?}", String::from_utf8(line).unwrap());
            println!("rc {}", p.wait().unwrap());
        }
        // Write far more than a pipe holds to a child that exits at once.
        "write-after-exit" => {
            let mb: usize = args.next().map(|s| s.parse().unwrap()).unwrap_or(64);
            let mut p =
                create_subprocess_exec("true", [""; 0], Options::new().stdin(PIPE)).unwrap();
            println!("rc {}", p.wait().unwrap());
            let w = p.stdin.as_mut().unwrap();
            let chunk = vec![7u8; 1 << 20];
            let mut result = Ok(());
            for _ in 0..mb {
                result = w.write(&chunk).and_then(|()| w.drain());
                if result.is_err() {
                    break;
                }
            }
            println!("write {result:?}");
        }
        // Many spawn+communicate cycles; with `EVERY SCRIPT`, every EVERY-th
        // cycle also runs the shell command SCRIPT (one whose grandchild
        // escapes its process group), waits for it and drops its handle.
        "soak" => {
            let n: usize = args.next().map(|s| s.parse().unwrap()).unwrap_or(1000);
            let every: usize = args.next().map(|s| s.parse().unwrap()).unwrap_or(0);
            let script = args.next().unwrap_or_default();
            for i in 0..n {
                if every > 0 && i % every == every - 1 {
                    let p = create_subprocess_shell(&script, Options::new()).unwrap();
                    assert_eq!(p.wait().unwrap(), 0);
                }
                let mut p = create_subprocess_exec(
                    "cat",
                    [""; 0],
                    Options::new().stdin(PIPE).stdout(PIPE).stderr(PIPE),
                )
                .unwrap();
                let (out, err) = p.communicate(Some(format!("{i}").as_bytes())).unwrap();
                assert_eq!(out.unwrap(), format!("{i}").as_bytes());
                assert_eq!(err.unwrap(), b"");
                assert_eq!(p.returncode(), Some(0));
            }
            println!("soaked {n}");
        }
        // One of many guests on one host: its child is its own, and its
        // policy is its own.
        "own" => {
            let mut p =
                create_subprocess_exec("sh", ["-c", "echo $$"], Options::new().stdout(PIPE))
                    .unwrap();
            let (out, _) = p.communicate(None).unwrap();
            let said = String::from_utf8(out.unwrap()).unwrap();
            println!("mine {}", said.trim() == p.pid().to_string());
            let echo = create_subprocess_exec("echo", ["hi"], Options::new().stdout(DEVNULL));
            println!("echo {:?}", echo.map(|p| p.wait()));
        }
        other => panic!("unknown case {other}"),
    }
}
