"""procgate for Python guests: the standard library's process APIs, served
by the host under its policy.

A guest's program needs no procgate import. The component's entry (the app
module) calls `install()` before the program runs, and then

- `import asyncio` works unchanged: `asyncio.run` and
  `asyncio.new_event_loop` give procgate's event loop (`PollLoop`, over
  `wasi:io/poll`), whose `subprocess_exec`/`subprocess_shell` start children
  through the host, so `asyncio.create_subprocess_exec/shell` return
  asyncio's own `asyncio.subprocess.Process` with asyncio's `StreamReader`
  and `StreamWriter`;
- `import subprocess` works unchanged: `subprocess.Popen` is procgate's
  (`run`, `call`, `check_call`, `check_output` use it).

`import procgate as asyncio` (the earlier way) keeps working and is not
deprecated: `procgate` is asyncio's namespace plus procgate's errors, and its
`create_subprocess_exec`, `run`, `subprocess.PIPE`, ... are asyncio's own
objects. A request the host's policy refuses raises `DeniedError`, a
`PermissionError` whose text names the rule; what a guest cannot have
(`preexec_fn`, `pass_fds`, ...) raises `NotOfferedError`, a `ValueError`.

The guest has no interpreter file of its own, so an empty
`sys.executable` is set to `"python3"`: a child started with it is the
host's `python3`, found on the policy's search path if the policy allows it.
"""

import asyncio as _asyncio
import subprocess as _stdlib_subprocess
import sys as _sys
from asyncio import *  # noqa: F401,F403 (asyncio's namespace)
from asyncio import run, new_event_loop  # noqa: F401

from . import subprocess
from ._loop import PollLoop, PollLoopPolicy, install_policy, wait_ready
from ._popen import Popen
from ._spawn import DEVNULL, PIPE, STDOUT, DeniedError, LimitExceededError, NotOfferedError
from .subprocess import Process, StreamReader, StreamWriter, create_subprocess_exec, create_subprocess_shell


def install():
    """Makes the standard library's process APIs procgate's, in this
    interpreter: asyncio's event loop policy gives `PollLoop`s, and
    `subprocess.Popen` is `procgate.Popen`. Idempotent; the guest's entry
    calls it before the program runs."""
    install_policy()
    _stdlib_subprocess.Popen = Popen
    if not _sys.executable:
        _sys.executable = "python3"


install()

__all__ = list(_asyncio.__all__) + [n for n in subprocess.__all__ if n not in _asyncio.__all__] + [
    "PollLoop",
    "PollLoopPolicy",
    "Popen",
    "install",
    "wait_ready",
    "subprocess",
]
