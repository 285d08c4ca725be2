//! The async face's [`StreamWriter`]: asyncio's `StreamWriter`, with
//! `drain` awaited and `close` in the background; writing all of a buffer
//! to a stream, awaiting.

use super::*;

/// Write all of `data`, awaiting the stream's readiness, then flush.
pub(super) async fn write_all(stream: &OutputStream, mut data: &[u8]) -> Result<(), StreamError> {
    while !data.is_empty() {
        let permit = stream.check_write().map_err(shared::stream_error)?;
        if permit == 0 {
            ready(stream.subscribe()).await;
            continue;
        }
        let n = data
            .len()
            .min(usize::try_from(permit).unwrap_or(usize::MAX));
        stream.write(&data[..n]).map_err(shared::stream_error)?;
        data = &data[n..];
    }
    flush(stream).await
}

/// Flush, and await until the flush is done.
async fn flush(stream: &OutputStream) -> Result<(), StreamError> {
    stream.flush().map_err(shared::stream_error)?;
    ready(stream.subscribe()).await;
    // A failed flush shows here.
    stream.check_write().map_err(shared::stream_error)?;
    Ok(())
}

/// Writes to a child's stdin: asyncio's `StreamWriter`.
///
/// As in asyncio (and [`crate::sync::StreamWriter`]),
/// [`write`](StreamWriter::write) does not wait: it sends what the stream
/// takes at once and buffers the rest; [`drain`] awaits until everything
/// is sent. [`close`] closes the stream once the buffer is sent, in the
/// background; [`wait_closed`] awaits that.
///
/// Dropping the writer closes the stream at once and discards data still
/// buffered: `drain` or `close` first.
///
/// [`drain`]: StreamWriter::drain
/// [`close`]: StreamWriter::close
/// [`wait_closed`]: StreamWriter::wait_closed
///
/// ```
/// use procgate_guest::aio::{create_subprocess_exec, run};
/// use procgate_guest::{Options, PIPE};
///
/// run(async {
///     let mut proc = create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE)).await?;
///     let stdin = proc.stdin.as_mut().unwrap();
///     stdin.write(b"hello\n")?;
///     stdin.drain().await?;
///     stdin.close();
///     stdin.wait_closed().await;
///     proc.wait().await?;
///     Ok::<(), procgate_guest::Error>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StreamWriter {
    // Field order is drop order: the stream (in `core`) before the process
    // (also in `core`); the closing task owns its own stream.
    pub(crate) core: Box<WriterCore>,
    /// The background task of `close`, sending what was buffered.
    pub(super) closing: Option<Closing>,
}

/// The task of a background `close` (or of `communicate` writing stdin):
/// dropping it lets it finish instead of cancelling it.
pub(super) struct Closing(pub(super) Option<Task<()>>);

impl Closing {
    pub(super) fn detached(mut self) -> Task<()> {
        self.0.take().expect("taken once")
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.detach();
        }
    }
}

impl StreamWriter {
    pub(crate) fn core_mut(&mut self) -> &mut WriterCore {
        &mut self.core
    }

    /// Write `data` to the stream without waiting: what the stream accepts
    /// now is sent, the rest is buffered until [`drain`](StreamWriter::drain)
    /// (or [`close`](StreamWriter::close)).
    ///
    /// Fails with [`StreamError::Closed`] if the stream was closed (by
    /// `close`, or because the child closed its end or exited: Python's
    /// `BrokenPipeError`; the text says which), or [`StreamError::Failed`]
    /// if the host's write failed.
    pub fn write(&mut self, data: &[u8]) -> Result<(), StreamError> {
        if self.closing.is_some() {
            return Err(StreamError::Closed(shared::CLOSED_BY_GUEST.into()));
        }
        self.core.write(data)
    }

    /// Write each of `lines` (asyncio's `writelines`: no separator is
    /// added), without waiting, as [`write`](StreamWriter::write).
    pub fn writelines<I>(&mut self, lines: I) -> Result<(), StreamError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        lines
            .into_iter()
            .try_for_each(|line| self.write(line.as_ref()))
    }

    /// Wait until everything written has been sent and flushed to the
    /// child. Other futures run meanwhile.
    ///
    /// Fails with [`StreamError::Closed`] if the stream is closed (Python's
    /// `ConnectionResetError`) or [`StreamError::Failed`] if the host's
    /// write failed.
    ///
    /// ```
    /// # procgate_guest::aio::run(async {
    /// # let mut proc = procgate_guest::aio::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE)).await?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.write(&vec![b'x'; 1 << 20])?;
    /// stdin.drain().await?;
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub async fn drain(&mut self) -> Result<(), StreamError> {
        if self.closing.is_some() {
            return Err(StreamError::Closed(shared::CLOSED_BY_GUEST.into()));
        }
        if self.core.is_closed() {
            return Err(self.core.closed_error());
        }
        if !self.core.unflushed {
            return Ok(());
        }
        loop {
            self.core.send_some()?;
            if self.core.pending.is_empty() {
                break;
            }
            let stream = self.core.stream()?;
            ready(stream.subscribe()).await;
        }
        let result = flush(self.core.stream()?).await;
        if let Err(e) = result {
            self.core.close();
            return Err(e);
        }
        self.core.unflushed = false;
        Ok(())
    }

    /// Close the stream: the child sees end of file on its stdin once what
    /// is buffered has been sent. Does not wait; the sending goes on in the
    /// background (a task of the reactor), and
    /// [`wait_closed`](StreamWriter::wait_closed) awaits it. Closing again
    /// does nothing.
    pub fn close(&mut self) {
        if self.closing.is_some() || self.core.is_closed() {
            return;
        }
        // Dropping a stream drops what the host still buffers: anything
        // written since the last flush goes through the task, which flushes.
        if !self.core.is_open() || !self.core.unflushed {
            self.core.close();
            return;
        }
        // Hand the stream to a task that sends the rest, then drops it. The
        // task holds the process too, so the stream goes first.
        let process: Rc<wit::Process> = self.core.process();
        let data = std::mem::take(&mut self.core.pending);
        let Some(stream) = self.core.take_open(shared::CLOSED_BY_GUEST) else {
            return;
        };
        self.closing = Some(Closing(Some(wstd::runtime::spawn(async move {
            // Errors (a child that exited) are dropped, as asyncio does.
            let _ = write_all(&stream, &data).await;
            drop(stream);
            drop(process);
        }))));
    }

    /// asyncio's `write_eof`: close the write end once what is buffered is
    /// sent, so the child sees end of file. On a pipe this is
    /// [`close`](StreamWriter::close).
    pub fn write_eof(&mut self) {
        self.close();
    }

    /// asyncio's `can_write_eof`: always `true` for a child's stdin.
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Wait until the stream is closed: after [`close`](StreamWriter::close),
    /// until what was buffered has been sent. Returns at once if `close` was
    /// not called or is done.
    pub async fn wait_closed(&mut self) {
        if let Some(closing) = self.closing.take() {
            closing.detached().await;
        }
    }

    /// Return `true` if the stream is closed or being closed.
    pub fn is_closing(&self) -> bool {
        self.closing.is_some() || self.core.is_closed()
    }
}
