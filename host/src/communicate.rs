//! The WIT `future-communicate`: a communicate ([`procgate_child::communicate`])
//! running in its own task, polled by the guest.

use futures::FutureExt;
use procgate_child::communicate::{Collected, Communicate, Output};
use procgate_policy::Result;
use std::sync::Arc;
use wasmtime_wasi::runtime::AbortOnDropJoinHandle;
use wasmtime_wasi_io::poll::Pollable;

/// The host side of the WIT `future-communicate` resource: a communicate
/// running in its own task. Dropping it cancels the communicate (the
/// process itself lives on).
pub struct FutureCommunicate {
    state: State,
    /// The output read so far, and the budget the communicate holds until
    /// the guest has its result.
    collected: Arc<Collected>,
}

enum State {
    Running(AbortOnDropJoinHandle<Result<Output>>),
    Done(Result<Output>),
    Taken,
}

impl FutureCommunicate {
    /// Starts `communicate` in a task.
    pub fn spawn(c: Communicate) -> FutureCommunicate {
        FutureCommunicate {
            collected: Arc::clone(c.collected()),
            state: State::Running(wasmtime_wasi::runtime::spawn(c.run())),
        }
    }

    /// Up to `max` bytes each of the stdout and stderr read so far and not
    /// yet taken, in pieces (WIT `take-output`).
    pub fn take_output(&self, max: usize) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        self.collected.take(max)
    }

    /// A pollable ready once output waits to be taken or the communicate
    /// has ended (WIT `subscribe-output`).
    pub fn output_ready(&self) -> OutputReady {
        OutputReady(Arc::clone(&self.collected))
    }

    /// The result if it is there: `None` while running; afterwards the
    /// result once, then `invalid-argument`.
    pub fn get(&mut self) -> Option<Result<Output>> {
        if let State::Running(task) = &mut self.state {
            let done = task.now_or_never()?;
            self.state = State::Done(done);
        }
        match std::mem::replace(&mut self.state, State::Taken) {
            // The output goes to the guest now: its budget is given back.
            State::Done(result) => {
                self.collected.release();
                Some(result)
            }
            State::Taken => Some(Err(procgate_policy::Error::InvalidArgument(
                "the communicate result was already taken".into(),
            ))),
            State::Running(_) => unreachable!("handled above"),
        }
    }
}

#[async_trait::async_trait]
impl Pollable for FutureCommunicate {
    async fn ready(&mut self) {
        if let State::Running(task) = &mut self.state {
            let done = task.await;
            self.state = State::Done(done);
        }
    }
}

/// The pollable of WIT `subscribe-output`: ready once output waits to be
/// taken or the communicate has ended. It holds the output, not the
/// future, so it may outlive the future.
pub struct OutputReady(Arc<Collected>);

#[async_trait::async_trait]
impl Pollable for OutputReady {
    async fn ready(&mut self) {
        self.0.ready().await;
    }
}
