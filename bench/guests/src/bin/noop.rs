//! `noop`: a guest that does nothing (no host call of procgate's): what a
//! guest costs the host before it does any work (the probe
//! `bench/examples/instantiate.rs`).

fn main() {}
