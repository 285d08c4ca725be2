//! The blocking face's [`Process`]: asyncio's `Process`, every `await` a
//! blocking call.

use super::*;

/// A child process: asyncio's `Process`, made by [`create_subprocess_exec`]
/// and [`create_subprocess_shell`].
///
/// The streams the options piped are in [`Process::stdin`],
/// [`Process::stdout`] and [`Process::stderr`], as in asyncio. When the
/// `Process` is dropped (and no stream taken out of it is left), the host
/// kills the child if it still runs and reaps it.
///
/// ```
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

impl Process {
    pub(crate) fn new(spawned: Spawned) -> Self {
        Self {
            stdin: spawned.stdin.map(|core| StreamWriter {
                core: Box::new(core),
            }),
            stdout: spawned.stdout.map(|core| StreamReader {
                core: Box::new(core),
            }),
            stderr: spawned.stderr.map(|core| StreamReader {
                core: Box::new(core),
            }),
            core: spawned.proc,
        }
    }

    /// Process identification number (PID). For processes created by
    /// [`create_subprocess_shell`], this is the PID of the spawned shell.
    ///
    /// ```
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
    /// ```
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
    /// ```
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
    /// ```
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
    /// ```
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
    /// ```
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
    /// memory: this library takes it from the host as it arrives (the
    /// WIT's `take-output`), so it is held once, in the guest, and the host
    /// holds at most a few MiB of it at a time. The policy limits it per
    /// stream ([`HostError::LimitExceeded`]), so do not use this method if
    /// the data size is large or unlimited.
    ///
    /// stdin gets closed when `input` is `None` too. This is
    /// [`start_communicate`](Process::start_communicate) and
    /// [`Communication::wait`].
    ///
    /// ```
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
    /// ```
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
        let feed = shared::plan_feed(self.stdin.as_mut().map(|w| &mut *w.core), input);
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
        Ok(Communication::new(future, self))
    }

    /// Send the signal `signal` to the child process.
    ///
    /// Fails with [`HostError::ProcessExited`] (Python's `ProcessLookupError`)
    /// once the process has exited, and with [`HostError::Denied`] if the
    /// policy does not let the guest send this signal.
    ///
    /// ```
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
    /// ```
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
    /// ```
    /// # let proc = procgate_guest::sync::create_subprocess_exec("sleep", ["3600"], Default::default())?;
    /// proc.kill()?;
    /// assert_eq!(proc.wait()?, -9);
    /// # Ok::<(), procgate_guest::Error>(())
    /// ```
    pub fn kill(&self) -> Result<()> {
        self.core.kill()
    }
}

impl From<crate::aio::Process> for Process {
    /// The same process on the blocking face, with its streams and what
    /// they buffered. A background `close` of the async writer still
    /// running is left to finish on the reactor (if one runs); the writer
    /// is closed here.
    fn from(process: crate::aio::Process) -> Self {
        Self::new(process.into_spawned())
    }
}
