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
/// `Communication` wraps it and adds its way to wait): the host's future
/// and the process, borrowed until it is done.
pub(crate) struct Communicating<'a, P> {
    // Field order is drop order: the host's future before the process.
    future: wit::FutureCommunicate,
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
        Self { future, process }
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
        Some(result.map_err(HostError::from).map(|output| {
            let (core, stdout, stderr) = self.process.cores();
            deliver(core, stdout, stderr, output)
        }))
    }
}
