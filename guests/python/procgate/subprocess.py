"""asyncio.subprocess for procgate guests: the same names, served by the
host's `procgate:subprocess` interfaces.

`create_subprocess_exec` and `create_subprocess_shell` return a `Process`;
its `stdin` is a `StreamWriter` and its `stdout`/`stderr` are
`StreamReader`s when created with `PIPE`, as in asyncio. Waiting (for an
exit, for output, for a `communicate`) awaits a WASI pollable on procgate's
event loop (`procgate.run`), so several processes run at once under
`asyncio.gather`.
"""

import asyncio
import os

from componentize_py_types import Err
from wit_world.imports import procgate_subprocess_types as wit
from wit_world.imports import streams
from wit_world.imports import subprocess as wit_subprocess

from ._loop import _drop, wait_ready

__all__ = [
    "PIPE",
    "STDOUT",
    "DEVNULL",
    "Process",
    "StreamReader",
    "StreamWriter",
    "DeniedError",
    "LimitExceededError",
    "create_subprocess_exec",
    "create_subprocess_shell",
]

# The values of the standard library's subprocess module.
PIPE = -1
STDOUT = -2
DEVNULL = -3

_LIMIT = 2**16
_CHUNK = 64 * 1024


class DeniedError(PermissionError):
    """The host's policy refused the request. `rule` (also `str(e)`) names
    the rule that refused it, e.g. `program "/bin/sh" not in allow list`."""

    def __init__(self, rule):
        super().__init__(rule)
        self.rule = rule

    def __str__(self):
        return self.rule


class LimitExceededError(OSError):
    """A limit of the host's policy was reached (live processes, spawns,
    bytes buffered by `communicate`, ...)."""


def _error(value):
    """The Python exception for a WIT `error` value."""
    if isinstance(value, wit.Error_Denied):
        return DeniedError(value.value)
    if isinstance(value, wit.Error_NotFound):
        return FileNotFoundError(value.value)
    if isinstance(value, wit.Error_PermissionDenied):
        return PermissionError(value.value)
    if isinstance(value, wit.Error_InvalidArgument):
        return ValueError(value.value)
    if isinstance(value, wit.Error_LimitExceeded):
        return LimitExceededError(value.value)
    if isinstance(value, wit.Error_ProcessExited):
        return ProcessLookupError("the process has exited")
    if isinstance(value, wit.Error_Io):
        return OSError(value.value)
    return OSError(repr(value))


def _call(function, *args):
    try:
        return function(*args)
    except Err as e:
        raise _error(e.value) from None


def _stream_error(value, writing):
    if isinstance(value, streams.StreamError_Closed):
        return BrokenPipeError("the stream is closed") if writing else None
    error = value.value
    try:
        return OSError(error.to_debug_string())
    finally:
        _drop(error)


def _stdio(value, name):
    if value is None:
        return wit.Stdio_Inherit()
    if value == PIPE:
        return wit.Stdio_Pipe()
    if value == DEVNULL:
        return wit.Stdio_Devnull()
    if value == STDOUT:
        return wit.Stdio_Stdout()
    raise ValueError(
        f"{name}={value!r}: procgate supports None, PIPE, DEVNULL and STDOUT (no file objects or descriptors)"
    )


def _options(stdin, stdout, stderr, limit, cwd, env, start_new_session, kwds):
    if kwds:
        raise TypeError(f"procgate does not support {', '.join(sorted(kwds))}")
    if limit is not None and limit <= 0:
        raise ValueError("limit must be positive")
    pairs = []
    if env is not None:
        pairs = [(os.fsdecode(k), os.fsdecode(v)) for k, v in dict(env).items()]
    return wit.Options(
        stdin=_stdio(stdin, "stdin"),
        stdout=_stdio(stdout, "stdout"),
        stderr=_stdio(stderr, "stderr"),
        limit=limit,
        cwd=None if cwd is None else os.fsdecode(cwd),
        env=pairs,
        start_new_session=bool(start_new_session),
    )


async def create_subprocess_exec(
    program,
    *args,
    stdin=None,
    stdout=None,
    stderr=None,
    limit=_LIMIT,
    cwd=None,
    env=None,
    start_new_session=False,
    **kwds,
):
    """Create a subprocess running `program` with `args`: asyncio's
    `create_subprocess_exec`. The host's policy decides first (a refusal
    raises `DeniedError`, a `PermissionError`); a name without a slash is
    looked up on the policy's search path, never the guest's `PATH`. `env`
    gives variables to set in the child's environment (which the policy
    builds), not a whole environment."""
    options = _options(stdin, stdout, stderr, limit, cwd, env, start_new_session, kwds)
    proc = _call(
        wit_subprocess.create_subprocess_exec,
        os.fsdecode(program),
        [os.fsdecode(a) for a in args],
        options,
    )
    return Process(proc, stdin, stdout, stderr, limit)


async def create_subprocess_shell(
    cmd,
    stdin=None,
    stdout=None,
    stderr=None,
    limit=_LIMIT,
    cwd=None,
    env=None,
    start_new_session=False,
    **kwds,
):
    """Run the `cmd` shell command with the host's shell: asyncio's
    `create_subprocess_shell`. Denied (`DeniedError`) unless the policy
    grants a shell. Quoting is the caller's job (`shlex.quote`)."""
    options = _options(stdin, stdout, stderr, limit, cwd, env, start_new_session, kwds)
    proc = _call(wit_subprocess.create_subprocess_shell, os.fsdecode(cmd), options)
    return Process(proc, stdin, stdout, stderr, limit)


# Linux signal numbers (as the guest's `signal` module has them) to WIT.
_SIGNALS = {
    1: wit.Signal.HUP, 2: wit.Signal.INT, 3: wit.Signal.QUIT, 4: wit.Signal.ILL,
    5: wit.Signal.TRAP, 6: wit.Signal.ABRT, 7: wit.Signal.BUS, 8: wit.Signal.FPE,
    9: wit.Signal.KILL, 10: wit.Signal.USR1, 11: wit.Signal.SEGV, 12: wit.Signal.USR2,
    13: wit.Signal.PIPE, 14: wit.Signal.ALRM, 15: wit.Signal.TERM, 17: wit.Signal.CHLD,
    18: wit.Signal.CONT, 19: wit.Signal.STOP, 20: wit.Signal.TSTP, 21: wit.Signal.TTIN,
    22: wit.Signal.TTOU, 23: wit.Signal.URG, 24: wit.Signal.XCPU, 25: wit.Signal.XFSZ,
    26: wit.Signal.VTALRM, 27: wit.Signal.PROF, 28: wit.Signal.WINCH, 29: wit.Signal.IO,
    30: wit.Signal.PWR, 31: wit.Signal.SYS,
}


class Process:
    """A child process: asyncio's `Process`."""

    def __init__(self, proc, stdin, stdout, stderr, limit):
        self._proc = proc
        self._returncode = None
        self._pid = proc.pid()
        limit = _LIMIT if limit is None else limit
        self.stdin = StreamWriter(self) if stdin == PIPE else None
        self.stdout = StreamReader(self, "stdout", limit) if stdout == PIPE else None
        self.stderr = StreamReader(self, "stderr", limit) if stderr == PIPE else None

    def __repr__(self):
        return f"<Process {self._pid}>"

    def __del__(self):
        # Streams before the process; the host then kills and reaps the
        # child if it still runs.
        for stream in (getattr(self, "stdin", None), getattr(self, "stdout", None), getattr(self, "stderr", None)):
            if stream is not None:
                stream._release()
        proc = getattr(self, "_proc", None)
        if proc is not None:
            self._proc = None
            _drop(proc)

    @property
    def pid(self):
        """Process identification number (PID); for `create_subprocess_shell`,
        the shell's."""
        return self._pid

    @property
    def returncode(self):
        """The exit code, `-N` if killed by signal N, `None` while running."""
        if self._returncode is None:
            self._returncode = self._proc.returncode()
        return self._returncode

    async def wait(self):
        """Wait for the child process to terminate; set and return
        `returncode`. Can deadlock with `PIPE` output nobody reads: use
        `communicate()` then."""
        if self._returncode is not None:
            return self._returncode
        await wait_ready(self._proc.subscribe())
        self._returncode = _call(self._proc.wait)
        return self._returncode

    async def communicate(self, input=None):
        """Send `input` to stdin (if not `None`), close stdin, read stdout and
        stderr to EOF, wait for the process to terminate. Returns
        `(stdout_data, stderr_data)`; `None` for streams not created with
        `PIPE`. A broken pipe while writing `input` is ignored."""
        writer = self.stdin
        if writer is not None and writer._untaken() and not writer._pending:
            # The host feeds stdin and closes it.
            future = _call(self._proc.start_communicate, None if input is None else bytes(input))
            writer._closed_by_host()
        else:
            # The guest holds stdin: it writes while the host reads.
            future = _call(self._proc.start_communicate, None)
            if writer is not None:
                data = bytes(writer._pending) + (b"" if input is None else bytes(input))
                writer._pending.clear()
                try:
                    await writer._write_all(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                writer._release()
        try:
            while True:
                await wait_ready(future.subscribe())
                result = future.get()
                if result is not None:
                    break
        finally:
            _drop(future)
        if isinstance(result, Err):
            raise _error(result.value)
        output = result.value
        self._returncode = output.returncode
        stdout = self.stdout._finish_communicate(output.stdout) if self.stdout is not None else None
        stderr = self.stderr._finish_communicate(output.stderr) if self.stderr is not None else None
        return stdout, stderr

    def send_signal(self, signal):
        """Send `signal` (a number or `signal.Signals`) to the child.
        `ProcessLookupError` once it has exited; `DeniedError` if the policy
        does not allow this signal."""
        try:
            wit_signal = _SIGNALS[int(signal)]
        except (KeyError, ValueError, TypeError):
            raise ValueError(f"unsupported signal {signal!r}") from None
        _call(self._proc.send_signal, wit_signal)

    def terminate(self):
        """Stop the child: SIGTERM."""
        _call(self._proc.terminate)

    def kill(self):
        """Kill the child: SIGKILL."""
        _call(self._proc.kill)


class StreamReader:
    """Reads a child's stdout or stderr: asyncio's `StreamReader`."""

    def __init__(self, process, which, limit):
        self._process = process
        self._which = which
        self._limit = limit
        self._stream = None
        self._taken = False
        self._buffer = bytearray()
        self._eof = False
        self._exception = None

    def __repr__(self):
        return f"<StreamReader {self._which} of {self._process!r}>"

    def _release(self):
        stream, self._stream = self._stream, None
        if stream is not None:
            _drop(stream)

    def _get_stream(self):
        if not self._taken:
            self._taken = True
            proc = self._process._proc
            self._stream = _call(proc.stdout if self._which == "stdout" else proc.stderr)
        return self._stream

    async def _fill(self):
        if self._exception is not None:
            raise self._exception
        while not self._eof:
            stream = self._get_stream()
            try:
                data = stream.read(_CHUNK)
            except Err as e:
                error = _stream_error(e.value, writing=False)
                self._eof = True
                self._release()
                if error is not None:
                    self._exception = error
                    raise error
                return
            if data:
                self._buffer += data
                return
            await wait_ready(stream.subscribe())

    def _finish_communicate(self, host_data):
        data = bytes(self._buffer) + (host_data or b"")
        self._buffer.clear()
        self._eof = True
        return data

    def at_eof(self):
        """True once the buffer is empty and EOF was reached."""
        return self._eof and not self._buffer

    async def read(self, n=-1):
        """Read up to `n` bytes (`-1`: until EOF). Empty bytes at EOF."""
        if n == 0:
            return b""
        if n < 0:
            while not self._eof:
                await self._fill()
            data = bytes(self._buffer)
            self._buffer.clear()
            return data
        if not self._buffer and not self._eof:
            await self._fill()
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    async def readexactly(self, n):
        """Read exactly `n` bytes; `asyncio.IncompleteReadError` if EOF comes
        first."""
        if n < 0:
            raise ValueError("readexactly size can not be less than zero")
        while len(self._buffer) < n:
            if self._eof:
                partial = bytes(self._buffer)
                self._buffer.clear()
                raise asyncio.IncompleteReadError(partial, n)
            await self._fill()
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    async def readuntil(self, separator=b"\n"):
        """Read up to and including `separator`. `asyncio.IncompleteReadError`
        at EOF without it; `asyncio.LimitOverrunError` past the limit."""
        seplen = len(separator)
        if seplen == 0:
            raise ValueError("Separator should be at least one-byte string")
        offset = 0
        while True:
            buflen = len(self._buffer)
            if buflen - offset >= seplen:
                index = self._buffer.find(separator, offset)
                if index != -1:
                    break
                offset = buflen + 1 - seplen
                if offset > self._limit:
                    raise asyncio.LimitOverrunError("Separator is not found, and chunk exceed the limit", offset)
            if self._eof:
                partial = bytes(self._buffer)
                self._buffer.clear()
                raise asyncio.IncompleteReadError(partial, None)
            await self._fill()
        if index > self._limit:
            raise asyncio.LimitOverrunError("Separator is found, but chunk is longer than limit", index)
        data = bytes(self._buffer[: index + seplen])
        del self._buffer[: index + seplen]
        return data

    async def readline(self):
        """Read one line, ending with `\\n`; at EOF the partial line (empty
        bytes at the end). `ValueError` for a line longer than the limit."""
        try:
            return await self.readuntil(b"\n")
        except asyncio.IncompleteReadError as e:
            return e.partial
        except asyncio.LimitOverrunError as e:
            if self._buffer.startswith(b"\n", e.consumed):
                del self._buffer[: e.consumed + 1]
            else:
                self._buffer.clear()
            raise ValueError(e.args[0])

    def __aiter__(self):
        return self

    async def __anext__(self):
        line = await self.readline()
        if line == b"":
            raise StopAsyncIteration
        return line


class StreamWriter:
    """Writes a child's stdin: asyncio's `StreamWriter`."""

    def __init__(self, process):
        self._process = process
        self._stream = None
        self._taken = False
        self._pending = bytearray()
        self._closing = False
        self._closer = None

    def __repr__(self):
        return f"<StreamWriter stdin of {self._process!r}>"

    def _untaken(self):
        return not self._taken

    def _closed_by_host(self):
        self._taken = True
        self._closing = True

    def _release(self):
        self._taken = True
        stream, self._stream = self._stream, None
        if stream is not None:
            _drop(stream)

    def _get_stream(self):
        if self._closing and self._stream is None:
            raise BrokenPipeError("stdin is closed")
        if not self._taken:
            self._taken = True
            self._stream = _call(self._process._proc.stdin)
        if self._stream is None:
            raise BrokenPipeError("stdin is closed")
        return self._stream

    def _write_now(self):
        """Writes what the stream accepts without waiting."""
        stream = self._get_stream()
        while self._pending:
            try:
                permit = stream.check_write()
                if permit == 0:
                    return
                n = min(permit, len(self._pending))
                stream.write(bytes(self._pending[:n]))
            except Err as e:
                self._pending.clear()
                raise _stream_error(e.value, writing=True) from None
            del self._pending[:n]

    async def _write_all(self, data):
        self._pending += data
        await self.drain()

    def write(self, data):
        """Queue `data` (bytes) for the child's stdin; `await drain()` to
        wait until it is sent."""
        if self._closing:
            raise BrokenPipeError("stdin is closed")
        self._pending += data
        self._write_now()

    def writelines(self, data):
        for chunk in data:
            self.write(chunk)

    async def drain(self):
        """Wait until everything written has been sent to the child.
        `BrokenPipeError` if the child closed its stdin."""
        stream = self._get_stream()
        while self._pending:
            self._write_now()
            if self._pending:
                await wait_ready(stream.subscribe())
        try:
            stream.flush()
        except Err as e:
            raise _stream_error(e.value, writing=True) from None
        await wait_ready(stream.subscribe())
        try:
            stream.check_write()
        except Err as e:
            raise _stream_error(e.value, writing=True) from None

    def can_write_eof(self):
        return True

    def write_eof(self):
        self.close()

    def is_closing(self):
        return self._closing

    def close(self):
        """Close the child's stdin (after sending what is queued)."""
        if self._closing:
            return
        self._closing = True
        if not self._pending:
            if not self._taken:
                self._get_stream_for_close()
            self._release()
            return

        async def flush_then_close():
            try:
                await self.drain()
            except OSError:
                pass
            finally:
                self._release()

        self._closer = asyncio.ensure_future(flush_then_close())

    def _get_stream_for_close(self):
        # Taking stdin then dropping it closes it.
        self._taken = True
        try:
            self._stream = self._process._proc.stdin()
        except Err:
            self._stream = None

    async def wait_closed(self):
        """Wait until `close()` has finished."""
        if self._closer is not None:
            await self._closer
