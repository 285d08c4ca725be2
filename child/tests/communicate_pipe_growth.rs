//! A `communicate` that finds its child's stdout pipe full grows the pipe
//! once to `GROWN_PIPE` (so the child writes on while the host copies),
//! one whose child never fills it leaves it as it was, and the output
//! read through a grown pipe is whole and in order. Its own file: the bound
//! on grown pipes is per process, and `stdin_pipe_growth.rs` counts it.

mod common;

use common::{plan, runtime};
use procgate_child::communicate::{Budget, Communicate};
use procgate_child::pipes::{PipeReader, GROWN_PIPE};
use procgate_child::{spawn, Children, Input, Output, Stdio};
use procgate_policy::Limits;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

fn piped_stdout() -> Stdio {
    Stdio {
        stdin: Input::Devnull,
        stdout: Output::Pipe,
        stderr: Output::Devnull,
        start_new_session: false,
    }
}

/// Bytes waiting in `pipe` now (`FIONREAD`).
fn waiting(pipe: &PipeReader) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int, into `n`.
    let rc = unsafe { libc::ioctl(pipe.as_fd().as_raw_fd(), libc::FIONREAD, &mut n) };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    n as usize
}

/// Runs `program args` to the end through `communicate`; its stdout and
/// the size of its stdout pipe after. With `full_first`, the communicate
/// starts only once the child has filled its pipe (its first read then
/// finds the whole pipe waiting).
async fn communicate(program: &str, args: &[&str], full_first: bool) -> (Vec<u8>, usize) {
    let children = Arc::new(Children::default());
    let mut child = spawn(&plan(program, args), piped_stdout(), &children).unwrap();
    let pipe = child.stdout.shared().cloned().unwrap();
    let before = pipe.capacity().unwrap();
    assert!(before < GROWN_PIPE, "a new pipe is already {before} bytes");
    if full_first {
        let mut tries = 0;
        while waiting(&pipe) < before {
            tries += 1;
            assert!(tries < 3000, "the child never filled its pipe");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let limits = Limits::default();
    let budget = Budget::new(64 << 20);
    let c = Communicate::take(&mut child, None, &limits, &budget).unwrap();
    let out = tokio::time::timeout(Duration::from_secs(60), c.run())
        .await
        .expect("communicate did not end")
        .unwrap();
    assert_eq!(out.returncode, 0);
    (out.stdout.unwrap(), pipe.capacity().unwrap())
}

#[test]
fn a_communicate_grows_a_full_pipe_once_and_reads_it_whole() {
    let rt = runtime();
    rt.block_on(async {
        // 8 MiB of numbered lines: whole and in order means every line.
        let (out, size) = communicate("seq", &["1", "1000000"], true).await;
        assert_eq!(size, GROWN_PIPE, "the full pipe was not grown");
        let expected: Vec<u8> = (1..=1_000_000)
            .flat_map(|i: u32| format!("{i}\n").into_bytes())
            .collect();
        assert!(
            out == expected,
            "{} bytes back of {}",
            out.len(),
            expected.len()
        );

        let (out, size) = communicate("echo", &["small"], false).await;
        assert_eq!(out, b"small\n");
        assert!(size < GROWN_PIPE, "a pipe never full was grown to {size}");
    });
}
