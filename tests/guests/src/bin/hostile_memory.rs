//! A guest that tries to make the host hold memory: output buffered by
//! communicate, many communicates at once, and handles.
use procgate_guest::bindings::procgate::subprocess::{subprocess as wit_sub, types as wit};

fn options() -> wit::Options<'static> {
    wit::Options {
        stdin: wit::Stdio::Devnull,
        stdout: wit::Stdio::Pipe,
        stderr: wit::Stdio::Devnull,
        limit: None,
        cwd: None,
        env: Vec::new(),
        start_new_session: false,
    }
}

/// `head -c BYTES /dev/zero`, stdout piped.
fn zeros(bytes: &str) -> wit::Process {
    wit_sub::create_subprocess_exec(
        "head",
        &["-c".into(), bytes.into(), "/dev/zero".into()],
        &options(),
    )
    .unwrap()
}

/// The result of a communicate, in a line: how much, or which error.
fn describe(r: Result<wit::CommunicateOutput, wit::Error>) -> String {
    match r {
        Ok(out) => format!("ok {}", out.stdout.map_or(0, |o| o.len())),
        Err(wit::Error::LimitExceeded(_)) => "limit-exceeded".into(),
        Err(e) => format!("{e:?}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let case = args.get(1).map(String::as_str).unwrap_or_default();
    match case {
        // Zeros through one communicate per size given (1.5 GB, say).
        "communicate" => {
            for size in &args[2..] {
                let p = zeros(size);
                println!("{}", describe(p.communicate(None)));
            }
        }
        // N communicates of BYTES each, all started before any is read.
        "gather" => {
            let n: usize = args[2].parse().unwrap();
            let procs: Vec<wit::Process> = (0..n).map(|_| zeros(&args[3])).collect();
            let futures: Vec<_> = procs.iter().map(|p| p.start_communicate(None)).collect();
            let (mut ok, mut limited, mut other) = (0, 0, Vec::new());
            for f in futures {
                let result = match f {
                    Ok(f) => loop {
                        f.subscribe().block();
                        if let Some(r) = f.get() {
                            break r;
                        }
                    },
                    Err(e) => Err(e),
                };
                match describe(result) {
                    s if s.starts_with("ok") => ok += 1,
                    s if s == "limit-exceeded" => limited += 1,
                    s => other.push(s),
                }
            }
            println!("ok {ok} limited {limited} other {other:?}");
        }
        // Pollables until the host refuses: the resource table is full.
        "handles" => {
            let p = wit_sub::create_subprocess_exec("sleep", &["1000".into()], &options()).unwrap();
            let mut held = Vec::new();
            loop {
                held.push(p.subscribe());
                if held.len() % 10_000 == 0 {
                    println!("held {}", held.len());
                }
            }
        }
        other => panic!("unknown case {other}"),
    }
}
