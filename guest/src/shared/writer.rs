//! The state of a stream writer of either face: [`WriterCore`], its
//! stream taken lazily, what is buffered, and how it closes.

use super::*;

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
    pub(super) fn new(proc: Rc<wit::Process>) -> Self {
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
