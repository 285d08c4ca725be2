//! The blocking face's [`StreamReader`]: asyncio's `StreamReader`, each
//! read blocking until it is done.

use super::*;

/// Reads a child's stdout or stderr: asyncio's `StreamReader`, blocking.
///
/// It buffers what it reads; `readline` and `readuntil` fail with
/// [`StreamError::LimitOverrun`] on a line longer than the `limit` of the
/// process's [`Options`] (64 KiB by default).
///
/// ```
/// use procgate_guest::sync::create_subprocess_exec;
/// use procgate_guest::{Options, PIPE};
///
/// let mut proc = create_subprocess_exec("ls", ["/"], Options::new().stdout(PIPE))?;
/// let stdout = proc.stdout.as_mut().unwrap();
/// loop {
///     let line = stdout.readline()?;
///     if line.is_empty() {
///         break;
///     }
///     print!("{}", String::from_utf8_lossy(&line));
/// }
/// proc.wait()?;
/// # Ok::<(), procgate_guest::Error>(())
/// ```
pub struct StreamReader {
    pub(crate) core: Box<ReaderCore>,
}

impl StreamReader {
    /// Run one read operation to its end, reading more from the stream with
    /// blocking reads whenever the buffer does not hold enough.
    fn run<T>(&mut self, mut step: impl FnMut(&mut shared::ReadBuf) -> Step<T>) -> T {
        loop {
            if let Step::Ready(value) = step(&mut self.core.buf) {
                return value;
            }
            self.fill();
        }
    }

    fn fill(&mut self) {
        let Some(stream) = self.core.stream() else {
            return;
        };
        let read = stream.blocking_read(shared::READ_CHUNK);
        self.core.feed(read);
    }

    /// Read up to `n` bytes. If `n` is `-1` (any negative value), read until
    /// EOF and return all the bytes read; if `n` is `0`, return empty bytes
    /// at once. Otherwise block until at least one byte is available and
    /// return up to `n` bytes.
    ///
    /// Empty bytes mean EOF was reached (or `n` was 0).
    ///
    /// `n` is an `isize`, as asyncio's `n=-1` wants a sign: the bytes come
    /// back in a `Vec<u8>` in the guest's memory, which on wasm32 can never
    /// hold more than `isize::MAX` bytes, so a larger count could not be
    /// served anyway.
    ///
    /// ```
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let stdout = proc.stdout.as_mut().unwrap();
    /// let first = stdout.read(100)?; // at most 100 bytes
    /// let rest = stdout.read(-1)?; // everything up to EOF
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn read(&mut self, n: isize) -> Result<Vec<u8>, StreamError> {
        self.run(|buf| buf.read(n))
    }

    /// Read one line, where "line" is a sequence of bytes ending with `\n`.
    ///
    /// If EOF is reached and no `\n` was found, return the partial data
    /// read; return empty bytes once EOF is reached with an empty buffer.
    /// A line longer than the limit fails with [`StreamError::LimitOverrun`] and
    /// is dropped from the buffer, as asyncio does.
    ///
    /// ```
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let line = proc.stdout.as_mut().unwrap().readline()?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn readline(&mut self) -> Result<Vec<u8>, StreamError> {
        let mut offset = 0;
        self.run(|buf| buf.readline(&mut offset))
    }

    /// Read exactly `n` bytes.
    ///
    /// Fails with [`StreamError::IncompleteRead`] if EOF is reached before `n`
    /// bytes can be read; its `partial` holds the bytes read.
    ///
    /// ```
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let header = proc.stdout.as_mut().unwrap().readexactly(4)?;
    /// assert_eq!(header.len(), 4);
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, StreamError> {
        self.run(|buf| buf.readexactly(n))
    }

    /// Read data until `separator` is found; return it with the separator
    /// at its end.
    ///
    /// If the amount of data read exceeds the limit, fail with
    /// [`StreamError::LimitOverrun`] and leave the data in the buffer, so it can be
    /// read again. If EOF is reached before the separator is found, fail
    /// with [`StreamError::IncompleteRead`] whose `partial` holds the data read
    /// (no longer in the buffer). An empty separator is
    /// [`StreamError::InvalidArgument`].
    ///
    /// ```
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("printf", ["one\\0two"], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let record = proc.stdout.as_mut().unwrap().readuntil(b"\0")?;
    /// assert_eq!(record, b"one\0");
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>, StreamError> {
        self.readuntil_any(&[separator])
    }

    /// `readuntil` with several separators (asyncio 3.13's tuple form): read
    /// until one of them is found and return the data up to and including
    /// the separator whose match ends first. No separator, or an empty one,
    /// is [`StreamError::InvalidArgument`]; the rest as
    /// [`readuntil`](StreamReader::readuntil).
    ///
    /// ```
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let line = proc.stdout.as_mut().unwrap().readuntil_any(&[b"\r\n", b"\n"])?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn readuntil_any(&mut self, separators: &[&[u8]]) -> Result<Vec<u8>, StreamError> {
        let mut offset = 0;
        self.run(|buf| buf.readuntil(separators, &mut offset))
    }

    /// The lines of the stream, each with its `\n` (the last one maybe
    /// without), until EOF: asyncio's `async for line in reader`. An error
    /// is the last item.
    ///
    /// ```
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// for line in proc.stdout.as_mut().unwrap().lines() {
    ///     print!("{}", String::from_utf8_lossy(&line?));
    /// }
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn lines(&mut self) -> Lines<'_> {
        Lines {
            reader: self,
            done: false,
        }
    }

    /// Return `true` if the buffer is empty and EOF was reached. When the
    /// buffer is empty this looks at the stream once, without blocking.
    ///
    /// ```
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let stdout = proc.stdout.as_mut().unwrap();
    /// while !stdout.at_eof() {
    ///     let line = stdout.readline()?;
    /// }
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn at_eof(&mut self) -> bool {
        self.core.at_eof()
    }
}

/// The lines of a [`StreamReader`], from [`StreamReader::lines`].
#[derive(Debug)]
pub struct Lines<'a> {
    reader: &'a mut StreamReader,
    done: bool,
}

impl Iterator for Lines<'_> {
    type Item = Result<Vec<u8>, StreamError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.reader.readline() {
            Ok(line) if line.is_empty() => {
                self.done = true;
                None
            }
            Ok(line) => Some(Ok(line)),
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
