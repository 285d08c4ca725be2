//! The second example of Python's asyncio subprocess documentation: the
//! `run(cmd)` of the first example, for two commands at once, with
//! procgate's async face.
//!
//! ```python
//! async def main():
//!     await asyncio.gather(
//!         run('ls /zzz'),
//!         run('sleep 1; echo "hello"'))
//!
//! asyncio.run(main())
//! ```
//!
//! Both commands run concurrently, so the whole takes about one second, not
//! the sum of both. To show it, each `run` also prints when it started and
//! finished, in milliseconds since the Unix epoch, around the example's own
//! lines:
//!
//! ```text
//! ['ls /zzz' started at 1764100000000]
//! ['sleep 1; echo "hello"' started at 1764100000001]
//! ['ls /zzz' exited with 1]
//! [stderr]
//! ls: /zzz: No such file or directory
//!
//! ['ls /zzz' finished at 1764100000012]
//! ['sleep 1; echo "hello"' exited with 0]
//! [stdout]
//! hello
//!
//! ['sleep 1; echo "hello"' finished at 1764100001015]
//! [gather took 1015 ms]
//! ```
//!
//! With the argument `--timestamps`, the children print the time too: each
//! command runs as `date +%s%N; <cmd>; sleep 0.5; date +%s%N`, so its stdout
//! starts and ends with the time it started and finished in nanoseconds
//! since the epoch, as the child saw it. The half second keeps even the
//! quick `ls` alive long enough that two children running at once visibly
//! overlap (children run one after the other would not overlap at all).
//!
//! The host's policy must allow a shell (and `date`, `ls` and `sleep`).

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use procgate_examples::{print_result, repr};
use procgate_guest::aio::{create_subprocess_shell, gather, run as asyncio_run};
use procgate_guest::{Options, PIPE};

/// Milliseconds since the Unix epoch.
fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

async fn run(cmd: String) -> procgate_guest::Result<()> {
    println!("[{} started at {}]", repr(&cmd), now_ms());
    let mut proc = create_subprocess_shell(&cmd, Options::new().stdout(PIPE).stderr(PIPE)).await?;

    let (stdout, stderr) = proc.communicate(None).await?;

    let returncode = proc.returncode().expect("communicate waits for the exit");
    print_result(&cmd, returncode, stdout.as_deref(), stderr.as_deref());
    println!("[{} finished at {}]", repr(&cmd), now_ms());
    Ok(())
}

fn main() -> ExitCode {
    let timestamps = std::env::args().skip(1).any(|a| a == "--timestamps");
    let cmds = ["ls /zzz", r#"sleep 1; echo "hello""#].map(|cmd| {
        if timestamps {
            format!("date +%s%N; {cmd}; sleep 0.5; date +%s%N")
        } else {
            cmd.to_owned()
        }
    });

    let start = now_ms();
    let results = asyncio_run(gather(cmds.map(run))).expect("the outermost aio::run");
    println!("[gather took {} ms]", now_ms() - start);

    let mut code = ExitCode::SUCCESS;
    for result in results {
        if let Err(e) = result {
            eprintln!("gather: {e}");
            code = ExitCode::FAILURE;
        }
    }
    code
}
