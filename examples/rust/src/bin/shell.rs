//! The first example of Python's asyncio subprocess documentation, with
//! procgate's blocking face:
//!
//! ```python
//! async def run(cmd):
//!     proc = await asyncio.create_subprocess_shell(
//!         cmd,
//!         stdout=asyncio.subprocess.PIPE,
//!         stderr=asyncio.subprocess.PIPE)
//!
//!     stdout, stderr = await proc.communicate()
//!
//!     print(f'[{cmd!r} exited with {proc.returncode}]')
//!     if stdout:
//!         print(f'[stdout]\n{stdout.decode()}')
//!     if stderr:
//!         print(f'[stderr]\n{stderr.decode()}')
//!
//! asyncio.run(run('ls /zzz'))
//! ```
//!
//! It prints (the text of `ls`'s error depends on the system):
//!
//! ```text
//! ['ls /zzz' exited with 1]
//! [stderr]
//! ls: /zzz: No such file or directory
//!
//! ```
//!
//! The host's policy must allow a shell. An argument replaces `ls /zzz`.

use std::process::ExitCode;

use procgate_examples::print_result;
use procgate_guest::sync::create_subprocess_shell;
use procgate_guest::{Options, PIPE};

fn run(cmd: &str) -> procgate_guest::Result<()> {
    let mut proc = create_subprocess_shell(cmd, Options::new().stdout(PIPE).stderr(PIPE))?;

    let (stdout, stderr) = proc.communicate(None)?;

    let returncode = proc.returncode().expect("communicate waits for the exit");
    print_result(cmd, returncode, stdout.as_deref(), stderr.as_deref());
    Ok(())
}

fn main() -> ExitCode {
    let cmd = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ls /zzz".to_owned());
    match run(&cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shell: {e}");
            ExitCode::FAILURE
        }
    }
}
