//! The blocking face's [`StreamWriter`]: asyncio's `StreamWriter`, with
//! `drain` and `close` blocking.

use super::*;

/// Writes to a child's stdin: asyncio's `StreamWriter`, with `drain` and
/// `close` blocking.
///
/// [`write`](StreamWriter::write) means what it means in asyncio and in
/// [`crate::aio::StreamWriter`]: it sends what the stream takes at once and
/// buffers the rest, never waiting; [`drain`](StreamWriter::drain) blocks
/// until everything is sent. [`close`](StreamWriter::close) sends what is
/// buffered, blocking, then closes. Dropping the writer closes stdin at
/// once and drops what is still buffered: `drain` or `close` first.
///
/// ```
/// use procgate_guest::sync::create_subprocess_exec;
/// use procgate_guest::{Options, PIPE};
///
/// let mut proc = create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE))?;
/// let stdin = proc.stdin.as_mut().unwrap();
/// stdin.write(b"hello\n")?;
/// stdin.drain()?;
/// stdin.close();
/// proc.wait()?;
/// # Ok::<(), procgate_guest::Error>(())
/// ```
pub struct StreamWriter {
    pub(crate) core: Box<WriterCore>,
}

impl StreamWriter {
    /// Write `data` without waiting: what the stream accepts now is sent,
    /// the rest is buffered until [`drain`](StreamWriter::drain) (or
    /// [`close`](StreamWriter::close)).
    ///
    /// Fails with [`StreamError::Closed`] if the stream was closed (by
    /// `close`, or because the child closed its end or exited: Python's
    /// `BrokenPipeError`; the text says which), or [`StreamError::Failed`]
    /// if the host's write failed.
    ///
    /// ```
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.write(b"some data")?;
    /// stdin.drain()?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn write(&mut self, data: &[u8]) -> Result<(), StreamError> {
        self.core.write(data)
    }

    /// Write each of `lines` (asyncio's `writelines`: no separator is
    /// added), without waiting, as [`write`](StreamWriter::write).
    ///
    /// ```
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.writelines([&b"one\n"[..], b"two\n"])?;
    /// stdin.drain()?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn writelines<I>(&mut self, lines: I) -> Result<(), StreamError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        lines
            .into_iter()
            .try_for_each(|line| self.core.write(line.as_ref()))
    }

    /// Block until everything written has been sent and flushed to the
    /// child.
    ///
    /// Fails with [`StreamError::Closed`] if the stream is closed (Python's
    /// `ConnectionResetError`) or [`StreamError::Failed`] if the host's
    /// write failed.
    ///
    /// ```
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.write(&vec![b'x'; 1 << 20])?;
    /// stdin.drain()?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn drain(&mut self) -> Result<(), StreamError> {
        self.core.drain_blocking()
    }

    /// Close the stream: send what is buffered (blocking; a broken pipe is
    /// ignored), then close, so the child sees end of file on its stdin.
    /// Closing again does nothing.
    ///
    /// ```
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.close();
    /// assert!(stdin.is_closing());
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn close(&mut self) {
        self.core.close_blocking();
    }

    /// asyncio's `write_eof`: send what is buffered, then close the write
    /// end, so the child sees end of file. On a pipe this is
    /// [`close`](StreamWriter::close).
    ///
    /// ```
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.write(b"last")?;
    /// stdin.write_eof();
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn write_eof(&mut self) {
        self.close();
    }

    /// asyncio's `can_write_eof`: always `true` for a child's stdin.
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Wait until the stream is closed. [`close`](StreamWriter::close)
    /// already blocks until it is, so this returns at once; it is here for
    /// code written after asyncio's `close()` + `wait_closed()`.
    pub fn wait_closed(&mut self) {}

    /// Return `true` if the stream is closed or being closed.
    ///
    /// ```
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// assert!(!proc.stdin.as_ref().unwrap().is_closing());
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn is_closing(&self) -> bool {
        self.core.is_closed()
    }
}
