//! What code written against `std::process::Command` does, with only the
//! `use` line changed: `command <case>`.

use std::io::{BufRead, BufReader, Read, Write};

// use std::process::{Command, Stdio};
use procgate_guest::process::{Command, ExitStatusExt, Stdio};

fn main() {
    let case = std::env::args().nth(1).expect("usage: command <case>");
    match case.as_str() {
        "output" => {
            let out = Command::new("echo")
                .args(["hello", "world"])
                .output()
                .unwrap();
            println!("status {} success {}", out.status, out.status.success());
            println!(
                "stdout {:?} stderr {:?}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let out = Command::new("sh")
                .arg("-c")
                .arg("echo oops >&2; exit 3")
                .output()
                .unwrap();
            println!(
                "code {:?} stderr {:?}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        "status" => {
            let status = Command::new("sh").args(["-c", "exit 7"]).status().unwrap();
            println!(
                "code {:?} success {} signal {:?}",
                status.code(),
                status.success(),
                status.signal()
            );
            let status = Command::new("true").status().unwrap();
            println!("true {status}");
        }
        "kill" => {
            let mut child = Command::new("sleep").arg("60").spawn().unwrap();
            println!("id > 0 {}", child.id() > 0);
            println!("try_wait {:?}", child.try_wait().unwrap());
            child.kill().unwrap();
            let status = child.wait().unwrap();
            println!(
                "{status} code {:?} signal {:?}",
                status.code(),
                status.signal()
            );
            println!("kill again {:?}", child.kill().map_err(|e| e.kind()));
            println!(
                "try_wait {:?}",
                child.try_wait().unwrap().map(|s| s.to_string())
            );
        }
        "pipes" => {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"line one\nline two\n").unwrap();
            writeln!(stdin, "line {}", 3).unwrap();
            stdin.flush().unwrap();
            drop(stdin);
            let mut text = String::new();
            child
                .stdout
                .as_mut()
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            println!("read {text:?}");
            println!("wait {}", child.wait().unwrap());
        }
        "bufread" => {
            let mut child = Command::new("printf")
                .arg("a\\nb\\nc\\n")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
                .lines()
                .map(Result::unwrap)
                .collect();
            println!("lines {lines:?}");
            println!("wait {}", child.wait().unwrap());
        }
        "wait_with_output" => {
            let mut child = Command::new("sh")
                .args(["-c", "cat; echo err >&2"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.as_mut().unwrap().write_all(b"fed").unwrap();
            let out = child.wait_with_output().unwrap();
            println!(
                "{:?} {:?} {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                out.status
            );
        }
        "chain" => {
            let mut first = Command::new("printf")
                .arg("12345")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let second = Command::new("wc")
                .arg("-c")
                .stdin(Stdio::from(first.stdout.take().unwrap()))
                .output()
                .unwrap();
            println!("wc {:?}", String::from_utf8_lossy(&second.stdout).trim());
            println!("first {}", first.wait().unwrap());
        }
        "env_cwd" => {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", "echo \"[$GREETING] $(pwd)\""])
                .env("GREETING", "hi")
                .current_dir("/work");
            println!(
                "envs {:?} dir {:?}",
                cmd.get_envs().collect::<Vec<_>>(),
                cmd.get_current_dir()
            );
            let out = cmd.output().unwrap();
            println!("set {:?}", String::from_utf8_lossy(&out.stdout).trim());
            let out = cmd.env_remove("GREETING").output().unwrap();
            println!("removed {:?}", String::from_utf8_lossy(&out.stdout).trim());
            let out = cmd.env("GREETING", "again").env_clear().output().unwrap();
            println!("cleared {:?}", String::from_utf8_lossy(&out.stdout).trim());
        }
        "errors" => {
            let e = Command::new("rm")
                .arg("-rf")
                .arg("/x")
                .output()
                .unwrap_err();
            let inner = e
                .get_ref()
                .and_then(|i| i.downcast_ref::<procgate_guest::HostError>());
            println!("denied kind {:?} inner {inner:?}", e.kind());
            let e = Command::new("no-such-program").status().unwrap_err();
            println!("not found kind {:?}", e.kind());
            let e = Command::new("cat")
                .stdout(Stdio::piped())
                .arg("a\0b")
                .spawn()
                .unwrap_err();
            println!("nul kind {:?}", e.kind());
        }
        other => panic!("unknown case {other}"),
    }
}
