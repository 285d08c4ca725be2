//! The blocking face: asyncio's subprocess API with every `await` turned
//! into a call that blocks the guest until it is done.
//!
//! This is the simplest way to run one process at a time. To drive several
//! at once in one guest (asyncio's `gather`), use [`crate::aio`].
//!
//! ```no_run
//! use procgate_guest::sync::create_subprocess_exec;
//! use procgate_guest::{Options, PIPE};
//!
//! let mut proc = create_subprocess_exec(
//!     "python3",
//!     ["-c", "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"],
//!     Options::new().stdin(PIPE).stdout(PIPE),
//! )?;
//! let (stdout, _) = proc.communicate(Some(b"some data"))?;
//! assert_eq!(stdout.as_deref(), Some(&b"some data"[..]));
//! assert_eq!(proc.returncode(), Some(0));
//! # Ok::<(), procgate_guest::Error>(())
//! ```

use crate::shared::{self, Feed, ProcCore, ReaderCore, Spawned, Step, WriterCore};
use crate::{Error, Options, Result, Signal};

/// Create a subprocess running `program` with the arguments `args` (which
/// exclude the program itself): asyncio's `create_subprocess_exec`.
///
/// The host's policy decides first: the program must be allowed, and a name
/// without a slash is looked up on the policy's own search path, never the
/// guest's `PATH`. `options` gives asyncio's keyword arguments (`stdin=`,
/// `stdout=`, `stderr=`, `limit=`, `cwd=`, `env=`, `start_new_session=`).
///
/// Fails with [`Error::Denied`] if the policy refuses, [`Error::NotFound`]
/// if there is no such program, [`Error::PermissionDenied`] if it cannot be
/// executed, [`Error::InvalidArgument`] for a malformed request.
///
/// ```no_run
/// use procgate_guest::sync::create_subprocess_exec;
/// use procgate_guest::{Options, PIPE};
///
/// let mut proc = create_subprocess_exec("ls", ["-l", "/"], Options::new().stdout(PIPE))?;
/// let listing = proc.stdout.as_mut().unwrap().read(-1)?;
/// proc.wait()?;
///
/// // No arguments:
/// let proc = create_subprocess_exec("true", [""; 0], Options::new())?;
/// # Ok::<(), procgate_guest::Error>(())
/// ```
pub fn create_subprocess_exec<I, S>(program: &str, args: I, options: Options) -> Result<Process>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    shared::spawn_exec(program, args, &options).map(Process::new)
}

/// Run the `cmd` shell command with the host's shell (`/bin/sh -c cmd`
/// unless the policy configures another): asyncio's
/// `create_subprocess_shell`. Denied unless the policy grants a shell.
///
/// It is the guest's responsibility to quote all whitespace and special
/// characters appropriately to avoid shell injection.
///
/// ```no_run
/// use procgate_guest::sync::create_subprocess_shell;
/// use procgate_guest::Options;
///
/// let proc = create_subprocess_shell("exit 7", Options::new())?;
/// assert_eq!(proc.wait()?, 7);
/// # Ok::<(), procgate_guest::Error>(())
/// ```
pub fn create_subprocess_shell(cmd: &str, options: Options) -> Result<Process> {
    shared::spawn_shell(cmd, &options).map(Process::new)
}

/// A child process: asyncio's `Process`, made by [`create_subprocess_exec`]
/// and [`create_subprocess_shell`].
///
/// The streams the options piped are in [`Process::stdin`],
/// [`Process::stdout`] and [`Process::stderr`], as in asyncio. When the
/// `Process` is dropped (and no stream taken out of it is left), the host
/// kills the child if it still runs and reaps it.
///
/// ```no_run
/// use procgate_guest::sync::create_subprocess_exec;
/// use procgate_guest::{Options, PIPE};
///
/// let mut proc = create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE).stdout(PIPE))?;
/// let stdin = proc.stdin.as_mut().unwrap();
/// stdin.write(b"some data")?;
/// stdin.drain()?;
/// stdin.close();
/// let data = proc.stdout.as_mut().unwrap().read(-1)?;
/// assert_eq!(data, b"some data");
/// assert_eq!(proc.wait()?, 0);
/// # Ok::<(), procgate_guest::Error>(())
/// ```
pub struct Process {
    // Field order is drop order: the streams before the process.
    /// Standard input stream ([`StreamWriter`]), or `None` unless the
    /// process was created with `stdin(PIPE)`.
    pub stdin: Option<StreamWriter>,
    /// Standard output stream ([`StreamReader`]), or `None` unless the
    /// process was created with `stdout(PIPE)`.
    pub stdout: Option<StreamReader>,
    /// Standard error stream ([`StreamReader`]), or `None` unless the
    /// process was created with `stderr(PIPE)`.
    pub stderr: Option<StreamReader>,
    core: ProcCore,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid())
            .field("stdin", &self.stdin.is_some())
            .field("stdout", &self.stdout.is_some())
            .field("stderr", &self.stderr.is_some())
            .finish_non_exhaustive()
    }
}

impl Process {
    fn new(spawned: Spawned) -> Self {
        Self {
            stdin: spawned.stdin.map(|core| StreamWriter { core }),
            stdout: spawned.stdout.map(|core| StreamReader { core }),
            stderr: spawned.stderr.map(|core| StreamReader { core }),
            core: spawned.proc,
        }
    }

    /// Process identification number (PID). For processes created by
    /// [`create_subprocess_shell`], this is the PID of the spawned shell.
    ///
    /// ```no_run
    /// # let proc = procgate_guest::sync::create_subprocess_exec("true", [""; 0], Default::default())?;
    /// println!("started {}", proc.pid());
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn pid(&self) -> u32 {
        self.core.pid()
    }

    /// Return code of the process when it exits. `None` while the process
    /// has not terminated yet; a negative value `-N` when the child was
    /// terminated by signal `N`.
    ///
    /// ```no_run
    /// # let proc = procgate_guest::sync::create_subprocess_shell("exit 3", Default::default())?;
    /// proc.wait()?;
    /// assert_eq!(proc.returncode(), Some(3));
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn returncode(&self) -> Option<i32> {
        self.core.returncode()
    }

    /// Wait for the child process to terminate; set and return its return
    /// code.
    ///
    /// Note: this method can deadlock when using `stdout(PIPE)` or
    /// `stderr(PIPE)` and the child process generates so much output that it
    /// blocks waiting for the OS pipe buffer to accept more data. Use the
    /// [`communicate`](Process::communicate) method when using pipes to avoid
    /// this condition.
    ///
    /// ```no_run
    /// use procgate_guest::sync::create_subprocess_shell;
    ///
    /// let proc = create_subprocess_shell("exit 7", Default::default())?;
    /// assert_eq!(proc.wait()?, 7);
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn wait(&self) -> Result<i32> {
        if let Some(code) = self.core.known_returncode() {
            return Ok(code);
        }
        let code = self.core.wit.wait()?;
        self.core.set_returncode(code);
        Ok(code)
    }

    /// Interact with the process:
    ///
    /// 1. send `input` to stdin (if `input` is not `None`);
    /// 2. close stdin;
    /// 3. read data from stdout and stderr, until EOF is reached;
    /// 4. wait for the process to terminate.
    ///
    /// Returns `(stdout_data, stderr_data)` and sets the return code.
    ///
    /// If the process exits before all input is written (a broken pipe),
    /// the error is ignored. To send data to stdin, the process needs to be
    /// created with `stdin(PIPE)`; otherwise `input` is ignored, as in
    /// asyncio. To get anything other than `None` in the result, the process
    /// has to be created with `stdout(PIPE)` and/or `stderr(PIPE)`. Bytes
    /// already read into a [`StreamReader`]'s buffer but not yet returned
    /// come first in its result. The data read is buffered in memory (in the
    /// host, which may limit it: [`Error::LimitExceeded`]), so do not use
    /// this method if the data size is large or unlimited.
    ///
    /// stdin gets closed when `input` is `None` too.
    ///
    /// ```no_run
    /// use procgate_guest::sync::create_subprocess_exec;
    /// use procgate_guest::{Options, PIPE};
    ///
    /// let mut proc = create_subprocess_exec(
    ///     "python3",
    ///     ["-c", "import sys; print(len(sys.stdin.read()))"],
    ///     Options::new().stdin(PIPE).stdout(PIPE).stderr(PIPE),
    /// )?;
    /// let (stdout, stderr) = proc.communicate(Some(b"abc"))?;
    /// assert_eq!(stdout.unwrap(), b"3\n");
    /// assert_eq!(stderr.unwrap(), b"");
    /// assert_eq!(proc.returncode(), Some(0));
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    #[allow(clippy::type_complexity)] // asyncio's (stdout_data, stderr_data)
    pub fn communicate(
        &mut self,
        input: Option<&[u8]>,
    ) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>)> {
        let feed = shared::plan_feed(self.stdin.as_mut().map(|w| &mut w.core), Vec::new(), input);
        let output = match feed {
            Feed::Host(input) => self.core.wit.communicate(input.as_deref())?,
            Feed::Guest(data) => {
                // Let the host read stdout/stderr while the guest writes
                // stdin, so a child that writes before it reads does not
                // deadlock us.
                let future = self.core.wit.start_communicate(None)?;
                if let Some(writer) = self.stdin.as_mut() {
                    shared::feed_blocking_and_close(&mut writer.core, &data);
                }
                loop {
                    {
                        // The pollable borrows `future`: dropped before it.
                        let ready = future.subscribe();
                        ready.block();
                    }
                    if let Some(result) = future.get() {
                        break result?;
                    }
                }
            }
        };
        Ok(shared::deliver(
            &self.core,
            self.stdout.as_mut().map(|r| &mut r.core),
            self.stderr.as_mut().map(|r| &mut r.core),
            output,
        ))
    }

    /// Send the signal `signal` to the child process.
    ///
    /// Fails with [`Error::ProcessExited`] (Python's `ProcessLookupError`)
    /// once the process has exited, and with [`Error::Denied`] if the
    /// policy does not let the guest send this signal.
    ///
    /// ```no_run
    /// use procgate_guest::sync::create_subprocess_exec;
    /// use procgate_guest::{Options, Signal};
    ///
    /// let proc = create_subprocess_exec("sleep", ["3600"], Options::new())?;
    /// proc.send_signal(Signal::Hup)?;
    /// assert_eq!(proc.wait()?, -1);
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn send_signal(&self, signal: Signal) -> Result<()> {
        self.core.send_signal(signal)
    }

    /// Stop the child process: send it `SIGTERM`.
    ///
    /// ```no_run
    /// # let proc = procgate_guest::sync::create_subprocess_exec("sleep", ["3600"], Default::default())?;
    /// proc.terminate()?;
    /// assert_eq!(proc.wait()?, -15);
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn terminate(&self) -> Result<()> {
        self.core.terminate()
    }

    /// Kill the child process: send it `SIGKILL`.
    ///
    /// ```no_run
    /// # let proc = procgate_guest::sync::create_subprocess_exec("sleep", ["3600"], Default::default())?;
    /// proc.kill()?;
    /// assert_eq!(proc.wait()?, -9);
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn kill(&self) -> Result<()> {
        self.core.kill()
    }
}

/// Reads a child's stdout or stderr: asyncio's `StreamReader`, blocking.
///
/// It buffers what it reads; `readline` and `readuntil` fail with
/// [`Error::LimitOverrun`] on a line longer than the `limit` of the
/// process's [`Options`] (64 KiB by default).
///
/// ```no_run
/// use procgate_guest::sync::create_subprocess_exec;
/// use procgate_guest::{Options, PIPE};
///
/// let mut proc = create_subprocess_exec("ls", ["/"], Options::new().stdout(PIPE))?;
/// let stdout = proc.stdout.as_mut().unwrap();
/// loop {
///     let line = stdout.readline()?;
///     if line.is_empty() {
///         break;
///     }
///     print!("{}", String::from_utf8_lossy(&line));
/// }
/// proc.wait()?;
/// # Ok::<(), procgate_guest::Error>(())
/// ```
pub struct StreamReader {
    core: ReaderCore,
}

impl std::fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamReader")
            .field("buffer", &self.core.buf)
            .finish_non_exhaustive()
    }
}

impl StreamReader {
    /// Run one read operation to its end, reading more from the stream with
    /// blocking reads whenever the buffer does not hold enough.
    fn run<T>(&mut self, mut step: impl FnMut(&mut shared::ReadBuf) -> Step<T>) -> T {
        loop {
            if let Step::Ready(value) = step(&mut self.core.buf) {
                return value;
            }
            self.fill();
        }
    }

    fn fill(&mut self) {
        let Some(stream) = self.core.stream() else {
            return;
        };
        let read = stream.blocking_read(shared::READ_CHUNK);
        self.core.feed(read);
    }

    /// Read up to `n` bytes. If `n` is `-1` (any negative value), read until
    /// EOF and return all the bytes read; if `n` is `0`, return empty bytes
    /// at once. Otherwise block until at least one byte is available and
    /// return up to `n` bytes.
    ///
    /// Empty bytes mean EOF was reached (or `n` was 0).
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let stdout = proc.stdout.as_mut().unwrap();
    /// let first = stdout.read(100)?; // at most 100 bytes
    /// let rest = stdout.read(-1)?; // everything up to EOF
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn read(&mut self, n: isize) -> Result<Vec<u8>> {
        self.run(|buf| buf.read(n))
    }

    /// Read one line, where "line" is a sequence of bytes ending with `\n`.
    ///
    /// If EOF is reached and no `\n` was found, return the partial data
    /// read; return empty bytes once EOF is reached with an empty buffer.
    /// A line longer than the limit fails with [`Error::LimitOverrun`] and
    /// is dropped from the buffer, as asyncio does.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let line = proc.stdout.as_mut().unwrap().readline()?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn readline(&mut self) -> Result<Vec<u8>> {
        let mut offset = 0;
        self.run(|buf| buf.readline(&mut offset))
    }

    /// Read exactly `n` bytes.
    ///
    /// Fails with [`Error::IncompleteRead`] if EOF is reached before `n`
    /// bytes can be read; its `partial` holds the bytes read.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let header = proc.stdout.as_mut().unwrap().readexactly(4)?;
    /// assert_eq!(header.len(), 4);
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn readexactly(&mut self, n: usize) -> Result<Vec<u8>> {
        self.run(|buf| buf.readexactly(n))
    }

    /// Read data until `separator` is found; return it with the separator
    /// at its end.
    ///
    /// If the amount of data read exceeds the limit, fail with
    /// [`Error::LimitOverrun`] and leave the data in the buffer, so it can be
    /// read again. If EOF is reached before the separator is found, fail
    /// with [`Error::IncompleteRead`] whose `partial` holds the data read
    /// (no longer in the buffer). An empty separator is
    /// [`Error::InvalidArgument`].
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let record = proc.stdout.as_mut().unwrap().readuntil(b"\0")?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>> {
        let mut offset = 0;
        self.run(|buf| buf.readuntil(separator, &mut offset))
    }

    /// Return `true` if the buffer is empty and EOF was reached. When the
    /// buffer is empty this looks at the stream once, without blocking.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let stdout = proc.stdout.as_mut().unwrap();
    /// while !stdout.at_eof() {
    ///     let line = stdout.readline()?;
    /// }
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn at_eof(&mut self) -> bool {
        self.core.at_eof()
    }
}

/// Writes to a child's stdin: asyncio's `StreamWriter`, blocking.
///
/// Unlike asyncio's, [`write`](StreamWriter::write) does not buffer: it
/// blocks until the data is handed to the host, so it can block while the
/// child does not read its input.
///
/// ```no_run
/// use procgate_guest::sync::create_subprocess_exec;
/// use procgate_guest::{Options, PIPE};
///
/// let mut proc = create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE))?;
/// let stdin = proc.stdin.as_mut().unwrap();
/// stdin.write(b"hello\n")?;
/// stdin.drain()?;
/// stdin.close();
/// proc.wait()?;
/// # Ok::<(), procgate_guest::Error>(())
/// ```
pub struct StreamWriter {
    core: WriterCore,
}

impl std::fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamWriter")
            .field("closing", &self.is_closing())
            .finish_non_exhaustive()
    }
}

impl StreamWriter {
    /// Write `data` to the stream, blocking until the host has taken it all.
    ///
    /// Fails with [`Error::Closed`] if the stream was closed (by
    /// [`close`](StreamWriter::close), or because the child closed its end
    /// or exited: Python's `BrokenPipeError`), or [`Error::Stream`] if the
    /// host's write failed.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// proc.stdin.as_mut().unwrap().write(b"some data")?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return if self.core.is_closed() {
                Err(Error::Closed)
            } else {
                Ok(())
            };
        }
        for chunk in data.chunks(shared::WRITE_CHUNK) {
            let stream = self.core.stream()?;
            if let Err(e) = stream.blocking_write_and_flush(chunk) {
                return Err(self.core.failed(e));
            }
        }
        Ok(())
    }

    /// Wait until everything written has been flushed to the child. As
    /// [`write`](StreamWriter::write) already waits, this only reports a
    /// closed stream ([`Error::Closed`]) or a failed flush.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.write(b"some data")?;
    /// stdin.drain()?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn drain(&mut self) -> Result<()> {
        if self.core.is_untaken() {
            return Ok(());
        }
        let stream = self.core.stream()?;
        if let Err(e) = stream.blocking_flush() {
            return Err(self.core.failed(e));
        }
        Ok(())
    }

    /// Close the stream: the child sees end of file on its stdin. Closing
    /// again does nothing.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.close();
    /// assert!(stdin.is_closing());
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn close(&mut self) {
        self.core.close();
    }

    /// Wait until the stream is closed. The blocking writer closes at once
    /// in [`close`](StreamWriter::close), so this returns at once; it is
    /// here for code written after asyncio's `close()` + `wait_closed()`.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.close();
    /// stdin.wait_closed();
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn wait_closed(&mut self) {}

    /// Return `true` if the stream is closed or being closed.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// assert!(!proc.stdin.as_ref().unwrap().is_closing());
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn is_closing(&self) -> bool {
        self.core.is_closed()
    }
}

impl crate::PipeSource for Process {
    fn wit_process(&self) -> std::rc::Rc<crate::bindings::procgate::subprocess::types::Process> {
        std::rc::Rc::clone(&self.core.wit)
    }
}
