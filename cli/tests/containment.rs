//! Containment through the built CLI (issue 13): descriptors the CLI
//! inherited never reach a child (not even under Landlock), return codes
//! are right when the CLI's parent ignores SIGCHLD, and a child reading the
//! terminal gets its line instead of stopping on SIGTTIN.

use procgate_tests::{guest_path, root, PYTHON};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn procgate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_procgate"));
    cmd.current_dir(root());
    cmd
}

fn guest() -> String {
    guest_path("containment").display().to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `cmd` to its end, killing it after 60 s (a hang fails loudly).
fn output_within(mut cmd: Command) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("starting procgate");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            // SAFETY: our own unreaped child.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("procgate did not end within 60 s");
        }
    }
}

/// procgate with descriptors 7 (a secret file), 8 and 9 (a pipe) and 10 (a
/// socket) open and not close-on-exec, as a careless parent leaves them.
fn with_inherited_fds(dir: &tempfile::TempDir) -> Command {
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "the secret\n").unwrap();
    let file = std::fs::File::open(&secret).unwrap();
    let (r, w) = std::io::pipe().unwrap();
    let socket = std::os::unix::net::UnixDatagram::unbound().unwrap();
    let fds = [
        file.as_raw_fd(),
        r.as_raw_fd(),
        w.as_raw_fd(),
        socket.as_raw_fd(),
    ];
    let mut cmd = procgate();
    // SAFETY: dup2 is async-signal-safe; the sources stay open in the
    // parent until spawn returns (moved into the closure).
    unsafe {
        cmd.pre_exec(move || {
            let _keep = (&file, &r, &w, &socket);
            for (i, fd) in fds.iter().enumerate() {
                if libc::dup2(*fd, 7 + i as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    cmd
}

#[test]
fn a_child_of_the_cli_inherits_no_descriptor() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut cmd = with_inherited_fds(&dir);
    cmd.args(["run", "--allow-shell", &guest(), "out", "ls /proc/$$/fd"]);
    let out = output_within(cmd);
    assert_eq!(
        text(&out.stdout),
        "0\n1\n2\nrc 0\n",
        "stderr: {}",
        text(&out.stderr)
    );
}

#[test]
fn under_landlock_require_an_inherited_descriptor_cannot_be_read() {
    if !procgate_tests::landlock_available(6) {
        return;
    }
    let dir = tempfile::TempDir::new().unwrap();
    let mut cmd = with_inherited_fds(&dir);
    cmd.args([
        "run",
        "--allow-shell",
        "--landlock",
        "require",
        &guest(),
        "out",
        "cat <&7 2>/dev/null; echo \"cat $?\"",
    ]);
    let out = output_within(cmd);
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("secret"), "{stdout}");
    assert!(
        stdout.starts_with("cat ") && !stdout.starts_with("cat 0"),
        "{stdout}\nstderr: {}",
        text(&out.stderr)
    );
}

#[test]
fn return_codes_are_right_when_the_clis_parent_ignores_sigchld() {
    let mut cmd = Command::new(PYTHON);
    cmd.current_dir(root()).args([
        "-c",
        "import os, signal, sys\n\
         signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n\
         os.execv(sys.argv[1], sys.argv[1:])",
        env!("CARGO_BIN_EXE_procgate"),
        "run",
        "--allow-shell",
        &guest(),
        "out",
        "exit 3",
    ]);
    let out = output_within(cmd);
    assert_eq!(text(&out.stdout), "rc 3\n", "stderr: {}", text(&out.stderr));
}

#[test]
fn a_child_reading_the_terminal_gets_its_line() {
    // Under a pseudo-terminal (the CLI is the session leader, in the
    // foreground): the child reads a line typed on the terminal. The CLI
    // may close the terminal a little before it exits (teardown): it has
    // until the same deadline to exit before it counts as hung.
    let script = "import os, pty, select, sys, time\n\
        pid, fd = pty.fork()\n\
        if pid == 0:\n    os.execv(sys.argv[1], sys.argv[1:])\n\
        os.write(fd, b'hello\\n')\n\
        out = b''\n\
        end = time.time() + 30\n\
        while time.time() < end:\n\
        \x20   r, _, _ = select.select([fd], [], [], 0.2)\n\
        \x20   if r:\n\
        \x20       try:\n\
        \x20           d = os.read(fd, 4096)\n\
        \x20       except OSError:\n\
        \x20           break\n\
        \x20       if not d:\n\
        \x20           break\n\
        \x20       out += d\n\
        done = 0\n\
        while done == 0 and time.time() < end:\n\
        \x20   done, status = os.waitpid(pid, os.WNOHANG)\n\
        \x20   if done == 0:\n\
        \x20       time.sleep(0.05)\n\
        if done == 0:\n\
        \x20   os.kill(pid, 9)\n\
        \x20   os.waitpid(pid, 0)\n\
        \x20   print('HUNG')\n\
        sys.stdout.write(out.decode(errors='replace'))\n";
    let mut cmd = Command::new(PYTHON);
    cmd.current_dir(root()).args([
        "-c",
        script,
        env!("CARGO_BIN_EXE_procgate"),
        "run",
        "--allow-shell",
        &guest(),
        "inherit",
        "read x; echo \"got:$x\"",
    ]);
    let out = output_within(cmd);
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("HUNG"), "the child stopped: {stdout}");
    assert!(stdout.contains("got:hello"), "{stdout}");
    assert!(stdout.contains("rc 0"), "{stdout}");
}

#[test]
fn the_cgroup_of_a_killed_host_is_ended_by_the_next_host() {
    if !procgate_tests::cgroup2_available() {
        return;
    }
    // The sweep looks in the host's own cgroup, and every host on the
    // machine sweeps the one it is in: the host here runs in a cgroup of
    // the test's own, so that no other host (another test, another run)
    // sweeps the stale cgroup while it is being set up.
    let own = procgate_tests::TestCgroup::new("stale-sweep").unwrap();
    // What a SIGKILLed host leaves: its guest cgroup with a process in it
    // (a grandchild the death signal did not reach), named for a pid that
    // is gone.
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let ns = std::fs::read_link("/proc/self/ns/pid").unwrap();
    let ns = ns.to_string_lossy();
    let ns = ns.trim_start_matches("pid:[").trim_end_matches(']');
    let stale = own.path().join(format!("procgate-{dead}.{ns}-0"));
    let leaf = stale.join("c0");
    std::fs::create_dir_all(&leaf).unwrap();
    let mut left = Command::new("sleep").arg("60").spawn().unwrap();
    std::fs::write(leaf.join("cgroup.procs"), left.id().to_string()).unwrap();
    // The host enters the test's cgroup before it starts.
    let mut cmd = Command::new("sh");
    cmd.current_dir(root()).args([
        "-c",
        r#"echo $$ > "$1/cgroup.procs" || exit 97; shift; exec "$@""#,
        "sh",
    ]);
    cmd.arg(own.path()).arg(env!("CARGO_BIN_EXE_procgate"));
    cmd.args(["run", "--allow-shell", &guest(), "out", "exit 0"]);
    let out = output_within(cmd);
    assert_eq!(text(&out.stdout), "rc 0\n", "{}", text(&out.stderr));
    // The next host killed it and removed the cgroup.
    let status = left.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    assert!(!stale.exists(), "{} was left", stale.display());
}

#[test]
fn an_escaped_grandchild_dies_when_the_cli_is_killed() {
    // The death signal reaches the CLI's own children only; a grandchild
    // in a session of its own is reparented to init when its parent dies.
    // With a cgroup, the host's watchdog kills the guest's cgroup when the
    // host is gone.
    if !procgate_tests::cgroup2_available() {
        return;
    }
    let dir = procgate_tests::scratch("escape-cli-killed");
    let (pid, cg) = (dir.path().join("pid"), dir.path().join("cg"));
    let script = format!(
        "cat /proc/$$/cgroup > '{cg}'; setsid sleep 600 </dev/null >/dev/null 2>&1 & p=$!; \
         while [ \"$(cut -d' ' -f6 /proc/$p/stat)\" != $p ]; do sleep 0.01; done; \
         echo $p > '{pid}.tmp'; mv '{pid}.tmp' '{pid}'; exec sleep 600",
        cg = cg.display(),
        pid = pid.display()
    );
    let mut cli = procgate()
        .args(["run", "--allow-shell", &guest(), "inherit", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let escapee = procgate_tests::wait_for_file(&pid, Duration::from_secs(60));
    let Some(escapee) = escapee.and_then(|t| t.trim().parse::<u32>().ok()) else {
        cli.kill().unwrap();
        cli.wait().unwrap();
        panic!("the escapee wrote no pid within 60 s");
    };
    let leaf = procgate_tests::cgroup2_dir_of(&std::fs::read_to_string(&cg).unwrap());
    let guest_cg = leaf.parent().unwrap().to_path_buf();
    assert!(guest_cg.exists(), "{}", guest_cg.display());
    cli.kill().unwrap(); // SIGKILL: no cleanup code of the host runs
    cli.wait().unwrap();
    assert!(
        procgate_tests::dies_within(escapee, Duration::from_secs(10)),
        "the setsid grandchild {escapee} outlived its killed host"
    );
    for _ in 0..500 {
        if !guest_cg.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{} was left after its host was killed", guest_cg.display());
}
