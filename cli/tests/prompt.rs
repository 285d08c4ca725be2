//! `procgate run --prompt` under a pseudo-terminal: the question's bytes,
//! the answer read from the controlling terminal, the child's output, the
//! policy file rewritten and the audit event, one case per kind of answer;
//! and the refusal without a terminal. Every wait has a deadline.

mod common;

use common::{output, procgate, text};
use procgate_tests::{guest_path, scratch};
use serde_json::Value;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long any one step may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(120);

/// The policy_probe request that runs `echo hello World` with pipes.
const ECHO: &str = "exec\nprogram=echo\narg=hello\narg=World\npipe=1";

/// A `procgate run --prompt` on a pseudo-terminal: stdin and stderr (and
/// the controlling terminal) are the pty; stdout is a pipe.
struct OnPty {
    child: std::process::Child,
    master: std::fs::File,
    screen: mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
}

impl OnPty {
    /// Starts `cmd` on a new pty, `CI` removed from its environment.
    fn start(cmd: &mut Command) -> OnPty {
        cmd.env_remove("CI");
        OnPty::start_keeping_ci(cmd)
    }

    fn start_keeping_ci(cmd: &mut Command) -> OnPty {
        let (master, slave) = openpty();
        cmd.stdin(slave.try_clone().unwrap())
            .stderr(slave.try_clone().unwrap())
            .stdout(Stdio::piped());
        // SAFETY: setsid and ioctl are async-signal-safe; the child makes
        // the pty (its stdin) its controlling terminal, so /dev/tty is it.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("starting procgate");
        drop(slave);
        let mut reader = master.try_clone().unwrap();
        let (tx, screen) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once every end of the slave is closed.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        OnPty {
            child,
            master,
            screen,
            seen: Vec::new(),
        }
    }

    /// The screen so far, `\r\n` as `\n`.
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.seen).replace("\r\n", "\n")
    }

    /// Reads the screen until it holds `count` times `what`.
    fn until(&mut self, what: &str, count: usize) {
        let end = Instant::now() + DEADLINE;
        while self.screen().matches(what).count() < count {
            let left = end.saturating_duration_since(Instant::now());
            match self.screen.recv_timeout(left) {
                Ok(bytes) => self.seen.extend(bytes),
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("no {what:?} on the screen:\n{}", self.screen());
                }
            }
        }
    }

    fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
    }

    /// Waits for the end: the exit code, stdout, the whole screen.
    fn finish(mut self) -> (i32, String, String) {
        let mut stdout = self.child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut out = String::new();
            let _ = stdout.read_to_string(&mut out);
            let _ = tx.send(out);
        });
        let out = rx.recv_timeout(DEADLINE).unwrap_or_else(|_| {
            let _ = self.child.kill();
            panic!("procgate did not end:\n{}", self.screen());
        });
        let status = self.child.wait().unwrap();
        while let Ok(bytes) = self.screen.recv_timeout(Duration::from_secs(5)) {
            self.seen.extend(bytes);
        }
        let code = std::os::unix::process::ExitStatusExt::into_raw(status) >> 8;
        (code, out, self.screen())
    }
}

/// A new pseudo-terminal: (master, slave).
fn openpty() -> (std::fs::File, std::fs::File) {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two new descriptors into the two integers; the
    // name, termios and winsize pointers may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are new and owned by nobody else.
    unsafe {
        (
            std::os::fd::FromRawFd::from_raw_fd(master),
            std::os::fd::FromRawFd::from_raw_fd(slave),
        )
    }
}

/// The file a program name resolves to on the default search path.
fn resolved(name: &str) -> PathBuf {
    procgate::policy::DEFAULT_SEARCH_PATH
        .iter()
        .map(|d| Path::new(d).join(name))
        .find_map(|p| p.canonicalize().ok())
        .unwrap()
}

/// The question the prompt asks about `echo hello World`.
fn question() -> String {
    format!(
        "\nprocgate: the guest asks to run a program no rule allows (programs.default = \"ask\")\n  \
         program  {:?}\n  argv     [\"echo\", \"hello\", \"World\"]\n  cwd      \"/\"\n  \
         env      nothing beyond the default\n  sandbox  none\n  \
         form     {{ match = [\"hello\", {{ regex = \"[^-].*\" }}] }}\n\
         [o] allow once  [e] allow this exact command  [f] allow this form  [d] deny  [n] deny always\n? ",
        resolved("echo")
    )
}

const POLICY: &str = "# my policy\n[programs]\nallow = [\"true\"]\n";

/// `procgate run --prompt --policy FILE policy_probe REQUESTS` on a pty.
fn prompt_run(dir: &Path, requests: &[&str]) -> OnPty {
    let policy = dir.join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let mut cmd = procgate();
    cmd.env("PROCGATE_CACHE_DIR", dir.join("cache"))
        .arg("run")
        .arg("--policy")
        .arg(&policy)
        .arg("--audit-json")
        .arg(dir.join("audit.jsonl"))
        .arg("--prompt")
        .arg(guest_path("policy_probe"))
        .args(requests);
    OnPty::start(&mut cmd)
}

/// The `asked` decisions of the audit log.
fn asked(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["event"] == "decision" && r["decision"] == "asked")
        .collect()
}

const ECHOED: &str = "rc=Some(0) out=Some(\"hello World\\n\")";

#[test]
fn allow_once_runs_it_and_writes_nothing() {
    let dir = scratch("prompt-once");
    let mut run = prompt_run(dir.path(), &[ECHO]);
    run.until("\n? ", 1);
    assert!(run.screen().ends_with(&question()), "{}", run.screen());
    run.send("o\n");
    let (code, out, screen) = run.finish();
    assert_eq!(code, 0, "{out}\n{screen}");
    assert!(out.starts_with(&format!("0 {ECHOED}")), "{out}");
    let policy = std::fs::read_to_string(dir.path().join("policy.toml")).unwrap();
    assert_eq!(policy, POLICY);
    let asked = asked(dir.path());
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0]["answer"], "allow");
    assert_eq!(asked[0]["answered_by"], "prompt");
    assert_eq!(asked[0]["remembered"], Value::Null);
    assert_eq!(asked[0]["rule"], "programs.default = \"ask\"");
}

#[test]
fn allow_exact_runs_it_remembers_it_and_writes_the_rule() {
    let dir = scratch("prompt-exact");
    // Asked once: the second, identical request is answered from memory.
    let mut run = prompt_run(dir.path(), &[ECHO, ECHO]);
    run.until("\n? ", 1);
    run.send("e\n");
    let (code, out, screen) = run.finish();
    assert_eq!(code, 0, "{out}\n{screen}");
    assert_eq!(screen.matches("\n? ").count(), 1, "{screen}");
    assert!(out.contains(&format!("0 {ECHOED}")), "{out}");
    assert!(out.contains(&format!("1 {ECHOED}")), "{out}");
    let policy = std::fs::read_to_string(dir.path().join("policy.toml")).unwrap();
    assert!(policy.starts_with(POLICY), "{policy}");
    assert!(
        policy.contains("program = \"echo\"")
            && policy.contains("{ match = [\"hello\", \"World\"] }"),
        "{policy}"
    );
    // The file now allows it without asking.
    let file = procgate::policy::PolicyFile::parse(&policy, "p").unwrap();
    let p = file.into_builder(dir.path()).build().unwrap();
    let args = ["hello".to_string(), "World".to_string()];
    assert!(p
        .decide_spawn(&procgate::policy::SpawnRequest::exec("echo", &args))
        .is_ok());
    let asked = asked(dir.path());
    assert_eq!(asked.len(), 2, "{asked:?}");
    let remembered = asked[0]["remembered"].as_str().unwrap();
    assert!(remembered.contains("policy.toml: "), "{remembered}");
    assert!(remembered.contains("program = \"echo\""), "{remembered}");
}

#[test]
fn allow_form_writes_the_form_shown() {
    let dir = scratch("prompt-form");
    let other = "exec\nprogram=echo\narg=hello\narg=There\npipe=1";
    let mut run = prompt_run(dir.path(), &[ECHO, other]);
    run.until("\n? ", 1);
    run.send("f\n");
    let (code, out, screen) = run.finish();
    assert_eq!(code, 0, "{out}\n{screen}");
    assert_eq!(screen.matches("\n? ").count(), 1, "{screen}");
    assert!(
        out.contains("1 rc=Some(0) out=Some(\"hello There\\n\")"),
        "{out}"
    );
    let policy = std::fs::read_to_string(dir.path().join("policy.toml")).unwrap();
    assert!(
        policy.contains("{ match = [\"hello\", { regex = \"[^-].*\" }] }"),
        "{policy}"
    );
}

#[test]
fn deny_always_refuses_it_remembers_it_and_writes_a_deny_entry() {
    let dir = scratch("prompt-never");
    let mut run = prompt_run(dir.path(), &[ECHO, ECHO]);
    run.until("\n? ", 1);
    run.send("n\n");
    let (code, out, screen) = run.finish();
    assert_eq!(code, 0, "{out}\n{screen}");
    assert_eq!(screen.matches("\n? ").count(), 1, "{screen}");
    let refused = "Err(Denied(\"prompt refused: denied always at the prompt\"))";
    assert!(out.contains(&format!("0 {refused}")), "{out}");
    assert!(out.contains(&format!("1 {refused}")), "{out}");
    let policy = std::fs::read_to_string(dir.path().join("policy.toml")).unwrap();
    assert_eq!(
        policy,
        "# my policy\n[programs]\nallow = [\"true\"]\ndeny = [\"echo\"]\n"
    );
    let asked = asked(dir.path());
    assert_eq!(asked[0]["answer"], "deny");
    assert_eq!(asked[0]["answered_by"], "prompt");
    assert!(asked[0]["remembered"]
        .as_str()
        .unwrap()
        .ends_with("deny = [\"echo\"]"));
}

#[test]
fn without_a_terminal_or_under_ci_the_prompt_is_refused() {
    let dir = scratch("prompt-no-tty");
    let mut cmd = procgate();
    cmd.env_remove("CI")
        .args(["run", "--prompt"])
        .arg(guest_path("policy_probe"));
    let out = output(cmd);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim_end(),
        "procgate: --prompt needs someone at a terminal, but stdin is not a terminal"
    );
    // Under CI, even on a terminal.
    let mut cmd = procgate();
    cmd.env("PROCGATE_CACHE_DIR", dir.path().join("cache"))
        .env("CI", "1")
        .args(["run", "--prompt"])
        .arg(guest_path("policy_probe"));
    let (code, _, screen) = OnPty::start_keeping_ci(&mut cmd).finish();
    assert_eq!(code, 2, "{screen}");
    assert_eq!(
        screen,
        "procgate: --prompt needs someone at a terminal, but CI is set\n"
    );
}
