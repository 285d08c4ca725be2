//! Python's [`asyncio.subprocess`] for WebAssembly guests.
//!
//! procgate lets a WebAssembly component start and drive real processes of
//! the machine it runs on, through one narrow door that the host guards with
//! a policy. This crate is the Rust side of that door: it wraps the WIT
//! package `procgate:subprocess` in the shape of Python's
//! `asyncio.subprocess`, so that code written against the Python API reads
//! the same in Rust.
//!
//! It comes in two faces with the same names:
//!
//! - [`sync`]: blocking calls. Simple, and enough for one process at a time.
//! - [`aio`]: `async fn`s over [`wstd`]'s reactor, so that several processes
//!   are driven at once in one guest ([`aio::gather`]), as with asyncio.
//!
//! A [`sync::Process`] and an [`aio::Process`] convert into each other
//! (`From`). And two more faces for code written against Rust's own process
//! APIs, which port by changing one `use` line:
//!
//! - [`process`]: `std::process::Command` (`Command`, `Child`, `Stdio`,
//!   `ExitStatus`, `Output`, `std::io::Read`/`Write` pipes).
//! - [`tokio_process`]: `tokio::process::Command`, with `futures`
//!   `AsyncRead`/`AsyncWrite` pipes.
//!
//! `guest/README.md` says which to pick and what differs from std.
//!
//! Guests are built for `wasm32-wasip2` and run by a procgate host (for
//! example `procgate run`), whose policy decides what the guest may start.
//!
//! # Example
//!
//! The first example of the asyncio documentation, with the blocking face:
//!
//! ```
//! use procgate_guest::sync::create_subprocess_shell;
//! use procgate_guest::{Options, PIPE};
//!
//! fn run(cmd: &str) -> procgate_guest::Result<()> {
//!     let mut proc = create_subprocess_shell(cmd, Options::new().stdout(PIPE).stderr(PIPE))?;
//!     let (stdout, stderr) = proc.communicate(None)?;
//!     println!("[{cmd:?} exited with {}]", proc.returncode().unwrap());
//!     if let Some(out) = stdout.filter(|o| !o.is_empty()) {
//!         println!("[stdout]\n{}", String::from_utf8_lossy(&out));
//!     }
//!     if let Some(err) = stderr.filter(|e| !e.is_empty()) {
//!         println!("[stderr]\n{}", String::from_utf8_lossy(&err));
//!     }
//!     Ok(())
//! }
//!
//! run("ls /zzz").unwrap();
//! ```
//!
//! And several commands at once with the async face:
//!
//! ```
//! use procgate_guest::aio::{create_subprocess_shell, gather, run};
//! use procgate_guest::{Options, PIPE};
//!
//! async fn run_cmd(cmd: &str) -> procgate_guest::Result<i32> {
//!     let mut proc = create_subprocess_shell(cmd, Options::new().stdout(PIPE).stderr(PIPE)).await?;
//!     let (_stdout, _stderr) = proc.communicate(None).await?;
//!     Ok(proc.returncode().unwrap())
//! }
//!
//! let codes = run(gather([run_cmd("ls /zzz"), run_cmd("sleep 1; echo hello")]));
//! ```
//!
//! # asyncio → procgate
//!
//! | asyncio | [`sync`] | [`aio`] |
//! | --- | --- | --- |
//! | `asyncio.run(main())` | (not needed) | [`aio::run`]`(main())` |
//! | `asyncio.gather(a, b)` | (not available) | [`aio::gather`]`([a, b]).await`, or [`aio::zip`]`(a, b).await` for different types |
//! | `await asyncio.create_subprocess_exec(program, *args, stdin=…, …)` | [`sync::create_subprocess_exec`]`(program, args, options)` | [`aio::create_subprocess_exec`]`(program, args, options).await` |
//! | `await asyncio.create_subprocess_shell(cmd, stdin=…, …)` | [`sync::create_subprocess_shell`]`(cmd, options)` | [`aio::create_subprocess_shell`]`(cmd, options).await` |
//! | `stdin=`, `stdout=`, `stderr=`, `limit=`, `cwd=`, `env=`, `start_new_session=` | [`Options`]`::new().stdin(…).stdout(…).stderr(…).limit(…).cwd(…).env(k, v).start_new_session(…)` | the same |
//! | `asyncio.subprocess.PIPE`, `DEVNULL`, `STDOUT`, `None` | [`PIPE`], [`DEVNULL`], [`STDOUT`], [`Stdio::Inherit`] (the default) | the same |
//! | `proc.pid` | [`sync::Process::pid`] | [`aio::Process::pid`] |
//! | `proc.returncode` | [`sync::Process::returncode`] | [`aio::Process::returncode`] |
//! | `await proc.wait()` | [`sync::Process::wait`] | [`aio::Process::wait`]`.await` |
//! | `await asyncio.wait_for(proc.wait(), t)` | [`sync::Process::wait_for`]`(t)` (`Ok(None)`: timed out) | [`aio::Process::wait_for`]`(t).await`, or [`aio::wait_for`]`(future, t).await` for any future |
//! | `proc.returncode` polled | [`sync::Process::try_wait`] | [`aio::Process::try_wait`] |
//! | `await proc.communicate(input)` | [`sync::Process::communicate`] | [`aio::Process::communicate`]`.await` |
//! | `proc.send_signal(signal.SIGHUP)` | [`sync::Process::send_signal`]`(`[`Signal::Hup`]`)` | the same |
//! | `proc.terminate()`, `proc.kill()` | [`sync::Process::terminate`], [`sync::Process::kill`] | the same |
//! | `proc.stdin` ([`StreamWriter`](https://docs.python.org/3/library/asyncio-stream.html#asyncio.StreamWriter)) | [`sync::Process::stdin`]: `Option<`[`sync::StreamWriter`]`>` | [`aio::Process::stdin`]: `Option<`[`aio::StreamWriter`]`>` |
//! | `proc.stdout`, `proc.stderr` ([`StreamReader`](https://docs.python.org/3/library/asyncio-stream.html#asyncio.StreamReader)) | [`sync::Process::stdout`], [`sync::Process::stderr`]: `Option<`[`sync::StreamReader`]`>` | [`aio::Process::stdout`], [`aio::Process::stderr`]: `Option<`[`aio::StreamReader`]`>` |
//! | `reader.read(n)`, `readline()`, `readuntil(sep)`, `readexactly(n)`, `at_eof()` | [`sync::StreamReader`]'s methods of the same names | [`aio::StreamReader`]'s, `.await`ed |
//! | `readuntil((sep1, sep2))` | [`sync::StreamReader::readuntil_any`] | [`aio::StreamReader::readuntil_any`] |
//! | `for line in reader` / `async for line in reader` | [`sync::StreamReader::lines`] (an `Iterator`) | [`aio::StreamReader::lines`] (a `Stream`) |
//! | `writer.write(data)`, `writelines(lines)`, `await writer.drain()`, `close()`, `write_eof()`, `await wait_closed()`, `is_closing()` | [`sync::StreamWriter`]'s methods of the same names | [`aio::StreamWriter`]'s |
//! | `ProcessLookupError` | [`HostError::ProcessExited`] | the same |
//! | `asyncio.LimitOverrunError`, `ValueError` from `readline` | [`StreamError::LimitOverrun`] | the same |
//! | `asyncio.IncompleteReadError` | [`StreamError::IncompleteRead`] | the same |
//! | `BrokenPipeError`, `ConnectionResetError` on stdin | [`StreamError::Closed`] | the same |
//! | `FileNotFoundError`, `PermissionError`, `OSError` from creation | [`HostError::NotFound`], [`HostError::PermissionDenied`], [`HostError::Io`] | the same |
//!
//! What asyncio does not have: the host's policy may refuse a request
//! ([`HostError::Denied`]) or a host limit may be reached
//! ([`HostError::LimitExceeded`]).
//!
//! # Lifetimes
//!
//! A process belongs to the guest that created it: when its [`sync::Process`]
//! or [`aio::Process`] is dropped without waiting for it (and no stream taken
//! from it is left), the host kills and reaps it, as asyncio does when a
//! `Process` is garbage-collected with its transport.
//!
//! [`asyncio.subprocess`]: https://docs.python.org/3/library/asyncio-subprocess.html

#![warn(missing_docs)]

pub mod aio;
pub mod bindings;
pub mod declare;
mod error;
mod options;
pub mod process;
pub mod query;
mod shared;
mod signal;
pub mod sync;
pub mod tokio_process;

pub use error::{Error, HostError, Result, StreamError, TimeoutError};
/// The `Stream`, `AsyncRead` and `AsyncWrite` traits (and their `…Ext`
/// helpers) that the [`aio`] face's line streams and the [`tokio_process`]
/// face's stdio implement.
pub use futures_lite;
pub use options::{Options, PipeSource, Stdio, DEFAULT_LIMIT, DEVNULL, PIPE, STDOUT};
pub use signal::Signal;
/// The `wasi:io` (and all of WASI 0.2) bindings this crate's pollables and
/// streams are types of: [`Process::subscribe`](sync::Process::subscribe)
/// returns a `wasip2::io::poll::Pollable`.
pub use wasip2;
/// The async runtime the [`aio`] face runs on: [`aio::run`] is its reactor,
/// and its timers, tasks and I/O can be awaited beside procgate's futures.
pub use wstd;
