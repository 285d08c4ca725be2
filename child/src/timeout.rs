//! The wall-clock timeout of a child: SIGTERM to its process group and to
//! the child when the time is up, and after the grace period SIGKILL to its
//! cgroup (every descendant, wherever it moved) or, without one, to its
//! group and the child. The guest then sees a negative return code. One
//! tokio task per child, started only when the policy sets a timeout; it
//! ends as soon as the child exits.

use crate::exit::ChildExit;
use std::sync::Arc;
use std::time::Duration;

/// Starts the timeout task of a child. Must run inside a tokio runtime.
pub(crate) fn watch(exit: Arc<ChildExit>, after: Duration, grace: Duration) {
    tokio::spawn(async move {
        if tokio::time::timeout(after, exit.wait()).await.is_ok() {
            return;
        }
        procgate_policy::audit::timed_out(exit.pid(), after, "SIGTERM", exit.containment().name());
        exit.signal_group(libc::SIGTERM);
        let _ = exit.send_signal(libc::SIGTERM);
        if tokio::time::timeout(grace, exit.wait()).await.is_ok() {
            // The child is gone; what it left in its cgroup is not.
            exit.kill_all();
            return;
        }
        procgate_policy::audit::timed_out(exit.pid(), after, "SIGKILL", exit.containment().name());
        exit.kill_all();
        exit.wait().await;
    });
}
