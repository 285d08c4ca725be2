//! What the blocking and the async faces share: the process handle, the
//! lazily taken streams, asyncio's `StreamReader` buffer logic with the I/O
//! left out, and the planning of `communicate`.
//!
//! # Streams are taken lazily
//!
//! A process created with `stdin=PIPE` has `stdin: Some(StreamWriter)` at
//! once, as in asyncio, but the `wasi:io` stream is only taken from the WIT
//! process (`process.stdin()`) when the guest first writes to it; readers
//! likewise on their first read. Until then the host still holds the pipe, so
//! `communicate` can hand `input` to the host (which feeds stdin and reads
//! stdout/stderr concurrently, natively) instead of the guest writing it
//! through the stream. Once taken, the guest feeds stdin itself and the host
//! reads the rest of a taken stdout/stderr (the WIT says so).
//!
//! # Drop order
//!
//! The host may refuse to drop a resource while a resource made from it is
//! alive. Every pollable here lives inside one call (or one `async fn`'s
//! future, which borrows the stream), so it is gone before its stream. Every
//! stream is held next to an `Rc` of the WIT process it came from, in a field
//! declared *before* that `Rc`, so a stream is dropped before its process,
//! even when the guest moves a reader out of its `Process`.

use std::cell::Cell;
use std::rc::Rc;

use wasip2::io::poll::Pollable;
use wasip2::io::streams::{InputStream, OutputStream, StreamError as WasiStreamError};

use crate::bindings::procgate::subprocess::subprocess as wit_subprocess;
use crate::bindings::procgate::subprocess::types as wit;
use crate::{HostError, Options, Signal, Stdio, StreamError};

type Result<T, E = HostError> = std::result::Result<T, E>;

/// How much one read of a child's stdout/stderr asks the host for.
pub(crate) const READ_CHUNK: u64 = 64 * 1024;

/// The most `blocking-write-and-flush` takes at once (wasi:io's rule).
pub(crate) const WRITE_CHUNK: usize = 4096;

/// Why a stdin is closed: the text of [`StreamError::Closed`].
pub(crate) const CLOSED_BY_CHILD: &str = "the child closed its stdin or exited (broken pipe)";
pub(crate) const CLOSED_BY_GUEST: &str = "the guest closed stdin (close, write_eof or drop)";
pub(crate) const CLOSED_BY_COMMUNICATE: &str = "communicate closed stdin";
pub(crate) const CLOSED_AFTER_FAILURE: &str = "an earlier write or flush failed";

/// A `wasi:io` stream error of a child's stdin as ours.
pub(crate) fn stream_error(e: WasiStreamError) -> StreamError {
    match e {
        WasiStreamError::Closed => StreamError::Closed(CLOSED_BY_CHILD.into()),
        WasiStreamError::LastOperationFailed(e) => StreamError::Failed(e.to_debug_string()),
    }
}

/// The process handle shared by `sync::Process` and `aio::Process`.
pub(crate) struct ProcCore {
    pub(crate) wit: Rc<wit::Process>,
    pid: u32,
    returncode: Cell<Option<i32>>,
}

impl ProcCore {
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The return code once the process has exited, asking the host until
    /// it is known.
    pub(crate) fn returncode(&self) -> Option<i32> {
        if let Some(code) = self.returncode.get() {
            return Some(code);
        }
        let code = self.wit.returncode();
        self.returncode.set(code);
        code
    }

    /// The return code a `wait` or `communicate` already returned, without
    /// asking the host.
    pub(crate) fn known_returncode(&self) -> Option<i32> {
        self.returncode.get()
    }

    pub(crate) fn set_returncode(&self, code: i32) {
        self.returncode.set(Some(code));
    }

    /// The exit pollable: ready once the process has exited. It does not
    /// borrow the process.
    pub(crate) fn subscribe(&self) -> Pollable {
        self.wit.subscribe()
    }

    /// The return code if the process has exited, without blocking.
    pub(crate) fn try_wait(&self) -> Result<Option<i32>> {
        if let Some(code) = self.known_returncode() {
            return Ok(Some(code));
        }
        if !self.subscribe().ready() {
            return Ok(None);
        }
        // Ready means exited: this does not block on the child.
        let code = self.wit.wait()?;
        self.set_returncode(code);
        Ok(Some(code))
    }

    pub(crate) fn send_signal(&self, signal: Signal) -> Result<()> {
        Ok(self.wit.send_signal(signal.into())?)
    }

    pub(crate) fn terminate(&self) -> Result<()> {
        Ok(self.wit.terminate()?)
    }

    pub(crate) fn kill(&self) -> Result<()> {
        Ok(self.wit.kill()?)
    }
}

/// A process just created, with the streams its options piped.
pub(crate) struct Spawned {
    pub(crate) stdin: Option<WriterCore>,
    pub(crate) stdout: Option<ReaderCore>,
    pub(crate) stderr: Option<ReaderCore>,
    pub(crate) proc: ProcCore,
}

pub(crate) fn spawn_exec<I, S>(program: &str, args: I, options: &Options) -> Result<Spawned>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let wit_options = options.to_wit()?;
    let process = wit_subprocess::create_subprocess_exec(program, &args, &wit_options)?;
    Ok(spawned(process, options))
}

pub(crate) fn spawn_shell(cmd: &str, options: &Options) -> Result<Spawned> {
    let wit_options = options.to_wit()?;
    let process = wit_subprocess::create_subprocess_shell(cmd, &wit_options)?;
    Ok(spawned(process, options))
}

fn spawned(process: wit::Process, options: &Options) -> Spawned {
    let pid = process.pid();
    let wit = Rc::new(process);
    let limit = options.reader_limit();
    let piped = |stdio: Stdio| stdio == Stdio::Pipe;
    Spawned {
        stdin: piped(options.stdin).then(|| WriterCore::new(wit.clone())),
        stdout: piped(options.stdout).then(|| ReaderCore::new(wit.clone(), Which::Stdout, limit)),
        stderr: piped(options.stderr).then(|| ReaderCore::new(wit.clone(), Which::Stderr, limit)),
        proc: ProcCore {
            wit,
            pid,
            returncode: Cell::new(None),
        },
    }
}

/// Which output stream of the child a reader reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Which {
    Stdout,
    Stderr,
}

/// What one step of a read operation found.
pub(crate) enum Step<T> {
    /// The operation is done (with its value or error).
    Ready(T),
    /// The buffer does not hold enough: read more from the stream and retry.
    NeedData,
}

/// asyncio's `StreamReader`, without the I/O: a buffer, the EOF flag and a
/// sticky error, and each read operation as a step that either finishes or
/// asks for more data.
#[derive(Debug)]
pub(crate) struct ReadBuf {
    data: Vec<u8>,
    eof: bool,
    error: Option<StreamError>,
    limit: usize,
}

impl ReadBuf {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            data: Vec::new(),
            eof: false,
            error: None,
            limit,
        }
    }

    pub(crate) fn eof(&self) -> bool {
        self.eof
    }

    /// asyncio's `at_eof`: EOF was seen and the buffer is empty.
    pub(crate) fn at_eof(&self) -> bool {
        self.eof && self.data.is_empty()
    }

    /// Everything still buffered; the reader stays at EOF after this.
    pub(crate) fn take_all(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.data)
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        let rest = self.data.split_off(n.min(self.data.len()));
        std::mem::replace(&mut self.data, rest)
    }

    fn check_error(&self) -> Result<(), StreamError> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Add what a `read` of the stream returned.
    pub(crate) fn feed(&mut self, read: std::result::Result<Vec<u8>, WasiStreamError>) {
        match read {
            Ok(bytes) => self.data.extend_from_slice(&bytes),
            Err(WasiStreamError::Closed) => self.eof = true,
            Err(WasiStreamError::LastOperationFailed(e)) => {
                self.error = Some(StreamError::Failed(e.to_debug_string()));
                self.eof = true;
            }
        }
    }

    /// Record that no more data will come (the stream could not be taken).
    pub(crate) fn fail(&mut self, error: StreamError) {
        self.error = Some(error);
        self.eof = true;
    }

    /// `read(n)`.
    pub(crate) fn read(&mut self, n: isize) -> Step<Result<Vec<u8>, StreamError>> {
        if let Err(e) = self.check_error() {
            return Step::Ready(Err(e));
        }
        if n == 0 {
            return Step::Ready(Ok(Vec::new()));
        }
        if n < 0 {
            // Read until EOF.
            if self.eof {
                return Step::Ready(Ok(self.take_all()));
            }
            return Step::NeedData;
        }
        if self.data.is_empty() && !self.eof {
            return Step::NeedData;
        }
        Step::Ready(Ok(self.take(n as usize)))
    }

    /// `readexactly(n)`.
    pub(crate) fn readexactly(&mut self, n: usize) -> Step<Result<Vec<u8>, StreamError>> {
        if let Err(e) = self.check_error() {
            return Step::Ready(Err(e));
        }
        if self.data.len() >= n {
            return Step::Ready(Ok(self.take(n)));
        }
        if self.eof {
            return Step::Ready(Err(StreamError::IncompleteRead {
                partial: self.take_all(),
                expected: Some(n),
            }));
        }
        Step::NeedData
    }

    /// `readuntil(separators)`: the data up to and including the separator
    /// whose match ends first (asyncio 3.13's tuple form; one separator is
    /// a slice of one). `offset` carries where the search stopped between
    /// steps of one call (start it at 0).
    pub(crate) fn readuntil(
        &mut self,
        separators: &[&[u8]],
        offset: &mut usize,
    ) -> Step<Result<Vec<u8>, StreamError>> {
        let min_seplen = separators.iter().map(|s| s.len()).min();
        let max_seplen = separators.iter().map(|s| s.len()).max().unwrap_or(0);
        let min_seplen = match min_seplen {
            None => {
                return Step::Ready(Err(StreamError::InvalidArgument(
                    "separator should contain at least one element".into(),
                )))
            }
            Some(0) => {
                return Step::Ready(Err(StreamError::InvalidArgument(
                    "separator should be at least one-byte string".into(),
                )))
            }
            Some(n) => n,
        };
        if let Err(e) = self.check_error() {
            return Step::Ready(Err(e));
        }
        let buflen = self.data.len();
        let mut found: Option<(usize, usize)> = None;
        if buflen.saturating_sub(*offset) >= min_seplen {
            for sep in separators {
                if let Some(i) = find(&self.data[*offset..], sep) {
                    let (start, end) = (*offset + i, *offset + i + sep.len());
                    if found.is_none_or(|(_, e)| end < e) {
                        found = Some((start, end));
                    }
                }
            }
            if found.is_none() {
                // A separator may start in the last max_seplen-1 bytes.
                *offset = (buflen + 1).saturating_sub(max_seplen);
                if *offset > self.limit {
                    return Step::Ready(Err(StreamError::LimitOverrun {
                        consumed: *offset,
                        message: "Separator is not found, and chunk exceed the limit".into(),
                    }));
                }
            }
        }
        let Some((start, end)) = found else {
            if self.eof {
                return Step::Ready(Err(StreamError::IncompleteRead {
                    partial: self.take_all(),
                    expected: None,
                }));
            }
            return Step::NeedData;
        };
        if start > self.limit {
            return Step::Ready(Err(StreamError::LimitOverrun {
                consumed: start,
                message: "Separator is found, but chunk is longer than limit".into(),
            }));
        }
        Step::Ready(Ok(self.take(end)))
    }

    /// `readline()`: `readuntil(b"\n")`, returning the partial last line at
    /// EOF and dropping an over-long line as asyncio does.
    pub(crate) fn readline(&mut self, offset: &mut usize) -> Step<Result<Vec<u8>, StreamError>> {
        match self.readuntil(&[b"\n"], offset) {
            Step::NeedData => Step::NeedData,
            Step::Ready(Err(StreamError::IncompleteRead { partial, .. })) => {
                Step::Ready(Ok(partial))
            }
            Step::Ready(Err(StreamError::LimitOverrun { consumed, message })) => {
                if self.data[consumed..].starts_with(b"\n") {
                    self.data.drain(..consumed + 1);
                } else {
                    self.data.clear();
                }
                Step::Ready(Err(StreamError::LimitOverrun { consumed, message }))
            }
            other => other,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        return haystack.iter().position(|&b| b == needle[0]);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Where a reader's `wasi:io` stream is.
enum Source {
    /// Still in the host; taken on the first read.
    Untaken,
    /// Taken from the process.
    Open(InputStream),
    /// Dropped after EOF, a failure, or `communicate`.
    Done,
}

/// The state of a stream reader of either face.
pub(crate) struct ReaderCore {
    // Field order is drop order: the stream before the process it came from.
    source: Source,
    which: Which,
    proc: Rc<wit::Process>,
    pub(crate) buf: ReadBuf,
}

impl ReaderCore {
    fn new(proc: Rc<wit::Process>, which: Which, limit: usize) -> Self {
        Self {
            source: Source::Untaken,
            which,
            proc,
            buf: ReadBuf::new(limit),
        }
    }

    /// The open stream, taken from the process on first use; `None` once
    /// no more data can come (the buffer then records EOF or the error).
    pub(crate) fn stream(&mut self) -> Option<&InputStream> {
        if let Source::Untaken = self.source {
            let taken = match self.which {
                Which::Stdout => self.proc.stdout(),
                Which::Stderr => self.proc.stderr(),
            };
            match taken {
                Ok(stream) => self.source = Source::Open(stream),
                Err(e) => {
                    self.buf
                        .fail(StreamError::Failed(HostError::from(e).to_string()));
                    self.source = Source::Done;
                }
            }
        }
        match &self.source {
            Source::Open(stream) => Some(stream),
            _ => {
                self.buf.eof = true;
                None
            }
        }
    }

    /// Add what a read of the stream returned; drop the stream at its end.
    pub(crate) fn feed(&mut self, read: std::result::Result<Vec<u8>, WasiStreamError>) {
        self.buf.feed(read);
        if self.buf.eof() {
            self.source = Source::Done;
        }
    }

    /// One read that does not block, to learn about EOF without waiting.
    /// Returns whether it got data or EOF.
    pub(crate) fn read_nonblocking(&mut self) -> bool {
        let Some(stream) = self.stream() else {
            return true;
        };
        match stream.read(READ_CHUNK) {
            Ok(bytes) if bytes.is_empty() => false,
            read => {
                self.feed(read);
                true
            }
        }
    }

    /// asyncio's `at_eof`, looking at the stream (without blocking) when
    /// the buffer is empty.
    pub(crate) fn at_eof(&mut self) -> bool {
        if self.buf.data.is_empty() && !self.buf.eof {
            self.read_nonblocking();
        }
        self.buf.at_eof()
    }

    /// The WIT process this reader's stream comes from.
    pub(crate) fn process(&self) -> Rc<wit::Process> {
        self.proc.clone()
    }

    /// After `communicate` (which the host read this stream's rest for):
    /// what the guest had buffered, to come first in the result. The reader
    /// is at EOF for good afterwards.
    pub(crate) fn finish_communicate(&mut self, host_data: Option<Vec<u8>>) -> Vec<u8> {
        let mut data = self.buf.take_all();
        self.buf.eof = true;
        self.source = Source::Done;
        match host_data {
            Some(rest) if data.is_empty() => data = rest,
            Some(rest) => data.extend_from_slice(&rest),
            None => {}
        }
        data
    }
}

/// Where a writer's `wasi:io` stream is.
enum Sink {
    /// Still in the host; taken on the first write.
    Untaken,
    /// Taken from the process.
    Open(OutputStream),
    /// Closed, for the reason given (the text of [`StreamError::Closed`]).
    Closed(&'static str),
}

/// The state of a stream writer of either face: asyncio's `StreamWriter`
/// over a pipe. `write` sends what the stream takes at once and buffers the
/// rest; draining sends the rest, waiting (blocking or awaiting).
pub(crate) struct WriterCore {
    // Field order is drop order: the stream before the process it came from.
    sink: Sink,
    proc: Rc<wit::Process>,
    /// Written by the guest, not yet taken by the stream.
    pub(crate) pending: Vec<u8>,
    /// Whether something was written since the last flush.
    pub(crate) unflushed: bool,
}

impl WriterCore {
    fn new(proc: Rc<wit::Process>) -> Self {
        Self {
            sink: Sink::Untaken,
            proc,
            pending: Vec::new(),
            unflushed: false,
        }
    }

    pub(crate) fn process(&self) -> Rc<wit::Process> {
        self.proc.clone()
    }

    /// The open stream, taken from the process on first use.
    pub(crate) fn stream(&mut self) -> Result<&OutputStream, StreamError> {
        open_sink(&mut self.sink, &self.proc)
    }

    /// The error of an operation on a closed writer.
    pub(crate) fn closed_error(&self) -> StreamError {
        match self.sink {
            Sink::Closed(why) => StreamError::Closed(why.into()),
            _ => StreamError::Closed(CLOSED_BY_GUEST.into()),
        }
    }

    pub(crate) fn is_untaken(&self) -> bool {
        matches!(self.sink, Sink::Untaken)
    }

    pub(crate) fn is_open(&self) -> bool {
        matches!(self.sink, Sink::Open(_))
    }

    pub(crate) fn is_closed(&self) -> bool {
        matches!(self.sink, Sink::Closed(_))
    }

    /// Record a failed stream operation: the stream is dropped.
    pub(crate) fn failed(&mut self, e: WasiStreamError) -> StreamError {
        let error = stream_error(e);
        self.sink = Sink::Closed(match error {
            StreamError::Closed(_) => CLOSED_BY_CHILD,
            _ => CLOSED_AFTER_FAILURE,
        });
        error
    }

    /// asyncio's `write`: buffer `data` and send what the stream takes now,
    /// without waiting.
    pub(crate) fn write(&mut self, data: &[u8]) -> Result<(), StreamError> {
        if self.is_closed() {
            return Err(self.closed_error());
        }
        if data.is_empty() {
            return Ok(());
        }
        self.pending.extend_from_slice(data);
        self.unflushed = true;
        self.send_some()
    }

    /// Send as much of the buffer as the stream accepts now.
    pub(crate) fn send_some(&mut self) -> Result<(), StreamError> {
        while !self.pending.is_empty() {
            let stream = open_sink(&mut self.sink, &self.proc)?;
            let written = match stream.check_write() {
                Ok(0) => return Ok(()),
                Ok(permit) => {
                    let n = self
                        .pending
                        .len()
                        .min(usize::try_from(permit).unwrap_or(usize::MAX));
                    stream.write(&self.pending[..n]).map(|()| n)
                }
                Err(e) => Err(e),
            };
            match written {
                Ok(n) => drop(self.pending.drain(..n)),
                Err(e) => return Err(self.failed(e)),
            }
        }
        Ok(())
    }

    /// `drain`, blocking: send the buffer, then flush.
    pub(crate) fn drain_blocking(&mut self) -> Result<(), StreamError> {
        if self.is_closed() {
            return Err(self.closed_error());
        }
        if !self.unflushed {
            return Ok(());
        }
        loop {
            self.send_some()?;
            if self.pending.is_empty() {
                break;
            }
            // The pollable borrows the stream, which outlives this call.
            self.stream()?.subscribe().block();
        }
        if let Err(e) = self.stream()?.blocking_flush() {
            return Err(self.failed(e));
        }
        self.unflushed = false;
        Ok(())
    }

    /// Move the open stream out (the writer is closed afterwards, for
    /// `why`).
    pub(crate) fn take_open(&mut self, why: &'static str) -> Option<OutputStream> {
        match std::mem::replace(&mut self.sink, Sink::Closed(why)) {
            Sink::Open(stream) => Some(stream),
            other => {
                self.sink = other;
                None
            }
        }
    }

    /// The host closed the untaken stdin (`communicate`).
    pub(crate) fn closed_by_host(&mut self) {
        self.sink = Sink::Closed(CLOSED_BY_COMMUNICATE);
    }

    /// Close the child's stdin at once, dropping what is buffered: drop the
    /// stream, taking it first if the host still holds it (dropping it is
    /// what closes the pipe).
    pub(crate) fn close(&mut self) {
        if let Sink::Untaken = self.sink {
            if let Ok(stream) = self.proc.stdin() {
                drop(stream);
            }
        }
        self.pending.clear();
        if !self.is_closed() {
            self.sink = Sink::Closed(CLOSED_BY_GUEST);
        }
    }

    /// `close`, blocking: send what is buffered and flush it out of the
    /// host (dropping a stream drops what the host still buffers; errors
    /// are ignored, as asyncio drops them), then close.
    pub(crate) fn close_blocking(&mut self) {
        if self.is_open() && self.unflushed {
            let data = std::mem::take(&mut self.pending);
            feed_blocking_and_close(self, &data);
        }
        self.close();
    }
}

/// The open stream of a writer's sink, taken from the process on first
/// use.
fn open_sink<'s>(sink: &'s mut Sink, proc: &wit::Process) -> Result<&'s OutputStream, StreamError> {
    if let Sink::Untaken = sink {
        match proc.stdin() {
            Ok(stream) => *sink = Sink::Open(stream),
            Err(e) => {
                *sink = Sink::Closed(CLOSED_AFTER_FAILURE);
                return Err(StreamError::Failed(HostError::from(e).to_string()));
            }
        }
    }
    match sink {
        Sink::Open(stream) => Ok(stream),
        Sink::Closed(why) => Err(StreamError::Closed((*why).into())),
        Sink::Untaken => unreachable!("taken above"),
    }
}

impl Drop for WriterCore {
    /// Dropping a writer closes the child's stdin, as a garbage-collected
    /// asyncio `StreamWriter` does; what is still buffered is dropped.
    fn drop(&mut self) {
        self.close();
    }
}

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
