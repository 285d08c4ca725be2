//! A guest's children as counted for its limits ([`procgate_policy::Usage`]:
//! live, held), without asking the kernel about every child at every
//! spawn once there are many.
//!
//! The first [`ASKED`] children still held are asked directly: one `poll`
//! of their pidfds per count, then a `waitid` for each that polled
//! readable. Past that, a child's pidfd joins an epoll set of the guest's
//! (made then), one-shot: a count takes the exits reported since the last
//! one (its cost follows the exits, not the children), then counts what
//! is still held. A guest with few children so holds no descriptor for
//! counting (with many guests at once, every descriptor the host holds is
//! copied into each new child and closed at its `execve`).
//!
//! A pidfd polls readable from the child's exit on, and epoll reports it
//! the moment it exits, so both give what asking each child would.
//! Children without a pidfd to watch (an exit already known, the fakes of
//! the lifecycle tests, an epoll that could not be made or joined) are
//! asked.

use crate::lifecycle::Wait;
use crate::lock::lock;
use rustix::event::epoll;
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// How many exits one `epoll_wait` takes.
const BATCH: usize = 64;

/// How many children still held are asked directly before the epoll set
/// is used.
const ASKED: usize = 16;

/// The children of one guest, by whether their exit was seen.
#[derive(Debug)]
pub(crate) struct Counted {
    /// The epoll set of the running children's pidfds, made when the
    /// guest first holds more than [`ASKED`] children (`None` inside: it
    /// could not be made, and every child is asked).
    epoll: OnceLock<Option<OwnedFd>>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Children in the epoll set whose exit it has not reported, by the
    /// key their pidfd was added with.
    running: HashMap<u64, Weak<dyn Wait>>,
    /// Children whose exit was reported: held while their exit is.
    exited: Vec<Weak<dyn Wait>>,
    /// Children not in the epoll set: asked.
    asked: Vec<Weak<dyn Wait>>,
    next_key: u64,
}

impl Counted {
    pub(crate) fn new() -> Counted {
        Counted {
            epoll: OnceLock::new(),
            state: Mutex::new(State::default()),
        }
    }

    /// Counts a new child: asked while the guest holds few, else its pidfd
    /// joins the epoll set.
    pub(crate) fn add(&self, exit: &Arc<dyn Wait>) {
        let mut state = lock(&self.state);
        let weak = Arc::downgrade(exit);
        if state.asked.len() < ASKED {
            state.asked.push(weak);
            return;
        }
        let epoll = self
            .epoll
            .get_or_init(|| epoll::create(epoll::CreateFlags::CLOEXEC).ok());
        let (Some(epoll), Some(fd)) = (epoll, exit.exit_fd()) else {
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
        let mut state = lock(&self.state);
        if let Some(Some(epoll)) = self.epoll.get() {
            take_exits(epoll, &mut state);
        }
        // A child whose exit was dropped before it exited (ended without
        // a runtime: `ChildExit`'s own `Drop`) may never be reported.
        state.running.retain(|_, w| w.strong_count() > 0);
        state.exited.retain(|w| w.strong_count() > 0);
        let (live, held) = ask(&mut state.asked);
        (state.running.len() + live, state.exited.len() + held)
    }
}

/// `(live, held)` of the children asked directly (dropping those no longer
/// held): those whose exit is not known yet are asked in one `poll` of
/// their pidfds, and only those that polled readable for their return
/// code.
fn ask(asked: &mut Vec<Weak<dyn Wait>>) -> (usize, usize) {
    let (mut live, mut held) = (0, 0);
    let mut alive: Vec<Arc<dyn Wait>> = Vec::with_capacity(asked.len());
    asked.retain(|w| match w.upgrade() {
        None => false,
        Some(exit) => {
            alive.push(exit);
            true
        }
    });
    let mut unknown = Vec::new();
    let mut fds = Vec::new();
    for exit in &alive {
        match exit.exit_fd() {
            Some(fd) => {
                fds.push(libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
                unknown.push(exit);
            }
            None => match exit.returncode() {
                None => live += 1,
                Some(_) => held += 1,
            },
        }
    }
    // SAFETY: `fds` is a valid array of `fds.len()` pollfds whose
    // descriptors are kept open by `unknown` (held above).
    let polled = !fds.is_empty()
        && unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 0) } >= 0;
    for (exit, fd) in unknown.iter().zip(&fds) {
        let maybe_exited = !polled || fd.revents != 0;
        match maybe_exited.then(|| exit.returncode()).flatten() {
            None => live += 1,
            Some(_) => held += 1,
        }
    }
    (live, held)
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
