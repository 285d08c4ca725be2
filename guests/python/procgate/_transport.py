"""asyncio's transports over procgate: a child's pipes as asyncio read and
write pipe transports over `wasi:io/streams`, and the child itself as
asyncio's `BaseSubprocessTransport` over a WIT `process`. asyncio's own
protocols (`SubprocessStreamProtocol`) and classes (`Process`,
`StreamReader`, `StreamWriter`) sit on top, unchanged."""

import subprocess
import warnings

from asyncio import base_subprocess, transports

from componentize_py_types import Err

from ._pipes import _raw
from ._spawn import alive, drop, stream_error

_READ_SIZE = 256 * 1024


def _stream_of(pipe):
    """The `wasi:io` stream under one of `procgate.Popen`'s pipe files."""
    return _raw(pipe).take_stream()


class SubprocessTransport(base_subprocess.BaseSubprocessTransport):
    """asyncio's subprocess transport for a child the host started: as
    CPython's on Unix, it starts the child with `subprocess.Popen`
    (procgate's, once `procgate.install()` ran) and connects its pipes to
    the loop; the host's exit pollable stands for the child watcher."""

    def _start(self, args, shell, stdin, stdout, stderr, bufsize, **kwargs):
        self._proc = subprocess.Popen(
            args, shell=shell, stdin=stdin, stdout=stdout, stderr=stderr, bufsize=bufsize, **kwargs
        )

    def send_signal(self, signal):
        self._check_proc()
        self._proc.send_signal(signal)

    def terminate(self):
        self.send_signal(15)

    def kill(self):
        self.send_signal(9)

    def _watch_exit(self):
        """Reports the child's exit to asyncio when the host sees it."""
        proc = self._proc
        future = self._loop._add_waiter(proc._handle.subscribe())

        def exited(_):
            if proc.returncode is None and alive(proc._handle):
                proc.wait()
            if self._returncode is None and proc.returncode is not None:
                self._process_exited(proc.returncode)

        future.add_done_callback(exited)

    def _try_finish(self):
        # A Unix pipe tells the writer when its reader is gone (asyncio's
        # write transport sees the hangup); a WASI stream only on the next
        # write. The reader is the child: once it has exited, an idle
        # stdin transport is closed, as asyncio's would be.
        stdin = self._pipes.get(0)
        if self._returncode is not None and stdin is not None and stdin.pipe is not None:
            stdin.pipe._reader_gone()
        super()._try_finish()

    async def _connect_pipes(self, waiter):
        await super()._connect_pipes(waiter)
        if self._returncode is not None and not self._finished and self._pending_calls is None:
            self._try_finish()

    def _call_connection_lost(self, exc):
        proc = self._proc
        try:
            super()._call_connection_lost(exc)
        finally:
            if proc is not None:
                proc._release()


class _StreamPipe:
    """What the read and the write pipe transports share: a `wasi:io`
    stream, the loop's wait on it (`_waiting`), the protocol."""

    def _subscribe(self):
        """Waits, in the loop, until the stream is ready; then `_ready()`."""
        self._waiting = self._loop._add_waiter(self._stream.subscribe())
        self._waiting.add_done_callback(self._on_ready)

    def _on_ready(self, future):
        if future is not self._waiting:
            return
        self._waiting = None
        self._ready()

    def _stop_waiting(self):
        future, self._waiting = self._waiting, None
        if future is not None:
            self._loop._forget(future)
            future.cancel()

    def _call_connection_lost(self, exc):
        try:
            self._protocol.connection_lost(exc)
        finally:
            self._protocol = None
            self._loop = None

    def set_protocol(self, protocol):
        self._protocol = protocol

    def get_protocol(self):
        return self._protocol

    def is_closing(self):
        return self._closing

    def __del__(self, _warn=warnings.warn):
        if getattr(self, "_stream", None) is not None:
            _warn(f"unclosed transport {self!r}", ResourceWarning, source=self)
            if self._waiting is not None and self._loop is not None:
                self._stop_waiting()
            drop(self._stream)
            self._stream = None


class ReadPipeTransport(_StreamPipe, transports.ReadTransport):
    """asyncio's read pipe transport over a `wasi:io/streams` input stream."""

    def __init__(self, loop, pipe, protocol, waiter=None, extra=None):
        super().__init__(extra)
        self._extra["pipe"] = pipe
        self._loop = loop
        self._protocol = protocol
        self._stream = _stream_of(pipe)
        self._waiting = None
        self._paused = False
        self._closing = False
        loop.call_soon(protocol.connection_made, self)
        loop.call_soon(self._want_read)
        if waiter is not None:
            loop.call_soon(_set_result_unless_cancelled, waiter, None)

    def __repr__(self):
        return f"<procgate ReadPipeTransport {self._extra['pipe']!r}{' closing' if self._closing else ''}>"

    def _want_read(self):
        if self._closing or self._paused or self._waiting is not None:
            return
        self._subscribe()

    def _ready(self):
        if self._closing or self._paused:
            return
        try:
            data = self._stream.read(_READ_SIZE)
        except Err as e:
            exc = stream_error(e.value, writing=False)
            if exc is None:
                self._close(None, eof=True)
            else:
                self._fatal_error(exc)
            return
        if data:
            self._protocol.data_received(data)
        self._want_read()

    def _fatal_error(self, exc):
        self._loop.call_exception_handler(
            {"message": "Fatal read error on pipe transport", "exception": exc, "transport": self, "protocol": self._protocol}
        )
        self._close(exc)

    def _close(self, exc, eof=False):
        if self._closing:
            return
        self._closing = True
        self._stop_waiting()
        stream, self._stream = self._stream, None
        if stream is not None:
            drop(stream)
        if eof:
            self._loop.call_soon(self._protocol.eof_received)
        self._loop.call_soon(self._call_connection_lost, exc)

    def pause_reading(self):
        if self._closing or self._paused:
            return
        self._paused = True
        self._stop_waiting()

    def resume_reading(self):
        if self._closing or not self._paused:
            return
        self._paused = False
        self._want_read()

    def is_reading(self):
        return not self._paused and not self._closing

    def close(self):
        self._close(None)



class WritePipeTransport(_StreamPipe, transports._FlowControlMixin, transports.WriteTransport):
    """asyncio's write pipe transport over a `wasi:io/streams` output
    stream: writes what the stream accepts at once, queues the rest and
    sends it as the stream becomes writable, pausing the protocol above the
    high-water mark."""

    def __init__(self, loop, pipe, protocol, waiter=None, extra=None):
        super().__init__(extra, loop)
        self._extra["pipe"] = pipe
        self._protocol = protocol
        self._stream = _stream_of(pipe)
        self._buffer = bytearray()
        self._waiting = None
        self._closing = False
        self._flushing = False
        self._conn_lost = 0
        loop.call_soon(protocol.connection_made, self)
        if waiter is not None:
            loop.call_soon(_set_result_unless_cancelled, waiter, None)

    def __repr__(self):
        return f"<procgate WritePipeTransport {self._extra['pipe']!r} bufsize={len(self._buffer)}>"

    def get_write_buffer_size(self):
        return len(self._buffer)

    def write(self, data):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be a bytes-like object, not {type(data).__name__!r}")
        if not data:
            return
        if self._conn_lost or self._closing:
            self._conn_lost += 1
            return
        self._buffer += data
        self._send()
        self._maybe_pause_protocol()

    def _send(self):
        """Writes what the stream takes now; waits for the rest."""
        stream = self._stream
        while self._buffer:
            try:
                permit = stream.check_write()
                if permit == 0:
                    break
                n = min(permit, len(self._buffer))
                stream.write(bytes(self._buffer[:n]))
            except Err as e:
                self._fatal_error(stream_error(e.value, writing=True))
                return
            del self._buffer[:n]
        if self._buffer:
            self._want_write()
            return
        self._maybe_resume_protocol()
        if self._closing:
            self._flush_then_close()

    def _want_write(self):
        if self._waiting is None and self._stream is not None:
            self._subscribe()

    def _ready(self):
        if self._stream is None:
            return
        if self._flushing:
            self._finish(None)
        else:
            self._send()

    def _flush_then_close(self):
        # What the host holds goes to the child before stdin closes.
        if self._flushing:
            return
        self._flushing = True
        try:
            self._stream.flush()
        except Err as e:
            error = stream_error(e.value, writing=True)
            self._finish(None if isinstance(error, BrokenPipeError) else error)
            return
        self._want_write()

    def _finish(self, exc):
        self._stop_waiting()
        stream, self._stream = self._stream, None
        if stream is not None:
            drop(stream)
        self._conn_lost += 1
        self._loop.call_soon(self._call_connection_lost, exc)

    def _fatal_error(self, exc):
        self._buffer.clear()
        self._closing = True
        if not isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            self._loop.call_exception_handler(
                {"message": "Fatal write error on pipe transport", "exception": exc, "transport": self, "protocol": self._protocol}
            )
        self._finish(exc)

    def _reader_gone(self):
        """The child has exited: close if there is nothing left to send (a
        write still queued fails with the broken pipe it gets)."""
        if not self._buffer and not self._closing and self._stream is not None:
            self._closing = True
            self._finish(None)

    def can_write_eof(self):
        return True

    def write_eof(self):
        self.close()

    def close(self):
        if self._closing or self._stream is None:
            return
        self._closing = True
        if not self._buffer:
            self._flush_then_close()

    def abort(self):
        if self._stream is None:
            return
        self._closing = True
        self._buffer.clear()
        self._finish(None)



def _set_result_unless_cancelled(future, result):
    if not future.cancelled():
        future.set_result(result)
