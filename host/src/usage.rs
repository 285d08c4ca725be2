//! What a guest has used: live children and spawns, counted for the
//! policy's limits.
//!
//! A child counts as live from its start until it has exited or the guest
//! dropped its handle, whichever comes first.

use crate::policy::Usage;
use crate::process::ChildExit;
use std::sync::{Arc, Weak};

/// The live children and the number of spawns of one guest, kept in its
/// [`crate::ProcgateCtx`].
///
/// ```
/// let mut children = procgate::usage::UsageCounter::default();
/// assert_eq!(children.usage().live, 0);
/// ```
#[derive(Debug, Default)]
pub struct UsageCounter {
    live: Vec<Weak<ChildExit>>,
    spawned: u64,
}

impl UsageCounter {
    /// What the guest uses now. Children that have exited no longer
    /// count.
    ///
    /// ```
    /// let mut children = procgate::usage::UsageCounter::default();
    /// assert_eq!(children.usage(), procgate::policy::Usage { live: 0, spawned: 0 });
    /// ```
    pub fn usage(&mut self) -> Usage {
        self.live
            .retain(|w| w.upgrade().is_some_and(|e| e.returncode().is_none()));
        Usage {
            live: self.live.len(),
            spawned: self.spawned,
        }
    }

    /// Counts a new child.
    pub fn add(&mut self, exit: &Arc<ChildExit>) {
        self.live.push(Arc::downgrade(exit));
        self.spawned += 1;
    }

    /// Stops counting a child whose handle the guest dropped.
    pub fn forget(&mut self, exit: &Arc<ChildExit>) {
        let gone = Arc::downgrade(exit);
        self.live.retain(|w| !w.ptr_eq(&gone));
    }
}
