"""asyncio's transports over procgate: a child's pipes as asyncio read and
write pipe transports over `wasi:io/streams`, and the child itself as
asyncio's `BaseSubprocessTransport` over a WIT `process`. asyncio's own
protocols (`SubprocessStreamProtocol`) and classes (`Process`,
`StreamReader`, `StreamWriter`) sit on top, unchanged."""

import warnings

from asyncio import base_subprocess, transports

from componentize_py_types import Err

from . import _spawn
from ._spawn import PIPE, call, drop, stream_error

_READ_SIZE = 256 * 1024


class WitPipe:
    """One of a child's pipes, not yet taken from the host: what
    `loop.connect_read_pipe`/`connect_write_pipe` are given."""

    def __init__(self, process, which):
        self._process = process
        self._which = which

    def take(self):
        """The `wasi:io/streams` stream (once)."""
        return call(getattr(self._process, self._which))

    def fileno(self):
        return -1

    def __repr__(self):
        return f"<procgate {self._which} pipe>"


class WitProc:
    """A WIT `process` shaped like the `Popen` that asyncio's
    `BaseSubprocessTransport` drives: `pid`, `returncode`, `stdin`/`stdout`/
    `stderr` (pipes), `poll`, `send_signal`, `terminate`, `kill`."""

    def __init__(self, handle, stdin, stdout, stderr):
        self.handle = handle
        self.pid = handle.pid()
        self.returncode = None
        self.stdin = WitPipe(handle, "stdin") if stdin == PIPE else None
        self.stdout = WitPipe(handle, "stdout") if stdout == PIPE else None
        self.stderr = WitPipe(handle, "stderr") if stderr == PIPE else None

    def poll(self):
        if self.returncode is None and self.handle is not None:
            self.returncode = self.handle.returncode()
        return self.returncode

    def send_signal(self, signal):
        # As Popen: nothing once the child has exited.
        if self.poll() is not None:
            return
        try:
            _spawn.send_signal(self.handle, signal)
        except ProcessLookupError:
            pass

    def terminate(self):
        self.send_signal(15)

    def kill(self):
        self.send_signal(9)

    def release(self):
        handle, self.handle = self.handle, None
        if handle is not None:
            drop(handle)


class SubprocessTransport(base_subprocess.BaseSubprocessTransport):
    """asyncio's subprocess transport for a child the host started."""

    def _start(self, args, shell, stdin, stdout, stderr, bufsize, **kwargs):
        cwd = kwargs.pop("cwd", None)
        env = kwargs.pop("env", None)
        start_new_session = kwargs.pop("start_new_session", False)
        _spawn.refuse_unoffered(**kwargs)
        opts = _spawn.options(stdin, stdout, stderr, cwd=cwd, env=env, start_new_session=start_new_session)
        if shell:
            handle = _spawn.spawn_shell(args, opts)
        else:
            handle = _spawn.spawn_exec(args[0], args[1:], opts)
        self._proc = WitProc(handle, stdin, stdout, stderr)

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
        future = self._loop._add_waiter(proc.handle.subscribe())

        def exited(_):
            if proc.handle is not None and proc.returncode is None:
                proc.returncode = call(proc.handle.wait)
            if self._returncode is None:
                self._process_exited(proc.returncode)

        future.add_done_callback(exited)

    def _call_connection_lost(self, exc):
        proc = self._proc
        try:
            super()._call_connection_lost(exc)
        finally:
            if proc is not None:
                proc.release()


class ReadPipeTransport(transports.ReadTransport):
    """asyncio's read pipe transport over a `wasi:io/streams` input stream."""

    def __init__(self, loop, pipe, protocol, waiter=None, extra=None):
        super().__init__(extra)
        self._extra["pipe"] = pipe
        self._loop = loop
        self._protocol = protocol
        self._stream = pipe.take()
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
        self._waiting = self._loop._add_waiter(self._stream.subscribe())
        self._waiting.add_done_callback(self._ready)

    def _stop_waiting(self):
        future, self._waiting = self._waiting, None
        if future is not None:
            self._loop._forget(future)
            future.cancel()

    def _ready(self, future):
        if future is not self._waiting:
            return
        self._waiting = None
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

    def _call_connection_lost(self, exc):
        try:
            self._protocol.connection_lost(exc)
        finally:
            self._protocol = None
            self._loop = None

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

    def set_protocol(self, protocol):
        self._protocol = protocol

    def get_protocol(self):
        return self._protocol

    def is_closing(self):
        return self._closing

    def close(self):
        self._close(None)

    def __del__(self, _warn=warnings.warn):
        if getattr(self, "_stream", None) is not None:
            _warn(f"unclosed transport {self!r}", ResourceWarning, source=self)
            if self._waiting is not None and self._loop is not None:
                self._stop_waiting()
            drop(self._stream)
            self._stream = None


class WritePipeTransport(transports._FlowControlMixin, transports.WriteTransport):
    """asyncio's write pipe transport over a `wasi:io/streams` output
    stream: writes what the stream accepts at once, queues the rest and
    sends it as the stream becomes writable, pausing the protocol above the
    high-water mark."""

    def __init__(self, loop, pipe, protocol, waiter=None, extra=None):
        super().__init__(extra, loop)
        self._extra["pipe"] = pipe
        self._protocol = protocol
        self._stream = pipe.take()
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
            self._waiting = self._loop._add_waiter(self._stream.subscribe())
            self._waiting.add_done_callback(self._ready)

    def _ready(self, future):
        if future is not self._waiting:
            return
        self._waiting = None
        if self._stream is None:
            return
        if self._flushing:
            self._finish(None)
        else:
            self._send()

    def _stop_waiting(self):
        future, self._waiting = self._waiting, None
        if future is not None:
            self._loop._forget(future)
            future.cancel()

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

    def _call_connection_lost(self, exc):
        try:
            self._protocol.connection_lost(exc)
        finally:
            self._protocol = None
            self._loop = None

    def can_write_eof(self):
        return True

    def write_eof(self):
        self.close()

    def set_protocol(self, protocol):
        self._protocol = protocol

    def get_protocol(self):
        return self._protocol

    def is_closing(self):
        return self._closing

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

    def __del__(self, _warn=warnings.warn):
        if getattr(self, "_stream", None) is not None:
            _warn(f"unclosed transport {self!r}", ResourceWarning, source=self)
            if self._waiting is not None and self._loop is not None:
                self._stop_waiting()
            drop(self._stream)
            self._stream = None


def _set_result_unless_cancelled(future, result):
    if not future.cancelled():
        future.set_result(result)
