//! `procgate`'s exit status: what failed decides the code, so a script can
//! tell a guest's own `exit 1` from a trap, a broken policy or a bad guest
//! file.
//!
//! | code    | meaning |
//! | ------- | ------- |
//! | N       | the guest's own exit code (0 when its `run` returns ok, 1 when it returns an error) |
//! | 2       | usage error: an unknown flag, a bad value, no guest |
//! | 3       | policy error: a broken policy file, a refused grant |
//! | 4       | the guest cannot be run: missing, not WebAssembly, a core module, not a command |
//! | 125     | procgate itself failed (an I/O or runtime error) |
//! | 134     | the guest trapped (also past `--deadline` or `--max-memory`), as `wasmtime run` exits |
//! | 128 + N | procgate was stopped by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP) |
//!
//! A request the policy denies is not an exit: the guest gets a typed error
//! and decides what to do (most exit 1). The guest's own code passes
//! through unchanged, so a guest that exits 3 or 134 looks like procgate's;
//! procgate's own failures always print `procgate: ...` on stderr.

/// A usage error (as clap exits for an unknown flag).
pub const USAGE: i32 = 2;
/// A broken policy file or a refused grant.
pub const POLICY: i32 = 3;
/// The guest file cannot be run.
pub const GUEST: i32 = 4;
/// procgate itself failed.
pub const HOST: i32 = 125;
/// The guest trapped.
pub const TRAP: i32 = 134;

/// An error of procgate's, with the exit code it ends the CLI with.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: i32,
    /// What went wrong, printed after `procgate: `.
    pub error: anyhow::Error,
}

impl Failure {
    /// Prints the error on stderr and returns its exit code.
    pub fn report(self) -> i32 {
        eprintln!("procgate: {:#}", self.error);
        self.code
    }
}

/// Classifies errors: `result.or_exit(POLICY)?`.
pub trait OrExit<T> {
    /// The error as a [`Failure`] with `code`.
    fn or_exit(self, code: i32) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> OrExit<T> for Result<T, E> {
    fn or_exit(self, code: i32) -> Result<T, Failure> {
        self.map_err(|e| Failure {
            code,
            error: e.into(),
        })
    }
}

/// A failure with `code` and a message.
pub fn fail(code: i32, message: impl std::fmt::Display) -> Failure {
    Failure {
        code,
        error: anyhow::anyhow!("{message}"),
    }
}
