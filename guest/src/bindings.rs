//! The raw bindings of the WIT world `procgate:subprocess/imports`.
//!
//! This is the one `wit_bindgen::generate!` of the crate. The `wasi:io` types
//! are not generated again: they are mapped onto the [`wasip2`] crate's, the
//! ones [`wstd`] uses, so the streams and pollables that procgate hands out can
//! be given straight to `wstd::runtime::AsyncPollable::new`,
//! `wstd::io::AsyncInputStream::new` and `wasip2::io::poll::poll`.
//!
//! Most programs never need this module: [`crate::sync`] and [`crate::aio`]
//! wrap it. It is public for guests that want to drive `wasi:io/poll`
//! themselves.

// The generated items carry the WIT's documentation, where it has any.
#![allow(missing_docs)]

wit_bindgen::generate!({
    world: "procgate:subprocess/imports",
    path: "../wit",
    with: {
        "wasi:io/poll@0.2.12": wasip2::io::poll,
        "wasi:io/streams@0.2.12": wasip2::io::streams,
        "wasi:io/error@0.2.12": wasip2::io::error,
    },
});
