//! The last example of Python's asyncio subprocess documentation, with
//! procgate's async face: read one line from a child's stdout.
//!
//! ```python
//! async def get_date():
//!     code = 'import datetime; print(datetime.datetime.now())'
//!
//!     # Create the subprocess; redirect the standard output
//!     # into a pipe.
//!     proc = await asyncio.create_subprocess_exec(
//!         sys.executable, '-c', code,
//!         stdout=asyncio.subprocess.PIPE)
//!
//!     # Read one line of output.
//!     data = await proc.stdout.readline()
//!     line = data.decode('ascii').rstrip()
//!
//!     # Wait for the subprocess exit.
//!     await proc.wait()
//!     return line
//!
//! date = asyncio.run(get_date())
//! print(f"Current date: {date}")
//! ```
//!
//! It prints, for example, `Current date: 2025-11-25 20:01:02.345678`.
//!
//! The guest has no `sys.executable`: it runs `python3`, which the host's
//! policy must allow.

use std::process::ExitCode;

use procgate_guest::aio::{create_subprocess_exec, run};
use procgate_guest::{Options, PIPE};

async fn get_date() -> procgate_guest::Result<String> {
    let code = "import datetime; print(datetime.datetime.now())";

    // Create the subprocess; redirect the standard output
    // into a pipe.
    let mut proc =
        create_subprocess_exec("python3", ["-c", code], Options::new().stdout(PIPE)).await?;

    // Read one line of output.
    let stdout = proc.stdout.as_mut().expect("stdout is piped");
    let data = stdout.readline().await?;
    let line = String::from_utf8_lossy(&data).trim_end().to_owned();

    // Wait for the subprocess exit.
    proc.wait().await?;
    Ok(line)
}

fn main() -> ExitCode {
    // `run` fails only when called inside another `run`.
    match run(get_date()).expect("the outermost aio::run") {
        Ok(date) => {
            println!("Current date: {date}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("date: {e}");
            ExitCode::FAILURE
        }
    }
}
