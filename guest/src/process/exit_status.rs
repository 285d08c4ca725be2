//! How a child ended: std's [`ExitStatus`] (and its Unix extension) and
//! [`Output`].

use super::*;

/// How a child ended: std's `ExitStatus`, over asyncio's return code (`N`
/// for `exit(N)`, `-N` for signal `N`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExitStatus(pub(crate) i32);

impl ExitStatus {
    /// Whether the child exited with 0.
    pub fn success(&self) -> bool {
        self.0 == 0
    }

    /// The exit code, `None` if a signal ended the child.
    pub fn code(&self) -> Option<i32> {
        (self.0 >= 0).then_some(self.0)
    }

    /// asyncio's return code: the code, or `-N` for signal `N`.
    pub fn returncode(&self) -> i32 {
        self.0
    }
}

/// `std::os::unix::process::ExitStatusExt`'s `signal`, which WASI lacks.
pub trait ExitStatusExt {
    /// The signal that ended the child, `None` if it exited.
    fn signal(&self) -> Option<i32>;
}

impl ExitStatusExt for ExitStatus {
    fn signal(&self) -> Option<i32> {
        (self.0 < 0).then_some(-self.0)
    }
}

impl fmt::Display for ExitStatus {
    /// As std's on Unix: `exit status: 1`, `signal: 9 (SIGKILL)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.signal() {
            None => write!(f, "exit status: {}", self.0),
            Some(n) => match Signal::from_number(n) {
                Some(s) => write!(f, "signal: {n} ({s})"),
                None => write!(f, "signal: {n}"),
            },
        }
    }
}

/// What [`Command::output`] and [`Child::wait_with_output`] return: std's
/// `Output`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// How the child ended.
    pub status: ExitStatus,
    /// All of its stdout.
    pub stdout: Vec<u8>,
    /// All of its stderr.
    pub stderr: Vec<u8>,
}

impl Output {
    /// What a `communicate` gave (a pipe taken out of the child gave
    /// nothing: empty output, as with std) and the return code after it.
    pub(crate) fn new((stdout, stderr): crate::sync::Communicated, code: i32) -> Output {
        Output {
            status: ExitStatus(code),
            stdout: stdout.unwrap_or_default(),
            stderr: stderr.unwrap_or_default(),
        }
    }
}
