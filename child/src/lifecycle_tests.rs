//! The lifecycle logic through the seam: a fake child that records the
//! signals it gets and exits on the ones it is told to (no real process).

use super::*;
use crate::Children;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

const GRACE: Duration = Duration::from_millis(20);
const KILL_WAIT: Duration = Duration::from_millis(50);

/// A child that exits on the signals in `ends_on` (`kill-all` is SIGKILL),
/// or never (`stuck`).
#[derive(Default)]
struct Fake {
    ends_on: Vec<i32>,
    stuck: bool,
    /// Its cgroup still holds something (`settled` is false).
    left_over: bool,
    rc: Mutex<Option<i32>>,
    exited: Notify,
    reaped: AtomicBool,
    log: Mutex<Vec<String>>,
}

impl Fake {
    fn ending_on(signals: &[i32]) -> Arc<Fake> {
        Arc::new(Fake {
            ends_on: signals.to_vec(),
            ..Fake::default()
        })
    }

    fn stuck() -> Arc<Fake> {
        Arc::new(Fake {
            stuck: true,
            ..Fake::default()
        })
    }

    fn exited(rc: i32) -> Arc<Fake> {
        let fake = Fake::default();
        *fake.rc.lock().unwrap() = Some(rc);
        Arc::new(fake)
    }

    fn got(&self, what: String, sig: i32) {
        self.log.lock().unwrap().push(what);
        if !self.stuck && self.ends_on.contains(&sig) {
            self.exit(-sig);
        }
    }

    fn exit(&self, rc: i32) {
        self.rc.lock().unwrap().get_or_insert(rc);
        self.exited.notify_waiters();
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn name(sig: i32) -> &'static str {
    match sig {
        libc::SIGTERM => "TERM",
        libc::SIGKILL => "KILL",
        _ => "other",
    }
}

impl Wait for Fake {
    fn pid(&self) -> u32 {
        4242
    }

    fn returncode(&self) -> Option<i32> {
        *self.rc.lock().unwrap()
    }

    fn wait(&self) -> Pin<Box<dyn Future<Output = i32> + Send + '_>> {
        Box::pin(async move {
            loop {
                let notified = self.exited.notified();
                if let Some(rc) = self.returncode() {
                    return rc;
                }
                notified.await;
            }
        })
    }

    fn reap(&self) -> bool {
        let exited = self.returncode().is_some();
        if exited {
            self.reaped.store(true, Ordering::SeqCst);
        }
        exited
    }
}

impl Kill for Fake {
    fn signal_group(&self, sig: i32) {
        self.got(format!("group {}", name(sig)), sig);
    }

    fn signal_child(&self, sig: i32) {
        if self.returncode().is_none() {
            self.got(format!("child {}", name(sig)), sig);
        }
    }

    fn kill_all(&self) {
        self.got("kill-all".into(), libc::SIGKILL);
    }

    fn emptied(&self) -> Pin<Box<dyn Future<Output = Vec<u32>> + Send + '_>> {
        Box::pin(async { Vec::new() })
    }

    fn settled(&self) -> bool {
        !self.left_over
    }
}

#[tokio::test]
async fn a_child_that_ends_on_sigterm_is_still_swept_and_reaped() {
    let fake = Fake::ending_on(&[libc::SIGTERM, libc::SIGKILL]);
    let left = end(&*fake, GRACE, KILL_WAIT).await;
    assert_eq!(left, Vec::<u32>::new());
    // TERM to the group ends it; what the group left is still killed.
    assert_eq!(fake.log(), ["group TERM", "kill-all"]);
    assert!(fake.reaped.load(Ordering::SeqCst));
    assert_eq!(fake.returncode(), Some(-libc::SIGTERM));
}

#[tokio::test]
async fn a_child_ignoring_sigterm_gets_sigkill_after_the_grace() {
    let fake = Fake::ending_on(&[libc::SIGKILL]);
    let left = end(&*fake, GRACE, KILL_WAIT).await;
    assert_eq!(left, Vec::<u32>::new());
    assert_eq!(fake.log(), ["group TERM", "child TERM", "kill-all"]);
    assert_eq!(fake.returncode(), Some(-libc::SIGKILL));
    assert!(fake.reaped.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_child_that_outlives_sigkill_is_reported_and_not_reaped() {
    let fake = Fake::stuck();
    let left = end(&*fake, GRACE, KILL_WAIT).await;
    assert_eq!(left, [4242]);
    assert!(!fake.reaped.load(Ordering::SeqCst));
}

#[tokio::test]
async fn an_exited_child_gets_no_sigterm_but_its_group_is_swept() {
    let fake = Fake::exited(0);
    let left = end(&*fake, GRACE, KILL_WAIT).await;
    assert_eq!(left, Vec::<u32>::new());
    assert_eq!(fake.log(), ["kill-all"]);
    assert!(fake.reaped.load(Ordering::SeqCst));
}

#[test]
fn a_child_counts_as_live_until_it_exits_then_held_until_let_go() {
    let children = Children::default();
    let fake = Fake::ending_on(&[libc::SIGKILL]);
    children.add(fake.clone());
    let usage = children.usage();
    assert_eq!((usage.live, usage.held, usage.spawned), (1, 0, 1));
    assert_eq!(children.live(), 1);
    fake.exit(0);
    let usage = children.usage();
    assert_eq!((usage.live, usage.held, usage.spawned), (0, 1, 1));
    drop(fake);
    let usage = children.usage();
    assert_eq!((usage.live, usage.held, usage.spawned), (0, 0, 1));
}

#[tokio::test]
async fn ended_waits_for_every_child_given_up() {
    let children = Arc::new(Children::new(GRACE));
    let fakes = [Fake::ending_on(&[libc::SIGKILL]), Fake::exited(3)];
    for fake in &fakes {
        children.end_in_background(fake.clone());
    }
    children.ended().await;
    for fake in &fakes {
        assert!(fake.reaped.load(Ordering::SeqCst), "{:?}", fake.log());
    }
    assert!(children.unended().is_empty());
}

#[test]
fn an_exited_child_with_nothing_left_is_ended_at_once_without_a_task() {
    // No runtime here: were a task needed, nothing would reap the child.
    let children = Arc::new(Children::new(GRACE));
    let fake = Fake::exited(0);
    children.end_in_background(fake.clone());
    assert_eq!(fake.log(), ["kill-all"]);
    assert!(fake.reaped.load(Ordering::SeqCst));
}

#[tokio::test]
async fn an_exited_child_whose_cgroup_still_holds_something_is_ended_in_a_task() {
    let children = Arc::new(Children::new(GRACE));
    let mut fake = Fake::default();
    *fake.rc.get_mut().unwrap() = Some(0);
    fake.left_over = true;
    let fake = Arc::new(fake);
    children.end_in_background(fake.clone());
    assert!(!fake.reaped.load(Ordering::SeqCst), "{:?}", fake.log());
    children.ended().await;
    assert!(fake.reaped.load(Ordering::SeqCst), "{:?}", fake.log());
    assert_eq!(fake.log(), ["kill-all", "kill-all"]);
}

#[test]
fn a_running_child_is_not_ended_at_once() {
    let fake = Fake::ending_on(&[libc::SIGKILL]);
    assert!(!end_exited(&*fake));
    assert_eq!(fake.log(), Vec::<String>::new());
}
