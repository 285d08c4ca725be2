//! The state of a stream reader of either face: [`ReaderCore`], its
//! stream taken lazily.

use super::*;

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
    pub(super) fn new(proc: Rc<wit::Process>, which: Which, limit: usize) -> Self {
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
