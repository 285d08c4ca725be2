//! The WIT `future-communicate`: a communicate ([`procgate_child::communicate`])
//! running in its own task, polled by the guest.

use futures::FutureExt;
use procgate_child::communicate::{Communicate, Held, Output};
use procgate_policy::Result;
use wasmtime_wasi::runtime::AbortOnDropJoinHandle;
use wasmtime_wasi_io::poll::Pollable;

/// The host side of the WIT `future-communicate` resource: a communicate
/// running in its own task. Dropping it cancels the communicate (the
/// process itself lives on).
pub struct FutureCommunicate {
    state: State,
}

enum State {
    Running(AbortOnDropJoinHandle<(Result<Output>, Held)>),
    /// The result, and the budget it holds until the guest takes it.
    Done(Result<Output>, Held),
    Taken,
}

impl FutureCommunicate {
    /// Starts `communicate` in a task.
    pub fn spawn(c: Communicate) -> FutureCommunicate {
        FutureCommunicate {
            state: State::Running(wasmtime_wasi::runtime::spawn(c.run_held())),
        }
    }

    /// The result if it is there: `None` while running; afterwards the
    /// result once, then `invalid-argument`.
    pub fn get(&mut self) -> Option<Result<Output>> {
        if let State::Running(task) = &mut self.state {
            let (done, held) = task.now_or_never()?;
            self.state = State::Done(done, held);
        }
        match std::mem::replace(&mut self.state, State::Taken) {
            // The output goes to the guest now: its budget is given back.
            State::Done(result, _held) => Some(result),
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
            let (done, held) = task.await;
            self.state = State::Done(done, held);
        }
    }
}
