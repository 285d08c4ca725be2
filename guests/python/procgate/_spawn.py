"""Starting a process through the host, shared by asyncio's subprocess
transport (`_transport.py`) and the standard library's `subprocess.Popen`
(`_popen.py`): the WIT options, the mapping of WIT errors to Python's
exceptions, and of signal numbers to WIT's."""

import errno
import os
import sys

from componentize_py_types import Err
from wit_world.imports import procgate_subprocess_types as wit
from wit_world.imports import streams
from wit_world.imports import subprocess as wit_subprocess

# The values of the standard library's subprocess module.
PIPE = -1
STDOUT = -2
DEVNULL = -3


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


def drop(resource):
    """Releases a WASI resource now, not whenever it is collected (a
    pollable must go before the stream it was made from). Nothing if it is
    gone already (at the interpreter's exit, its finalizers drop every
    resource before the objects that held them are collected)."""
    if alive(resource):
        resource.__exit__(None, None, None)


def alive(resource):
    """Whether a WASI resource is still held (not dropped by `drop` or by
    its finalizer: in a collected cycle, the finalizers of the resources
    run before the `__del__` of the objects holding them)."""
    finalizer = getattr(resource, "finalizer", None) if resource is not None else None
    return resource is not None and (finalizer is None or finalizer.alive)


def error(value):
    """The Python exception for a WIT `error` value."""
    if isinstance(value, wit.Error_Denied):
        return DeniedError(value.value)
    if isinstance(value, wit.Error_NotFound):
        return FileNotFoundError(errno.ENOENT, value.value)
    if isinstance(value, wit.Error_PermissionDenied):
        return PermissionError(errno.EACCES, value.value)
    if isinstance(value, wit.Error_InvalidArgument):
        return ValueError(value.value)
    if isinstance(value, wit.Error_LimitExceeded):
        return LimitExceededError(value.value)
    if isinstance(value, wit.Error_ProcessExited):
        return ProcessLookupError("the process has exited")
    if isinstance(value, wit.Error_Io):
        return OSError(value.value)
    return OSError(repr(value))


def attempt(function, *args):
    """Calls a WIT function: `(result, None)`, or `(None, error)` with the
    WIT error value. (The Python exception for it is then raised outside
    the handler of componentize-py's `Err`, a frozen dataclass that must
    not become its `__context__`: unittest, among others, writes to the
    context's `__traceback__`.)"""
    try:
        return function(*args), None
    except Err as e:
        return None, e.value


def call(function, *args):
    """Calls a WIT function, raising its error as a Python exception."""
    result, failure = attempt(function, *args)
    if failure is not None:
        raise error(failure)
    return result


def stream_error(value, writing):
    """The exception for a `wasi:io/streams` error; `None` for the end of
    an input stream."""
    if isinstance(value, streams.StreamError_Closed):
        return BrokenPipeError(errno.EPIPE, "Broken pipe") if writing else None
    failure = value.value
    try:
        return OSError(failure.to_debug_string())
    finally:
        drop(failure)


# Linux signal numbers (as the guest's `signal` module has them) to WIT.
SIGNALS = {
    1: wit.Signal.HUP, 2: wit.Signal.INT, 3: wit.Signal.QUIT, 4: wit.Signal.ILL,
    5: wit.Signal.TRAP, 6: wit.Signal.ABRT, 7: wit.Signal.BUS, 8: wit.Signal.FPE,
    9: wit.Signal.KILL, 10: wit.Signal.USR1, 11: wit.Signal.SEGV, 12: wit.Signal.USR2,
    13: wit.Signal.PIPE, 14: wit.Signal.ALRM, 15: wit.Signal.TERM, 17: wit.Signal.CHLD,
    18: wit.Signal.CONT, 19: wit.Signal.STOP, 20: wit.Signal.TSTP, 21: wit.Signal.TTIN,
    22: wit.Signal.TTOU, 23: wit.Signal.URG, 24: wit.Signal.XCPU, 25: wit.Signal.XFSZ,
    26: wit.Signal.VTALRM, 27: wit.Signal.PROF, 28: wit.Signal.WINCH, 29: wit.Signal.IO,
    30: wit.Signal.PWR, 31: wit.Signal.SYS,
}


def _is(value, *candidates):
    return any(value is c for c in candidates if c is not None)


def _own(value, name):
    """Whether `value` is the guest's own stream `name` (its file object or
    its number): the child's is then the guest's (inherited)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value == {"stdin": 0, "stdout": 1, "stderr": 2}[name]
    return _is(value, *{
        "stdin": (sys.stdin, sys.__stdin__),
        "stdout": (sys.stdout, sys.__stdout__),
        "stderr": (sys.stderr, sys.__stderr__),
    }[name])


def _stdout_of(value):
    """For another child's stdout pipe file (`stdin=other.stdout`), the
    function that hands its pipe over; `None` for anything else."""
    source, file = None, value
    while file is not None and source is None:
        source = getattr(file, "_procgate_stdout_of", None)
        file = getattr(file, "buffer", None) or getattr(file, "raw", None)
    return source


def is_file(value, name):
    """Whether `stdin=`/`stdout=`/`stderr=` `value` is a file of the guest
    (a descriptor number, or an object with `fileno`), which the child
    reads from or writes to through a pipe (`_pump.py`): not `None`,
    `PIPE`, `DEVNULL`, `STDOUT`, the guest's own stream or another child's
    stdout."""
    if value is None or _own(value, name) or _stdout_of(value) is not None:
        return False
    if isinstance(value, int) and not isinstance(value, bool):
        return value not in (PIPE, DEVNULL, STDOUT)
    return hasattr(value, "fileno")


def _stdio(value, name):
    """The WIT `stdio` for a `stdin=`/`stdout=`/`stderr=` argument that is
    not a guest file (`is_file`: those are `PIPE` here)."""
    if value is None:
        return wit.Stdio_Inherit()
    if _own(value, name):
        if name != "stdin" and not isinstance(value, int):
            value.flush()
        return wit.Stdio_Inherit()
    if value == PIPE:
        return wit.Stdio_Pipe()
    if value == DEVNULL:
        return wit.Stdio_Devnull()
    if value == STDOUT:
        if name != "stderr":
            raise ValueError(f"{name}=STDOUT: only stderr can go to stdout")
        return wit.Stdio_Stdout()
    # `stdin=other.stdout`: the host joins the two processes.
    source = _stdout_of(value)
    if name == "stdin" and source is not None:
        return wit.Stdio_StdoutOf(source())
    raise ValueError(
        f"{name}={value!r}: a procgate guest's child can have None, PIPE, DEVNULL, STDOUT (stderr), "
        "a file of the guest (a file object or a descriptor number), the guest's own stream, "
        "or (stdin) another child's stdout pipe"
    )


def text(value):
    """A path, argument or variable as a WIT string: `str`, `bytes` or a
    path-like, decoded as `os.fsdecode` does. A WIT string is UTF-8: what
    holds undecodable bytes (surrogate escapes) raises UnicodeEncodeError
    here, before the host is asked."""
    value = os.fsdecode(os.fspath(value))
    value.encode("utf-8")
    return value


def options(stdin, stdout, stderr, limit=None, cwd=None, env=None, start_new_session=False):
    """The WIT `options` record."""
    if limit is not None and limit <= 0:
        raise ValueError("limit must be positive")
    pairs = []
    if env is not None:
        pairs = [(text(k), text(v)) for k, v in dict(env).items()]
    return wit.Options(
        stdin=_stdio(stdin, "stdin"),
        stdout=_stdio(stdout, "stdout"),
        stderr=_stdio(stderr, "stderr"),
        limit=None if limit is None else min(int(limit), 2**32 - 1),
        cwd=None if cwd is None else text(cwd),
        env=pairs,
        start_new_session=bool(start_new_session),
    )


def spawn_exec(program, args, opts):
    """A new WIT `process` running `program` with `args` (without argv[0])."""
    return call(
        wit_subprocess.create_subprocess_exec,
        text(program),
        [text(a) for a in args],
        opts,
    )


def spawn_shell(cmd, opts):
    """A new WIT `process` running `cmd` with the policy's shell."""
    return call(wit_subprocess.create_subprocess_shell, text(cmd), opts)


def send_signal(proc, signal):
    """Signals a WIT process; `ProcessLookupError` once it has exited."""
    try:
        wit_signal = SIGNALS[int(signal)]
    except (KeyError, ValueError, TypeError):
        raise ValueError(f"procgate cannot send signal {signal!r}") from None
    call(proc.send_signal, wit_signal)


class NotOfferedError(ValueError):
    """A `subprocess`/`asyncio` argument that a procgate guest cannot have:
    the host starts the child, and runs no guest code in it."""


def refuse_unoffered(arguments):
    """Raises `NotOfferedError` for the arguments of `Popen` (and of
    asyncio's `create_subprocess_*`, which passes them on) that a guest
    cannot have, naming each and why. `arguments`: Popen's arguments by
    name (its `locals()`)."""
    a = arguments
    reasons = []
    if a["preexec_fn"] is not None:
        reasons.append("preexec_fn (no guest code runs in the child: the host starts it)")
    if not a["close_fds"]:
        reasons.append("close_fds=False (the child gets only its three standard streams)")
    if a["pass_fds"]:
        reasons.append("pass_fds (the guest has no descriptors to give a child)")
    if a["user"] is not None or a["group"] is not None or a["extra_groups"] is not None:
        reasons.append("user/group/extra_groups (the host's policy decides who the child runs as)")
    if a["umask"] != -1:
        reasons.append("umask (the host sets the child's umask)")
    if a["process_group"] is not None:
        reasons.append("process_group (use start_new_session=True: the host decides process groups)")
    if a["executable"] is not None:
        reasons.append("executable (the policy resolves the program; argv[0] is the program)")
    if a["pipesize"] != -1:
        reasons.append("pipesize (the host sizes the pipes)")
    if not a["restore_signals"]:
        reasons.append("restore_signals=False (the host resets the child's signals)")
    if a["startupinfo"] is not None or a["creationflags"]:
        raise ValueError("startupinfo and creationflags are only supported on Windows platforms")
    if reasons:
        raise NotOfferedError("not offered to a procgate guest: " + "; ".join(reasons))
