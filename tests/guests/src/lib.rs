//! What the guest test programs share: one case body run on both faces of
//! the guest library, and printing results readably for the host's
//! assertions.
//!
//! [`on_both_faces!`] takes a body (items, among them
//! `pub async fn case(name: &str, args: &[String])`) and makes two modules of
//! it: `sync`, over `procgate_guest::sync`, and `aio`, over
//! `procgate_guest::aio`. In the body every call that the async face awaits
//! is written `aw!(call)`: a plain call on the blocking face, `call.await` on
//! the async one. It also makes `main`: `PROGRAM <sync|aio> <case> [args]`.

use procgate_guest::{Error, HostError, StreamError};

/// The blocking face's form of a call: the call itself.
#[macro_export]
macro_rules! now {
    ($call:expr) => {
        $call
    };
}

/// The async face's form of a call: the call, awaited.
#[macro_export]
macro_rules! later {
    ($call:expr) => {
        $call.await
    };
}

/// Defines `mod sync`, `mod aio` and `main` from one body; see the crate
/// documentation. The first token names the await macro the body uses.
#[macro_export]
macro_rules! on_both_faces {
    ($aw:ident => $($body:tt)*) => {
        mod sync {
            #![allow(unused_imports)]
            use procgate_guest::sync::*;
            use $crate::now as $aw;
            $($body)*
        }

        mod aio {
            #![allow(unused_imports)]
            use procgate_guest::aio::*;
            use $crate::later as $aw;
            $($body)*
        }

        fn main() {
            let args: Vec<String> = std::env::args().skip(1).collect();
            let [face, case, rest @ ..] = args.as_slice() else {
                panic!("usage: PROGRAM <sync|aio> <case> [args]");
            };
            // The blocking face's `case` never awaits: running it as a
            // future just calls it.
            procgate_guest::aio::run(async {
                match face.as_str() {
                    "sync" => sync::case(case, rest).await,
                    "aio" => aio::case(case, rest).await,
                    other => panic!("unknown face {other}"),
                }
            })
            .expect("the outermost aio::run");
        }
    };
}

/// Bytes as a quoted string: `"some data\n"`.
pub fn text(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

/// An optional output of `communicate`: `None` or `Some("…")`.
pub fn opt_text(bytes: &Option<Vec<u8>>) -> String {
    match bytes {
        None => "None".into(),
        Some(b) => format!("Some({})", text(b)),
    }
}

/// An error, with the bytes of an `IncompleteRead` as text. The texts of
/// `Closed` and `LimitOverrun` are left out (the `guest_api` tests check
/// them), so these print as `Closed` and `LimitOverrun { consumed: N }`.
pub fn error<E: Clone + Into<Error>>(e: &E) -> String {
    match e.clone().into() {
        Error::Stream(StreamError::IncompleteRead { partial, expected }) => format!(
            "IncompleteRead {{ partial: {}, expected: {expected:?} }}",
            text(&partial)
        ),
        Error::Stream(StreamError::Closed(_)) => "Closed".into(),
        Error::Stream(StreamError::LimitOverrun { consumed, .. }) => {
            format!("LimitOverrun {{ consumed: {consumed} }}")
        }
        other => format!("{other:?}"),
    }
}

/// The result of a read: `Ok("…")` or the error.
pub fn read<E: Clone + Into<Error>>(r: &Result<Vec<u8>, E>) -> String {
    match r {
        Ok(bytes) => format!("Ok({})", text(bytes)),
        Err(e) => format!("Err({})", error(e)),
    }
}

/// The name of an error's variant, without its text: `PermissionDenied`.
pub fn kind(e: &impl std::fmt::Debug) -> String {
    let debug = format!("{e:?}");
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The result of a `communicate`: `Ok(stdout, stderr)` as text, or the
/// error.
#[allow(clippy::type_complexity)] // asyncio's (stdout_data, stderr_data)
pub fn communicated<E: Clone + Into<Error>>(
    r: &Result<(Option<Vec<u8>>, Option<Vec<u8>>), E>,
) -> String {
    match r {
        Ok((out, err)) => format!("Ok({}, {})", opt_text(out), opt_text(err)),
        Err(e) => format!("Err({})", error(e)),
    }
}

/// Asks the host test to check process `pid` from the host while this
/// guest still runs (`what`: `alive`, `descendant`, `gone`...; see the host side,
/// `procgate_tests::Checkpoints`): spawns `true procgate-checkpoint WHAT
/// PID`, which the checkpoint hook refuses with its answer. Returns the
/// answer (`alive`, `gone`, or what was wrong). `gone` is asked again
/// every 10 ms, sleeping in between (so the host's runtime can end the
/// process meanwhile), for up to 5 s. The policy must allow `true`.
pub fn checkpoint(what: &str, pid: u32) -> String {
    let mut answer = ask(what, pid);
    for _ in 0..500 {
        if what != "gone" || !answer.starts_with("still there") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        answer = ask(what, pid);
    }
    answer
}

fn ask(what: &str, pid: u32) -> String {
    let pid = pid.to_string();
    let args = ["procgate-checkpoint", what, pid.as_str()];
    match procgate_guest::sync::create_subprocess_exec("true", args, procgate_guest::Options::new())
    {
        Err(HostError::Denied(reason)) => reason
            .strip_prefix("hook refused: ")
            .unwrap_or(&reason)
            .to_string(),
        Err(e) => format!("checkpoint failed: {e:?}"),
        Ok(p) => {
            let _ = p.wait();
            "no checkpoint hook".into()
        }
    }
}
