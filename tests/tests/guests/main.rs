//! Guest programs (`tests/guests`) run by the host against real processes.
//! One module per area; every test program has a test (see `programs`).

mod aio;
mod audit;
mod bounds;
mod cli_probe;
mod conformance;
mod containment;
mod endings;
mod errors;
mod exec;
mod held;
mod hostile;
mod languages;
mod learn;
mod lifetimes;
mod pipeline;
mod policy;
mod policy_attacks;
mod probe;
mod programs;
mod signals;
mod stdio;
mod streams;
mod streams_api;
