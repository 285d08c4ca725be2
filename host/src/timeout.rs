//! The wall-clock timeout of a child: SIGTERM to its process group when
//! the time is up, SIGKILL after the grace period. The guest then sees a
//! negative return code. One tokio task per child, started only when the
//! policy sets a timeout; it ends as soon as the child exits.

use crate::process::ChildExit;
use std::sync::Arc;
use std::time::Duration;

/// Starts the timeout task of a child. Must run inside a tokio runtime.
pub(crate) fn watch(exit: Arc<ChildExit>, after: Duration, grace: Duration) {
    tokio::spawn(async move {
        // Wait `after`, then SIGTERM; wait the grace period, then SIGKILL.
        for (wait, sig, name) in [
            (after, libc::SIGTERM, "SIGTERM"),
            (grace, libc::SIGKILL, "SIGKILL"),
        ] {
            if tokio::time::timeout(wait, exit.wait()).await.is_ok() {
                return;
            }
            crate::policy::audit::timed_out(exit.pid(), after, name);
            exit.signal_group(sig);
        }
        exit.wait().await;
    });
}
