//! `communicate` for both faces: how stdin is fed ([`Feed`]), what the
//! end delivers, and blocking on pollables.

use super::*;

/// How `communicate` gets its input to the child.
pub(crate) enum Feed {
    /// The host feeds stdin (when given input) and closes it: stdin was not
    /// taken by the guest, or not piped (then no input: asyncio ignores it).
    Host(Option<Vec<u8>>),
    /// The guest holds stdin: the host gets no input, and the guest writes
    /// these bytes itself while the host reads, then closes stdin.
    Guest(Vec<u8>),
}

/// The end of `communicate`, for both faces: sets the return code and
/// returns each piped stream's data, with what its reader still had
/// buffered in front of what the host read.
#[allow(clippy::type_complexity)] // asyncio's (stdout_data, stderr_data)
pub(crate) fn deliver(
    core: &ProcCore,
    stdout: Option<&mut ReaderCore>,
    stderr: Option<&mut ReaderCore>,
    output: wit::CommunicateOutput,
) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    core.set_returncode(output.returncode);
    (
        stdout.map(|r| r.finish_communicate(output.stdout)),
        stderr.map(|r| r.finish_communicate(output.stderr)),
    )
}

/// Decide how `communicate` feeds stdin: what the writer has buffered but
/// not yet written goes before `input`.
pub(crate) fn plan_feed(stdin: Option<&mut WriterCore>, input: Option<&[u8]>) -> Feed {
    let Some(writer) = stdin else {
        // asyncio: `stdin` is None, so `input` is ignored.
        return Feed::Host(None);
    };
    if writer.is_untaken() {
        writer.closed_by_host();
        return Feed::Host(input.map(<[u8]>::to_vec));
    }
    if writer.is_closed() {
        // asyncio writes into the closed transport, which drops the data.
        return Feed::Host(None);
    }
    let mut data = std::mem::take(&mut writer.pending);
    data.extend_from_slice(input.unwrap_or_default());
    Feed::Guest(data)
}

/// Write `data` to an open stdin with blocking writes and flush it,
/// ignoring a broken pipe (the child exited before reading it all), then
/// close it.
pub(crate) fn feed_blocking_and_close(writer: &mut WriterCore, data: &[u8]) {
    if let Ok(stream) = writer.stream() {
        let written = data
            .chunks(WRITE_CHUNK)
            .try_for_each(|chunk| stream.blocking_write_and_flush(chunk));
        if written.is_ok() {
            let _ = stream.blocking_flush();
        }
    }
    writer.close();
}

/// Wait until one of `pollables` is ready or `timeout` has passed,
/// blocking; returns whether one of them is ready.
pub(crate) fn block_until(pollables: &[&Pollable], timeout: Option<std::time::Duration>) -> bool {
    let timer = timeout.map(|t| {
        wasip2::clocks::monotonic_clock::subscribe_duration(
            u64::try_from(t.as_nanos()).unwrap_or(u64::MAX),
        )
    });
    let mut all: Vec<&Pollable> = pollables.to_vec();
    if let Some(timer) = &timer {
        all.push(timer);
    }
    let ready = wasip2::io::poll::poll(&all);
    ready.iter().any(|&i| (i as usize) < pollables.len())
}

/// A face's process, as a `communicate` in progress reaches it: the
/// process's core and the cores of its stdout and stderr readers. Both
/// faces' processes implement it in `faces.rs`.
pub(crate) trait Communicates {
    fn cores(&mut self) -> (&ProcCore, Option<&mut ReaderCore>, Option<&mut ReaderCore>);
}

/// A `communicate` in progress, of either face (each face's
/// `Communication` wraps it and adds its way to wait): the host's future,
/// the output taken from the host as it arrived, and the process, borrowed
/// until it is done.
pub(crate) struct Communicating<'a, P> {
    // Field order is drop order: the host's future before the process.
    future: wit::FutureCommunicate,
    /// stdout and stderr taken early (`take-output`), in front of the rest.
    taken: (Vec<u8>, Vec<u8>),
    pub(crate) process: &'a mut P,
}

impl<P: std::fmt::Debug> std::fmt::Debug for Communicating<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Communication")
            .field("process", &self.process)
            .finish_non_exhaustive()
    }
}

impl<'a, P: Communicates> Communicating<'a, P> {
    pub(crate) fn new(future: wit::FutureCommunicate, process: &'a mut P) -> Self {
        Self {
            future,
            taken: (Vec::new(), Vec::new()),
            process,
        }
    }

    /// A pollable that is ready once output waits in the host to be taken
    /// ([`Communicating::take_output`]) or the communicate has ended.
    pub(crate) fn subscribe_output(&self) -> Pollable {
        self.future.subscribe_output()
    }

    /// Takes the output waiting in the host, so that a large output is not
    /// held twice (in the host, then copied whole into the guest); whether
    /// there was any.
    pub(crate) fn take_output(&mut self) -> bool {
        let mut any = false;
        loop {
            // Room first: the pieces the host hands over are put after the
            // buffer, so it need not grow past them (which would move it).
            reserve(&mut self.taken.0, TAKE_MAX);
            let (stdout, stderr) = self.future.take_output(TAKE_MAX as u64);
            if stdout.is_empty() && stderr.is_empty() {
                return any;
            }
            any = true;
            for piece in &stdout {
                append(&mut self.taken.0, piece);
            }
            for piece in &stderr {
                append(&mut self.taken.1, piece);
            }
        }
    }

    /// A pollable that is ready once the result is available; it borrows
    /// the future.
    pub(crate) fn subscribe(&self) -> Pollable {
        self.future.subscribe()
    }

    /// The result if it is available (once; asking again is the host's
    /// `invalid-argument`), delivered into the process and its readers.
    #[allow(clippy::type_complexity)] // asyncio's (stdout_data, stderr_data)
    pub(crate) fn try_get(&mut self) -> Option<Result<(Option<Vec<u8>>, Option<Vec<u8>>)>> {
        let result = self.future.get()?;
        Some(result.map_err(HostError::from).map(|mut output| {
            output.stdout = output.stdout.map(|rest| joined(&mut self.taken.0, rest));
            output.stderr = output.stderr.map(|rest| joined(&mut self.taken.1, rest));
            let (core, stdout, stderr) = self.process.cores();
            deliver(core, stdout, stderr, output)
        }))
    }

    /// After the face waited on the pollable this (or
    /// [`Communicating::subscribe_output`]) gave: the result if it is
    /// there, else the waiting output is taken and the next pollable to
    /// wait on returned (the result's own once the host has nothing more
    /// waiting: it is handing the result over).
    #[allow(clippy::type_complexity)] // asyncio's (stdout_data, stderr_data)
    pub(crate) fn advance(
        &mut self,
    ) -> std::result::Result<Result<(Option<Vec<u8>>, Option<Vec<u8>>)>, Pollable> {
        if let Some(result) = self.try_get() {
            return Ok(result);
        }
        Err(if self.take_output() {
            self.subscribe_output()
        } else {
            self.subscribe()
        })
    }
}

/// What was taken early, then `rest`: `rest` itself when nothing was.
fn joined(taken: &mut Vec<u8>, rest: Vec<u8>) -> Vec<u8> {
    if taken.is_empty() {
        return rest;
    }
    append(taken, &rest);
    std::mem::take(taken)
}

/// The most bytes of each stream one `take-output` asks for: 128 KiB, the
/// most the host hands over at once.
const TAKE_MAX: usize = 128 << 10;

/// Room asked of the allocator beyond a grown buffer's need, for its own
/// bookkeeping, so the block freed in [`reserve`] covers the growth.
const GROWTH_PAD: usize = 64 << 10;

/// Appends `src` to `dst`, growing it as [`reserve`] does.
fn append(dst: &mut Vec<u8>, src: &[u8]) {
    reserve(dst, src.len());
    dst.extend_from_slice(src);
}

/// Makes room for `more` bytes in `dst`, doubling it when it is full, in
/// place where the allocator allows: a buffer that grows to a large output
/// is then written once, not copied into fresh memory at each doubling
/// (which touched twice the output's size in new pages, each a page fault:
/// the cost that made `communicate` of 1 GiB slow; `bench/README.md`).
///
/// wasi-libc's allocator (dlmalloc) extends a block in place when free
/// space follows it (at the top of the heap, the memory not yet handed
/// out) and is large enough, but it does not grow the memory for that: it
/// moves the block. A block of the growth's size, allocated and freed just
/// before, grows the memory first, so the realloc finds the room. Where the
/// allocator cannot extend (another block follows), it moves the buffer, as
/// any `Vec` does.
fn reserve(dst: &mut Vec<u8>, more: usize) {
    if dst.capacity() - dst.len() >= more {
        return;
    }
    let need = dst.len() + more;
    let want = dst.capacity().saturating_mul(2).max(need);
    if dst.capacity() > 0 {
        let mut room: Vec<u8> = Vec::new();
        // A failure here only costs the move it was to spare.
        let _ = room.try_reserve_exact(want - dst.capacity() + GROWTH_PAD);
        // Keep the allocation: the optimizer may drop an unused one.
        drop(std::hint::black_box(room));
    }
    // Doubling may not fit in a 32-bit memory; what is needed may.
    if dst.try_reserve_exact(want - dst.len()).is_err() {
        dst.reserve_exact(more);
    }
}
