//! The async face's [`StreamReader`]: asyncio's `StreamReader`, each
//! read awaiting data while other futures run.

use super::*;

/// Reads a child's stdout or stderr: asyncio's `StreamReader`.
///
/// It buffers what it reads; `readline` and `readuntil` fail with
/// [`StreamError::LimitOverrun`] on a line longer than the `limit` of the
/// process's [`Options`] (64 KiB by default). While a read awaits data,
/// other futures run.
///
/// ```
/// use procgate_guest::aio::{create_subprocess_exec, run};
/// use procgate_guest::{Options, PIPE};
///
/// run(async {
///     let mut proc = create_subprocess_exec("ls", ["/"], Options::new().stdout(PIPE)).await?;
///     let stdout = proc.stdout.as_mut().unwrap();
///     loop {
///         let line = stdout.readline().await?;
///         if line.is_empty() {
///             break;
///         }
///         print!("{}", String::from_utf8_lossy(&line));
///     }
///     proc.wait().await?;
///     Ok::<(), procgate_guest::Error>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StreamReader {
    pub(crate) core: Box<ReaderCore>,
}

impl StreamReader {
    /// Run one read operation to its end, awaiting more from the stream
    /// whenever the buffer does not hold enough.
    async fn run<T>(&mut self, mut step: impl FnMut(&mut shared::ReadBuf) -> Step<T>) -> T {
        loop {
            if let Step::Ready(value) = step(&mut self.core.buf) {
                return value;
            }
            self.fill().await;
        }
    }

    /// Read more from the stream into the buffer, awaiting data.
    async fn fill(&mut self) {
        loop {
            let Some(stream) = self.core.stream() else {
                return;
            };
            match stream.read(shared::READ_CHUNK) {
                Ok(bytes) if bytes.is_empty() => {
                    // Nothing yet. The pollable borrows the stream, which
                    // `self` holds for longer.
                    ready(stream.subscribe()).await;
                }
                read => {
                    self.core.feed(read);
                    return;
                }
            }
        }
    }

    /// Read up to `n` bytes. If `n` is `-1` (any negative value), read until
    /// EOF and return all the bytes read; if `n` is `0`, return empty bytes
    /// at once. Otherwise await at least one byte and return up to `n`
    /// bytes.
    ///
    /// Empty bytes mean EOF was reached (or `n` was 0).
    ///
    /// `n` is an `isize`, as asyncio's `n=-1` wants a sign: the bytes come
    /// back in a `Vec<u8>` in the guest's memory, which on wasm32 can never
    /// hold more than `isize::MAX` bytes, so a larger count could not be
    /// served anyway.
    ///
    /// ```
    /// # procgate_guest::aio::run(async {
    /// # let mut proc = procgate_guest::aio::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE)).await?;
    /// let stdout = proc.stdout.as_mut().unwrap();
    /// let first = stdout.read(100).await?; // at most 100 bytes
    /// let rest = stdout.read(-1).await?; // everything up to EOF
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub async fn read(&mut self, n: isize) -> Result<Vec<u8>, StreamError> {
        self.run(|buf| buf.read(n)).await
    }

    /// Read one line, where "line" is a sequence of bytes ending with `\n`.
    ///
    /// If EOF is reached and no `\n` was found, return the partial data
    /// read; return empty bytes once EOF is reached with an empty buffer.
    /// A line longer than the limit fails with [`StreamError::LimitOverrun`] and
    /// is dropped from the buffer, as asyncio does.
    ///
    /// ```
    /// # procgate_guest::aio::run(async {
    /// # let mut proc = procgate_guest::aio::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE)).await?;
    /// let line = proc.stdout.as_mut().unwrap().readline().await?;
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub async fn readline(&mut self) -> Result<Vec<u8>, StreamError> {
        let mut offset = 0;
        self.run(|buf| buf.readline(&mut offset)).await
    }

    /// Read exactly `n` bytes.
    ///
    /// Fails with [`StreamError::IncompleteRead`] if EOF is reached before `n`
    /// bytes can be read; its `partial` holds the bytes read.
    ///
    /// ```
    /// # procgate_guest::aio::run(async {
    /// # let mut proc = procgate_guest::aio::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE)).await?;
    /// let header = proc.stdout.as_mut().unwrap().readexactly(4).await?;
    /// assert_eq!(header.len(), 4);
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub async fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, StreamError> {
        self.run(|buf| buf.readexactly(n)).await
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
    /// # procgate_guest::aio::run(async {
    /// # let mut proc = procgate_guest::aio::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE)).await?;
    /// let record = proc.stdout.as_mut().unwrap().readuntil(b"\0").await?;
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub async fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>, StreamError> {
        self.readuntil_any(&[separator]).await
    }

    /// `readuntil` with several separators (asyncio 3.13's tuple form): read
    /// until one of them is found and return the data up to and including
    /// the separator whose match ends first. No separator, or an empty one,
    /// is [`StreamError::InvalidArgument`]; the rest as
    /// [`readuntil`](StreamReader::readuntil).
    pub async fn readuntil_any(&mut self, separators: &[&[u8]]) -> Result<Vec<u8>, StreamError> {
        let mut offset = 0;
        self.run(|buf| buf.readuntil(separators, &mut offset)).await
    }

    /// The lines of the stream as a [`Stream`], each with its `\n` (the
    /// last one maybe without), until EOF: asyncio's
    /// `async for line in reader`. An error is the last item. Use
    /// [`futures_lite::StreamExt`] (re-exported as
    /// `procgate_guest::futures_lite`) for `next().await`.
    ///
    /// ```
    /// use procgate_guest::futures_lite::StreamExt;
    /// # procgate_guest::aio::run(async {
    /// # let mut proc = procgate_guest::aio::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE)).await?;
    /// let mut lines = proc.stdout.as_mut().unwrap().lines();
    /// while let Some(line) = lines.next().await {
    ///     print!("{}", String::from_utf8_lossy(&line?));
    /// }
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub fn lines(&mut self) -> Pin<Box<dyn Stream<Item = Result<Vec<u8>, StreamError>> + '_>> {
        Box::pin(futures_lite::stream::unfold(
            Some(self),
            |reader| async move {
                let reader = reader?;
                match reader.readline().await {
                    Ok(line) if line.is_empty() => None,
                    Ok(line) => Some((Ok(line), Some(reader))),
                    Err(e) => Some((Err(e), None)),
                }
            },
        ))
    }

    /// Return `true` if the buffer is empty and EOF was reached. When the
    /// buffer is empty this looks at the stream once, without waiting.
    ///
    /// ```
    /// # procgate_guest::aio::run(async {
    /// # let mut proc = procgate_guest::aio::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE)).await?;
    /// let stdout = proc.stdout.as_mut().unwrap();
    /// while !stdout.at_eof() {
    ///     let line = stdout.readline().await?;
    /// }
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub fn at_eof(&mut self) -> bool {
        self.core.at_eof()
    }
}
