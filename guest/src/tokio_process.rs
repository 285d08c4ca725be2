//! `tokio::process` for guests: the async twin of [`crate::process`], over
//! the async face ([`crate::aio`]) and [`wstd`]'s reactor (run it inside
//! [`crate::aio::run`]).
//!
//! Code written against `tokio::process::Command` ports by changing its
//! `use` line; the stdio pipes implement the `futures` `AsyncRead` /
//! `AsyncWrite` traits ([`futures_lite::AsyncReadExt`] and
//! [`futures_lite::AsyncWriteExt`] give `read_to_end`, `write_all`,
//! `close`; tokio's own traits are not available on WASI):
//!
//! ```
//! // use tokio::process::Command;
//! use procgate_guest::tokio_process::Command;
//! use procgate_guest::process::Stdio;
//! use procgate_guest::futures_lite::{AsyncReadExt, AsyncWriteExt};
//!
//! procgate_guest::aio::run(async {
//!     let output = Command::new("echo").arg("hello").output().await?;
//!     assert_eq!(output.stdout, b"hello\n");
//!
//!     let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
//!     let mut stdin = child.stdin.take().unwrap();
//!     stdin.write_all(b"hi").await?;
//!     stdin.close().await?; // tokio: drop(stdin) or shutdown()
//!     let mut out = Vec::new();
//!     child.stdout.take().unwrap().read_to_end(&mut out).await?;
//!     assert!(child.wait().await?.success());
//!     std::io::Result::Ok(())
//! })??;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The differences from std's are those of [`crate::process`]; in
//! addition, [`Command::kill_on_drop`] is always on: a child never outlives
//! its [`Child`].

use std::ffi::OsStr;
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::{AsyncRead, AsyncWrite};
use wstd::runtime::{AsyncPollable, WaitFor};

use crate::aio::{Process, StreamReader, StreamWriter};
use crate::process::{ExitStatus, Output, Stdio};
use crate::shared::{Step, READ_CHUNK};
use crate::Signal;

mod child;

pub use child::{Child, ChildStderr, ChildStdin, ChildStdout};

/// A process builder: tokio's `Command` (std's, with `async` ends).
#[derive(Debug)]
pub struct Command(crate::process::Command);

impl From<crate::process::Command> for Command {
    fn from(command: crate::process::Command) -> Command {
        Command(command)
    }
}

macro_rules! builder {
    ($($(#[$doc:meta])* fn $name:ident$(<$($g:ident: $b:path),*>)?($($arg:ident: $ty:ty),*);)*) => {
        $(
            $(#[$doc])*
            pub fn $name$(<$($g: $b),*>)?(&mut self, $($arg: $ty),*) -> &mut Command {
                self.0.$name($($arg),*);
                self
            }
        )*
    };
}

impl Command {
    /// A command for `program`, as [`crate::process::Command::new`].
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command(crate::process::Command::new(program))
    }

    builder! {
        /// Adds an argument.
        fn arg<S: AsRef<OsStr>>(arg: S);
        /// Adds arguments.
        fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(args: I);
        /// Sets a variable in the child's environment (the policy must
        /// allow it).
        fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(key: K, val: V);
        /// Sets variables in the child's environment.
        fn envs<I: IntoIterator<Item = (K, V)>, K: AsRef<OsStr>, V: AsRef<OsStr>>(vars: I);
        /// Undoes [`env`](Command::env) for `key` (see
        /// [`crate::process::Command::env_remove`]).
        fn env_remove<K: AsRef<OsStr>>(key: K);
        /// Undoes every `env`: the child gets the policy's environment.
        fn env_clear();
        /// The child's working directory, a guest path the policy grants.
        fn current_dir<P: AsRef<Path>>(dir: P);
        /// The child's stdin.
        fn stdin<T: Into<Stdio>>(cfg: T);
        /// The child's stdout.
        fn stdout<T: Into<Stdio>>(cfg: T);
        /// The child's stderr.
        fn stderr<T: Into<Stdio>>(cfg: T);
    }

    /// Accepted for tokio's sake; always on here: the host kills and reaps
    /// a child whose handle is dropped, whatever this says.
    pub fn kill_on_drop(&mut self, _kill_on_drop: bool) -> &mut Command {
        self
    }

    /// The std-shaped builder inside.
    pub fn as_std(&self) -> &crate::process::Command {
        &self.0
    }

    /// Starts the child (not async, as tokio's); stdio not set is inherited.
    pub fn spawn(&mut self) -> io::Result<Child> {
        let request = self.0.request([Stdio::inherit; 3])?;
        Ok(Child::from_process(request.spawn_sync()?.into()))
    }

    /// Runs the child to its end and collects its output (stdout and
    /// stderr piped, stdin null, unless set).
    pub async fn output(&mut self) -> io::Result<Output> {
        let request = self.0.request([Stdio::null, Stdio::piped, Stdio::piped])?;
        Child::from_process(request.spawn_sync()?.into())
            .wait_with_output()
            .await
    }

    /// Runs the child to its end with stdio inherited unless set.
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }
}
