//! `communicate`: feed stdin, close it, read stdout and stderr to end of
//! file at once, wait for the exit — blocking, or as a future the guest polls.
//!
//! What a communicate holds is bounded twice: each of stdout and stderr by
//! the policy's `communicate_bytes`, and everything all communicates of
//! one guest hold at once (inputs, outputs and a fixed charge per task) by
//! its `buffered_bytes`, counted in the guest's [`Budget`].

use crate::error::{Error, Result};
use crate::policy::{Limits, COMMUNICATE_OVERHEAD};
use crate::process::{ChildExit, Pipe, Process};
use crate::streams::{PipeReader, PipeWriter};
use futures::FutureExt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// The bytes all communicates of one guest hold at once, against the
/// policy's `buffered_bytes`; kept in its [`crate::ProcgateCtx`].
///
/// ```
/// let budget = procgate::communicate::Budget::new(1000);
/// assert_eq!(budget.used(), 0);
/// ```
#[derive(Debug)]
pub struct Budget {
    used: AtomicUsize,
    max: usize,
}

impl Budget {
    /// A budget of `max` bytes.
    pub fn new(max: usize) -> Arc<Budget> {
        Arc::new(Budget {
            used: AtomicUsize::new(0),
            max,
        })
    }

    /// Bytes held now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }

    /// The most bytes that may be held.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Takes `bytes` if they fit.
    fn take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(bytes).filter(|&n| n <= self.max)
            })
            .is_ok()
    }
}

/// Bytes one communicate holds of its guest's [`Budget`], given back when
/// it is dropped.
#[derive(Debug)]
struct Held {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Held {
    /// Takes `bytes` more; `false` (and nothing taken) if they do not fit.
    fn grow(&mut self, bytes: usize) -> bool {
        let ok = self.budget.take(bytes);
        if ok {
            self.bytes += bytes;
        }
        ok
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::SeqCst);
    }
}

fn over_budget(budget: &Budget) -> Error {
    Error::LimitExceeded(format!(
        "the guest's communicates would hold more than limits.buffered_bytes ({} bytes)",
        budget.max()
    ))
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
    cap: usize,
    /// What this communicate holds of the guest's budget.
    held: Held,
}

impl Communicate {
    /// Takes what a communicate needs from `process`: stdin (closed after
    /// the input is written) and shared handles on stdout and stderr.
    ///
    /// Fails with `invalid-argument` if `input` is given but stdin is not a
    /// pipe the process still holds, and with `limit-exceeded` if the
    /// input and [`COMMUNICATE_OVERHEAD`] do not fit in the guest's
    /// `budget`.
    pub fn take(
        process: &mut Process,
        input: Option<Vec<u8>>,
        limits: &Limits,
        budget: &Arc<Budget>,
    ) -> Result<Self> {
        let mut held = Held {
            budget: Arc::clone(budget),
            bytes: 0,
        };
        let size = input.as_ref().map_or(0, Vec::len);
        if !held.grow(COMMUNICATE_OVERHEAD.saturating_add(size)) {
            return Err(over_budget(budget));
        }
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
            cap: limits.communicate_cap(),
            held,
        })
    }

    /// Runs the communicate to the end.
    pub async fn run(self) -> Result<Output> {
        self.run_held().await.0
    }

    /// Runs the communicate to the end; also returns what it holds of the
    /// budget, to be given back when the output is handed over.
    async fn run_held(self) -> (Result<Output>, Held) {
        let Communicate {
            stdin,
            input,
            stdout,
            stderr,
            exit,
            cap,
            held,
        } = self;
        let budget = Arc::clone(&held.budget);
        // Both readers grow through the one `held`.
        let held = std::sync::Mutex::new(held);
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
        let read = |pipe: Option<Arc<PipeReader>>| {
            let held = &held;
            async move {
                match pipe {
                    None => Ok(None),
                    Some(pipe) => {
                        let mut buf = Vec::new();
                        let mut grant = |bytes| held.lock().is_ok_and(|mut h| h.grow(bytes));
                        pipe.read_to_end(&mut buf, cap, &mut grant).await?;
                        Ok::<_, io::Error>(Some(buf))
                    }
                }
            }
        };
        let result = tokio::try_join!(feed, read(stdout), read(stderr));
        let held = held.into_inner().unwrap_or_else(|e| e.into_inner());
        let (_, stdout, stderr) = match result {
            Ok(r) => r,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::FileTooLarge | io::ErrorKind::OutOfMemory
                ) =>
            {
                let _ = exit.send_signal(libc::SIGKILL);
                exit.wait().await;
                let err = if e.kind() == io::ErrorKind::FileTooLarge {
                    Error::LimitExceeded(format!(
                        "communicate buffered more than {cap} bytes of output; \
                         the process was killed"
                    ))
                } else {
                    over_budget(&budget)
                };
                return (Err(err), held);
            }
            Err(e) => return (Err(Error::Io(e.to_string())), held),
        };
        let returncode = exit.wait().await;
        let out = Output {
            stdout,
            stderr,
            returncode,
        };
        (Ok(out), held)
    }
}

/// The host side of the WIT `future-communicate` resource: a communicate
/// running in its own task. Dropping it cancels the communicate (the
/// process itself lives on).
pub struct FutureCommunicate {
    state: State,
}

enum State {
    Running(AbortOnDropJoinHandle<(Result<Output>, Held)>),
    /// The result, and the budget it holds until the guest takes it.
    Done(Result<Output>, Held),
    Taken,
}

impl FutureCommunicate {
    /// Starts `communicate` in a task.
    pub fn spawn(c: Communicate) -> FutureCommunicate {
        FutureCommunicate {
            state: State::Running(wasmtime_wasi::runtime::spawn(c.run_held())),
        }
    }

    /// The result if it is there: `None` while running; afterwards the
    /// result once, then `invalid-argument`.
    pub fn get(&mut self) -> Option<Result<Output>> {
        if let State::Running(task) = &mut self.state {
            let (done, held) = task.now_or_never()?;
            self.state = State::Done(done, held);
        }
        match std::mem::replace(&mut self.state, State::Taken) {
            // The output goes to the guest now: its budget is given back.
            State::Done(result, _held) => Some(result),
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
            let (done, held) = task.await;
            self.state = State::Done(done, held);
        }
    }
}
