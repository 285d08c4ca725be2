//! tokio's [`Child`] and its pipes: [`ChildStdin`] (`futures::AsyncWrite`),
//! [`ChildStdout`] and [`ChildStderr`] (`futures::AsyncRead`).

use super::*;

/// A running child: tokio's `Child`.
#[derive(Debug)]
pub struct Child {
    /// The child's stdin, if piped.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if piped.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if piped.
    pub stderr: Option<ChildStderr>,
    process: Process,
}

impl Child {
    pub(super) fn from_process(mut process: Process) -> Child {
        Child {
            stdin: process.stdin.take().map(|w| ChildStdin {
                wait: None,
                flushing: false,
                writer: w,
            }),
            stdout: process.stdout.take().map(|r| ChildStdout(Reader::new(r))),
            stderr: process.stderr.take().map(|r| ChildStderr(Reader::new(r))),
            process,
        }
    }

    /// The process id while it runs; `None` once it has been waited for,
    /// as tokio's.
    pub fn id(&self) -> Option<u32> {
        self.process
            .returncode_known()
            .is_none()
            .then(|| self.process.pid())
    }

    /// Sends SIGKILL without waiting (tokio's `start_kill`); a child that
    /// has already exited is not an error.
    pub fn start_kill(&mut self) -> io::Result<()> {
        crate::process::killed(self.process.kill())
    }

    /// Sends SIGKILL and waits for the child to exit.
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }

    /// Sends `signal` (not in tokio).
    pub fn send_signal(&mut self, signal: Signal) -> io::Result<()> {
        Ok(self.process.send_signal(signal)?)
    }

    /// Closes stdin (if still held, after sending what it buffered).
    async fn close_stdin(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            // A child that exited or closed its end: nothing to send.
            let _ = futures_lite::AsyncWriteExt::close(&mut stdin).await;
        }
    }

    /// Closes stdin (if still held) and waits for the child to exit;
    /// other futures run meanwhile.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.close_stdin().await;
        Ok(ExitStatus(self.process.wait().await?))
    }

    /// The exit status if the child has exited, `None` if not, without
    /// waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        Ok(self.process.try_wait()?.map(ExitStatus))
    }

    /// Not in tokio: waits at most `timeout`; `None` if the child still
    /// runs then.
    pub async fn wait_timeout(&mut self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        Ok(self.process.wait_for(timeout).await?.map(ExitStatus))
    }

    /// Closes stdin, reads stdout and stderr to their ends and waits.
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        self.close_stdin().await;
        self.process.stdout = self.stdout.take().map(|s| s.0.into_reader());
        self.process.stderr = self.stderr.take().map(|s| s.0.into_reader());
        let communicated = self.process.communicate(None).await?;
        Ok(Output::new(communicated, self.process.wait().await?))
    }
}

/// A reader with the wait it is parked on.
#[derive(Debug)]
struct Reader {
    // Field order is drop order: the wait (on a pollable of the stream)
    // before the stream.
    wait: Option<WaitFor>,
    reader: StreamReader,
}

impl Reader {
    fn new(reader: StreamReader) -> Reader {
        Reader { wait: None, reader }
    }

    fn into_reader(mut self) -> StreamReader {
        self.wait = None;
        self.reader
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            if let Some(wait) = &mut self.wait {
                if Pin::new(wait).poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.wait = None;
            }
            let n = isize::try_from(buf.len()).unwrap_or(isize::MAX);
            let core = &mut self.reader.core;
            if let Step::Ready(result) = core.buf.read(n) {
                let data = result?;
                buf[..data.len()].copy_from_slice(&data);
                return Poll::Ready(Ok(data.len()));
            }
            let Some(stream) = core.stream() else {
                continue; // EOF or the error is now in the buffer
            };
            match stream.read(READ_CHUNK.min(buf.len() as u64)) {
                Ok(bytes) if bytes.is_empty() => {
                    self.wait = Some(AsyncPollable::new(stream.subscribe()).wait_for());
                }
                read => core.feed(read),
            }
        }
    }
}

/// The child's stdout: `futures::AsyncRead`.
#[derive(Debug)]
pub struct ChildStdout(Reader);

/// The child's stderr: `futures::AsyncRead`.
#[derive(Debug)]
pub struct ChildStderr(Reader);

/// `AsyncRead` for the child's output pipes, each a [`Reader`].
macro_rules! async_read {
    ($($pipe:ty),*) => {$(
        impl AsyncRead for $pipe {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().0.poll_read(cx, buf)
            }
        }
    )*};
}

async_read!(ChildStdout, ChildStderr);

/// The child's stdin: `futures::AsyncWrite`. `close().await` (tokio's
/// `shutdown().await`) sends what is left and closes the pipe; so do
/// [`Child::wait`] and [`Child::wait_with_output`] for a stdin still in the
/// child. Dropping it closes the pipe at once: the host drops whatever of
/// the last write it had not yet passed to the pipe, so close it rather
/// than drop it after writing.
#[derive(Debug)]
pub struct ChildStdin {
    // Field order is drop order: the wait before the stream.
    wait: Option<WaitFor>,
    flushing: bool,
    writer: StreamWriter,
}

impl ChildStdin {
    /// Park on the stream's readiness; `Pending` unless it is ready now.
    fn park(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.wait.is_none() {
            let stream = self.writer.core_mut().stream()?;
            self.wait = Some(AsyncPollable::new(stream.subscribe()).wait_for());
        }
        let wait = self.wait.as_mut().expect("set above");
        if Pin::new(wait).poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.wait = None;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for ChildStdin {
    /// Takes all of `buf` once what earlier writes gave has reached the
    /// pipe (flushed out of the guest and the host), so at most one write
    /// is ever buffered.
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.as_mut().poll_flush(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other.map_ok(|()| 0),
        }
        self.get_mut().writer.core_mut().write(buf)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            let core = this.writer.core_mut();
            if core.is_closed() {
                return Poll::Ready(Err(core.closed_error().into()));
            }
            core.send_some()?;
            if core.pending.is_empty() && !this.flushing {
                if !core.unflushed {
                    return Poll::Ready(Ok(()));
                }
                let stream = core.stream()?;
                stream
                    .flush()
                    .map_err(|e| io::Error::from(core.failed(e)))?;
                core.unflushed = false;
                this.flushing = true;
            }
            if this.flushing {
                // The stream's pollable is ready once the host has passed
                // on everything it buffered: the flush is done then.
                if this.park(cx)?.is_pending() {
                    return Poll::Pending;
                }
                this.flushing = false;
                let core = this.writer.core_mut();
                if let Err(e) = core.stream()?.check_write() {
                    return Poll::Ready(Err(core.failed(e).into()));
                }
                continue;
            }
            if this.park(cx)?.is_pending() {
                return Poll::Pending;
            }
        }
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.writer.is_closing() {
            match self.as_mut().poll_flush(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) if e.kind() != io::ErrorKind::BrokenPipe => {
                    return Poll::Ready(Err(e))
                }
                Poll::Ready(_) => {}
            }
        }
        let this = self.get_mut();
        this.wait = None;
        this.writer.core_mut().close();
        Poll::Ready(Ok(()))
    }
}
