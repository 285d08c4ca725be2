//! std's [`Child`] and its pipes ([`ChildStdin`], [`ChildStdout`],
//! [`ChildStderr`]) with `std::io::Write`/`Read`.

use super::*;

/// A running child: std's `Child`. Its pipes are in `stdin`, `stdout` and
/// `stderr` (take them out with `take()`, as with std).
#[derive(Debug)]
pub struct Child {
    /// The child's stdin, if piped.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if piped.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if piped.
    pub stderr: Option<ChildStderr>,
    process: Process,
}

impl Child {
    pub(crate) fn from_process(mut process: Process) -> Child {
        Child {
            stdin: process.stdin.take().map(ChildStdin),
            stdout: process.stdout.take().map(ChildStdout),
            stderr: process.stderr.take().map(ChildStderr),
            process,
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.process.pid()
    }

    /// Sends SIGKILL. A child that has already exited is not an error, as
    /// with std.
    pub fn kill(&mut self) -> io::Result<()> {
        killed(self.process.kill())
    }

    /// Sends `signal` (not in std: `kill -SIG`), as
    /// [`crate::sync::Process::send_signal`].
    pub fn send_signal(&mut self, signal: Signal) -> io::Result<()> {
        Ok(self.process.send_signal(signal)?)
    }

    /// Closes stdin (if still held) and waits for the child to exit.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        Ok(ExitStatus(self.process.wait()?))
    }

    /// The exit status if the child has exited, `None` if it still runs,
    /// without blocking.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        Ok(self.process.try_wait()?.map(ExitStatus))
    }

    /// Not in std: waits at most `timeout` (like the `wait-timeout`
    /// crate); `None` if the child still runs then. stdin is not closed.
    pub fn wait_timeout(&mut self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        Ok(self.process.wait_for(timeout)?.map(ExitStatus))
    }

    /// Closes stdin, reads stdout and stderr to their ends (both at once,
    /// in the host) and waits for the child. Pipes taken out of the child
    /// give empty output, as with std.
    pub fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        self.process.stdout = self.stdout.take().map(|s| s.0);
        self.process.stderr = self.stderr.take().map(|s| s.0);
        let communicated = self.process.communicate(None)?;
        Ok(Output::new(communicated, self.process.wait()?))
    }

    /// The blocking face's process, with the pipes still in the child.
    pub fn into_process(self) -> Process {
        let Child {
            stdin,
            stdout,
            stderr,
            mut process,
        } = self;
        process.stdin = stdin.map(|s| s.0);
        process.stdout = stdout.map(|s| s.0);
        process.stderr = stderr.map(|s| s.0);
        process
    }
}

/// The child's stdin: `std::io::Write`. Dropping it closes the pipe.
#[derive(Debug)]
pub struct ChildStdin(pub(crate) StreamWriter);

impl io::Write for ChildStdin {
    /// Writes all of `buf`, blocking until the host took it (as a blocking
    /// pipe write does). A child that closed its stdin or exited gives
    /// `BrokenPipe`.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)?;
        self.0.drain()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.0.drain() {
            Err(StreamError::Closed(_)) if self.0.is_closing() => Ok(()),
            other => Ok(other?),
        }
    }
}

/// The child's stdout: `std::io::Read`. End of file reads 0 bytes.
#[derive(Debug)]
pub struct ChildStdout(pub(crate) StreamReader);

/// The child's stderr: `std::io::Read`.
#[derive(Debug)]
pub struct ChildStderr(pub(crate) StreamReader);

fn read_into(reader: &mut StreamReader, buf: &mut [u8]) -> io::Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    let n = isize::try_from(buf.len()).unwrap_or(isize::MAX);
    let data = reader.read(n)?;
    buf[..data.len()].copy_from_slice(&data);
    Ok(data.len())
}

impl io::Read for ChildStdout {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_into(&mut self.0, buf)
    }
}

impl io::Read for ChildStderr {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_into(&mut self.0, buf)
    }
}
