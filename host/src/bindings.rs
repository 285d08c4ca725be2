//! The one `bindgen!` of procgate: host traits for `procgate:subprocess`.
//!
//! `wasi:io` types are wasmtime-wasi's own, so streams and pollables that
//! procgate hands out work with every other WASI interface. The WIT `error`
//! is trappable: host functions return [`crate::Error`], and only its
//! `Trap` case traps.

#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "procgate:subprocess/imports",
    imports: {
        "procgate:subprocess/types.[method]process.wait": async | tracing | trappable,
        "procgate:subprocess/types.[method]process.communicate": async | tracing | trappable,
        // Async so an embedder's hook that waits (ProcgateHooks::on_spawn_async) keeps no thread.
        "procgate:subprocess/subprocess.create-subprocess-exec": async | tracing | trappable,
        "procgate:subprocess/subprocess.create-subprocess-shell": async | tracing | trappable,
        "procgate:subprocess/subprocess.start-subprocess-exec": async | tracing | trappable,
        "procgate:subprocess/subprocess.start-subprocess-shell": async | tracing | trappable,
        default: tracing | trappable,
    },
    trappable_error_type: {
        "procgate:subprocess/types.error" => crate::Error,
    },
    with: {
        "wasi:io": wasmtime_wasi_io::bindings::wasi::io,
        "procgate:subprocess/types.process": crate::process::Process,
        "procgate:subprocess/types.future-communicate": crate::communicate::FutureCommunicate,
        "procgate:subprocess/types.future-process": crate::process::FutureProcess,
    },
    require_store_data_send: true,
});

pub use self::procgate::subprocess::types::{CommunicateOutput, Error as WitError, Options, Stdio};
