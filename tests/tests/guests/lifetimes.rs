//! Children do not outlive their handle or their guest.

use procgate_tests::{allow, run_guest, wait_gone};

fn pid_of(run: &procgate_tests::Run) -> u32 {
    run.lines()[0]
        .strip_prefix("pid ")
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn dropping_an_unwaited_process_kills_and_reaps_it() {
    let run = run_guest(
        "lifetimes",
        &["drop"],
        allow(&["sleep", "true"]).build().unwrap(),
    );
    run.assert_ok();
    assert_eq!(&run.lines()[1..], ["dropped", "still serving 0"], "{run}");
    assert!(wait_gone(pid_of(&run)), "the dropped child is still there");
}

#[test]
fn a_guest_that_exits_leaves_no_child() {
    let run = run_guest("lifetimes", &["exit"], allow(&["sleep"]).build().unwrap());
    assert_eq!(run.code, 3, "{run}");
    assert!(wait_gone(pid_of(&run)), "the guest's child outlived it");
}
