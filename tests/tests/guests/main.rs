//! Guest programs (`tests/guests`) run by the host against real processes.
//! One module per area.
//!
//! The rule, checked when this crate compiles (`programs.rs`): every guest
//! test program `tests/guests/src/bin/NAME.rs` has one home module here,
//! which holds its host tests and says so in one line at its top,
//! `host_tests_for!(NAME);` (several programs: `host_tests_for!(a, b);`).
//! A program without such a line fails to compile, and so does a line
//! naming a program that does not exist or one another module already
//! declares. A module may also run programs homed elsewhere (`exec` serves
//! several); modules that only do that declare nothing. The case names a
//! test passes to a program can be checked the same way:
//! `procgate_tests::guest_case!(NAME, "case")` compiles only if `NAME.rs`
//! matches on `"case"` (the policy corpus uses it).

/// Declares that this module holds the host tests of the guest programs
/// named (see the rule above).
macro_rules! host_tests_for {
    ($($program:ident),+ $(,)?) => {
        $(impl crate::programs::HostTested for procgate_tests::guest_programs::$program {})+
    };
}

mod aio;
mod ask_hook;
mod audit;
mod bounds;
mod budget;
mod cli_probe;
mod conformance;
mod containment;
mod cpython_suite;
mod declares;
mod embedding;
mod endings;
mod errors;
mod exec;
mod guest_api;
mod held;
mod host_killed;
mod hostile;
mod languages;
mod learn;
mod lifetimes;
mod node_child_process;
mod pipeline;
mod policy;
mod policy_attacks;
mod policy_deny;
mod policy_read_only;
mod policy_rule_limits;
mod policy_rule_output;
mod pool;
mod probe;
mod programs;
mod python_files;
mod query;
mod signals;
mod stdin_drop;
mod stdio;
mod streams;
mod streams_api;
