//! SIGINT, SIGTERM and SIGHUP to `procgate run`: the guest's whole process
//! tree (a shell and the grandchild it started in the background) is ended
//! and reaped, then the CLI exits with 128 + the signal's number.

use procgate_tests::{guest_path, proc_state, scratch};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long any step may take before the test fails loudly.
const DEADLINE: Duration = Duration::from_secs(30);

/// Waits until `ready` returns something, or fails after [`DEADLINE`].
fn within<T>(what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = ready() {
            return v;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `pid` is alive: running or stopped, not gone and not a zombie.
fn alive(pid: u32) -> bool {
    proc_state(pid).is_some_and(|s| s != 'Z')
}

fn parent_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = stat.rsplit_once(") ").unwrap().1;
    rest.split(' ').nth(1).unwrap().parse().unwrap()
}

fn wait_exit(cli: &mut Child) -> ExitStatus {
    within("the CLI to exit", || cli.try_wait().unwrap())
}

/// The CLI, killed if the test fails before it exits.
struct Cli(Child);

impl Drop for Cli {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts the CLI with a guest whose shell ignores SIGTERM (and so does the
/// `sleep 47` it leaves running in the background), signals the CLI, and
/// checks the exit code and that the shell and the sleep are gone: the CLI
/// went through the whole teardown, SIGKILL after the grace included.
fn stop_with(sig: libc::c_int, name: &str) {
    let scratch = scratch(&format!("cli-signal-{name}"));
    let pidfile = scratch.path().join("sleep.pid");
    let cmd = format!(
        "trap '' TERM; sleep 47 & echo $! > {tmp} && mv {tmp} {pidfile}; wait",
        tmp = scratch.path().join("sleep.tmp").display(),
        pidfile = pidfile.display()
    );
    let request = format!("shell\ncmd={cmd}");
    let mut cli = Cli(Command::new(env!("CARGO_BIN_EXE_procgate"))
        .args(["run", "--allow-shell", "--kill-grace", "200ms"])
        .arg(guest_path("policy_probe"))
        .arg(&request)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap());
    let sleep: u32 = within("the shell to start sleep", || {
        std::fs::read_to_string(&pidfile).ok()?.trim().parse().ok()
    });
    let sh = parent_of(sleep);
    assert!(alive(sh) && alive(sleep), "sh {sh} and sleep {sleep}");
    assert_eq!(parent_of(sh), cli.0.id(), "sh is the CLI's child");

    // SAFETY: a plain system call signalling our own child.
    assert_eq!(unsafe { libc::kill(cli.0.id() as libc::pid_t, sig) }, 0);
    let status = wait_exit(&mut cli.0);
    assert_eq!(
        (status.code(), status.signal()),
        (Some(128 + sig), None),
        "{name}: the CLI should exit with 128+{sig} after its teardown"
    );
    for (what, pid) in [("sh", sh), ("sleep (grandchild)", sleep)] {
        within(&format!("{what} {pid} to be gone after {name}"), || {
            (!alive(pid)).then_some(())
        });
    }
}

#[test]
fn sigint_ends_the_whole_tree_and_exits_130() {
    stop_with(libc::SIGINT, "SIGINT");
}

#[test]
fn sigterm_ends_the_whole_tree_and_exits_143() {
    stop_with(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sighup_ends_the_whole_tree_and_exits_129() {
    stop_with(libc::SIGHUP, "SIGHUP");
}
