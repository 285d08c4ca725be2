//! Every guest test program has host tests, checked when this crate
//! compiles (the rule is at the top of `main.rs`). As wasmtime's
//! `foreach_p2!(assert_test_exists)`: `tests/build.rs` lists the programs
//! in `tests/guests/src/bin`, and for each one this module requires an
//! implementation of [`HostTested`], which `host_tests_for!(program)`
//! writes in the module holding its tests. So a program without host
//! tests, or a `host_tests_for!` naming a program that does not exist,
//! does not compile; a program declared by two modules does not either
//! (two implementations): each program has one home module.

/// Implemented, by `host_tests_for!`, for each guest program
/// (`procgate_tests::guest_programs::*`) that has host tests.
#[diagnostic::on_unimplemented(
    message = "guest program `{Self}` (tests/guests/src/bin) has no host test",
    label = "no module declares `host_tests_for!` for this program",
    note = "write `host_tests_for!(PROGRAM);` at the top of the module in tests/tests/guests that runs it (see main.rs)"
)]
pub(crate) trait HostTested {}

/// Fails to compile unless `$program` is [`HostTested`].
macro_rules! assert_test_exists {
    ($program:ident) => {
        const _: () = {
            const fn tested<T: HostTested>() {}
            tested::<procgate_tests::guest_programs::$program>()
        };
    };
}

procgate_tests::foreach_guest_program!(assert_test_exists);
