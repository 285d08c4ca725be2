//! The launch path of kernels without `clone3(CLONE_INTO_CGROUP)` (Linux
//! before 5.7): the child writes `0` to its leaf's `cgroup.procs` before
//! `execve`. This kernel has `CLONE_INTO_CGROUP`, so the test switches it
//! off for this test binary (its own process) and checks the same promise
//! `os.rs` checks on the `clone3` path.

mod common;

#[test]
fn without_clone_into_cgroup_two_live_children_each_start_in_a_leaf_of_their_own() {
    procgate_child::spawn::join_cgroups_through_procs_file();
    common::two_live_children_each_start_in_a_leaf_of_their_own();
}
