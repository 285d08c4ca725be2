//! The async face's [`Process`]: asyncio's `Process`, its waits awaited.

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
/// use procgate_guest::aio::{create_subprocess_exec, run};
/// use procgate_guest::{Options, PIPE};
///
/// run(async {
///     let mut proc = create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE).stdout(PIPE)).await?;
///     let stdin = proc.stdin.as_mut().unwrap();
///     stdin.write(b"some data")?;
///     stdin.drain().await?;
///     stdin.close();
///     let data = proc.stdout.as_mut().unwrap().read(-1).await?;
///     assert_eq!(data, b"some data");
///     assert_eq!(proc.wait().await?, 0);
///     Ok::<(), procgate_guest::Error>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
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
    pub(super) fn new(spawned: Spawned) -> Self {
        Self {
            stdin: spawned.stdin.map(|core| StreamWriter {
                core: Box::new(core),
                closing: None,
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
    /// # procgate_guest::aio::run(async {
    /// let proc = procgate_guest::aio::create_subprocess_exec("true", [""; 0], Default::default()).await?;
    /// println!("started {}", proc.pid());
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub fn pid(&self) -> u32 {
        self.core.pid()
    }

    /// Return code of the process when it exits. `None` while the process
    /// has not terminated yet; a negative value `-N` when the child was
    /// terminated by signal `N`.
    ///
    /// ```
    /// # procgate_guest::aio::run(async {
    /// let proc = procgate_guest::aio::create_subprocess_shell("exit 3", Default::default()).await?;
    /// proc.wait().await?;
    /// assert_eq!(proc.returncode(), Some(3));
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub fn returncode(&self) -> Option<i32> {
        self.core.returncode()
    }

    /// Wait for the child process to terminate; set and return its return
    /// code. Other futures run meanwhile.
    ///
    /// Note: this method can deadlock when using `stdout(PIPE)` or
    /// `stderr(PIPE)` and the child process generates so much output that it
    /// blocks waiting for the OS pipe buffer to accept more data. Use the
    /// [`communicate`](Process::communicate) method when using pipes to avoid
    /// this condition.
    ///
    /// ```
    /// use procgate_guest::aio::{create_subprocess_exec, run};
    /// use procgate_guest::Options;
    ///
    /// run(async {
    ///     let proc = create_subprocess_exec("sleep", ["3600"], Options::new()).await?;
    ///     proc.kill()?;
    ///     assert_eq!(proc.wait().await?, -9);
    ///     Ok::<(), procgate_guest::Error>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn wait(&self) -> Result<i32> {
        if let Some(code) = self.core.known_returncode() {
            return Ok(code);
        }
        // The exit pollable does not borrow the process.
        ready(self.core.wit.subscribe()).await;
        // Ready means exited: this does not block on the child (the host
        // only lets output copied into the guest's own stdout/stderr land
        // first, for a moment at most).
        let code = self.core.wit.wait()?;
        self.core.set_returncode(code);
        Ok(code)
    }

    /// The return code a wait already returned, without asking the host.
    pub(crate) fn returncode_known(&self) -> Option<i32> {
        self.core.known_returncode()
    }

    /// The return code if the process has exited, `None` if it still runs:
    /// one look, without waiting.
    pub fn try_wait(&self) -> Result<Option<i32>> {
        self.core.try_wait()
    }

    /// [`wait`](Process::wait), giving up after `timeout`: `Ok(None)` if
    /// the process still runs then (it keeps running). For any future,
    /// [`wait_for`].
    ///
    /// ```
    /// # procgate_guest::aio::run(async {
    /// # let proc = procgate_guest::aio::create_subprocess_exec("sleep", ["3600"], Default::default()).await?;
    /// if proc.wait_for(std::time::Duration::from_secs(1)).await?.is_none() {
    ///     proc.kill()?;
    /// }
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub async fn wait_for(&self, timeout: Duration) -> Result<Option<i32>> {
        match wait_for(self.wait(), timeout).await {
            Ok(code) => code.map(Some),
            Err(TimeoutError { .. }) => Ok(None),
        }
    }

    /// The exit pollable (`wasi:io/poll`): ready once the process has
    /// exited, to wait for it with other pollables yourself (or give it to
    /// [`wstd::runtime::AsyncPollable::new`]). It does not borrow the
    /// process.
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
    /// Returns `(stdout_data, stderr_data)` and sets the return code. Other
    /// futures run meanwhile: several `communicate`s in a [`gather`] run at
    /// once.
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
    /// use procgate_guest::aio::{create_subprocess_exec, run};
    /// use procgate_guest::{Options, PIPE};
    ///
    /// run(async {
    ///     let mut proc = create_subprocess_exec(
    ///         "python3",
    ///         ["-c", "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"],
    ///         Options::new().stdin(PIPE).stdout(PIPE),
    ///     )
    ///     .await?;
    ///     let (stdout, stderr) = proc.communicate(Some(b"some data")).await?;
    ///     assert_eq!(stdout.unwrap(), b"some data");
    ///     assert_eq!(stderr, None);
    ///     assert_eq!(proc.returncode(), Some(0));
    ///     Ok::<(), procgate_guest::Error>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn communicate(&mut self, input: Option<&[u8]>) -> Result<Communicated> {
        self.start_communicate(input)?.wait().await
    }

    /// Start a [`communicate`](Process::communicate) in the host and return
    /// at once (the WIT's `start-communicate`): the [`Communication`] gives
    /// its pollable, a look without waiting, a wait with a timeout, and the
    /// process meanwhile.
    ///
    /// When the guest has taken stdin (it wrote to it), a task of the
    /// reactor writes what it buffered and `input`, then closes stdin: call
    /// this inside [`run`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use procgate_guest::aio::{create_subprocess_exec, run};
    /// use procgate_guest::{Options, PIPE};
    ///
    /// run(async {
    ///     let mut proc = create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE).stdout(PIPE)).await?;
    ///     let mut talk = proc.start_communicate(Some(b"hello"))?;
    ///     if talk.wait_for(Duration::from_secs(5)).await?.is_none() {
    ///         talk.process().kill()?;
    ///     }
    ///     Ok::<(), procgate_guest::Error>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start_communicate(&mut self, input: Option<&[u8]>) -> Result<Communication<'_>> {
        let feed = shared::plan_feed(self.stdin.as_mut().map(|w| &mut *w.core), input);
        // A close still running in the background: awaited with the result.
        let closing = self.stdin.as_mut().and_then(|w| w.closing.take());
        let (future, feeding) = match feed {
            Feed::Host(input) => (self.core.wit.start_communicate(input.as_deref())?, None),
            Feed::Guest(data) => {
                // The host reads stdout/stderr while we write stdin.
                let future = self.core.wit.start_communicate(None)?;
                let writer = self.stdin.as_mut().expect("Feed::Guest has a writer");
                let process = writer.core.process();
                let stream = writer.core.take_open(shared::CLOSED_BY_COMMUNICATE);
                let task = stream.map(|stream| {
                    wstd::runtime::spawn(async move {
                        // Broken pipes are ignored, as asyncio does.
                        let _ = write_all(&stream, &data).await;
                        drop(stream);
                        drop(process);
                    })
                });
                (future, task)
            }
        };
        let feeding = [closing, feeding.map(|t| Closing(Some(t)))];
        let feeding = feeding.into_iter().flatten().collect();
        Ok(Communication::new(future, feeding, self))
    }

    /// Send the signal `signal` to the child process.
    ///
    /// Fails with [`HostError::ProcessExited`] (Python's `ProcessLookupError`)
    /// once the process has exited, and with [`HostError::Denied`] if the
    /// policy does not let the guest send this signal.
    ///
    /// ```
    /// use procgate_guest::aio::{create_subprocess_exec, run};
    /// use procgate_guest::{Options, Signal, PIPE};
    ///
    /// run(async {
    ///     let code = "import time; print('sleeping', flush=True); time.sleep(3600)";
    ///     let mut proc = create_subprocess_exec("python3", ["-c", code], Options::new().stdout(PIPE)).await?;
    ///     assert_eq!(proc.stdout.as_mut().unwrap().readline().await?, b"sleeping\n");
    ///     proc.send_signal(Signal::Hup)?;
    ///     assert_eq!(proc.wait().await?, -1);
    ///     Ok::<(), procgate_guest::Error>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_signal(&self, signal: Signal) -> Result<()> {
        self.core.send_signal(signal)
    }

    /// Stop the child process: send it `SIGTERM`.
    ///
    /// ```
    /// # procgate_guest::aio::run(async {
    /// let proc = procgate_guest::aio::create_subprocess_exec("sleep", ["3600"], Default::default()).await?;
    /// proc.terminate()?;
    /// assert_eq!(proc.wait().await?, -15);
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub fn terminate(&self) -> Result<()> {
        self.core.terminate()
    }

    /// Kill the child process: send it `SIGKILL`.
    ///
    /// ```
    /// # procgate_guest::aio::run(async {
    /// let proc = procgate_guest::aio::create_subprocess_exec("sleep", ["3600"], Default::default()).await?;
    /// proc.kill()?;
    /// assert_eq!(proc.wait().await?, -9);
    /// # Ok::<(), procgate_guest::Error>(()) });
    /// ```
    pub fn kill(&self) -> Result<()> {
        self.core.kill()
    }
}

impl From<crate::sync::Process> for Process {
    /// The same process on the async face, with its streams and what they
    /// buffered.
    fn from(process: crate::sync::Process) -> Self {
        Self::new(process.into_spawned())
    }
}
