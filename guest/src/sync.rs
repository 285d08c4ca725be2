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

use std::time::Duration;

use wasip2::io::poll::Pollable;

use crate::bindings::procgate::subprocess::types as wit;
use crate::shared::{self, Feed, ProcCore, ReaderCore, Spawned, Step, WriterCore};
use crate::{HostError, Options, Signal, StreamError};

type Result<T, E = HostError> = std::result::Result<T, E>;

/// What `communicate` returns: asyncio's `(stdout_data, stderr_data)`.
pub type Communicated = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Create a subprocess running `program` with the arguments `args` (which
/// exclude the program itself): asyncio's `create_subprocess_exec`.
///
/// The host's policy decides first: the program must be allowed, and a name
/// without a slash is looked up on the policy's own search path, never the
/// guest's `PATH`. `options` gives asyncio's keyword arguments (`stdin=`,
/// `stdout=`, `stderr=`, `limit=`, `cwd=`, `env=`, `start_new_session=`).
///
/// Fails with [`HostError::Denied`] if the policy refuses,
/// [`HostError::NotFound`] if there is no such program,
/// [`HostError::PermissionDenied`] if it cannot be executed,
/// [`HostError::InvalidArgument`] for a malformed request.
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
    pub(crate) core: ProcCore,
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
    pub(crate) fn new(spawned: Spawned) -> Self {
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

    /// The return code if the process has exited, `None` if it still runs:
    /// one look, without blocking (`Popen.poll()` in Python's
    /// `subprocess`).
    ///
    /// ```no_run
    /// # let proc = procgate_guest::sync::create_subprocess_exec("sleep", ["1"], Default::default())?;
    /// while proc.try_wait()?.is_none() {
    ///     // do something else
    /// }
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn try_wait(&self) -> Result<Option<i32>> {
        self.core.try_wait()
    }

    /// [`wait`](Process::wait), giving up after `timeout`: `Ok(None)` if
    /// the process still runs then (it keeps running, as after asyncio's
    /// `wait_for(proc.wait(), timeout)` raised `TimeoutError`).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// # let proc = procgate_guest::sync::create_subprocess_exec("sleep", ["3600"], Default::default())?;
    /// if proc.wait_for(Duration::from_secs(1))?.is_none() {
    ///     proc.kill()?;
    ///     proc.wait()?;
    /// }
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn wait_for(&self, timeout: Duration) -> Result<Option<i32>> {
        if self.core.known_returncode().is_none() {
            let exit = self.core.subscribe();
            if !shared::block_until(&[&exit], Some(timeout)) {
                return Ok(None);
            }
        }
        self.try_wait()
    }

    /// The exit pollable (`wasi:io/poll`): ready once the process has
    /// exited, to wait for it together with other pollables with
    /// [`wasip2::io::poll::poll`]. It does not borrow the process.
    ///
    /// ```no_run
    /// use procgate_guest::wasip2::io::poll::poll;
    /// # let a = procgate_guest::sync::create_subprocess_exec("sleep", ["1"], Default::default())?;
    /// # let b = procgate_guest::sync::create_subprocess_exec("sleep", ["2"], Default::default())?;
    /// let (exit_a, exit_b) = (a.subscribe(), b.subscribe());
    /// let first = poll(&[&exit_a, &exit_b]); // [0]: a ended first
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn subscribe(&self) -> Pollable {
        self.core.subscribe()
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
    /// has to be created with `stdout(PIPE)` and/or `stderr(PIPE)`. Data
    /// written with [`StreamWriter::write`] and not yet sent goes before
    /// `input`; bytes already read into a [`StreamReader`]'s buffer but not
    /// yet returned come first in its result. The data read is buffered in
    /// memory (in the host, which may limit it: [`HostError::LimitExceeded`]),
    /// so do not use this method if the data size is large or unlimited.
    ///
    /// stdin gets closed when `input` is `None` too. This is
    /// [`start_communicate`](Process::start_communicate) and
    /// [`Communication::wait`].
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
    pub fn communicate(&mut self, input: Option<&[u8]>) -> Result<Communicated> {
        self.start_communicate(input)?.wait()
    }

    /// Start a [`communicate`](Process::communicate) in the host and return
    /// at once (the WIT's `start-communicate`): the [`Communication`] gives
    /// its pollable, a look without blocking, a wait with a timeout, and the
    /// process meanwhile (to kill it, say).
    ///
    /// When the guest has taken stdin (it wrote to it), the guest writes
    /// what it buffered and `input` itself, blocking, before this returns;
    /// otherwise the host feeds `input`.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use procgate_guest::sync::create_subprocess_exec;
    /// use procgate_guest::{Options, PIPE};
    ///
    /// let mut proc = create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE).stdout(PIPE))?;
    /// let mut talk = proc.start_communicate(Some(b"hello"))?;
    /// let (out, _) = match talk.wait_for(Duration::from_secs(5))? {
    ///     Some(result) => result,
    ///     None => {
    ///         talk.process().kill()?;
    ///         talk.wait()?
    ///     }
    /// };
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn start_communicate(&mut self, input: Option<&[u8]>) -> Result<Communication<'_>> {
        let feed = shared::plan_feed(self.stdin.as_mut().map(|w| &mut w.core), input);
        let future = match feed {
            Feed::Host(input) => self.core.wit.start_communicate(input.as_deref())?,
            Feed::Guest(data) => {
                // The host reads stdout/stderr while the guest writes stdin,
                // so a child that writes before it reads does not deadlock.
                let future = self.core.wit.start_communicate(None)?;
                if let Some(writer) = self.stdin.as_mut() {
                    shared::feed_blocking_and_close(&mut writer.core, &data);
                }
                future
            }
        };
        Ok(Communication {
            future,
            process: self,
        })
    }

    /// Send the signal `signal` to the child process.
    ///
    /// Fails with [`HostError::ProcessExited`] (Python's `ProcessLookupError`)
    /// once the process has exited, and with [`HostError::Denied`] if the
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
/// [`StreamError::LimitOverrun`] on a line longer than the `limit` of the
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
    pub(crate) core: ReaderCore,
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
    /// `n` is an `isize`, as asyncio's `n=-1` wants a sign: the bytes come
    /// back in a `Vec<u8>` in the guest's memory, which on wasm32 can never
    /// hold more than `isize::MAX` bytes, so a larger count could not be
    /// served anyway.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let stdout = proc.stdout.as_mut().unwrap();
    /// let first = stdout.read(100)?; // at most 100 bytes
    /// let rest = stdout.read(-1)?; // everything up to EOF
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn read(&mut self, n: isize) -> Result<Vec<u8>, StreamError> {
        self.run(|buf| buf.read(n))
    }

    /// Read one line, where "line" is a sequence of bytes ending with `\n`.
    ///
    /// If EOF is reached and no `\n` was found, return the partial data
    /// read; return empty bytes once EOF is reached with an empty buffer.
    /// A line longer than the limit fails with [`StreamError::LimitOverrun`] and
    /// is dropped from the buffer, as asyncio does.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let line = proc.stdout.as_mut().unwrap().readline()?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn readline(&mut self) -> Result<Vec<u8>, StreamError> {
        let mut offset = 0;
        self.run(|buf| buf.readline(&mut offset))
    }

    /// Read exactly `n` bytes.
    ///
    /// Fails with [`StreamError::IncompleteRead`] if EOF is reached before `n`
    /// bytes can be read; its `partial` holds the bytes read.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let header = proc.stdout.as_mut().unwrap().readexactly(4)?;
    /// assert_eq!(header.len(), 4);
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, StreamError> {
        self.run(|buf| buf.readexactly(n))
    }

    /// Read data until `separator` is found; return it with the separator
    /// at its end.
    ///
    /// If the amount of data read exceeds the limit, fail with
    /// [`StreamError::LimitOverrun`] and leave the data in the buffer, so it can be
    /// read again. If EOF is reached before the separator is found, fail
    /// with [`StreamError::IncompleteRead`] whose `partial` holds the data read
    /// (no longer in the buffer). An empty separator is
    /// [`StreamError::InvalidArgument`].
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let record = proc.stdout.as_mut().unwrap().readuntil(b"\0")?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>, StreamError> {
        self.readuntil_any(&[separator])
    }

    /// `readuntil` with several separators (asyncio 3.13's tuple form): read
    /// until one of them is found and return the data up to and including
    /// the separator whose match ends first. No separator, or an empty one,
    /// is [`StreamError::InvalidArgument`]; the rest as
    /// [`readuntil`](StreamReader::readuntil).
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// let line = proc.stdout.as_mut().unwrap().readuntil_any(&[b"\r\n", b"\n"])?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn readuntil_any(&mut self, separators: &[&[u8]]) -> Result<Vec<u8>, StreamError> {
        let mut offset = 0;
        self.run(|buf| buf.readuntil(separators, &mut offset))
    }

    /// The lines of the stream, each with its `\n` (the last one maybe
    /// without), until EOF: asyncio's `async for line in reader`. An error
    /// is the last item.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("ls", [""; 0], procgate_guest::Options::new().stdout(procgate_guest::PIPE))?;
    /// for line in proc.stdout.as_mut().unwrap().lines() {
    ///     print!("{}", String::from_utf8_lossy(&line?));
    /// }
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn lines(&mut self) -> Lines<'_> {
        Lines {
            reader: self,
            done: false,
        }
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

/// The lines of a [`StreamReader`], from [`StreamReader::lines`].
#[derive(Debug)]
pub struct Lines<'a> {
    reader: &'a mut StreamReader,
    done: bool,
}

impl Iterator for Lines<'_> {
    type Item = Result<Vec<u8>, StreamError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.reader.readline() {
            Ok(line) if line.is_empty() => {
                self.done = true;
                None
            }
            Ok(line) => Some(Ok(line)),
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Writes to a child's stdin: asyncio's `StreamWriter`, with `drain` and
/// `close` blocking.
///
/// [`write`](StreamWriter::write) means what it means in asyncio and in
/// [`crate::aio::StreamWriter`]: it sends what the stream takes at once and
/// buffers the rest, never waiting; [`drain`](StreamWriter::drain) blocks
/// until everything is sent. [`close`](StreamWriter::close) sends what is
/// buffered, blocking, then closes. Dropping the writer closes stdin at
/// once and drops what is still buffered: `drain` or `close` first.
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
    pub(crate) core: WriterCore,
}

impl std::fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamWriter")
            .field("buffered", &self.core.pending.len())
            .field("closing", &self.is_closing())
            .finish_non_exhaustive()
    }
}

impl StreamWriter {
    /// Write `data` without waiting: what the stream accepts now is sent,
    /// the rest is buffered until [`drain`](StreamWriter::drain) (or
    /// [`close`](StreamWriter::close)).
    ///
    /// Fails with [`StreamError::Closed`] if the stream was closed (by
    /// `close`, or because the child closed its end or exited: Python's
    /// `BrokenPipeError`; the text says which), or [`StreamError::Failed`]
    /// if the host's write failed.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.write(b"some data")?;
    /// stdin.drain()?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn write(&mut self, data: &[u8]) -> Result<(), StreamError> {
        self.core.write(data)
    }

    /// Write each of `lines` (asyncio's `writelines`: no separator is
    /// added), without waiting, as [`write`](StreamWriter::write).
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.writelines([&b"one\n"[..], b"two\n"])?;
    /// stdin.drain()?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn writelines<I>(&mut self, lines: I) -> Result<(), StreamError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        lines
            .into_iter()
            .try_for_each(|line| self.core.write(line.as_ref()))
    }

    /// Block until everything written has been sent and flushed to the
    /// child.
    ///
    /// Fails with [`StreamError::Closed`] if the stream is closed (Python's
    /// `ConnectionResetError`) or [`StreamError::Failed`] if the host's
    /// write failed.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.write(&vec![b'x'; 1 << 20])?;
    /// stdin.drain()?;
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn drain(&mut self) -> Result<(), StreamError> {
        self.core.drain_blocking()
    }

    /// Close the stream: send what is buffered (blocking; a broken pipe is
    /// ignored), then close, so the child sees end of file on its stdin.
    /// Closing again does nothing.
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.close();
    /// assert!(stdin.is_closing());
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn close(&mut self) {
        self.core.close_blocking();
    }

    /// asyncio's `write_eof`: send what is buffered, then close the write
    /// end, so the child sees end of file. On a pipe this is
    /// [`close`](StreamWriter::close).
    ///
    /// ```no_run
    /// # let mut proc = procgate_guest::sync::create_subprocess_exec("cat", [""; 0], procgate_guest::Options::new().stdin(procgate_guest::PIPE))?;
    /// let stdin = proc.stdin.as_mut().unwrap();
    /// stdin.write(b"last")?;
    /// stdin.write_eof();
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn write_eof(&mut self) {
        self.close();
    }

    /// asyncio's `can_write_eof`: always `true` for a child's stdin.
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Wait until the stream is closed. [`close`](StreamWriter::close)
    /// already blocks until it is, so this returns at once; it is here for
    /// code written after asyncio's `close()` + `wait_closed()`.
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

/// A `communicate` in progress, from [`Process::start_communicate`]. The
/// process stays borrowed until it is done; [`Communication::process`]
/// gives it meanwhile.
///
/// Dropping it before the result is taken leaves the host to finish the
/// exchange; the process's readers then have nothing more to read.
pub struct Communication<'a> {
    // Field order is drop order: the host's future before the process.
    future: wit::FutureCommunicate,
    process: &'a mut Process,
}

impl std::fmt::Debug for Communication<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Communication")
            .field("process", &self.process)
            .finish_non_exhaustive()
    }
}

impl Communication<'_> {
    /// The process, to signal it or read its pid while the exchange runs.
    pub fn process(&self) -> &Process {
        self.process
    }

    /// A pollable that is ready once the result is available. It borrows
    /// this `Communication` in the host: drop it first.
    pub fn subscribe(&self) -> Pollable {
        self.future.subscribe()
    }

    /// The result if it is available, `None` if not yet: one look, without
    /// blocking. Once it returned `Some`, the result is gone; asking again
    /// returns `Some(Err(InvalidArgument))`.
    pub fn try_get(&mut self) -> Option<Result<Communicated>> {
        let result = self.future.get()?;
        Some(result.map_err(HostError::from).map(|output| {
            let process = &mut *self.process;
            shared::deliver(
                &process.core,
                process.stdout.as_mut().map(|r| &mut r.core),
                process.stderr.as_mut().map(|r| &mut r.core),
                output,
            )
        }))
    }

    /// Block until the result is available or `timeout` has passed:
    /// `Ok(None)` then, and the exchange goes on.
    pub fn wait_for(&mut self, timeout: Duration) -> Result<Option<Communicated>> {
        {
            let ready = self.subscribe();
            shared::block_until(&[&ready], Some(timeout));
        }
        self.try_get().transpose()
    }

    /// Block until the result is available and return it.
    pub fn wait(mut self) -> Result<Communicated> {
        loop {
            {
                // The pollable borrows the future: dropped before it.
                let ready = self.subscribe();
                ready.block();
            }
            if let Some(result) = self.try_get() {
                return result;
            }
        }
    }
}

impl From<crate::aio::Process> for Process {
    /// The same process on the blocking face, with its streams and what
    /// they buffered. A background `close` of the async writer still
    /// running is left to finish on the reactor (if one runs); the writer
    /// is closed here.
    fn from(process: crate::aio::Process) -> Self {
        let crate::aio::Process {
            stdin,
            stdout,
            stderr,
            core,
        } = process;
        Self {
            stdin: stdin.map(|w| StreamWriter {
                core: w.into_core(),
            }),
            stdout: stdout.map(|r| StreamReader { core: r.core }),
            stderr: stderr.map(|r| StreamReader { core: r.core }),
            core,
        }
    }
}
