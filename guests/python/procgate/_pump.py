"""A guest's file as a child's stdin, stdout or stderr.

`subprocess.run(cmd, stdout=f)` gives the child the parent's descriptor in
CPython. A guest's files are WASI descriptors, which the host's wasmtime
holds for the guest: there is no host descriptor to give the child. So the
child gets a pipe, and the guest library moves the bytes between that pipe
and the file: a `Pump` per redirected stream. The child reads what the file
holds from its current offset on (stdin), or its output is written to the
file at the file's offset, as the child's own writes would be (stdout,
stderr). `stdout` and `stderr` given the same descriptor share one pipe, so
their bytes keep the child's order.

The bytes move while the guest waits in procgate: `wait`, `poll`,
`communicate`, `run`, reading or writing another child's pipe, and the
asyncio loop's waits all serve every pump (`poll_with_pumps`). `wait`
returns once the child has exited *and* its output is in the file (the end
of file on the pipe). A child that writes more than a pipe holds while the
guest does something else waits for the guest, as a child writing to a full
pipe does.
"""

import errno
import os

from wit_world.imports import poll

from ._spawn import PIPE, STDOUT, attempt, call, drop, alive, stream_error

_CHUNK = 64 * 1024

# The pumps with bytes left to move, of every Popen: each wait in procgate
# serves them all, as a thread per pump would.
active = []


def descriptor(value, name):
    """The guest descriptor that `stdin=`/`stdout=`/`stderr=` `value` (a
    descriptor number or a file object) names, checked to be open: what
    `fileno()` raises for an object without one (`io.BytesIO`), CPython
    raises too."""
    fd = value if isinstance(value, int) else value.fileno()
    try:
        os.fstat(fd)
    except OSError:
        raise OSError(
            errno.EBADF,
            f"{name}={value!r}: not an open descriptor of this guest (a guest's descriptors are its own, "
            "not the host's: the child gets a pipe to or from the guest's file)",
        ) from None
    return fd


def redirect(stdin, stdout, stderr, is_file):
    """`(stdin, stdout, stderr, files)`: each stream that is a guest file
    (`is_file(value, name)`) becomes `PIPE`, and `files` maps its name to
    `(descriptor, value)`. stderr to stdout's descriptor becomes `STDOUT`."""
    values = {"stdin": stdin, "stdout": stdout, "stderr": stderr}
    files = {}
    for name, value in values.items():
        if is_file(value, name):
            files[name] = (descriptor(value, name), value)
            values[name] = PIPE
    if "stdout" in files and files.get("stderr", (None,))[0] == files["stdout"][0]:
        del files["stderr"]
        values["stderr"] = STDOUT
    return values["stdin"], values["stdout"], values["stderr"], files


def _identity(fd):
    info = os.fstat(fd)
    return info.st_dev, info.st_ino


def _identity_now(fd):
    try:
        return _identity(fd)
    except OSError:
        return None


class Pump:
    """Bytes between one guest descriptor and one of a child's pipes."""

    def __init__(self, name, fd, file):
        self.name = name
        self._fd = fd
        self._file = file
        self._identity = _identity(fd)
        self.stream = None
        self.error = None

    def _check_file(self):
        # The file must still be the one given: closed, its number could
        # now be another file's.
        closed = getattr(self._file, "closed", False) is True
        if closed or _identity_now(self._fd) != self._identity:
            raise OSError(
                errno.EBADF,
                f"the file given as the child's {self.name} was closed before the child was done with it",
            )

    def subscribe(self):
        return self.stream.subscribe()

    def done(self):
        return not alive(self.stream)

    def close(self, error=None):
        """Stops moving bytes; drops the pipe (the child sees the end of
        its stdin, or a broken pipe on its output)."""
        if self.error is None:
            self.error = error
        stream, self.stream = self.stream, None
        if stream is not None:
            drop(stream)
        if self in active:
            active.remove(self)

    def step(self):
        """Moves what can move now without blocking; never raises (an error
        is kept in `error` for the child's `wait`)."""
        if self.stream is None:
            return
        if not alive(self.stream):
            self.close()
            return
        try:
            self._move()
        except OSError as e:
            self.close(e)


class OutputPump(Pump):
    """A child's stdout or stderr pipe into a guest file."""

    def __init__(self, handle, name, fd, file):
        super().__init__(name, fd, file)
        self.stream = call(getattr(handle, name))

    def _move(self):
        while True:
            data, failure = attempt(self.stream.read, _CHUNK)
            if data is None:
                error = stream_error(failure, writing=False)
                if error is not None:
                    raise error
                self.close()
                return
            if not data:
                return
            self._check_file()
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]


class InputPump(Pump):
    """A guest file into a child's stdin pipe, from the file's offset to
    its end; then the child's stdin is closed."""

    def __init__(self, handle, fd, file):
        super().__init__("stdin", fd, file)
        self.stream = call(handle.stdin)
        self._pending = b""
        self._eof = False
        self._flushing = False

    def _move(self):
        while True:
            permit, failure = attempt(self.stream.check_write)
            if failure is not None:
                # The child closed its stdin (or exited): what it did not
                # read stays unread, as with a file it stops reading.
                error = stream_error(failure, writing=True)
                self.close(None if isinstance(error, BrokenPipeError) else error)
                return
            if self._flushing:
                if permit:
                    self.close()
                return
            if not self._pending and not self._eof:
                self._check_file()
                self._pending = os.read(self._fd, _CHUNK)
                self._eof = not self._pending
            if self._eof and not self._pending:
                # What the host holds goes to the child before its stdin
                # closes: ready again once flushed.
                self._flushing = True
                attempt(self.stream.flush)
                return
            if not permit:
                return
            n = min(permit, len(self._pending))
            _, failure = attempt(self.stream.write, self._pending[:n])
            if failure is not None:
                continue
            self._pending = self._pending[n:]


def start(handle, files):
    """The pumps of a child just started with `redirect`'s `files`."""
    pumps = []
    for name, (fd, file) in files.items():
        pump = InputPump(handle, fd, file) if name == "stdin" else OutputPump(handle, name, fd, file)
        active.append(pump)
        pumps.append(pump)
    return pumps


def poll_with_pumps(pollables):
    """`wasi:io/poll.poll` on `pollables` and on the pipes of the active
    pumps; moves the bytes of the pumps that are ready. The indexes of
    `pollables` that are ready (the caller still owns them)."""
    pumps = [p for p in active if alive(p.stream)]
    own = [p.subscribe() for p in pumps]
    try:
        ready = poll.poll(list(pollables) + own)
    finally:
        for pollable in own:
            drop(pollable)
    count = len(pollables)
    for index in ready:
        if index >= count:
            pumps[index - count].step()
    return [i for i in ready if i < count]


def block_on(pollables):
    """`poll_with_pumps`, then drops `pollables`; the indexes ready."""
    try:
        return poll_with_pumps(pollables)
    finally:
        for pollable in pollables:
            drop(pollable)


def step_all():
    """Moves what every active pump can move now, without blocking."""
    for pump in list(active):
        pump.step()
