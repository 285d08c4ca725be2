//! The guest library's own API beyond asyncio's basics, on both faces: the
//! exit pollable, `try_wait`, `wait_for`, `start_communicate`, the error
//! split and its texts, `limit` past `u32::MAX`, nested `run`, converting a
//! process between the faces, one meaning of `write`, and asyncio's
//! `readuntil` with several separators, lines, `writelines`, `write_eof`:
//! `guest_api <sync|aio> <case>`.

procgate_test_programs::on_both_faces! { aw =>
    use std::time::Duration;

    use procgate_guest::{Error, HostError, Options, StreamError, PIPE};
    use procgate_test_programs::{communicated, read};

    /// `sleep 60`, with `options`.
    async fn sleeper(options: Options) -> Process {
        aw!(create_subprocess_exec("sleep", ["60"], options)).unwrap()
    }

    /// `printf FORMAT`: writes `data` to a stdout pipe and exits.
    async fn printf(data: &str) -> Process {
        aw!(create_subprocess_exec("printf", ["%s", data], Options::new().stdout(PIPE))).unwrap()
    }

    pub async fn case(name: &str, _args: &[String]) {
        match name {
            // The exit pollable: wait for the first of two processes with
            // wasi:io/poll; it does not borrow the process.
            "pollable" => {
                let slow = sleeper(Options::new()).await;
                let fast = aw!(create_subprocess_exec("true", [""; 0], Options::new())).unwrap();
                let (a, b) = (slow.subscribe(), fast.subscribe());
                let ready = procgate_guest::wasip2::io::poll::poll(&[&a, &b]);
                println!("first ready {ready:?}");
                println!("slow ready {}", a.ready());
                drop(fast);
                println!("pollable outlives its process {}", b.ready());
                slow.kill().unwrap();
                println!("slow ready after kill {}", {
                    a.block();
                    a.ready()
                });
                println!("rc {:?}", aw!(slow.wait()));
            }
            // Poll once: None while running, the code once exited.
            "try_wait" => {
                let p = sleeper(Options::new()).await;
                println!("running {:?}", p.try_wait());
                p.kill().unwrap();
                p.subscribe().block();
                println!("killed {:?}", p.try_wait());
                println!("again {:?} returncode {:?}", p.try_wait(), p.returncode());
            }
            // A wait with a timeout: Ok(None) and the child still runs;
            // then the code.
            "wait_for" => {
                let p = sleeper(Options::new()).await;
                println!("timed out {:?}", aw!(p.wait_for(Duration::from_millis(50))));
                println!("still running {:?}", p.try_wait());
                p.terminate().unwrap();
                println!("exited {:?}", aw!(p.wait_for(Duration::from_secs(60))));
            }
            // A communicate of more output than the host may buffer
            // (the test's policy: 6 MiB): the guest library takes it from
            // the host as it arrives, in order, stdout and stderr apart.
            "communicate_large" => {
                let script = "seq 1 1500000 & seq 2000000 3000000 >&2; wait";
                let mut p = aw!(create_subprocess_exec(
                    "sh",
                    ["-c", script],
                    Options::new().stdout(PIPE).stderr(PIPE)
                ))
                .unwrap();
                let seq = |from: u32, to: u32| {
                    (from..=to).map(|i| format!("{i}\n")).collect::<String>().into_bytes()
                };
                match aw!(p.communicate(None)) {
                    Ok((out, err)) => {
                        let (out, err) = (out.unwrap(), err.unwrap());
                        println!("stdout {} bytes, in order {}", out.len(), out == seq(1, 1500000));
                        println!(
                            "stderr {} bytes, in order {}",
                            err.len(),
                            err == seq(2000000, 3000000)
                        );
                    }
                    Err(e) => println!("communicate {e}"),
                }
                println!("rc {:?}", p.returncode());
            }
            // start-communicate: the process meanwhile, a look without
            // blocking, the result.
            "start_communicate" => {
                let mut p = aw!(create_subprocess_exec(
                    "cat",
                    [""; 0],
                    Options::new().stdin(PIPE).stdout(PIPE)
                ))
                .unwrap();
                let pid = p.pid();
                let talk = p.start_communicate(Some(b"hello")).unwrap();
                println!("same pid {}", talk.process().pid() == pid);
                let result = aw!(talk.wait());
                println!("result {}", communicated(&result));
                println!("rc {:?}", p.returncode());
            }
            // A communicate that does not end: its timeout, then kill the
            // process through the Communication and take the result.
            "communicate_timeout" => {
                let mut p = sleeper(Options::new().stdout(PIPE)).await;
                let mut talk = p.start_communicate(None).unwrap();
                println!("try_get {:?}", talk.try_get().is_none());
                let timed = aw!(talk.wait_for(Duration::from_millis(50)));
                println!("timed out {:?}", timed.map(|r| r.is_none()));
                talk.process().kill().unwrap();
                let result = aw!(talk.wait_for(Duration::from_secs(60)));
                println!("after kill {:?}", result);
                println!("rc {:?}", p.returncode());
            }
            // A limit the WIT cannot carry is an error, never clamped.
            "limit" => {
                let big = u64::from(u32::MAX) + 1;
                let e = aw!(create_subprocess_exec("true", [""; 0], Options::new().limit(big)));
                println!("limit u32::MAX+1 {:?}", e.map(|_| ()));
                let ok = aw!(create_subprocess_exec("true", [""; 0], Options::new().limit(u64::from(u32::MAX))));
                println!("limit u32::MAX ok {}", ok.is_ok());
            }
            // Host errors and stream errors are different types; the stream
            // errors carry their text; Error holds either for `?`.
            "errors" => {
                let denied: HostError = aw!(create_subprocess_exec("rm", ["-rf", "/x"], Options::new())).unwrap_err();
                println!("host {denied:?} / {denied}");
                let mut p = aw!(create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE))).unwrap();
                let stdin = p.stdin.as_mut().unwrap();
                stdin.close();
                let closed: StreamError = stdin.write(b"x").unwrap_err();
                println!("stream {closed:?}");
                println!("display {closed}");
                let any: Error = closed.clone().into();
                println!("error {any:?} is stream {}", matches!(any, Error::Stream(_)));
                let io: std::io::Error = closed.into();
                println!("io {:?} inner {:?}", io.kind(), io.get_ref().and_then(|e| e.downcast_ref::<StreamError>()).is_some());
                println!("rc {:?}", aw!(p.wait()));
                let mut p = aw!(create_subprocess_exec("printf", ["0123456789abcdef"], Options::new().stdout(PIPE).limit(4))).unwrap();
                let over = aw!(p.stdout.as_mut().unwrap().readuntil(b"\n")).unwrap_err();
                println!("overrun {over}");
                let mut p2 = aw!(create_subprocess_exec("printf", ["0123456789\nabc"], Options::new().stdout(PIPE).limit(4))).unwrap();
                let over = aw!(p2.stdout.as_mut().unwrap().readuntil(b"\n")).unwrap_err();
                println!("overrun {over}");
                aw!(p.wait()).unwrap();
                aw!(p2.wait()).unwrap();
            }
            // Nested run: an error, not a panic; the outer run goes on.
            "nested" => {
                let inner = procgate_guest::aio::run(async { 42 });
                println!("nested {inner:?}");
                if let Err(e) = inner {
                    println!("text {e}");
                }
                let p = aw!(create_subprocess_exec("true", [""; 0], Options::new())).unwrap();
                println!("outer goes on, rc {:?}", aw!(p.wait()));
            }
            // A process moves between the faces with its streams and what
            // they buffered.
            "convert" => {
                let options = Options::new().stdin(PIPE).stdout(PIPE);
                let mut p = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], options).unwrap();
                p.stdin.as_mut().unwrap().write(b"one\ntwo\n").unwrap();
                p.stdin.as_mut().unwrap().drain().unwrap();
                println!("sync readline {}", read(&p.stdout.as_mut().unwrap().readexactly(2)));
                let mut a: procgate_guest::aio::Process = p.into();
                println!("aio readline {}", read(&a.stdout.as_mut().unwrap().readline().await));
                a.stdin.as_mut().unwrap().write(b"three\n").unwrap();
                let mut s: procgate_guest::sync::Process = a.into();
                let result = s.communicate(Some(b"four\n"));
                println!("sync communicate {}", communicated(&result));
                println!("rc {:?}", s.returncode());
            }
            // `write` means the same on both faces: it never waits. A child
            // that reads nothing gets 1 MiB written at once (the sync face
            // used to block here forever); drain would wait.
            "write_buffers" => {
                let mut p = sleeper(Options::new().stdin(PIPE)).await;
                let stdin = p.stdin.as_mut().unwrap();
                println!("write 1 MiB {:?}", stdin.write(&vec![b'x'; 1 << 20]));
                println!("closing {}", stdin.is_closing());
                p.kill().unwrap();
                println!("rc {:?}", aw!(p.wait()));
            }
            // close sends everything written, also what the host still
            // buffers when the guest holds nothing (a child that reads
            // only after a second: the pipe is full by then).
            "close_sends_all" => {
                let options = Options::new().stdin(PIPE).stdout(PIPE);
                let mut p = aw!(create_subprocess_exec("sh", ["-c", "sleep 1; exec cat"], options)).unwrap();
                let stdin = p.stdin.as_mut().unwrap();
                println!("write {:?}", stdin.write(&vec![b'x'; 100_000]));
                stdin.close();
                aw!(stdin.wait_closed());
                let out = aw!(p.stdout.as_mut().unwrap().read(-1)).unwrap();
                println!("read back {} bytes", out.len());
                println!("rc {:?}", aw!(p.wait()));
            }
            // readuntil with several separators: the match that ends first,
            // whatever the order of the separators.
            "readuntil_any" => {
                let mut p = printf("a\r\nb;;c\nd").await;
                let out = p.stdout.as_mut().unwrap();
                let seps: [&[u8]; 3] = [b"\n", b"\r\n", b";;"];
                for _ in 0..4 {
                    println!("readuntil_any {}", read(&aw!(out.readuntil_any(&seps))));
                }
                println!("none {}", read(&aw!(out.readuntil_any(&[]))));
                println!("empty {}", read(&aw!(out.readuntil_any(&[b"x", b""]))));
                aw!(p.wait()).unwrap();
            }
            // Writing lines, write_eof, then reading them back by lines.
            "lines" => {
                let mut p = aw!(create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE).stdout(PIPE))).unwrap();
                let stdin = p.stdin.as_mut().unwrap();
                stdin.writelines(["one\n", "two\n", "three"]).unwrap();
                println!("can_write_eof {}", stdin.can_write_eof());
                stdin.write_eof();
                aw!(stdin.wait_closed());
                println!("after write_eof {:?}", stdin.write(b"more").map_err(|e| e.to_string()));
                let lines = super::CollectLines::collect_lines(p.stdout.as_mut().unwrap()).await;
                println!("lines {lines:?}");
                println!("rc {:?}", aw!(p.wait()));
            }
            other => panic!("unknown case {other}"),
        }
    }
}

/// Every line of a reader, by the face's line iterator.
trait CollectLines {
    async fn collect_lines(&mut self) -> Vec<String>;
}

impl CollectLines for procgate_guest::sync::StreamReader {
    async fn collect_lines(&mut self) -> Vec<String> {
        self.lines()
            .map(|l| String::from_utf8_lossy(&l.unwrap()).into_owned())
            .collect()
    }
}

impl CollectLines for procgate_guest::aio::StreamReader {
    async fn collect_lines(&mut self) -> Vec<String> {
        use procgate_guest::futures_lite::StreamExt;
        let mut lines = self.lines();
        let mut all = Vec::new();
        while let Some(line) = lines.next().await {
            all.push(String::from_utf8_lossy(&line.unwrap()).into_owned());
        }
        all
    }
}
