//! A leaf's life on real cgroups: an empty leaf goes back to the free list
//! and is the next child's, one with a process left in it is killed and
//! never reused. Each test makes its own parent cgroup under the cgroup2
//! mount and removes it.

#[path = "../../tests/common/cgroup2.rs"]
mod cgroup2;

use super::files::remove_tree;
use super::GuestCgroup;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A parent cgroup of the test's own, removed (with what is below) when
/// dropped.
struct Parent(PathBuf);

impl Parent {
    fn new(name: &str) -> Option<Parent> {
        if !cgroup2::cgroup_expected() {
            return None;
        }
        let mount = cgroup2::cgroup2_mount()?;
        let dir = mount.join(format!("procgate-unit-{name}-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        Some(Parent(dir))
    }
}

impl Drop for Parent {
    fn drop(&mut self) {
        remove_tree(&self.0);
    }
}

/// A guest cgroup in a parent of the test's own; `None` (the skip said)
/// without a writable cgroup v2.
fn guest_in(name: &str) -> Option<(Parent, Arc<GuestCgroup>)> {
    let parent = Parent::new(name)?;
    let guest = Arc::new(GuestCgroup::create(Some(&parent.0), true).unwrap());
    Some((parent, guest))
}

/// A `sleep 60` moved into the cgroup `dir`.
fn sleeper_in(dir: &std::path::Path) -> Child {
    let sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    std::fs::write(dir.join("cgroup.procs"), sleeper.id().to_string()).unwrap();
    sleeper
}

/// Fails unless `child` was SIGKILLed within 10 s (killing it if not).
fn assert_killed(child: &mut Child, what: &str) {
    let status = ended_within(child);
    assert_eq!(
        status.and_then(|s| s.signal()),
        Some(libc::SIGKILL),
        "{what}: {status:?}"
    );
}

fn ended_within(child: &mut Child) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn an_emptied_leaf_is_the_next_childs() {
    let Some((_parent, guest)) = guest_in("reuse") else {
        return;
    };
    let leaf = guest.leaf().unwrap();
    let first = leaf.dir().clone();
    // A process came and went: the leaf is empty again.
    let mut sleeper = sleeper_in(&first);
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    drop(leaf);
    let again = guest.leaf().unwrap();
    assert_eq!(again.dir(), first, "an empty leaf was not reused");
    let other = guest.leaf().unwrap();
    assert_ne!(other.dir(), first, "one leaf handed to two children");
}

#[test]
fn a_free_leaf_removed_meanwhile_is_passed_over() {
    let Some((_parent, guest)) = guest_in("removed") else {
        return;
    };
    let leaf = guest.leaf().unwrap();
    assert!(
        leaf.events.is_some(),
        "the guest's first leaf keeps its descriptors"
    );
    let first = leaf.dir().clone();
    drop(leaf);
    // Someone removed the empty leaf (the host's user may): the host still
    // holds its descriptors, which now name a cgroup that is gone.
    std::fs::remove_dir(&first).unwrap();
    let next = guest.leaf().unwrap();
    assert_ne!(next.dir(), first, "a removed leaf was handed out");
    assert!(next.dir().is_dir());
}

#[test]
fn a_leaf_dropped_with_a_process_in_it_is_killed_and_not_reused() {
    let Some((_parent, guest)) = guest_in("populated") else {
        return;
    };
    let leaf = guest.leaf().unwrap();
    let dir = leaf.dir().clone();
    // A descendant still in the leaf when its handle goes (its ending
    // timed out, say): nothing killed it before this drop.
    let mut sleeper = sleeper_in(&dir);
    drop(leaf);
    assert_killed(
        &mut sleeper,
        "the process left in a dropped leaf was not killed",
    );
    let next = guest.leaf().unwrap();
    assert_ne!(
        next.dir(),
        dir,
        "a leaf dropped populated was handed out again"
    );
}

#[test]
fn a_process_that_entered_a_free_leaf_is_ended_with_the_next_child_there() {
    let Some((_parent, guest)) = guest_in("stale") else {
        return;
    };
    let leaf = guest.leaf().unwrap();
    let dir = leaf.dir().clone();
    leaf.kill();
    drop(leaf);
    // Something entered the free leaf (root, or the host's user): the
    // leaf is handed out all the same (not read: a spawn's cost), and the
    // next child's ending, which reads it afresh, ends what is there.
    let mut sleeper = sleeper_in(&dir);
    let next = guest.leaf().unwrap();
    assert_eq!(next.dir(), dir, "the free leaf was not reused");
    next.kill();
    assert_killed(
        &mut sleeper,
        "a process in a reused leaf outlived its next child's ending",
    );
}

#[test]
fn killing_a_leaf_kills_what_is_in_it() {
    let Some((_parent, guest)) = guest_in("kill") else {
        return;
    };
    let leaf = guest.leaf().unwrap();
    let mut sleeper = sleeper_in(&leaf.dir());
    leaf.kill();
    assert_killed(&mut sleeper, "Leaf::kill left a process running");
}

#[test]
fn a_killed_leaf_is_not_handed_out_again() {
    let Some((_parent, guest)) = guest_in("killed") else {
        return;
    };
    let leaf = guest.leaf().unwrap();
    let dir = leaf.dir().clone();
    let mut sleeper = sleeper_in(&dir);
    leaf.kill();
    assert_killed(&mut sleeper, "Leaf::kill left a process running");
    drop(leaf);
    // A child started in a cgroup killed before dies at birth (clone3
    // with CLONE_INTO_CGROUP, Linux 6.18): a killed leaf is removed.
    let next = guest.leaf().unwrap();
    assert_ne!(next.dir(), dir, "a killed leaf was handed out again");
    assert!(!dir.exists(), "the killed leaf {} was left", dir.display());
}

#[test]
fn a_reused_leaf_is_looked_at_afresh() {
    let Some((_parent, guest)) = guest_in("afresh") else {
        return;
    };
    // The first child's leaf was seen empty (its ending looked) and freed.
    let leaf = guest.leaf().unwrap();
    let dir = leaf.dir().clone();
    leaf.kill();
    drop(leaf);
    // The next child gets the same leaf: what it left there must be
    // killed, whatever the leaf's first user saw.
    let again = guest.leaf().unwrap();
    assert_eq!(again.dir(), dir, "an empty leaf was not reused");
    let mut sleeper = sleeper_in(&again.dir());
    again.kill();
    assert_killed(&mut sleeper, "a reused leaf's process outlived Leaf::kill");
}

/// Ends the guest's cgroup (`kill_and_remove`, as `Children::ended`
/// does) and fails unless nothing was left: no pid, no directory.
fn end_and_assert_gone(guest: &GuestCgroup) {
    let left = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(guest.kill_and_remove());
    assert_eq!(left, Vec::<u32>::new(), "pids left");
    assert!(
        !guest.dir.exists(),
        "the guest cgroup {} was left",
        guest.dir.display()
    );
}

#[test]
fn the_guests_end_kills_what_is_left_and_removes_every_cgroup() {
    let Some((_parent, guest)) = guest_in("end-populated") else {
        return;
    };
    // Three leaves: one free, one killed (and so removed), one with a
    // process and a cgroup of its own below it (a child may make one).
    let free = guest.leaf().unwrap();
    let killed = guest.leaf().unwrap();
    let busy = guest.leaf().unwrap();
    let mut in_killed = sleeper_in(&killed.dir());
    killed.kill();
    assert_killed(&mut in_killed, "Leaf::kill left a process running");
    let below = busy.dir().join("made-by-a-child");
    std::fs::create_dir(&below).unwrap();
    let mut sleeper = sleeper_in(&below);
    drop((free, killed));
    // The busy leaf's handle is still held (an embedder keeps a child past
    // the guest's end): only the guest's end acts on it.
    end_and_assert_gone(&guest);
    assert_killed(&mut sleeper, "the guest's end left a process running");
    drop(busy);
}

#[test]
fn an_empty_guest_cgroup_is_removed_with_its_leaves() {
    let Some((_parent, guest)) = guest_in("end-empty") else {
        return;
    };
    let first = guest.leaf().unwrap();
    let second = guest.leaf().unwrap();
    let below = second.dir().join("made-by-a-child");
    std::fs::create_dir(&below).unwrap();
    drop((first, second));
    end_and_assert_gone(&guest);
}

/// The `stat` fields of `pid` after its name: state, ppid, pgrp, session.
fn stat_of(pid: u32) -> Option<(char, u32, u32, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut f = stat.rsplit_once(") ")?.1.split(' ');
    let state = f.next()?.chars().next()?;
    let mut num = || f.next()?.parse::<u32>().ok();
    Some((state, num()?, num()?, num()?))
}

#[test]
fn the_watchdog_holds_only_its_pipe_and_is_started_again_when_killed() {
    let Some((_parent, guest)) = guest_in("watchdog") else {
        return;
    };
    let watchdog = guest
        .watchdog
        .as_ref()
        .expect("a guest dying with the host is watched");
    let mut pids = Vec::new();
    for _ in 0..super::WATCHDOG_STARTS {
        let leaf = guest.leaf().unwrap();
        assert!(leaf.watched(), "no watchdog after {} starts", pids.len());
        let pid = watchdog.pid().expect("a running watchdog");
        assert!(
            !pids.contains(&pid),
            "the watchdog {pid} was not started again"
        );
        pids.push(pid);
        // The host's child, in a session of its own (no terminal signal
        // of the host's group reaches it), holding its pipe and the
        // parent directory only, once it has set itself up (it runs
        // alongside the host from its clone on).
        let fds = || {
            std::fs::read_dir(format!("/proc/{pid}/fd"))
                .unwrap()
                .count()
        };
        let end = Instant::now() + Duration::from_secs(10);
        while (stat_of(pid).unwrap().3 != pid || fds() != 2) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(5));
        }
        let (_, ppid, _, session) = stat_of(pid).unwrap();
        assert_eq!((ppid, session), (std::process::id(), pid));
        assert_eq!(
            fds(),
            2,
            "the watchdog {pid} holds more than two descriptors"
        );
        // SAFETY: a plain system call, to our own child.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        let end = Instant::now() + Duration::from_secs(10);
        while stat_of(pid).is_some_and(|s| s.0 != 'Z') && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    // Out of starts: children get the death signal instead.
    let leaf = guest.leaf().unwrap();
    assert!(!leaf.watched());
    // Every watchdog that exited was reaped (no zombie kept).
    for pid in pids {
        assert!(stat_of(pid).is_none(), "the watchdog {pid} was not reaped");
    }
}
