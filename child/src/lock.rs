//! Shared state between tasks: a lock that a panic elsewhere does not
//! poison for the rest of the host, and a wait on a [`Notify`] that loses
//! no wake-up.

use std::sync::{Mutex, MutexGuard};
use tokio::sync::Notify;

/// Locks `m`, also after a thread panicked holding it: the state a
/// panicking holder left is still the best the host has, and refusing it
/// would take the host down with the one task.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits until `done()`, woken by `notify.notify_waiters()`. The wake-up
/// is registered (`notified()`) before `done()` is checked, so a change
/// made and announced between the check and the wait is not missed.
pub(crate) async fn wait_until(notify: &Notify, done: impl Fn() -> bool) {
    loop {
        let woken = notify.notified();
        if done() {
            return;
        }
        woken.await;
    }
}
