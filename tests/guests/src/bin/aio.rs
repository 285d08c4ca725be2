//! The async face: gather over several processes, exit pollables, the
//! non-blocking communicate, cancelling a wait or a communicate.
use procgate_guest::aio::{self, create_subprocess_exec, create_subprocess_shell, Process};
use procgate_guest::{Options, PIPE};
use procgate_test_programs::{communicated, read};
use wstd::future::FutureExt;
use wstd::time::Duration;

async fn timed(cmd: &str) -> String {
    let mut p = create_subprocess_shell(cmd, Options::new().stdout(PIPE))
        .await
        .unwrap();
    let (out, _) = p.communicate(None).await.unwrap();
    format!(
        "{}|rc={}",
        String::from_utf8(out.unwrap()).unwrap().trim(),
        p.returncode().unwrap()
    )
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    aio::run(async {
        match case.as_str() {
            "gather" => {
                // Each child prints its start and end time (ns); the host
                // checks they overlap.
                let cmds: Vec<String> = (0..3)
                    .map(|i| format!("date +%s%N; sleep 0.5; date +%s%N; exit {i}"))
                    .collect();
                let results = aio::gather(cmds.iter().map(|c| timed(c))).await;
                for r in results {
                    println!("{}", r.replace('\n', " "));
                }
            }
            "wait" => {
                // The slow child (cat) ends only when the fast one's wait
                // has returned and closed its stdin: the two waits must be
                // in flight at once, or this never ends.
                let fast = create_subprocess_exec("sh", ["-c", "exit 4"], Options::new())
                    .await
                    .unwrap();
                let mut slow = create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE))
                    .await
                    .unwrap();
                let stdin = slow.stdin.take();
                let fast_then_close = async move {
                    let rc = fast.wait().await;
                    drop(stdin);
                    rc
                };
                let (a, b) = aio::zip(slow.wait(), fast_then_close).await;
                println!("slow {} fast {}", a.unwrap(), b.unwrap());
            }
            "many" => {
                let n = 50;
                let results = aio::gather((0..n).map(|i| async move {
                    let mut p = create_subprocess_exec(
                        "sh",
                        ["-c", &format!("echo {i}")],
                        Options::new().stdout(PIPE),
                    )
                    .await
                    .unwrap();
                    let (out, _) = p.communicate(None).await.unwrap();
                    String::from_utf8(out.unwrap())
                        .unwrap()
                        .trim()
                        .parse::<u32>()
                        .unwrap()
                }))
                .await;
                println!("sum {}", results.iter().sum::<u32>());
            }
            "hundred" => hundred().await,
            "cancel_wait" => {
                let mut p = ready_then_blocked().await;
                let waited = p.wait().timeout(Duration::from_millis(100)).await;
                println!("wait cancelled {}", waited.is_err());
                still_usable(&mut p).await;
            }
            "cancel_communicate" => {
                let mut p = ready_then_blocked().await;
                let communicated = p
                    .communicate(None)
                    .timeout(Duration::from_millis(100))
                    .await;
                println!("communicate cancelled {}", communicated.is_err());
                still_usable(&mut p).await;
            }
            "cancel_readline" => {
                // Half a line, then the rest once stdin closes.
                let code = "import os, sys
os.write(1, b'par')
sys.stdin.read()
os.write(1, b'tial\\n')";
                let options = Options::new().stdin(PIPE).stdout(PIPE);
                let mut p = create_subprocess_exec("python3", ["-c", code], options)
                    .await
                    .unwrap();
                let out = p.stdout.as_mut().unwrap();
                let line = out.readline().timeout(Duration::from_millis(100)).await;
                println!("readline cancelled {}", line.is_err());
                p.stdin.as_mut().unwrap().close();
                let out = p.stdout.as_mut().unwrap();
                println!("readline {}", read(&out.readline().await));
                println!("rc {:?}", p.wait().await);
            }
            "pending_then_communicate" => {
                // cat echoes at once; nobody reads its stdout yet, so it
                // stops reading and most of the megabyte stays buffered in
                // the writer, to go before communicate's input.
                let options = Options::new().stdin(PIPE).stdout(PIPE);
                let mut p = create_subprocess_exec("cat", [""; 0], options)
                    .await
                    .unwrap();
                let data: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
                p.stdin.as_mut().unwrap().write(&data).unwrap();
                let (out, err) = p.communicate(Some(b"tail")).await.unwrap();
                let out = out.unwrap();
                let sent = [&data[..], b"tail"].concat();
                println!("stdout {} bytes, as sent: {}", out.len(), out == sent);
                println!("stderr {err:?} rc {:?}", p.returncode());
            }
            "starts" => {
                // N creates at once: each asks the host to start its
                // process, and all N ask before any is over.
                let n: usize = std::env::args().nth(2).unwrap().parse().unwrap();
                let created = aio::gather(
                    (0..n).map(|_| create_subprocess_exec("sleep", ["30"], Options::new())),
                )
                .await;
                let mut errors = Vec::new();
                let mut started = 0;
                for created in created {
                    match created {
                        Ok(p) => {
                            started += 1;
                            p.kill().unwrap();
                            p.wait().await.unwrap();
                        }
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                errors.dedup();
                println!("started {started}");
                for e in errors {
                    println!("{e}");
                }
            }
            "abandon" => {
                // Three creates given up before they are over (a timeout
                // of zero), then the guest ends.
                let marker = std::env::args().nth(2).unwrap();
                let created =
                    aio::gather((0..3).map(|_| {
                        create_subprocess_exec("sleep", [marker.as_str()], Options::new())
                    }));
                let given_up = aio::wait_for(created, std::time::Duration::ZERO).await;
                println!("given up {}", given_up.is_err());
            }
            other => panic!("unknown case {other}"),
        }
    })
    .expect("the outermost aio::run");
}

/// How many processes `hundred` runs at once, of each kind.
const EACH: usize = 40;

/// 3 × [`EACH`] processes in flight at once from one guest, all started
/// before any is driven, then driven together with `gather`: a third
/// through `communicate`, a third through streamed reads and writes, a
/// third through `wait`.
async fn hundred() {
    let mut procs = Vec::new();
    for i in 0..3 * EACH {
        let both = Options::new().stdin(PIPE).stdout(PIPE);
        let (program, args, options) = match i % 3 {
            0 => ("cat", vec![], both),
            1 => (
                "sh",
                vec!["-c", "while read x; do echo \"got $x\"; done; echo bye"],
                both,
            ),
            _ => (
                "sh",
                vec!["-c", "read x; exit $x"],
                Options::new().stdin(PIPE),
            ),
        };
        procs.push(
            create_subprocess_exec(program, args, options)
                .await
                .unwrap(),
        );
    }
    // Each child waits for its stdin: none can have exited yet.
    let running = procs.iter().filter(|p| p.returncode().is_none()).count();
    println!("in flight {running}");
    let results = aio::gather(procs.into_iter().enumerate().map(|(i, p)| drive(i, p))).await;
    for kind in ["communicate", "streamed", "wait"] {
        let ok = results.iter().filter(|r| r.as_deref() == Ok(kind)).count();
        println!("{kind} {ok} ok");
    }
    for failure in results.iter().filter_map(|r| r.as_ref().err()) {
        println!("failed: {failure}");
    }
}

/// Drives process `i` of `hundred` by its kind; returns the kind if all
/// went as expected.
async fn drive(i: usize, mut p: Process) -> Result<&'static str, String> {
    let expect = |what: &str, got: String, want: String| {
        if got == want {
            Ok(())
        } else {
            Err(format!("{i} {what}: {got} instead of {want}"))
        }
    };
    match i % 3 {
        0 => {
            let input = format!("data {i}");
            let result = p.communicate(Some(input.as_bytes())).await;
            expect(
                "communicate",
                communicated(&result),
                format!("Ok(Some({input:?}), None)"),
            )?;
            expect("rc", format!("{:?}", p.returncode()), "Some(0)".into())?;
            Ok("communicate")
        }
        1 => {
            let stdin = p.stdin.as_mut().unwrap();
            stdin.write(format!("{i}\n").as_bytes()).unwrap();
            stdin.drain().await.unwrap();
            let out = p.stdout.as_mut().unwrap();
            let line = read(&out.readline().await);
            expect("readline", line, format!("Ok(\"got {i}\\n\")"))?;
            let stdin = p.stdin.as_mut().unwrap();
            stdin.close();
            stdin.wait_closed().await;
            let out = p.stdout.as_mut().unwrap();
            expect("rest", read(&out.read(-1).await), "Ok(\"bye\\n\")".into())?;
            expect("rc", format!("{:?}", p.wait().await), "Ok(0)".into())?;
            Ok("streamed")
        }
        _ => {
            let code = i % 200;
            let stdin = p.stdin.as_mut().unwrap();
            stdin.write(format!("{code}\n").as_bytes()).unwrap();
            stdin.close();
            stdin.wait_closed().await;
            expect("rc", format!("{:?}", p.wait().await), format!("Ok({code})"))?;
            Ok("wait")
        }
    }
}

/// A child that says `ready` on stdout once it runs, then sleeps for an
/// hour; returned once it said so.
async fn ready_then_blocked() -> Process {
    let code = "import time; print('ready', flush=True); time.sleep(3600)";
    let mut p = create_subprocess_exec("python3", ["-c", code], Options::new().stdout(PIPE))
        .await
        .unwrap();
    println!("{}", read(&p.stdout.as_mut().unwrap().readline().await));
    p
}

/// After a cancelled wait or communicate: the process still runs, can be
/// killed and waited for, and communicate works on it.
async fn still_usable(p: &mut Process) {
    println!("returncode {:?}", p.returncode());
    println!("kill {:?}", p.kill());
    println!("wait {:?}", p.wait().await);
    println!("communicate {}", communicated(&p.communicate(None).await));
    println!("returncode {:?}", p.returncode());
}
