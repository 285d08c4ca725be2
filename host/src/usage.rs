//! What a guest has used: live and held children and spawns, counted for
//! the policy's limits.
//!
//! A child counts as **live** from its start until it has exited — whether
//! or not the guest still holds its handle: a child whose handle was
//! dropped is live until the host has ended and reaped it. A child that
//! has exited but whose handle (or a pollable of its exit) the guest still
//! holds counts as **held**: it pins a zombie, a pidfd and its pipes in the
//! host until the guest lets it go.

use crate::policy::Usage;
use crate::process::ChildExit;
use std::sync::{Arc, Weak};

/// The children and the number of spawns of one guest, kept in its
/// [`crate::ProcgateCtx`].
///
/// ```
/// let mut children = procgate::usage::UsageCounter::default();
/// assert_eq!(children.usage().live, 0);
/// ```
#[derive(Debug, Default)]
pub struct UsageCounter {
    /// Every child whose exit is still alive somewhere: in the guest's
    /// handle, a pollable, a communicate, or the task ending it.
    children: Vec<Weak<ChildExit>>,
    spawned: u64,
}

impl UsageCounter {
    /// What the guest uses now: children not yet exited are live; exited
    /// ones still held somewhere are held; the rest are forgotten.
    ///
    /// ```
    /// let mut children = procgate::usage::UsageCounter::default();
    /// assert_eq!(children.usage(), procgate::policy::Usage::default());
    /// ```
    pub fn usage(&mut self) -> Usage {
        let (mut live, mut held) = (0, 0);
        self.children.retain(|w| match w.upgrade() {
            None => false,
            Some(exit) => {
                match exit.returncode() {
                    None => live += 1,
                    Some(_) => held += 1,
                }
                true
            }
        });
        Usage {
            live,
            held,
            spawned: self.spawned,
        }
    }

    /// Counts a new child.
    pub fn add(&mut self, exit: &Arc<ChildExit>) {
        self.children.push(Arc::downgrade(exit));
        self.spawned += 1;
    }
}
