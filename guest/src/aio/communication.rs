//! The async face's [`Communication`]: a `communicate` in progress.

use super::*;
use crate::shared::Communicating;

/// A `communicate` in progress, from [`Process::start_communicate`]. The
/// process stays borrowed until it is done; [`Communication::process`]
/// gives it meanwhile.
///
/// Dropping it before the result is taken leaves the host to finish the
/// exchange; the process's readers then have nothing more to read.
pub struct Communication<'a> {
    // Field order is drop order: the host's future before the tasks.
    inner: Communicating<'a, Process>,
    /// Tasks writing stdin (and a background close) to await first;
    /// dropped unawaited, they finish on their own.
    feeding: Vec<Closing>,
}

impl std::fmt::Debug for Communication<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl<'a> Communication<'a> {
    pub(super) fn new(
        future: wit::FutureCommunicate,
        feeding: Vec<Closing>,
        process: &'a mut Process,
    ) -> Self {
        Self {
            inner: Communicating::new(future, process),
            feeding,
        }
    }

    /// The process, to signal it or read its pid while the exchange runs.
    pub fn process(&self) -> &Process {
        self.inner.process
    }

    /// A pollable that is ready once the result is available. It borrows
    /// this `Communication` in the host: drop it first.
    pub fn subscribe(&self) -> Pollable {
        self.inner.subscribe()
    }

    /// The result if it is available, `None` if not yet: one look, without
    /// waiting. Once it returned `Some`, the result is gone; asking again
    /// returns `Some(Err(InvalidArgument))`.
    pub fn try_get(&mut self) -> Option<Result<Communicated>> {
        self.inner.try_get()
    }

    /// Await the result, giving up after `timeout`: `Ok(None)` then, and
    /// the exchange goes on.
    pub async fn wait_for(&mut self, timeout: Duration) -> Result<Option<Communicated>> {
        let _ = wait_for(ready(self.subscribe()), timeout).await;
        self.try_get().transpose()
    }

    /// Await the result and return it. Other futures run meanwhile. Large
    /// output is taken from the host as it arrives (128 KiB at a time), so it
    /// is held once, in the guest, not also in the host.
    pub async fn wait(mut self) -> Result<Communicated> {
        for task in std::mem::take(&mut self.feeding) {
            task.detached().await;
        }
        let mut next = self.inner.subscribe_output();
        loop {
            // `ready` drops each pollable before the future is asked.
            ready(next).await;
            next = match self.inner.advance() {
                Ok(result) => return result,
                Err(next) => next,
            };
        }
    }
}
