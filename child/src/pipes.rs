//! A child's pipes: [`PipeReader`] and [`PipeWriter`] own one end of a
//! pipe in non-blocking mode, registered with tokio's reactor, and read or
//! write it directly (no task and no extra copy per chunk). Pipes are made
//! with `O_CLOEXEC`, so a child never inherits another child's pipe.

use bytes::BytesMut;
use futures::FutureExt;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, OwnedFd};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// Most bytes one read returns; the same as wasmtime-wasi's pipe adapters.
pub const READ_CHUNK: usize = 64 * 1024;

/// A new pipe, both ends `O_CLOEXEC`: (read end, write end).
pub fn pipe() -> procgate_policy::Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| procgate_policy::Error::Io(format!("pipe: {e}")))
}

/// `fd` made non-blocking and registered with the runtime's reactor for
/// `interest`. Must run inside a tokio runtime.
fn registered(fd: OwnedFd, interest: Interest) -> io::Result<AsyncFd<OwnedFd>> {
    set_nonblocking(&fd)?;
    // SAFETY: the descriptor is owned by the AsyncFd and never replaced.
    Ok(unsafe { AsyncFd::register_with_interest(fd, interest)? })
}

/// One non-blocking read or write on `fd` now: `Ok(None)` if it would
/// block. Readiness is cleared only through a guard taken before the
/// operation, so a wakeup that arrives meanwhile is never lost; with no
/// readiness known yet the operation is tried anyway (a pipe is often
/// ready before the reactor has said so).
fn try_now(
    fd: &AsyncFd<OwnedFd>,
    interest: Interest,
    mut op: impl FnMut(&OwnedFd) -> io::Result<usize>,
) -> io::Result<Option<usize>> {
    if let Some(Ok(mut guard)) = fd.ready(interest).now_or_never() {
        return match guard.try_io(|fd| op(fd.get_ref())) {
            Ok(res) => res.map(Some),
            Err(_would_block) => Ok(None),
        };
    }
    match op(fd.get_ref()) {
        Ok(n) => Ok(Some(n)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}

/// The size of the pipe `fd` is an end of (`F_GETPIPE_SZ`).
fn pipe_size(fd: &OwnedFd) -> io::Result<usize> {
    // SAFETY: a plain fcntl on a descriptor the caller holds.
    let n = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETPIPE_SZ) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The read end of a child's stdout or stderr pipe.
#[derive(Debug)]
pub struct PipeReader {
    fd: AsyncFd<OwnedFd>,
    growth: Growth,
}

impl PipeReader {
    /// Takes ownership of a pipe's read end. Must run inside a tokio runtime.
    pub fn new(fd: impl Into<OwnedFd>) -> io::Result<PipeReader> {
        Ok(PipeReader {
            fd: registered(fd.into(), Interest::READABLE)?,
            growth: Growth::default(),
        })
    }

    /// `read(2)` into `spare`; returns how many bytes the kernel wrote.
    fn raw_read(fd: &OwnedFd, spare: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
        // SAFETY: reading into `spare.len()` bytes of memory we own.
        let n = unsafe { libc::read(fd.as_raw_fd(), spare.as_mut_ptr().cast(), spare.len()) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    /// Reads what is available now into `spare`. `Ok(Some(0))` is end of
    /// file; `Ok(None)` means nothing is available yet.
    pub(crate) fn try_read_into(&self, spare: &mut [MaybeUninit<u8>]) -> io::Result<Option<usize>> {
        try_now(&self.fd, Interest::READABLE, |fd| Self::raw_read(fd, spare))
    }

    /// Reads what is available now, up to `max` bytes, appending to `buf`.
    /// `Ok(Some(0))` is end of file; `Ok(None)` means nothing is available yet.
    pub fn try_read(&self, buf: &mut BytesMut, max: usize) -> io::Result<Option<usize>> {
        buf.reserve(max);
        let spare = buf.spare_capacity_mut();
        let len = spare.len().min(max);
        let n = self.try_read_into(&mut spare[..len])?;
        if let Some(n) = n {
            // SAFETY: the kernel initialised `n` bytes of the spare capacity.
            unsafe { buf.set_len(buf.len() + n) };
        }
        Ok(n)
    }

    /// Grows the pipe to [`GROWN_PIPE`] bytes the first time this is
    /// asked, while fewer than [`GROWN_PIPES_MAX`] pipes are grown; whether
    /// it grew. For a reader that found a full pipe and will read on (a
    /// `communicate`'s): the child writes on while the host copies what it
    /// read, instead of waiting for each 64 KiB to be read.
    pub fn grow_once(&self) -> bool {
        self.growth.grow_once(self.fd.get_ref())
    }

    /// Whether [`PipeReader::grow_once`] grew the pipe.
    pub fn grown(&self) -> bool {
        self.growth.grown()
    }

    /// The pipe's size now (`F_GETPIPE_SZ`).
    pub fn capacity(&self) -> io::Result<usize> {
        pipe_size(self.fd.get_ref())
    }

    /// The pipe's descriptor (non-blocking, registered with tokio).
    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.fd.get_ref().as_fd()
    }

    /// Sets or clears `O_NONBLOCK` on the pipe's open file description
    /// (shared with every duplicate of the descriptor).
    pub fn set_blocking(&self, blocking: bool) -> io::Result<()> {
        let raw = self.fd.get_ref().as_raw_fd();
        // SAFETY: fcntl on a descriptor we own.
        let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        let flags = if blocking {
            flags & !libc::O_NONBLOCK
        } else {
            flags | libc::O_NONBLOCK
        };
        // SAFETY: as above.
        if unsafe { libc::fcntl(raw, libc::F_SETFL, flags) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits until a read would not block (data or end of file).
    pub async fn readable(&self) {
        // An error here means the reactor is gone; the next read reports it.
        let _ = self.fd.readable().await;
    }

    /// Reads up to `max` bytes, waiting for at least one (empty at EOF).
    pub async fn read(&self, buf: &mut BytesMut, max: usize) -> io::Result<usize> {
        loop {
            if let Some(n) = self.try_read(buf, max)? {
                return Ok(n);
            }
            self.readable().await;
        }
    }
}

/// The write end of a child's stdin pipe.
///
/// A pipe the guest fills (a write found it full: the guest streams
/// faster than the child reads) is grown once to [`GROWN_PIPE`] bytes, so
/// that the guest's next writes land while the child reads instead of
/// each waiting for the child to empty the pipe. Measured (`bench/`,
/// `stdin-stream`, 64 KiB writes into `cat`): about 2.8 GB/s with the
/// kernel's 64 KiB pipe, about 3.7 GB/s grown. A stdout pipe the guest
/// streams from was no faster grown (`stdout-stream`); one a
/// `communicate` reads is grown ([`PipeReader::grow_once`]).
#[derive(Debug)]
pub struct PipeWriter {
    fd: AsyncFd<OwnedFd>,
    growth: Growth,
}

/// The size a pipe grows to: 256 KiB.
pub const GROWN_PIPE: usize = 256 * 1024;

/// Most pipes grown at once in a host: a pipe's size counts against its
/// user's `pipe-user-pages-soft`, past which the kernel makes the user's
/// new pipes small.
pub const GROWN_PIPES_MAX: usize = 16;

/// Pipes grown now.
static GROWN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether one pipe was looked at for growing, and whether it grew (and
/// so counts in [`GROWN`] until it is dropped).
#[derive(Debug, Default)]
struct Growth {
    tried: std::sync::atomic::AtomicBool,
    grown: std::sync::atomic::AtomicBool,
}

impl Growth {
    /// Grows `fd`'s pipe to [`GROWN_PIPE`] the first time it is called,
    /// while fewer than [`GROWN_PIPES_MAX`] are grown; whether it grew.
    fn grow_once(&self, fd: &OwnedFd) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        if self.tried.swap(true, Relaxed) {
            return false;
        }
        if GROWN.fetch_add(1, Relaxed) >= GROWN_PIPES_MAX {
            GROWN.fetch_sub(1, Relaxed);
            return false;
        }
        // SAFETY: a plain fcntl on our own descriptor; a refusal (EPERM
        // past the user's hard limit, EBUSY) leaves the pipe as it was.
        let set = unsafe {
            libc::fcntl(
                fd.as_raw_fd(),
                libc::F_SETPIPE_SZ,
                GROWN_PIPE as libc::c_int,
            )
        };
        if set < 0 {
            GROWN.fetch_sub(1, Relaxed);
            return false;
        }
        self.grown.store(true, Relaxed);
        true
    }

    fn grown(&self) -> bool {
        self.grown.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for Growth {
    fn drop(&mut self) {
        if self.grown() {
            GROWN.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl PipeWriter {
    /// Takes ownership of a pipe's write end. Must run inside a tokio runtime.
    pub fn new(fd: impl Into<OwnedFd>) -> io::Result<PipeWriter> {
        Ok(PipeWriter {
            fd: registered(fd.into(), Interest::WRITABLE)?,
            growth: Growth::default(),
        })
    }

    /// The pipe's size now (`F_GETPIPE_SZ`).
    pub fn capacity(&self) -> io::Result<usize> {
        pipe_size(self.fd.get_ref())
    }

    fn raw_write(fd: &OwnedFd, buf: &[u8]) -> io::Result<usize> {
        // SAFETY: writing from an initialised buffer.
        let n = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    /// Writes what the pipe takes now; `Ok(None)` if it is full (a pipe
    /// found full the first time is grown and written again).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<Option<usize>> {
        match try_now(&self.fd, Interest::WRITABLE, |fd| Self::raw_write(fd, buf))? {
            None if self.growth.grow_once(self.fd.get_ref()) => {
                try_now(&self.fd, Interest::WRITABLE, |fd| Self::raw_write(fd, buf))
            }
            done => Ok(done),
        }
    }

    /// Waits until a write would not block (or would fail).
    pub async fn writable(&self) {
        let _ = self.fd.writable().await;
    }

    /// Writes all of `buf`, waiting for the child to read.
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.try_write(buf)? {
                Some(n) => buf = &buf[n..],
                None => self.writable().await,
            }
        }
        Ok(())
    }
}
