//! `communicate`: feed stdin, close it, read stdout and stderr to end of
//! file at once, wait for the exit — blocking, or as a future the guest polls.
//!
//! What a communicate holds is bounded twice: each of stdout and stderr by
//! the policy's `communicate_bytes`, and everything all communicates of
//! one guest hold at once (inputs, outputs and a fixed charge per task) by
//! its `buffered_bytes`, counted in the guest's [`Budget`].
//! (The WIT `future-communicate` that runs one in a task is in the glue.)

use crate::child::{Child, Unavailable};
use crate::exit::ChildExit;
use crate::pipes::{PipeReader, PipeWriter, ReadToEndError};
use procgate_policy::{Error, Limits, Result, COMMUNICATE_OVERHEAD};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

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
/// policy's `buffered_bytes`; kept in its context.
///
/// ```
/// let budget = procgate_child::communicate::Budget::new(1000);
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
pub struct Held {
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

/// The pipes and exit one `communicate` works on, taken from a [`Child`].
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
    /// Takes what a communicate needs from `child`: stdin (closed after
    /// the input is written) and shared handles on stdout and stderr. Each
    /// output is capped at the child's [`Child::communicate_cap`], never
    /// above `limits`'.
    ///
    /// Fails with `invalid-argument` if `input` is given but stdin is not a
    /// pipe the process still holds, and with `limit-exceeded` if the
    /// input and [`COMMUNICATE_OVERHEAD`] do not fit in the guest's
    /// `budget`.
    pub fn take(
        child: &mut Child,
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
        let stdin = match child.stdin.take() {
            Ok(w) => Some(w),
            Err(Unavailable::NotPiped) if input.is_some() => {
                return Err(Error::InvalidArgument(
                    "communicate input needs stdin created with pipe".into(),
                ));
            }
            Err(Unavailable::Taken) if input.is_some() => {
                return Err(Error::InvalidArgument(
                    "communicate input needs stdin, but the stdin stream was taken".into(),
                ));
            }
            Err(_) => None,
        };
        Ok(Communicate {
            stdin,
            input,
            stdout: child.stdout.shared().cloned(),
            stderr: child.stderr.shared().cloned(),
            exit: Arc::clone(child.exit()),
            // The plan's cap (a rule may narrow the guest's); the guest's
            // stays the ceiling.
            cap: child.communicate_cap().min(limits.communicate_cap()),
            held,
        })
    }

    /// Runs the communicate to the end.
    pub async fn run(self) -> Result<Output> {
        self.run_held().await.0
    }

    /// Runs the communicate to the end; also returns what it holds of the
    /// budget, to be given back (dropped) when the output is handed over.
    pub async fn run_held(self) -> (Result<Output>, Held) {
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
                    Err(e) => return Err(ReadToEndError::Io(e)),
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
                        Ok::<_, ReadToEndError>(Some(buf))
                    }
                }
            }
        };
        let result = tokio::try_join!(feed, read(stdout), read(stderr));
        let held = held.into_inner().unwrap_or_else(|e| e.into_inner());
        let (_, stdout, stderr) = match result {
            Ok(r) => r,
            Err(ReadToEndError::Io(e)) => return (Err(Error::Io(e.to_string())), held),
            Err(over) => {
                let _ = exit.send_signal(libc::SIGKILL);
                exit.wait().await;
                let err = match over {
                    ReadToEndError::OverCap(_) => Error::LimitExceeded(format!(
                        "communicate buffered more than {cap} bytes of output; \
                         the process was killed"
                    )),
                    _ => over_budget(&budget),
                };
                return (Err(err), held);
            }
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
