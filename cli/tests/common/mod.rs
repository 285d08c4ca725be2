//! Running the built `procgate` CLI from a test, with a deadline.

use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long one `procgate run` may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(120);

/// `procgate` with the environment that chooses a cache removed (`HOME`,
/// `XDG_CACHE_HOME`, `PROCGATE_CACHE_DIR`, `RUST_LOG`), in the workspace root.
pub fn procgate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_procgate"));
    cmd.current_dir(procgate_tests::root())
        .env_remove("HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("PROCGATE_CACHE_DIR")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    cmd
}

/// Runs `cmd` to its end; kills it and fails past the deadline.
pub fn output(mut cmd: Command) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting procgate");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(DEADLINE) {
        Ok(out) => out.expect("waiting for procgate"),
        Err(_) => {
            // The child we started, not yet reaped (its waiter still runs).
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!(
                "procgate {:?} still running after {DEADLINE:?}",
                cmd.get_args()
            );
        }
    }
}

/// stdout and stderr as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
