//! Shared helpers for the host-driven tests.
