"""A child's pipes as the file objects of `subprocess.Popen`
(`p.stdin`, `p.stdout`, `p.stderr`): raw files over the `wasi:io` streams
the host gives for them, wrapped in `io.Buffered*`/`io.TextIOWrapper` as
CPython wraps its pipe descriptors. Waiting in them moves the bytes of
files given to children (`_pump.py`)."""

import io

from . import _pump
from ._pump import block_on as _block_on
from ._spawn import alive, attempt, call, drop, stream_error

def _no_fileno(self):
    raise io.UnsupportedOperation(
        "fileno: a procgate child's pipe is a wasi:io stream, not a descriptor (WASI has no pipes, so "
        "os.read, os.write and select cannot use it): read or write this file object, or use asyncio"
    )

class _ChildOutput(io.RawIOBase):
    """A child's stdout or stderr as a raw file, over a `wasi:io` input
    stream taken from the host at the first read (until then, the pipe can
    go to another child: `Popen(..., stdin=first.stdout)`)."""

    def __init__(self, handle, which):
        super().__init__()
        self._handle = handle
        self._which = which
        self._stream = None
        self._taken = False
        self.eof = False

    def __repr__(self):
        return f"<procgate child {self._which}>"

    def readable(self):
        return True

    fileno = _no_fileno

    def _procgate_stdout_of(self):
        if self._which != "stdout" or self._taken or self.closed:
            raise ValueError("stdin=other.stdout: that stdout has already been read from or closed")
        self._taken = True
        return self._handle

    def stream(self):
        """The input stream, taken now if it was not yet."""
        if not self._taken:
            self._taken = True
            self._stream = call(getattr(self._handle, self._which))
        if not alive(self._stream):
            raise ValueError("I/O operation on closed file")
        return self._stream

    def take_stream(self):
        """The input stream, for an asyncio transport that owns it from
        now on (closing the transport closes the pipe)."""
        stream = self.stream()
        self._stream = None
        return stream

    def read_now(self, size):
        """Up to `size` bytes without blocking: `b""` if none yet, `None`
        at the end of file."""
        data, error = attempt(self.stream().read, size)
        if data is not None:
            return data
        error = stream_error(error, writing=False)
        if error is not None:
            raise error
        self.eof = True
        return None

    def readinto(self, buffer):
        if self.eof:
            return 0
        if _pump.active:
            # Waiting here moves the bytes of files given to children.
            data = self.read_now(len(buffer))
            while data == b"":
                _block_on([self._stream.subscribe()])
                data = self.read_now(len(buffer))
        else:
            data, error = attempt(self.stream().blocking_read, len(buffer))
            if data is None:
                error = stream_error(error, writing=False)
                if error is not None:
                    raise error
                self.eof = True
        if not data:
            return 0
        buffer[: len(data)] = data
        return len(data)

    def close(self):
        stream, self._stream = self._stream, None
        self._taken = True
        if stream is not None:
            drop(stream)
        super().close()

class _ChildInput(io.RawIOBase):
    """A child's stdin as a raw file, over a `wasi:io` output stream.
    Closing it closes the child's stdin."""

    def __init__(self, handle):
        super().__init__()
        self._stream = call(handle.stdin)

    def __repr__(self):
        return "<procgate child stdin>"

    def writable(self):
        return True

    fileno = _no_fileno

    def stream(self):
        if not alive(self._stream):
            raise ValueError("I/O operation on closed file")
        return self._stream

    def take_stream(self):
        """The output stream, for an asyncio transport that owns it from
        now on."""
        stream = self.stream()
        self._stream = None
        return stream

    def write_now(self, data):
        """Writes what the stream takes without blocking; how much."""
        permit, error = attempt(self.stream().check_write)
        n = min(permit or 0, len(data))
        if n and error is None:
            _, error = attempt(self._stream.write, bytes(data[:n]))
        if error is not None:
            raise stream_error(error, writing=True)
        return n

    def write(self, data):
        data = memoryview(data).cast("B")
        done = 0
        while done < len(data):
            n = self.write_now(data[done:])
            if n == 0:
                _block_on([self._stream.subscribe()])
            done += n
        return done

    def close(self):
        stream, self._stream = self._stream, None
        if alive(stream):
            if _pump.active:
                # Flushed once the stream takes writes again; waiting here
                # moves the bytes of files given to children.
                _, error = attempt(stream.flush)
                while error is None:
                    permit, error = attempt(stream.check_write)
                    if permit:
                        break
                    if error is None:
                        _block_on([stream.subscribe()])
            else:
                _, error = attempt(stream.blocking_flush)
            drop(stream)
            if error is not None:
                error = stream_error(error, writing=True)
                if not isinstance(error, BrokenPipeError):
                    raise error
        super().close()

def _raw(file):
    """The procgate raw file under a (text, buffered or raw) file object."""
    while not isinstance(file, (_ChildOutput, _ChildInput)):
        file = getattr(file, "buffer", None) or getattr(file, "raw")
    return file

def _wrap(raw, bufsize, writing):
    # As io.open(fd, mode, bufsize) does.
    if bufsize == 0:
        return raw
    size = io.DEFAULT_BUFFER_SIZE if bufsize in (-1, 1) else bufsize
    return io.BufferedWriter(raw, size) if writing else io.BufferedReader(raw, size)
