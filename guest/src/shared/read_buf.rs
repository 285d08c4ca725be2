//! asyncio's `StreamReader` without the I/O: [`ReadBuf`], the buffer and
//! its read operations as steps.

use super::*;

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
    pub(super) data: Vec<u8>,
    pub(super) eof: bool,
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
