"""The standard library's `subprocess.Popen` for a procgate guest.

CPython's `Popen` forks and execs with `_posixsubprocess`, which a WASI
interpreter does not have (`subprocess` raises "wasi does not support
processes"). `procgate.install()` puts this `Popen`, a subclass of the
standard one, in its place (`subprocess.Popen`): `run`, `call`,
`check_call`, `check_output`, `getoutput` and `getstatusoutput` find it
there and work unchanged. It asks the host to start the child under the
policy, and keeps the rest of CPython's `Popen` (`communicate`'s and
`wait`'s timeouts, text mode, `__enter__`/`__exit__`, `TimeoutExpired`,
`CalledProcessError`): only the parts that touched descriptors and
`waitpid` are replaced, by `wasi:io` streams and the WIT `process`.
"""

import io
import os
import subprocess as _std
import time
import warnings

from wit_world.imports import monotonic_clock

from . import _pump, _spawn
from ._pipes import _ChildInput, _ChildOutput, _raw, _wrap
from ._pump import block_on as _block_on
from ._spawn import PIPE, NotOfferedError, alive, call, drop

_READ_SIZE = 32 * 1024

def _timer(seconds):
    return monotonic_clock.subscribe_duration(max(0, int(seconds * 1e9)))

class Popen(_std.Popen):
    """`subprocess.Popen`, started by the host under its policy.

    Refused with `procgate.NotOfferedError` (a `ValueError`), since no guest
    code runs in the child and the guest has no descriptors to give:
    `preexec_fn`, `pass_fds`, `close_fds=False`, `user`, `group`,
    `extra_groups`, `umask`, `process_group`, `executable`, `pipesize`,
    `restore_signals=False`. A file of the guest (a file object or a
    descriptor number) as `stdin`/`stdout`/`stderr` is offered through a
    pipe whose bytes the guest moves (`_pump.py`): `wait` returns once the
    child's output is in the file. `env` sets variables on top of the
    environment the policy builds (each must be allowed by it). A `Popen`
    garbage-collected while its child runs has the child killed by the host.
    """

    def __init__(
        self,
        args,
        bufsize=-1,
        executable=None,
        stdin=None,
        stdout=None,
        stderr=None,
        preexec_fn=None,
        close_fds=True,
        shell=False,
        cwd=None,
        env=None,
        universal_newlines=None,
        startupinfo=None,
        creationflags=0,
        restore_signals=True,
        start_new_session=False,
        pass_fds=(),
        *,
        user=None,
        group=None,
        extra_groups=None,
        encoding=None,
        errors=None,
        text=None,
        umask=-1,
        pipesize=-1,
        process_group=None,
    ):
        self._child_created = False
        self._handle = None
        self._pumps = []
        self._input = None
        self._communication_started = False
        self._sigint_wait_secs = 0.25
        self._closed_child_pipe_fds = True
        self.args = args
        self.stdin = self.stdout = self.stderr = None
        self.pid = None
        self.returncode = None
        self.encoding = encoding
        self.errors = errors
        self.pipesize = pipesize
        if bufsize is None:
            bufsize = -1
        if not isinstance(bufsize, int):
            raise TypeError("bufsize must be an integer")
        if text is not None and universal_newlines is not None and bool(universal_newlines) != bool(text):
            raise _std.SubprocessError(
                "Cannot disambiguate when both text and universal_newlines are supplied but different. "
                "Pass one or the other."
            )
        self.text_mode = encoding or errors or text or universal_newlines
        if self.text_mode and encoding is None:
            self.encoding = encoding = _std._text_encoding()
        line_buffering = False
        if bufsize == 1:
            if self.text_mode:
                line_buffering = True
                bufsize = -1
            else:
                warnings.warn(
                    "line buffering (buffering=1) isn't supported in binary mode, "
                    "the default buffer size will be used",
                    RuntimeWarning,
                )
        _spawn.refuse_unoffered(locals())
        stdin, stdout, stderr, files = _pump.redirect(stdin, stdout, stderr, _spawn.is_file)
        opts = _spawn.options(stdin, stdout, stderr, cwd=cwd, env=env, start_new_session=start_new_session)
        if shell:
            if isinstance(args, (str, bytes, os.PathLike)):
                command = os.fspath(args)
            else:
                command = list(args)
                if len(command) != 1:
                    raise NotOfferedError(
                        "shell=True with several arguments (they would be the shell's $0, $1, ...): "
                        "a procgate guest gives the policy's shell one command string"
                    )
                command = os.fspath(command[0])
            self._handle = _spawn.spawn_shell(command, opts)
        else:
            argv = [args] if isinstance(args, (str, bytes, os.PathLike)) else list(args)
            self._handle = _spawn.spawn_exec(argv[0], argv[1:], opts)
        self._child_created = True
        self.pid = self._handle.pid()
        self._pumps = _pump.start(self._handle, files)
        if stdin == PIPE and "stdin" not in files:
            self.stdin = _wrap(_ChildInput(self._handle), bufsize, writing=True)
            if self.text_mode:
                self.stdin = io.TextIOWrapper(
                    self.stdin, write_through=True, line_buffering=line_buffering, encoding=encoding, errors=errors
                )
        if stdout == PIPE and "stdout" not in files:
            self.stdout = _wrap(_ChildOutput(self._handle, "stdout"), bufsize, writing=False)
            if self.text_mode:
                self.stdout = io.TextIOWrapper(self.stdout, encoding=encoding, errors=errors)
        if stderr == PIPE and "stderr" not in files:
            self.stderr = _wrap(_ChildOutput(self._handle, "stderr"), bufsize, writing=False)
            if self.text_mode:
                self.stderr = io.TextIOWrapper(self.stderr, encoding=encoding, errors=errors)

    def __del__(self, _warn=warnings.warn):
        if not getattr(self, "_child_created", False):
            return
        if self.returncode is None and alive(self._handle) and self._handle.returncode() is None:
            _warn(f"subprocess {self.pid} is still running (the host kills it now)", ResourceWarning, source=self)
        self._release()

    def _release(self):
        # The streams before the process; the host then ends and reaps the
        # child if it still runs.
        for file in (self.stdin, self.stdout, self.stderr):
            if file is not None:
                try:
                    _raw(file).close()
                except (OSError, ValueError):
                    pass
        for pump in self._pumps:
            pump.close()
        handle, self._handle = self._handle, None
        if handle is not None:
            drop(handle)

    def _internal_poll(self, _deadstate=None, _del_safe=None):
        if self.returncode is None and alive(self._handle):
            if not _pump.active:
                self.returncode = self._handle.returncode()
            else:
                _pump.step_all()
                if self._handle.returncode() is not None:
                    self._wait(None)
        return self.returncode

    def _wait(self, timeout):
        if self.returncode is not None:
            return self.returncode
        if _pump.active:
            # (Another child's pumps too: this child may read what one
            # moves, as in `Popen(b, stdin=a.stdout)` with `a`'s stdin a file.)
            self._wait_pumped(timeout)
        elif timeout is not None:
            ready = _block_on([self._handle.subscribe(), _timer(timeout)])
            if 0 not in ready and self._handle.returncode() is None:
                raise _std.TimeoutExpired(self.args, timeout)
        self.returncode = call(self._handle.wait)
        return self.returncode

    def _wait_pumped(self, timeout):
        """Waits for the child's exit and for its output in the files given
        as its stdout/stderr (the pipe's end of file), moving the bytes;
        then raises what a pump met (a file closed meanwhile, a read or
        write error), once."""
        endtime = None if timeout is None else time.monotonic() + timeout
        while True:
            exited = self._handle.returncode() is not None
            if exited:
                # The child is gone: what it did not read of its stdin
                # stays unread.
                for pump in self._pumps:
                    if pump.name == "stdin":
                        pump.close()
            if exited and all(pump.done() for pump in self._pumps):
                break
            pollables = [] if exited else [self._handle.subscribe()]
            if endtime is not None:
                remaining = endtime - time.monotonic()
                if remaining <= 0:
                    for pollable in pollables:
                        drop(pollable)
                    raise _std.TimeoutExpired(self.args, timeout)
                pollables.append(_timer(remaining))
            _block_on(pollables)
        pumps, self._pumps = self._pumps, []
        errors = [pump.error for pump in pumps if pump.error is not None]
        if errors:
            self.returncode = call(self._handle.wait)
            raise errors[0]

    def send_signal(self, sig):
        # As CPython: nothing once the child has exited.
        self.poll()
        if self.returncode is not None:
            return
        try:
            _spawn.send_signal(self._handle, sig)
        except ProcessLookupError:
            pass

    def _communicate(self, input, endtime, orig_timeout):
        if self.stdin and not self._communication_started:
            try:
                self.stdin.flush()
            except BrokenPipeError:
                pass
            if not input:
                try:
                    self.stdin.close()
                except BrokenPipeError:
                    pass
        if not self._communication_started:
            self._fileobj2output = {}
            if self.stdout:
                self._fileobj2output[self.stdout] = []
            if self.stderr:
                self._fileobj2output[self.stderr] = []
        stdout = self._fileobj2output[self.stdout] if self.stdout else None
        stderr = self._fileobj2output[self.stderr] if self.stderr else None
        self._save_input(input)
        readers = [(f, _raw(f)) for f in (self.stdout, self.stderr) if f and not f.closed]
        writing = bool(self.stdin and not self.stdin.closed and self._input)
        while readers or writing:
            timeout = self._remaining_time(endtime)
            if timeout is not None and timeout < 0:
                self._check_timeout(endtime, orig_timeout, stdout, stderr, skip_check_and_raise=True)
            pollables = [raw.stream().subscribe() for _, raw in readers]
            if writing:
                pollables.append(_raw(self.stdin).stream().subscribe())
            if timeout is not None:
                pollables.append(_timer(timeout))
            ready = set(_block_on(pollables))
            self._check_timeout(endtime, orig_timeout, stdout, stderr)
            if writing and len(readers) in ready:
                writing = self._send_input()
            for index, (file, raw) in list(enumerate(readers)):
                if index not in ready:
                    continue
                data = raw.read_now(_READ_SIZE)
                if data is None:
                    file.close()
                    readers.remove((file, raw))
                elif data:
                    self._fileobj2output[file].append(data)
        self.wait(timeout=self._remaining_time(endtime))
        if stdout is not None:
            stdout = b"".join(stdout)
        if stderr is not None:
            stderr = b"".join(stderr)
        if self.text_mode:
            if stdout is not None:
                stdout = self._translate_newlines(stdout, self.stdout.encoding, self.stdout.errors)
            if stderr is not None:
                stderr = self._translate_newlines(stderr, self.stderr.encoding, self.stderr.errors)
        return (stdout, stderr)

    def _send_input(self):
        """Writes what stdin takes of the input now; closes it after the
        last byte (or a broken pipe). Whether there is more to write."""
        raw = _raw(self.stdin)
        try:
            self._input_offset += raw.write_now(memoryview(self._input)[self._input_offset :])
        except BrokenPipeError:
            self._input_offset = len(self._input)
        if self._input_offset < len(self._input):
            return True
        try:
            self.stdin.close()
        except BrokenPipeError:
            pass
        return False
