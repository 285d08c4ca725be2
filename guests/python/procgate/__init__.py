"""procgate for Python guests: asyncio's subprocess API, served by the host.

Use it in place of asyncio: it has asyncio's whole namespace (``gather``,
``sleep``, ``wait_for``, ``Queue``, ...) with ``run``,
``create_subprocess_exec``, ``create_subprocess_shell`` and ``subprocess``
replaced by procgate's, so the asyncio documentation's examples run with
only their import line changed::

    import procgate as asyncio

    async def run(cmd):
        proc = await asyncio.create_subprocess_shell(
            cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        stdout, stderr = await proc.communicate()
        print(f'[{cmd!r} exited with {proc.returncode}]')

    asyncio.run(run('ls /zzz'))

``run`` drives an event loop over ``wasi:io/poll`` (``procgate.PollLoop``):
asyncio's default loop cannot run in a guest. A request the host's policy
refuses raises ``DeniedError``, a ``PermissionError`` whose text names the
rule; signalling a process that has exited raises ``ProcessLookupError``.

The guest has no interpreter file of its own, so an empty
``sys.executable`` is set to ``"python3"``: a child started with it is the
host's ``python3``, found on the policy's search path if the policy allows
it.
"""

import asyncio as _asyncio
import sys as _sys
from asyncio import *  # noqa: F401,F403 (asyncio's namespace)

from . import subprocess
from ._loop import PollLoop, wait_ready
from .subprocess import (
    DEVNULL,
    PIPE,
    STDOUT,
    DeniedError,
    LimitExceededError,
    Process,
    StreamReader,
    StreamWriter,
    create_subprocess_exec,
    create_subprocess_shell,
)

if not _sys.executable:
    _sys.executable = "python3"


def new_event_loop():
    """A new procgate event loop (asyncio's ``new_event_loop``)."""
    return PollLoop()


def run(main, *, debug=None):
    """Run the coroutine ``main`` on a new procgate event loop and return its
    result: asyncio's ``asyncio.run``. Tasks still pending when it returns
    are cancelled."""
    if _asyncio.events._get_running_loop() is not None:
        raise RuntimeError("procgate.run() cannot be called from a running event loop")
    loop = PollLoop()
    if debug is not None:
        loop.set_debug(debug)
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            _cancel_all_tasks(loop)
        finally:
            loop.close()


def _cancel_all_tasks(loop):
    tasks = [t for t in _asyncio.all_tasks(loop) if not t.done()]
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(_asyncio.gather(*tasks, return_exceptions=True))
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {"message": "unhandled exception during procgate.run() shutdown", "exception": task.exception(), "task": task}
            )


__all__ = list(_asyncio.__all__) + [
    "PIPE",
    "STDOUT",
    "DEVNULL",
    "Process",
    "DeniedError",
    "LimitExceededError",
    "PollLoop",
    "wait_ready",
    "subprocess",
]
