//! asyncio's stream API (`StreamReader`, `StreamWriter`) and the edge
//! semantics of `communicate` and `wait`, on both faces of the guest
//! library: `streams_api <sync|aio> <case>`.

procgate_test_programs::on_both_faces! { aw =>
    use procgate_guest::{Options, Signal, DEVNULL, PIPE, STDOUT};
    use procgate_test_programs::{communicated, read};

    /// A child printing `code`'s output through python3.
    async fn python(code: &str, options: Options) -> Process {
        aw!(create_subprocess_exec("python3", ["-c", code], options)).unwrap()
    }

    /// A child that writes `data` to stdout in one write and exits.
    async fn writes(data: &str, options: Options) -> Process {
        let code = format!("import os; os.write(1, {data:?}.encode())");
        python(&code, options.stdout(PIPE)).await
    }

    /// The megabytes every megabyte case moves on each pipe.
    const MIB4: usize = 4 * 1024 * 1024;

    /// Says whether `data` is `want`, without printing megabytes.
    fn same(label: &str, data: &Option<Vec<u8>>, want: &[u8]) {
        let data = data.as_deref().unwrap_or_default();
        println!("{label} {} bytes, as sent: {}", data.len(), data == want);
    }

    pub async fn case(name: &str, _args: &[String]) {
        match name {
            // StreamReader.read(n): n = 0, n > 0, n = -1, and at EOF.
            "read" => {
                let mut p = writes("hello world", Options::new()).await;
                let out = p.stdout.as_mut().unwrap();
                println!("read(0) {}", read(&aw!(out.read(0))));
                println!("read(5) {}", read(&aw!(out.read(5))));
                println!("read(-1) {}", read(&aw!(out.read(-1))));
                println!("read(-1) {}", read(&aw!(out.read(-1))));
                println!("read(5) {}", read(&aw!(out.read(5))));
                println!("at_eof {}", out.at_eof());
                println!("rc {}", aw!(p.wait()).unwrap());
            }
            // readline: whole lines, the partial last line at EOF, then
            // empty bytes.
            "readline" => {
                let mut p = writes("one\ntwo\npartial", Options::new()).await;
                let out = p.stdout.as_mut().unwrap();
                for _ in 0..5 {
                    println!("readline {}", read(&aw!(out.readline())));
                }
                println!("at_eof {}", out.at_eof());
                println!("rc {}", aw!(p.wait()).unwrap());
            }
            // readuntil: a separator of two bytes, EOF before it, an empty
            // separator.
            "readuntil" => {
                let mut p = writes("a--b--c", Options::new()).await;
                let out = p.stdout.as_mut().unwrap();
                for _ in 0..3 {
                    println!("readuntil {}", read(&aw!(out.readuntil(b"--"))));
                }
                println!("readuntil empty {}", read(&aw!(out.readuntil(b""))));
                println!("at_eof {}", out.at_eof());
                println!("rc {}", aw!(p.wait()).unwrap());
            }
            // readexactly: enough, zero, then short at EOF (the error
            // carries the partial data), then nothing at all.
            "readexactly" => {
                let mut p = writes("0123456789", Options::new()).await;
                let out = p.stdout.as_mut().unwrap();
                println!("readexactly(4) {}", read(&aw!(out.readexactly(4))));
                println!("readexactly(0) {}", read(&aw!(out.readexactly(0))));
                println!("readexactly(10) {}", read(&aw!(out.readexactly(10))));
                println!("readexactly(1) {}", read(&aw!(out.readexactly(1))));
                println!("rc {}", aw!(p.wait()).unwrap());
            }
            // at_eof: false while the child runs, even with nothing
            // buffered; true once it closed its stdout and all was read.
            "at_eof" => {
                let code = "import sys; print('x', flush=True); sys.stdin.read()";
                let mut p = python(code, Options::new().stdin(PIPE).stdout(PIPE)).await;
                let out = p.stdout.as_mut().unwrap();
                println!("at_eof {}", out.at_eof());
                println!("readline {}", read(&aw!(out.readline())));
                println!("at_eof {}", out.at_eof());
                p.stdin.as_mut().unwrap().close();
                let out = p.stdout.as_mut().unwrap();
                println!("read(-1) {}", read(&aw!(out.read(-1))));
                println!("at_eof {}", out.at_eof());
                println!("rc {}", aw!(p.wait()).unwrap());
            }
            // limit: a line longer than the limit is LimitOverrun and is
            // dropped by readline; readuntil leaves the data in the buffer.
            "limit" => {
                let data = "short\n0123456789abcdef\nafter\n0123456789abcdef--tail";
                let mut p = writes(data, Options::new().limit(8)).await;
                let out = p.stdout.as_mut().unwrap();
                for _ in 0..3 {
                    println!("readline {}", read(&aw!(out.readline())));
                }
                println!("readuntil {}", read(&aw!(out.readuntil(b"--"))));
                println!("read(-1) {}", read(&aw!(out.read(-1))));
                println!("rc {}", aw!(p.wait()).unwrap());
            }
            // limit, with no separator within it: readline drops what it
            // holds, and goes on with what comes after.
            "limit_no_separator" => {
                let code = "import os, sys
os.write(1, b'0123456789abcdef')
sys.stdin.read()
os.write(1, b'\\nnext\\n')";
                let options = Options::new().stdin(PIPE).stdout(PIPE).limit(8);
                let mut p = python(code, options).await;
                let out = p.stdout.as_mut().unwrap();
                println!("readline {}", read(&aw!(out.readline())));
                p.stdin.as_mut().unwrap().close();
                let out = p.stdout.as_mut().unwrap();
                for _ in 0..3 {
                    println!("readline {}", read(&aw!(out.readline())));
                }
                println!("rc {}", aw!(p.wait()).unwrap());
            }
            // StreamWriter: write, drain, close, wait_closed, is_closing,
            // and writing after close.
            "writer" => {
                let cat = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())";
                let mut p = python(cat, Options::new().stdin(PIPE).stdout(PIPE)).await;
                let stdin = p.stdin.as_mut().unwrap();
                println!("write {:?}", stdin.write(b"some "));
                println!("write {:?}", stdin.write(b"data"));
                println!("drain {:?}", aw!(stdin.drain()));
                println!("is_closing {}", stdin.is_closing());
                stdin.close();
                println!("is_closing {}", stdin.is_closing());
                aw!(stdin.wait_closed());
                stdin.close();
                println!("write {:?}", stdin.write(b"more"));
                println!("drain {:?}", aw!(stdin.drain()));
                println!("stdout {}", read(&aw!(p.stdout.as_mut().unwrap().read(-1))));
                println!("rc {}", aw!(p.wait()).unwrap());
            }
            // Writing to a child that has exited: BrokenPipeError.
            "broken_pipe" => {
                let mut p = python("pass", Options::new().stdin(PIPE)).await;
                println!("rc {}", aw!(p.wait()).unwrap());
                let stdin = p.stdin.as_mut().unwrap();
                let result = match stdin.write(&vec![b'x'; 256 * 1024]) {
                    Ok(()) => aw!(stdin.drain()),
                    Err(e) => Err(e),
                };
                println!("write+drain {result:?}");
                println!("is_closing {}", stdin.is_closing());
            }
            // stderr=STDOUT: both in the stdout stream, no stderr stream.
            "stderr_to_stdout" => {
                let code = "import sys
for out, text in ((sys.stdout, 'out1'), (sys.stderr, 'err1'), (sys.stdout, 'out2')):
    print(text, file=out, flush=True)";
                let options = Options::new().stdout(PIPE).stderr(STDOUT);
                let mut p = python(code, options.clone()).await;
                println!("stderr stream {}", p.stderr.is_some());
                println!("read(-1) {}", read(&aw!(p.stdout.as_mut().unwrap().read(-1))));
                println!("rc {}", aw!(p.wait()).unwrap());
                let mut p = python(code, options).await;
                println!("communicate {}", communicated(&aw!(p.communicate(None))));
            }
            // returncode: None until the exit, -N after signal N; every
            // signalling call is ProcessExited afterwards.
            "returncode" => {
                let p = python("import time; time.sleep(3600)", Options::new()).await;
                println!("returncode {:?}", p.returncode());
                p.send_signal(Signal::Usr1).unwrap();
                println!("wait {}", aw!(p.wait()).unwrap());
                println!("returncode {:?}", p.returncode());
                println!("send_signal {:?}", p.send_signal(Signal::Usr1));
                println!("terminate {:?}", p.terminate());
                println!("kill {:?}", p.kill());
            }
            // communicate after the process exited (and was waited for):
            // what is left in the pipes, and the returncode.
            "communicate_after_exit" => {
                let code = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)";
                let mut p = python(code, Options::new().stdout(PIPE).stderr(PIPE)).await;
                println!("wait {}", aw!(p.wait()).unwrap());
                println!("communicate {}", communicated(&aw!(p.communicate(None))));
                println!("returncode {:?}", p.returncode());
            }
            // communicate closes stdin without input too (Python 3.12+),
            // whether the host still holds it or the guest wrote to it.
            "communicate_closes_stdin" => {
                let code = "import sys; print(len(sys.stdin.read()))";
                let options = Options::new().stdin(PIPE).stdout(PIPE);
                let mut p = python(code, options.clone()).await;
                println!("untouched {}", communicated(&aw!(p.communicate(None))));
                let mut p = python(code, options).await;
                p.stdin.as_mut().unwrap().write(b"ab").unwrap();
                println!("written {}", communicated(&aw!(p.communicate(None))));
            }
            // communicate twice: the second finds both pipes at EOF.
            "communicate_twice" => {
                let code = "import sys
sys.stdout.write(sys.stdin.read())
sys.stderr.write('e')";
                let options = Options::new().stdin(PIPE).stdout(PIPE).stderr(PIPE);
                let mut p = python(code, options).await;
                println!("first {}", communicated(&aw!(p.communicate(Some(b"first")))));
                println!("second {}", communicated(&aw!(p.communicate(Some(b"second")))));
                println!("returncode {:?}", p.returncode());
            }
            // A pipe read after the child exited: all that was buffered,
            // then EOF.
            "read_after_exit" => {
                let code = "import sys
sys.stdout.write('x' * 50000)
sys.stderr.write('done\\n')";
                let mut p = python(code, Options::new().stdout(PIPE).stderr(PIPE)).await;
                println!("wait {}", aw!(p.wait()).unwrap());
                let out = p.stdout.as_mut().unwrap();
                let data = aw!(out.read(-1)).unwrap();
                let all_x = data.iter().all(|&b| b == b'x');
                println!("stdout {} bytes, all x: {all_x}", data.len());
                println!("read(-1) {}", read(&aw!(out.read(-1))));
                println!("at_eof {}", out.at_eof());
                let err = p.stderr.as_mut().unwrap();
                println!("readline {}", read(&aw!(err.readline())));
                println!("readline {}", read(&aw!(err.readline())));
            }
            // Megabytes on both pipes at once through communicate: no
            // deadlock, nothing lost.
            "megabytes" => {
                let code = "import sys
o, e = sys.stdout.buffer, sys.stderr.buffer
for _ in range(64):
    o.write(b'o' * 65536); o.flush()
    e.write(b'e' * 65536); e.flush()";
                let options = Options::new().stdin(DEVNULL).stdout(PIPE).stderr(PIPE);
                let mut p = python(code, options).await;
                let (out, err) = aw!(p.communicate(None)).unwrap();
                same("stdout", &out, &vec![b'o'; MIB4]);
                same("stderr", &err, &vec![b'e'; MIB4]);
                println!("returncode {:?}", p.returncode());
            }
            // Megabytes in, and echoed on both pipes as they come: the
            // guest feeds stdin (it wrote to the stream first) while the
            // host reads.
            "megabytes_echo" => {
                let code = "import sys
i, o, e = sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer
while chunk := i.read1(65536):
    o.write(chunk); o.flush()
    e.write(chunk); e.flush()";
                let options = Options::new().stdin(PIPE).stdout(PIPE).stderr(PIPE);
                let mut p = python(code, options).await;
                let input: Vec<u8> = (0..MIB4).map(|i| (i % 251) as u8).collect();
                let stdin = p.stdin.as_mut().unwrap();
                stdin.write(&input[..100]).unwrap();
                let (out, err) = aw!(p.communicate(Some(&input[100..]))).unwrap();
                same("stdout", &out, &input);
                same("stderr", &err, &input);
                println!("returncode {:?}", p.returncode());
            }
            other => panic!("unknown case {other}"),
        }
    }
}
