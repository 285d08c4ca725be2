//! Runs the requests the host test gives on argv, one per argument, and
//! prints one line per request: `N <result>`.
//!
//! A request is lines of `key=value`; the first line is the operation:
//!
//! - `exec` (`program=`, `arg=`...) or `shell` (`cmd=`), with `env=K=V`...,
//!   `cwd=`, `pipe=1` (pipe stdout and stderr and print what
//!   `communicate` returns), `keep=1` (keep the handle, do not wait),
//!   `kill=1` (after it exited, try to kill it), `check=group` (with
//!   `pipe=1` and `kill=1`: the child printed the pid of a process in its
//!   group; after the kill, ask the host whether that one still runs);
//! - `wait-kept` / `kill-kept` / `drop-kept` with `idx=N`; `kill-kept` with
//!   `check=alive` then asks the host whether the kept process still runs
//!   (see `procgate_test_programs::checkpoint`).
//!
//! In values, `\0` stands for a NUL byte and `\n` for a newline.
use procgate_guest::sync::{create_subprocess_exec, create_subprocess_shell, Process};
use procgate_guest::{Options, PIPE};
use procgate_test_programs::checkpoint;

fn unescape(s: &str) -> String {
    s.replace("\\0", "\0").replace("\\n", "\n")
}

struct Request {
    op: String,
    fields: Vec<(String, String)>,
}

impl Request {
    fn parse(text: &str) -> Request {
        let mut lines = text.split('\n');
        let op = lines.next().unwrap_or_default().to_string();
        let fields = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (k, v) = l.split_once('=').unwrap_or((l, ""));
                (k.to_string(), unescape(v))
            })
            .collect();
        Request { op, fields }
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn one(&self, key: &str) -> Option<String> {
        self.all(key).into_iter().next()
    }

    fn flag(&self, key: &str) -> bool {
        self.one(key).as_deref() == Some("1")
    }
}

fn show(out: Option<Vec<u8>>) -> String {
    format!(
        "{:?}",
        out.map(|o| String::from_utf8_lossy(&o).into_owned())
    )
}

fn run(req: &Request, kept: &mut Vec<Option<Process>>) -> String {
    let idx = || {
        req.one("idx")
            .and_then(|i| i.parse::<usize>().ok())
            .unwrap_or(0)
    };
    match req.op.as_str() {
        "wait-kept" => match kept.get(idx()).and_then(|p| p.as_ref()) {
            Some(p) => format!("{:?}", p.wait()),
            None => "no such process".into(),
        },
        "kill-kept" => match kept.get(idx()).and_then(|p| p.as_ref()) {
            Some(p) => {
                let mut line = match p.kill() {
                    Ok(()) => format!("kill Ok(()) wait {:?}", p.wait()),
                    Err(e) => format!("kill Err({e:?})"),
                };
                if req.one("check").as_deref() == Some("alive") {
                    line += &format!(" then {}", checkpoint("alive", p.pid()));
                }
                line
            }
            None => "no such process".into(),
        },
        "drop-kept" => match kept.get_mut(idx()) {
            Some(p) => format!("dropped {}", p.take().is_some()),
            None => "no such process".into(),
        },
        "exec" | "shell" => {
            let mut options = Options::new();
            for kv in req.all("env") {
                let (k, v) = kv.split_once('=').unwrap_or((&kv, ""));
                options = options.env(k, v);
            }
            if let Some(cwd) = req.one("cwd") {
                options = options.cwd(cwd);
            }
            let pipe = req.flag("pipe");
            if pipe {
                options = options.stdout(PIPE).stderr(PIPE);
            }
            let spawned = if req.op == "exec" {
                let program = req.one("program").unwrap_or_default();
                create_subprocess_exec(&program, req.all("arg"), options)
            } else {
                create_subprocess_shell(&req.one("cmd").unwrap_or_default(), options)
            };
            let mut p = match spawned {
                Ok(p) => p,
                Err(e) => return format!("Err({e:?})"),
            };
            if req.flag("keep") {
                kept.push(Some(p));
                return format!("kept {}", kept.len() - 1);
            }
            let mut printed = None;
            let mut line = if pipe {
                match p.communicate(None) {
                    Ok((out, err)) => {
                        printed = out
                            .as_ref()
                            .and_then(|o| String::from_utf8_lossy(o).trim().parse::<u32>().ok());
                        format!(
                            "rc={:?} out={} err={}",
                            p.returncode(),
                            show(out),
                            show(err)
                        )
                    }
                    Err(e) => format!("communicate Err({e:?}) wait {:?}", p.wait()),
                }
            } else {
                format!("rc={:?}", p.wait())
            };
            if req.flag("kill") {
                line += &format!(" kill {:?}", p.kill());
            }
            if req.one("check").as_deref() == Some("group") {
                let what = format!("in-group-of:{}", p.pid());
                let answer = match printed {
                    Some(pid) => checkpoint(&what, pid),
                    None => "the child printed no pid".into(),
                };
                line += &format!(" then {answer}");
            }
            line
        }
        other => format!("unknown op {other:?}"),
    }
}

fn main() {
    let mut kept = Vec::new();
    for (i, text) in std::env::args().skip(1).enumerate() {
        let req = Request::parse(&text);
        println!("{i} {}", run(&req, &mut kept));
    }
}
