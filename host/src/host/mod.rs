//! The generated host traits, one file per WIT interface.

mod subprocess;
mod types;
