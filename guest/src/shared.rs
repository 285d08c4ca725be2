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

use wasip2::io::streams::{InputStream, OutputStream, StreamError};

use crate::bindings::procgate::subprocess::subprocess as wit_subprocess;
use crate::bindings::procgate::subprocess::types as wit;
use crate::{Error, Options, Result, Signal, Stdio};

/// How much one read of a child's stdout/stderr asks the host for.
pub(crate) const READ_CHUNK: u64 = 64 * 1024;

/// The most `blocking-write-and-flush` takes at once (wasi:io's rule).
pub(crate) const WRITE_CHUNK: usize = 4096;

/// A `wasi:io` stream error as ours.
pub(crate) fn stream_error(e: StreamError) -> Error {
    match e {
        StreamError::Closed => Error::Closed,
        StreamError::LastOperationFailed(e) => Error::Stream(e.to_debug_string()),
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
    let wit_options = options.to_wit();
    let process = wit_subprocess::create_subprocess_exec(program, &args, &wit_options)?;
    Ok(spawned(process, options))
}

pub(crate) fn spawn_shell(cmd: &str, options: &Options) -> Result<Spawned> {
    let wit_options = options.to_wit();
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
    error: Option<Error>,
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

    fn check_error(&self) -> Result<()> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Add what a `read` of the stream returned.
    pub(crate) fn feed(&mut self, read: std::result::Result<Vec<u8>, StreamError>) {
        match read {
            Ok(bytes) => self.data.extend_from_slice(&bytes),
            Err(StreamError::Closed) => self.eof = true,
            Err(e) => {
                self.error = Some(stream_error(e));
                self.eof = true;
            }
        }
    }

    /// Record that no more data will come (the stream could not be taken).
    pub(crate) fn fail(&mut self, error: Error) {
        self.error = Some(error);
        self.eof = true;
    }

    /// `read(n)`.
    pub(crate) fn read(&mut self, n: isize) -> Step<Result<Vec<u8>>> {
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
    pub(crate) fn readexactly(&mut self, n: usize) -> Step<Result<Vec<u8>>> {
        if let Err(e) = self.check_error() {
            return Step::Ready(Err(e));
        }
        if self.data.len() >= n {
            return Step::Ready(Ok(self.take(n)));
        }
        if self.eof {
            return Step::Ready(Err(Error::IncompleteRead {
                partial: self.take_all(),
                expected: Some(n),
            }));
        }
        Step::NeedData
    }

    /// `readuntil(separator)`; `offset` carries where the search stopped
    /// between steps of one call (start it at 0).
    pub(crate) fn readuntil(
        &mut self,
        separator: &[u8],
        offset: &mut usize,
    ) -> Step<Result<Vec<u8>>> {
        let seplen = separator.len();
        if seplen == 0 {
            return Step::Ready(Err(Error::InvalidArgument(
                "separator should be at least one-byte string".into(),
            )));
        }
        if let Err(e) = self.check_error() {
            return Step::Ready(Err(e));
        }
        let buflen = self.data.len();
        let mut found = None;
        if buflen.saturating_sub(*offset) >= seplen {
            found = find(&self.data[*offset..], separator).map(|i| *offset + i);
            if found.is_none() {
                // The separator may start in the last seplen-1 bytes.
                *offset = buflen + 1 - seplen;
                if *offset > self.limit {
                    return Step::Ready(Err(Error::LimitOverrun { consumed: *offset }));
                }
            }
        }
        let Some(isep) = found else {
            if self.eof {
                return Step::Ready(Err(Error::IncompleteRead {
                    partial: self.take_all(),
                    expected: None,
                }));
            }
            return Step::NeedData;
        };
        if isep > self.limit {
            return Step::Ready(Err(Error::LimitOverrun { consumed: isep }));
        }
        Step::Ready(Ok(self.take(isep + seplen)))
    }

    /// `readline()`: `readuntil(b"\n")`, returning the partial last line at
    /// EOF and dropping an over-long line as asyncio does.
    pub(crate) fn readline(&mut self, offset: &mut usize) -> Step<Result<Vec<u8>>> {
        match self.readuntil(b"\n", offset) {
            Step::NeedData => Step::NeedData,
            Step::Ready(Err(Error::IncompleteRead { partial, .. })) => Step::Ready(Ok(partial)),
            Step::Ready(Err(Error::LimitOverrun { consumed })) => {
                if self.data[consumed..].starts_with(b"\n") {
                    self.data.drain(..consumed + 1);
                } else {
                    self.data.clear();
                }
                Step::Ready(Err(Error::LimitOverrun { consumed }))
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
                    self.buf.fail(e.into());
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
    pub(crate) fn feed(&mut self, read: std::result::Result<Vec<u8>, StreamError>) {
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
    /// Closed: by `close`, after a failure, or by `communicate`.
    Closed,
}

/// The state of a stream writer of either face.
pub(crate) struct WriterCore {
    // Field order is drop order: the stream before the process it came from.
    sink: Sink,
    proc: Rc<wit::Process>,
}

impl WriterCore {
    fn new(proc: Rc<wit::Process>) -> Self {
        Self {
            sink: Sink::Untaken,
            proc,
        }
    }

    pub(crate) fn process(&self) -> Rc<wit::Process> {
        self.proc.clone()
    }

    /// The open stream, taken from the process on first use.
    pub(crate) fn stream(&mut self) -> Result<&OutputStream> {
        if let Sink::Untaken = self.sink {
            match self.proc.stdin() {
                Ok(stream) => self.sink = Sink::Open(stream),
                Err(e) => {
                    self.sink = Sink::Closed;
                    return Err(e.into());
                }
            }
        }
        match &self.sink {
            Sink::Open(stream) => Ok(stream),
            _ => Err(Error::Closed),
        }
    }

    pub(crate) fn is_untaken(&self) -> bool {
        matches!(self.sink, Sink::Untaken)
    }

    pub(crate) fn is_open(&self) -> bool {
        matches!(self.sink, Sink::Open(_))
    }

    pub(crate) fn is_closed(&self) -> bool {
        matches!(self.sink, Sink::Closed)
    }

    /// Record a failed stream operation: the stream is dropped.
    pub(crate) fn failed(&mut self, e: StreamError) -> Error {
        self.sink = Sink::Closed;
        stream_error(e)
    }

    /// Move the open stream out (the writer is closed afterwards).
    pub(crate) fn take_open(&mut self) -> Option<OutputStream> {
        match std::mem::replace(&mut self.sink, Sink::Closed) {
            Sink::Open(stream) => Some(stream),
            other => {
                self.sink = other;
                None
            }
        }
    }

    /// The host closed the untaken stdin (`communicate`).
    pub(crate) fn closed_by_host(&mut self) {
        self.sink = Sink::Closed;
    }

    /// Close the child's stdin: drop the stream, taking it first if the
    /// host still holds it (dropping it is what closes the pipe).
    pub(crate) fn close(&mut self) {
        if let Sink::Untaken = self.sink {
            if let Ok(stream) = self.proc.stdin() {
                drop(stream);
            }
        }
        self.sink = Sink::Closed;
    }
}

impl Drop for WriterCore {
    /// Dropping a writer closes the child's stdin, as a garbage-collected
    /// asyncio `StreamWriter` does.
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

/// Decide how `communicate` feeds stdin. `pending` is what the writer has
/// buffered but not yet written.
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

pub(crate) fn plan_feed(
    stdin: Option<&mut WriterCore>,
    pending: Vec<u8>,
    input: Option<&[u8]>,
) -> Feed {
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
    let mut data = pending;
    data.extend_from_slice(input.unwrap_or_default());
    Feed::Guest(data)
}

/// Write `data` to an open stdin with blocking writes, ignoring a broken
/// pipe (the child exited before reading it all), then close it.
pub(crate) fn feed_blocking_and_close(writer: &mut WriterCore, data: &[u8]) {
    if let Ok(stream) = writer.stream() {
        for chunk in data.chunks(WRITE_CHUNK) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
    }
    writer.close();
}
