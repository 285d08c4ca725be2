//! The reactor and its combinators: [`run`] (asyncio's `asyncio.run`),
//! [`gather`], [`wait_for`], [`sleep`], and awaiting one pollable.

use super::*;

std::thread_local! {
    /// Whether an [`run`] is running on this thread.
    static RUNNING: Cell<bool> = const { Cell::new(false) };
}

/// [`run`] was called while another `run` was running: asyncio's
/// `RuntimeError: asyncio.run() cannot be called from a running event
/// loop`. Await the future instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NestedRunError;

impl fmt::Display for NestedRunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "aio::run cannot be called from a running aio::run (await the future instead, \
             or use the blocking face procgate_guest::sync)",
        )
    }
}

impl std::error::Error for NestedRunError {}

/// Run a future to completion on a new [`wstd`] reactor and return its
/// output: asyncio's `asyncio.run`, over [`wstd::runtime::block_on`].
///
/// Called inside another `run` (a blocking helper that runs its own
/// future, used from async code), it does not panic as `block_on` would:
/// it returns [`NestedRunError`] without polling the future, as asyncio
/// raises `RuntimeError`. (Running the future inline cannot be done
/// soundly: the outer reactor's pending waits belong to it.) This only
/// knows of runs started here: inside a bare `wstd::runtime::block_on` or
/// `#[wstd::main]`, make `run` the outermost instead.
///
/// ```
/// use procgate_guest::aio::{create_subprocess_shell, run, NestedRunError};
///
/// let code = run(async {
///     let proc = create_subprocess_shell("exit 3", Default::default()).await?;
///     assert_eq!(run(async { 1 }), Err(NestedRunError));
///     proc.wait().await
/// })??;
/// assert_eq!(code, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run<F: Future>(future: F) -> std::result::Result<F::Output, NestedRunError> {
    if RUNNING.with(|r| r.replace(true)) {
        return Err(NestedRunError);
    }
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            RUNNING.with(|r| r.set(false));
        }
    }
    let _reset = Reset;
    Ok(wstd::runtime::block_on(future))
}

/// Await `future`, giving up after `timeout`: asyncio's `wait_for`. On
/// timeout the future is dropped (cancelled) and [`TimeoutError`] returned;
/// cancelling a procgate wait leaves the process running.
///
/// ```
/// use std::time::Duration;
/// use procgate_guest::aio::{create_subprocess_exec, run, wait_for};
///
/// run(async {
///     let proc = create_subprocess_exec("sleep", ["3600"], Default::default()).await?;
///     if wait_for(proc.wait(), Duration::from_millis(100)).await.is_err() {
///         proc.kill()?;
///     }
///     proc.wait().await
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn wait_for<F: Future>(
    future: F,
    timeout: Duration,
) -> std::result::Result<F::Output, TimeoutError> {
    futures_lite::future::or(async { Ok(future.await) }, async {
        sleep(timeout).await;
        Err(TimeoutError { after: timeout })
    })
    .await
}

/// Sleep for `duration`, letting other futures run (asyncio's `sleep`).
pub async fn sleep(duration: Duration) {
    let ns = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    ready(wasip2::clocks::monotonic_clock::subscribe_duration(ns)).await;
}

/// Run futures concurrently and return their outputs in order, once all
/// are done: asyncio's `gather` for futures of one type.
///
/// The futures are polled together in the current task, so they need no
/// `'static` bound. For futures of different types, use [`zip`] (two at a
/// time; nest it for more), or box them as
/// `Pin<Box<dyn Future<Output = T>>>`.
///
/// ```
/// use procgate_guest::aio::{create_subprocess_shell, gather, run, zip};
///
/// async fn exit_code(cmd: &str) -> procgate_guest::Result<i32> {
///     Ok(create_subprocess_shell(cmd, Default::default()).await?.wait().await?)
/// }
///
/// run(async {
///     let codes = gather(["exit 1", "sleep 1; exit 2"].map(exit_code)).await;
///     assert_eq!(codes, [Ok(1), Ok(2)]);
///
///     // Different types: zip.
///     let (code, ()) = zip(exit_code("exit 3"), async { println!("meanwhile") }).await;
/// })
/// .unwrap();
/// ```
pub async fn gather<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    Gather {
        slots: futures
            .into_iter()
            .map(|f| Slot::Pending(Box::pin(f)))
            .collect(),
    }
    .await
}

/// Run two futures of any types concurrently and return both outputs once
/// both are done: a two-way asyncio `gather` (this is
/// `futures_lite::future::zip`).
///
/// ```
/// use procgate_guest::aio::{create_subprocess_shell, run, zip};
///
/// run(async {
///     let a = async { create_subprocess_shell("exit 1", Default::default()).await?.wait().await };
///     let b = async { 42 };
///     let (code, answer) = zip(a, b).await;
/// });
/// ```
pub use futures_lite::future::zip;

enum Slot<F: Future> {
    Pending(Pin<Box<F>>),
    Done(F::Output),
    Taken,
}

struct Gather<F: Future> {
    slots: Vec<Slot<F>>,
}

// The futures are boxed (pinned on the heap); the vector itself may move.
impl<F: Future> Unpin for Gather<F> {}

impl<F: Future> Future for Gather<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut all_done = true;
        for slot in self.slots.iter_mut() {
            if let Slot::Pending(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(output) => *slot = Slot::Done(output),
                    Poll::Pending => all_done = false,
                }
            }
        }
        if !all_done {
            return Poll::Pending;
        }
        let outputs = self
            .slots
            .iter_mut()
            .map(|slot| match std::mem::replace(slot, Slot::Taken) {
                Slot::Done(output) => output,
                _ => unreachable!("gather polled after completion"),
            })
            .collect();
        Poll::Ready(outputs)
    }
}

/// Wait until `pollable` is ready, letting other futures of the reactor
/// run meanwhile. The pollable is dropped when this returns (or is
/// cancelled), before whatever it was made from.
pub(super) async fn ready(pollable: Pollable) {
    if pollable.ready() {
        return;
    }
    let pollable = AsyncPollable::new(pollable);
    pollable.wait_for().await;
}
