//! Dropping a child's stdin stream finishes the write: every byte the guest
//! wrote reaches the child before it sees end of file.

host_tests_for!(stdin_drop);

use procgate_tests::{allow, run_guest};

#[test]
fn dropping_stdin_after_a_write_delivers_every_byte() {
    let run = run_guest("stdin_drop", &["100000"], allow(&["cat"]).build().unwrap());
    run.assert_ok();
    assert_eq!(
        run.lines(),
        ["sent 100000 got 100000 same true rc 0"],
        "{run}"
    );
}
