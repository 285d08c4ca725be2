//! CPython's asyncio subprocess tests that apply to procgate
//! (`tests/conformance/README.md`), each a case, on both faces of the guest
//! library: `conformance <sync|aio> <case> [args]`. Case names are the
//! CPython test names without `test_`.

procgate_test_programs::on_both_faces! { aw =>
    use procgate_guest::{Options, Signal, DEVNULL, PIPE};
    use procgate_test_programs::{checkpoint, communicated, kind, opt_text, text};

    /// CPython's `PROGRAM_CAT`: stdin to stdout.
    const CAT: &str = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())";
    /// CPython's `PROGRAM_BLOCKED`.
    const BLOCKED: &str = "import time; time.sleep(3600)";
    /// The program of `test_stdin_not_inheritable` and the devnull tests.
    const LEN: &str = "import sys; data = sys.stdin.read(); print(len(data))";

    async fn python(code: &str, options: Options) -> Process {
        aw!(create_subprocess_exec("python3", ["-c", code], options)).unwrap()
    }

    /// Cases 9 to 13: `LEN` with the three streams as given, communicating
    /// `input`.
    async fn len_of_stdin(options: Options, input: Option<&[u8]>) {
        let mut p = python(LEN, options).await;
        let (out, err) = aw!(p.communicate(input)).unwrap();
        println!(
            "stdout {} stderr {} rc {:?}",
            opt_text(&out),
            opt_text(&err),
            p.returncode()
        );
    }

    fn all_piped() -> Options {
        Options::new().stdin(PIPE).stdout(PIPE).stderr(PIPE)
    }

    pub async fn case(name: &str, args: &[String]) {
        match name {
            "stdin_stdout" => {
                let mut p = python(CAT, Options::new().stdin(PIPE).stdout(PIPE)).await;
                let stdin = p.stdin.as_mut().unwrap();
                stdin.write(b"some data").unwrap();
                aw!(stdin.drain()).unwrap();
                stdin.close();
                aw!(stdin.wait_closed());
                let data = aw!(p.stdout.as_mut().unwrap().read(-1)).unwrap();
                println!("data {}", text(&data));
                println!("rc {}", aw!(p.wait()).unwrap());
            }
            "communicate" => {
                let mut p = python(CAT, Options::new().stdin(PIPE).stdout(PIPE)).await;
                let (out, err) = aw!(p.communicate(Some(b"some data"))).unwrap();
                println!("stdout {} stderr {}", opt_text(&out), opt_text(&err));
                println!("rc {:?}", p.returncode());
            }
            "shell" => {
                let p = aw!(create_subprocess_shell("exit 7", Options::new())).unwrap();
                println!("rc {}", aw!(p.wait()).unwrap());
            }
            "start_new_session" => {
                // Exits 8 only if the shell leads its own session.
                let options = Options::new().start_new_session(true);
                let script = "[ \"$(cut -d' ' -f6 /proc/$$/stat)\" = \"$$\" ] && exit 8; exit 9";
                let p = aw!(create_subprocess_shell(script, options)).unwrap();
                println!("rc {}", aw!(p.wait()).unwrap());
            }
            "kill" => {
                let p = python(BLOCKED, Options::new()).await;
                println!("running {:?}", p.returncode());
                p.kill().unwrap();
                println!("rc {}", aw!(p.wait()).unwrap());
            }
            "terminate" => {
                let p = python(BLOCKED, Options::new()).await;
                p.terminate().unwrap();
                println!("rc {}", aw!(p.wait()).unwrap());
            }
            "send_signal" => {
                let code = "import time; print('sleeping', flush=True); time.sleep(3600)";
                let mut p = python(code, Options::new().stdout(PIPE)).await;
                let line = aw!(p.stdout.as_mut().unwrap().readline()).unwrap();
                println!("line {}", text(&line));
                p.send_signal(Signal::Hup).unwrap();
                println!("rc {}", aw!(p.wait()).unwrap());
            }
            "communicate_ignore_broken_pipe" => {
                let mut p = python("pass", Options::new().stdin(PIPE)).await;
                let input = vec![b'x'; 4 * 1024 * 1024 + 1];
                let result = aw!(p.communicate(Some(&input)));
                println!("{} rc {:?}", communicated(&result), p.returncode());
            }
            "stdin_not_inheritable" => len_of_stdin(all_piped(), Some(b"abc")).await,
            "empty_input" => len_of_stdin(all_piped(), Some(b"")).await,
            "devnull_input" => len_of_stdin(all_piped().stdin(DEVNULL), None).await,
            "devnull_output" => len_of_stdin(all_piped().stdout(DEVNULL), Some(b"abc")).await,
            "devnull_error" => len_of_stdin(all_piped().stderr(DEVNULL), Some(b"abc")).await,
            "close_kill_running" => {
                let p = python(BLOCKED, Options::new()).await;
                let pid = p.pid();
                println!("pid {pid}");
                println!("before drop {}", checkpoint("alive", pid));
                drop(p);
                // While this guest still runs, the host sees the child
                // gone: killed and reaped on the drop, not when the guest
                // ends.
                println!("after drop {}", checkpoint("gone", pid));
            }
            "popen_error" => {
                // args: a file that is not executable, a missing program,
                // how many times to try each.
                let [noexec, missing, times] = args else {
                    panic!("popen_error NOEXEC MISSING TIMES");
                };
                let times: usize = times.parse().unwrap();
                for (label, program) in [("noexec", noexec), ("missing", missing)] {
                    let mut kinds = std::collections::BTreeMap::new();
                    for _ in 0..times {
                        let result = aw!(create_subprocess_exec(program, [""; 0], all_piped()));
                        let k = match result {
                            Ok(_) => "started".to_owned(),
                            Err(e) => kind(&e),
                        };
                        *kinds.entry(k).or_insert(0) += 1;
                    }
                    for (k, n) in kinds {
                        println!("{label} {k} {n}");
                    }
                }
            }
            "proc_exited" => {
                let p = python("pass", Options::new()).await;
                println!("rc {}", aw!(p.wait()).unwrap());
                println!("send_signal {:?}", p.send_signal(Signal::Hup));
                println!("terminate {:?}", p.terminate());
                println!("kill {:?}", p.kill());
            }
            other => panic!("unknown case {other}"),
        }
    }
}
