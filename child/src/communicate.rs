//! `communicate`: feed stdin, close it, read stdout and stderr to end of
//! file at once, wait for the exit — blocking, or as a future the guest polls.
//!
//! What a communicate holds is bounded twice: each of stdout and stderr by
//! the policy's `communicate_bytes`, and everything all communicates of
//! one guest hold at once (inputs, outputs and a fixed charge per task) by
//! its `buffered_bytes`, counted in the guest's [`Budget`].
//! (The WIT `future-communicate` that runs one in a task is in the glue.)
//!
//! The output read so far is [`Collected`]: a guest may take it as it
//! arrives instead of all at the end (the Rust guest library does, once
//! [`TAKE_AT`] bytes wait), so that a large output is not put in new
//! memory twice, once in the host and once in the guest. What was taken
//! no longer counts against `buffered_bytes` (it is the guest's memory
//! now), still against `communicate_bytes`. Once a guest has taken output,
//! the host reads on only while less than [`PAUSE_AT`] bytes wait: a guest
//! that takes must go on taking until the result is there.
//!
//! A pipe found full (a read returned all 64 KiB of the kernel's pipe) is
//! grown to [`GROWN_PIPE`] ([`PipeReader::grow_once`]) and read up to that
//! much at once: the child writes on while the host and the guest copy.

use crate::child::{Child, Unavailable};
use crate::exit::ChildExit;
use crate::lock::{lock, wait_until};
use crate::pipes::{PipeReader, PipeWriter, GROWN_PIPE, READ_CHUNK};
use procgate_policy::{Error, Limits, Result, COMMUNICATE_OVERHEAD};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

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

    /// Gives back `bytes` of what it holds.
    fn shrink(&mut self, bytes: usize) {
        let bytes = bytes.min(self.bytes);
        self.budget.used.fetch_sub(bytes, Ordering::SeqCst);
        self.bytes -= bytes;
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

/// Output waiting to be taken early wakes [`Collected::ready`] once this
/// many bytes wait: 128 KiB, so that the guest copies what was read while
/// it is still in the CPU's cache. Measured (`bench/`, 1 GiB
/// `stdout-communicate`, with the pipe grown): 1 MiB 1,170–1,230 MB/s,
/// 256 KiB 1,240–1,300, 128 KiB 1,300–1,390, 64 KiB no better.
pub const TAKE_AT: usize = 128 << 10;

/// Once the guest has taken output early, the readers pause while this
/// many bytes wait (4 MiB), until the guest takes them: a child that
/// writes faster than the guest takes is held back by its pipe, as it
/// would be by a guest reading the pipe itself, instead of filling the
/// host.
pub const PAUSE_AT: usize = 4 << 20;

/// The most [`Collected::take`] hands over of each stream at once:
/// 128 KiB. Taken output is copied out of buffers that stay, into new
/// small ones the component model copies into the guest and frees. Handing
/// a buffer of a MiB or more over whole would make a new one for every
/// take, which glibc's `malloc` serves with a fresh `mmap`, so every byte
/// read would land in memory never touched before (a page fault every
/// 4 KiB: the cost that made a large `communicate` slow,
/// `bench/README.md`); and freeing more than 128 KiB at once lets glibc
/// give the memory back to the kernel (its default `M_TRIM_THRESHOLD`), to
/// fault it in again at the next take. Measured: 4 MiB takes 510,000
/// faults for 1 GiB, 256 KiB takes 394,000, 128 KiB takes 265,000 (native
/// `output()`: 262,600).
pub const TAKE_MAX: usize = 128 << 10;

/// The largest piece [`Collected::take`] hands over: 64 KiB.
pub const TAKE_PIECE: usize = 64 << 10;

/// The output one communicate has read and not yet handed over, shared by
/// its task and whoever takes it early ([`Collected::take`]); also what the
/// communicate holds of its guest's budget.
#[derive(Debug)]
pub struct Collected {
    stdout: Mutex<Waiting>,
    stderr: Mutex<Waiting>,
    /// Bytes in `stdout` and `stderr` now.
    waiting: AtomicUsize,
    /// Set by the first take: from then on the readers pause at
    /// [`PAUSE_AT`].
    taking: AtomicBool,
    /// Set when the communicate has ended, in any way.
    ended: AtomicBool,
    /// Wakes [`Collected::ready`]: output to take, or the end.
    changed: Notify,
    /// Wakes paused readers: output was taken.
    room: Notify,
    held: Mutex<Held>,
}

impl Collected {
    fn new(held: Held) -> Collected {
        Collected {
            stdout: Mutex::default(),
            stderr: Mutex::default(),
            waiting: AtomicUsize::new(0),
            taking: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            changed: Notify::new(),
            room: Notify::new(),
            held: Mutex::new(held),
        }
    }

    /// Takes up to `max` bytes (and at most [`TAKE_MAX`]) of what waits of
    /// stdout, and of stderr, in pieces of at most [`TAKE_PIECE`] bytes,
    /// oldest first: they no longer count against the guest's
    /// `buffered_bytes`. Empty when nothing waits, and after the
    /// communicate has ended (its result holds the rest). From the first
    /// take on, the readers pause at [`PAUSE_AT`].
    pub fn take(&self, max: usize) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let max = max.min(TAKE_MAX);
        self.taking.store(true, Ordering::SeqCst);
        let (stdout, out_bytes) = Self::take_one(&self.stdout, max);
        let (stderr, err_bytes) = Self::take_one(&self.stderr, max);
        let bytes = out_bytes + err_bytes;
        if bytes > 0 {
            self.waiting.fetch_sub(bytes, Ordering::SeqCst);
            lock(&self.held).shrink(bytes);
            self.room.notify_waiters();
        }
        (stdout, stderr)
    }

    /// Up to `max` bytes from the front of `buf`, in pieces, and how many.
    fn take_one(buf: &Mutex<Waiting>, max: usize) -> (Vec<Vec<u8>>, usize) {
        let mut buf = lock(buf);
        let front = &buf.bytes[buf.taken..];
        let bytes = front.len().min(max);
        let pieces = front[..bytes]
            .chunks(TAKE_PIECE)
            .map(<[u8]>::to_vec)
            .collect();
        buf.taken += bytes;
        if buf.taken == buf.bytes.len() {
            buf.bytes.clear();
            buf.taken = 0;
        }
        (pieces, bytes)
    }

    /// Waits until [`TAKE_AT`] bytes wait or the communicate has ended.
    pub async fn ready(&self) {
        wait_until(&self.changed, || {
            self.ended.load(Ordering::SeqCst) || self.waiting.load(Ordering::SeqCst) >= TAKE_AT
        })
        .await;
    }

    /// Waits until a reader may read on: the guest takes nothing early,
    /// or less than [`PAUSE_AT`] bytes wait.
    async fn room(&self) {
        wait_until(&self.room, || {
            !self.taking.load(Ordering::SeqCst) || self.waiting.load(Ordering::SeqCst) < PAUSE_AT
        })
        .await;
    }

    /// Gives back everything the communicate holds of the budget: its
    /// result went to the guest.
    pub fn release(&self) {
        let mut held = lock(&self.held);
        let bytes = held.bytes;
        held.shrink(bytes);
    }

    /// Counts `n` bytes more read, against the budget; `false` if they do
    /// not fit.
    fn read(&self, n: usize) -> bool {
        if !lock(&self.held).grow(n) {
            return false;
        }
        if self.waiting.fetch_add(n, Ordering::SeqCst) + n >= TAKE_AT {
            self.changed.notify_waiters();
        }
        true
    }

    fn end(&self) {
        self.ended.store(true, Ordering::SeqCst);
        self.changed.notify_waiters();
    }
}

/// One stream's output read and not yet handed over: `bytes[taken..]`. A
/// take moves `taken` on rather than the bytes after it, so taking a piece
/// costs the piece, not the rest.
#[derive(Debug, Default)]
struct Waiting {
    bytes: Vec<u8>,
    taken: usize,
}

impl Waiting {
    /// Room for at least one more byte: the taken front dropped when it is
    /// half the buffer or more (so each byte is moved at most about once),
    /// else the buffer doubled, never past room for `left` more bytes.
    fn make_room(&mut self, left: usize) {
        if self.bytes.len() < self.bytes.capacity() {
            return;
        }
        if self.taken > 0 && self.taken >= self.bytes.len() / 2 {
            self.bytes.drain(..self.taken);
            self.taken = 0;
            return;
        }
        let len = self.bytes.len();
        let want = (self.bytes.capacity() * 2)
            .max(READ_CHUNK)
            .min(len.saturating_add(left));
        self.bytes.reserve_exact(want - len);
    }

    /// What was not taken, leaving it empty.
    fn rest(&mut self) -> Vec<u8> {
        self.bytes.drain(..self.taken);
        self.taken = 0;
        std::mem::take(&mut self.bytes)
    }
}

/// The pipes and exit one `communicate` works on, taken from a [`Child`].
#[derive(Debug)]
pub struct Communicate {
    stdin: Option<PipeWriter>,
    input: Option<Vec<u8>>,
    stdout: Option<Arc<PipeReader>>,
    stderr: Option<Arc<PipeReader>>,
    exit: Arc<ChildExit>,
    /// Most bytes read from each of stdout and stderr.
    cap: usize,
    /// The output read and not yet handed over, and what this communicate
    /// holds of the guest's budget.
    collected: Arc<Collected>,
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
            collected: Arc::new(Collected::new(held)),
        })
    }

    /// Its output as it arrives, to take early or wait on.
    pub fn collected(&self) -> &Arc<Collected> {
        &self.collected
    }

    /// Runs the communicate to the end. The output is what was not taken
    /// early ([`Collected::take`]); what it holds of the budget is given
    /// back when the [`Collected`] is dropped or released.
    pub async fn run(self) -> Result<Output> {
        let collected = Arc::clone(&self.collected);
        let result = self.run_inner().await;
        collected.end();
        result
    }

    async fn run_inner(self) -> Result<Output> {
        let Communicate {
            stdin,
            input,
            stdout,
            stderr,
            exit,
            cap,
            collected,
        } = self;
        let budget = Arc::clone(&lock(&collected.held).budget);
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
                    Err(e) => return Err(ReadError::Io(e)),
                }
            }
            drop(stdin);
            Ok(())
        };
        let result = tokio::try_join!(
            feed,
            read_into(stdout, &collected.stdout, cap, &collected),
            read_into(stderr, &collected.stderr, cap, &collected),
        );
        let (_, stdout, stderr) = match result {
            Ok(r) => r,
            Err(ReadError::Io(e)) => return Err(Error::Io(e.to_string())),
            Err(over) => {
                let _ = exit.send_signal(libc::SIGKILL);
                exit.wait().await;
                return Err(match over {
                    ReadError::OverCap => Error::LimitExceeded(format!(
                        "communicate buffered more than {cap} bytes of output; \
                         the process was killed"
                    )),
                    _ => over_budget(&budget),
                });
            }
        };
        let returncode = exit.wait().await;
        // The rest, after what was taken early; it stays charged until the
        // guest has it.
        let rest = |piped: bool, buf: &Mutex<Waiting>| piped.then(|| lock(buf).rest());
        Ok(Output {
            stdout: rest(stdout, &collected.stdout),
            stderr: rest(stderr, &collected.stderr),
            returncode,
        })
    }
}

/// Why [`read_into`] stopped before end of file.
enum ReadError {
    /// More than the cap was read.
    OverCap,
    /// The guest's budget had no room for what was read.
    Refused,
    /// The read failed.
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Reads `pipe`, if there is one, to end of file into `buf`; whether there
/// was a pipe. Fails with [`ReadError::OverCap`] once more than `cap`
/// bytes were read (taken early or not), and with [`ReadError::Refused`]
/// when `collected` refuses the bytes read against the guest's budget.
///
/// `buf` grows by doubling, never past room for `cap + 1` bytes; the
/// bytes read, not its capacity, are charged (capacity not yet read into
/// is not written, so it takes no memory beyond the page being read into).
/// Its lock is held only around each non-blocking read; before each, the
/// read waits for [`Collected::room`].
async fn read_into(
    pipe: Option<Arc<PipeReader>>,
    buf: &Mutex<Waiting>,
    cap: usize,
    collected: &Collected,
) -> std::result::Result<bool, ReadError> {
    let Some(pipe) = pipe else {
        return Ok(false);
    };
    let mut total = 0usize;
    loop {
        collected.room().await;
        // Bytes that may still be read: one past `cap` tells it was passed.
        let left = cap.saturating_add(1).saturating_sub(total);
        if left == 0 {
            return Err(ReadError::OverCap);
        }
        let read = {
            let mut waiting = lock(buf);
            waiting.make_room(left);
            let out = &mut waiting.bytes;
            let len = out.len();
            let spare = out.spare_capacity_mut();
            let chunk = if pipe.grown() { GROWN_PIPE } else { READ_CHUNK };
            let room = spare.len().min(chunk).min(left);
            let n = pipe.try_read_into(&mut spare[..room])?;
            match n {
                Some(n) if n > 0 => {
                    if n >= READ_CHUNK {
                        // The kernel's whole pipe was waiting: the child
                        // writes faster than this reads.
                        pipe.grow_once();
                    }
                    // SAFETY: the kernel initialised `n` bytes after `len`.
                    unsafe { out.set_len(len + n) };
                    total += n;
                    if total > cap {
                        return Err(ReadError::OverCap);
                    }
                    // Counted before the lock is let go, so a take never
                    // finds bytes not yet counted.
                    if !collected.read(n) {
                        return Err(ReadError::Refused);
                    }
                }
                _ => {}
            }
            n
        };
        match read {
            Some(0) => return Ok(true),
            Some(_) => {}
            None => pipe.readable().await,
        }
    }
}
