//! The host side of each WIT interface of `procgate:subprocess`, one file
//! per interface.

mod subprocess;
mod types;
