//! A guest's children as counted for its limits ([`procgate_policy::Usage`]:
//! live, held), without asking the kernel about every child at every
//! spawn. Each child's pidfd joins an epoll set of the guest's, one-shot:
//! a count first takes the exits reported since the last one (its cost
//! follows the exits, not the children), then counts what is still held.
//!
//! A pidfd polls readable from the child's exit on, and epoll reports it
//! the moment it exits, so the count is what asking each child would give.
//! Children without a pidfd to watch (an exit already known, the fakes of
//! the lifecycle tests, an epoll that could not be made or joined) are
//! asked one by one, as all were before.

use crate::lifecycle::Wait;
use rustix::event::epoll;
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, Weak};

/// How many exits one `epoll_wait` takes.
const BATCH: usize = 64;

/// The children of one guest, by whether their exit was seen.
#[derive(Debug)]
pub(crate) struct Counted {
    /// The epoll set of the running children's pidfds (`None`: none could
    /// be made; every child is then asked one by one).
    epoll: Option<OwnedFd>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Children in the epoll set whose exit it has not reported, by the
    /// key their pidfd was added with.
    running: HashMap<u64, Weak<dyn Wait>>,
    /// Children whose exit was reported: held while their exit is.
    exited: Vec<Weak<dyn Wait>>,
    /// Children not in the epoll set: asked one by one.
    asked: Vec<Weak<dyn Wait>>,
    next_key: u64,
}

impl Counted {
    pub(crate) fn new() -> Counted {
        Counted {
            epoll: epoll::create(epoll::CreateFlags::CLOEXEC).ok(),
            state: Mutex::new(State::default()),
        }
    }

    /// Counts a new child: its pidfd joins the epoll set.
    pub(crate) fn add(&self, exit: &Arc<dyn Wait>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let weak = Arc::downgrade(exit);
        let (Some(epoll), Some(fd)) = (&self.epoll, exit.exit_fd()) else {
            state.asked.push(weak);
            return;
        };
        let key = state.next_key;
        state.next_key += 1;
        let flags = epoll::EventFlags::IN | epoll::EventFlags::ONESHOT;
        match epoll::add(epoll, fd, epoll::EventData::new_u64(key), flags) {
            Ok(()) => {
                state.running.insert(key, weak);
            }
            Err(_) => state.asked.push(weak),
        }
    }

    /// `(live, held)`: children whose exit was not seen (whether or not
    /// the guest still holds them: a dropped child is held by its ending
    /// until reaped), and children that exited and are still held
    /// somewhere (a handle, a pollable, a communicate).
    pub(crate) fn count(&self) -> (usize, usize) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(epoll) = &self.epoll {
            take_exits(epoll, &mut state);
        }
        // A child whose exit was dropped before it exited (ended without
        // a runtime: `ChildExit`'s own `Drop`) may never be reported.
        state.running.retain(|_, w| w.strong_count() > 0);
        state.exited.retain(|w| w.strong_count() > 0);
        let (mut live, mut held) = (state.running.len(), state.exited.len());
        state.asked.retain(|w| match w.upgrade() {
            None => false,
            Some(exit) => {
                match exit.returncode() {
                    None => live += 1,
                    Some(_) => held += 1,
                }
                true
            }
        });
        (live, held)
    }
}

/// Moves the children whose exit the epoll set reports from running to
/// exited (each is reported once: one-shot).
fn take_exits(epoll: &OwnedFd, state: &mut State) {
    let zero = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let mut events = Vec::with_capacity(BATCH);
    loop {
        events.clear();
        match epoll::wait(
            epoll,
            rustix::buffer::spare_capacity(&mut events),
            Some(&zero),
        ) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return,
        }
        for event in &events {
            if let Some(exit) = state.running.remove(&event.data.u64()) {
                state.exited.push(exit);
            }
        }
        if events.len() < BATCH {
            return;
        }
    }
}
