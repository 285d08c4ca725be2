//! The `wasi:io` streams of a child's pipes: [`ChildOutput`] (stdout,
//! stderr) and [`ChildInput`] (stdin), over `procgate-child`'s pipe ends.

use bytes::{Bytes, BytesMut};
use procgate_child::pipes::{PipeReader, PipeWriter, READ_CHUNK};
use procgate_child::ChildExit;
use std::io;
use std::sync::Arc;
use wasmtime_wasi_io::poll::Pollable;
use wasmtime_wasi_io::streams::{InputStream, OutputStream, StreamError, StreamResult};

/// Most bytes the guest may write before the pipe must drain.
pub const WRITE_BUDGET: usize = 64 * 1024;

/// A child's stdout or stderr as a `wasi:io` input stream. It shares the
/// pipe with its process, so `communicate` can read what the guest left.
pub struct ChildOutput(pub Arc<PipeReader>);

#[async_trait::async_trait]
impl Pollable for ChildOutput {
    async fn ready(&mut self) {
        self.0.readable().await
    }
}

impl InputStream for ChildOutput {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        if size == 0 {
            return Ok(Bytes::new());
        }
        let mut buf = BytesMut::new();
        match self.0.try_read(&mut buf, size.min(READ_CHUNK)) {
            Ok(Some(0)) => Err(StreamError::Closed),
            Ok(_) => Ok(buf.freeze()),
            Err(e) => Err(StreamError::LastOperationFailed(e.into())),
        }
    }
}

/// A failed write to a child's stdin as a stream error: a child that has
/// exited (broken pipe) closed the stream.
fn write_error(e: io::Error) -> StreamError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        StreamError::Closed
    } else {
        StreamError::LastOperationFailed(e.into())
    }
}

/// A child's stdin as a `wasi:io` output stream. Bytes the pipe does not
/// take at once are kept (at most [`WRITE_BUDGET`]) and written as the
/// child reads. Dropping the stream closes the pipe, so the child sees end
/// of file, after the bytes still kept are written: in a task of their own,
/// which ends when they are written or when the child exits, whichever
/// comes first (asyncio's `close()` of a transport flushes first too).
pub struct ChildInput {
    /// Always `Some` until the drop hands it to the task finishing the write.
    pipe: Option<PipeWriter>,
    /// The child, whose exit ends a write still pending after the drop.
    exit: Arc<ChildExit>,
    pending: BytesMut,
    failed: Option<StreamError>,
}

impl ChildInput {
    /// Wraps the stdin pipe of the child whose exit is `exit`.
    pub fn new(pipe: PipeWriter, exit: Arc<ChildExit>) -> ChildInput {
        ChildInput {
            pipe: Some(pipe),
            exit,
            pending: BytesMut::new(),
            failed: None,
        }
    }

    /// Writes pending bytes without blocking; remembers a failure.
    fn drain(&mut self) {
        let Some(pipe) = &self.pipe else { return };
        while !self.pending.is_empty() && self.failed.is_none() {
            match pipe.try_write(&self.pending) {
                Ok(Some(n)) => {
                    let _ = self.pending.split_to(n);
                }
                Ok(None) => return,
                Err(e) => {
                    self.pending.clear();
                    self.failed = Some(write_error(e));
                }
            }
        }
    }

    fn check_failed(&mut self) -> StreamResult<()> {
        match self.failed.take() {
            None => Ok(()),
            Some(StreamError::Closed) => {
                self.failed = Some(StreamError::Closed);
                Err(StreamError::Closed)
            }
            Some(e) => {
                // A failure is reported once; afterwards the stream is closed.
                self.failed = Some(StreamError::Closed);
                Err(e)
            }
        }
    }
}

#[async_trait::async_trait]
impl Pollable for ChildInput {
    async fn ready(&mut self) {
        loop {
            self.drain();
            if self.pending.is_empty() || self.failed.is_some() {
                return;
            }
            if let Some(pipe) = &self.pipe {
                pipe.writable().await;
            }
        }
    }
}

impl OutputStream for ChildInput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.check_failed()?;
        if bytes.len() > WRITE_BUDGET.saturating_sub(self.pending.len()) {
            return Err(StreamError::trap("write exceeded check-write permit"));
        }
        let mut rest = &bytes[..];
        if let (true, Some(pipe)) = (self.pending.is_empty(), &self.pipe) {
            // Straight from the guest's bytes into the pipe: keep only what
            // the pipe did not take.
            match pipe.try_write(rest) {
                Ok(Some(n)) => rest = &rest[n..],
                Ok(None) => {}
                Err(e) => {
                    self.failed = Some(write_error(e));
                    return self.check_failed();
                }
            }
        }
        self.pending.extend_from_slice(rest);
        self.drain();
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.drain();
        self.check_failed()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        self.drain();
        self.check_failed()?;
        // Top up what is still pending, so the pipe never waits on the
        // guest while it has room.
        Ok(WRITE_BUDGET.saturating_sub(self.pending.len()))
    }
}

impl Drop for ChildInput {
    /// Finishes the write in the background: the pending bytes (at most
    /// [`WRITE_BUDGET`]) go to the pipe as the child reads them, until they
    /// are written or the child exits; then the pipe closes. Never blocks
    /// the host. Outside a tokio runtime the pending bytes are dropped.
    fn drop(&mut self) {
        self.drain();
        let Some(pipe) = self.pipe.take() else { return };
        if self.pending.is_empty() || self.failed.is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let pending = std::mem::take(&mut self.pending);
        let exit = Arc::clone(&self.exit);
        runtime.spawn(async move {
            tokio::select! {
                // A failure (the child closed its stdin) ends it like the exit.
                _ = pipe.write_all(&pending) => {}
                _ = exit.wait() => {}
            }
        });
    }
}
