//! `communicate`: feed stdin, close it, read stdout and stderr to end of
//! file at once, wait for the exit — blocking, or as a future the guest polls.

use crate::error::{Error, Result};
use crate::process::{ChildExit, Pipe, Process};
use crate::streams::{PipeReader, PipeWriter};
use bytes::BytesMut;
use futures::FutureExt;
use std::io;
use std::sync::Arc;
use wasmtime_wasi::runtime::AbortOnDropJoinHandle;
use wasmtime_wasi_io::poll::Pollable;

/// What `communicate` returns: both outputs (none where not piped) and the
/// return code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Everything read from stdout, if stdout was piped.
    pub stdout: Option<Vec<u8>>,
    /// Everything read from stderr, if stderr was piped.
    pub stderr: Option<Vec<u8>>,
    /// The return code (`-N` after signal `N`).
    pub returncode: i32,
}

/// The pipes and exit one `communicate` works on, taken from a [`Process`].
#[derive(Debug)]
pub struct Communicate {
    stdin: Option<PipeWriter>,
    input: Option<Vec<u8>>,
    stdout: Option<Arc<PipeReader>>,
    stderr: Option<Arc<PipeReader>>,
    exit: Arc<ChildExit>,
    /// Most bytes buffered from each of stdout and stderr.
    cap: Option<usize>,
}

impl Communicate {
    /// Takes what a communicate needs from `process`: stdin (closed after
    /// the input is written) and shared handles on stdout and stderr.
    ///
    /// Fails with `invalid-argument` if `input` is given but stdin is not a
    /// pipe the process still holds.
    pub fn take(process: &mut Process, input: Option<Vec<u8>>, cap: Option<usize>) -> Result<Self> {
        let stdin = match std::mem::replace(&mut process.stdin, Pipe::Taken) {
            Pipe::Held(w) => Some(w),
            Pipe::None if input.is_some() => {
                process.stdin = Pipe::None;
                return Err(Error::InvalidArgument(
                    "communicate input needs stdin created with pipe".into(),
                ));
            }
            Pipe::Taken if input.is_some() => {
                return Err(Error::InvalidArgument(
                    "communicate input needs stdin, but the stdin stream was taken".into(),
                ));
            }
            Pipe::None => {
                process.stdin = Pipe::None;
                None
            }
            Pipe::Taken => None,
        };
        Ok(Communicate {
            stdin,
            input,
            stdout: process.stdout.clone(),
            stderr: process.stderr.clone(),
            exit: Arc::clone(&process.exit),
            cap,
        })
    }

    /// Runs the communicate to the end.
    pub async fn run(self) -> Result<Output> {
        let Communicate {
            stdin,
            input,
            stdout,
            stderr,
            exit,
            cap,
        } = self;
        let feed = async move {
            if let (Some(pipe), Some(input)) = (&stdin, &input) {
                match pipe.write_all(input).await {
                    Ok(()) => {}
                    // The child exited before reading everything: asyncio
                    // ignores this.
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                        ) => {}
                    Err(e) => return Err(e),
                }
            }
            drop(stdin);
            Ok(())
        };
        let read = |pipe: Option<Arc<PipeReader>>| async move {
            match pipe {
                None => Ok(None),
                Some(pipe) => {
                    let mut buf = BytesMut::new();
                    pipe.read_to_end(&mut buf, cap).await?;
                    Ok::<_, io::Error>(Some(Vec::from(buf)))
                }
            }
        };
        let result = tokio::try_join!(feed, read(stdout), read(stderr));
        let (_, stdout, stderr) = match result {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::FileTooLarge => {
                let _ = exit.send_signal(libc::SIGKILL);
                exit.wait().await;
                return Err(Error::LimitExceeded(format!(
                    "communicate buffered more than {} bytes of output; the process was killed",
                    cap.unwrap_or_default()
                )));
            }
            Err(e) => return Err(Error::Io(e.to_string())),
        };
        let returncode = exit.wait().await;
        Ok(Output {
            stdout,
            stderr,
            returncode,
        })
    }
}

/// The host side of the WIT `future-communicate` resource: a communicate
/// running in its own task. Dropping it cancels the communicate (the
/// process itself lives on).
pub struct FutureCommunicate {
    state: State,
}

enum State {
    Running(AbortOnDropJoinHandle<Result<Output>>),
    Done(Result<Output>),
    Taken,
}

impl FutureCommunicate {
    /// Starts `communicate` in a task.
    pub fn spawn(c: Communicate) -> FutureCommunicate {
        FutureCommunicate {
            state: State::Running(wasmtime_wasi::runtime::spawn(c.run())),
        }
    }

    /// The result if it is there: `None` while running; afterwards the
    /// result once, then `invalid-argument`.
    pub fn get(&mut self) -> Option<Result<Output>> {
        if let State::Running(task) = &mut self.state {
            let done = task.now_or_never()?;
            self.state = State::Done(done);
        }
        match std::mem::replace(&mut self.state, State::Taken) {
            State::Done(result) => Some(result),
            State::Taken => Some(Err(Error::InvalidArgument(
                "the communicate result was already taken".into(),
            ))),
            State::Running(_) => unreachable!("handled above"),
        }
    }
}

#[async_trait::async_trait]
impl Pollable for FutureCommunicate {
    async fn ready(&mut self) {
        if let State::Running(task) = &mut self.state {
            let done = task.await;
            self.state = State::Done(done);
        }
    }
}
