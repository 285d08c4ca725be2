"""asyncio's event loop over `wasi:io/poll`.

asyncio's own loops wait in `selectors` on file descriptors (and need a
socketpair to start), which a WebAssembly guest does not have. `PollLoop` is
asyncio's `BaseEventLoop` (its scheduling, debug mode, exception handling,
argument checks of `subprocess_exec`/`subprocess_shell`: all of asyncio above
the loop, unchanged) whose "selector" waits instead on WASI pollables: every
pending wait is a (future, pollable) pair, and when nothing is ready to run
the loop calls `wasi:io/poll.poll` once on all of them, plus a
monotonic-clock pollable for the earliest timer, and resolves the futures
of the pollables that are ready.

`PollLoopPolicy` makes it the loop of `asyncio.run` and
`asyncio.new_event_loop`; `procgate.install()` sets it at the guest's entry.
"""

import asyncio
from asyncio import base_events, events

from wit_world.imports import monotonic_clock

from . import _pump
from ._spawn import drop
from ._transport import ReadPipeTransport, SubprocessTransport, WritePipeTransport

__all__ = ["PollLoop", "PollLoopPolicy", "wait_ready"]


class _PollSelector:
    """What `BaseEventLoop._run_once` calls `select(timeout)` on."""

    def __init__(self, loop):
        self._loop = loop

    def select(self, timeout):
        waiters = [(f, p) for f, p in self._loop._waiters.items() if not f.done()]
        pollables = [p for _, p in waiters]
        timer = None
        if timeout is not None:
            timer = monotonic_clock.subscribe_duration(max(0, int(timeout * 1e9)))
            pollables.append(timer)
        if not pollables and not _pump.active:
            raise RuntimeError(
                "procgate event loop: nothing left to wait for, and nothing will wake the loop "
                "(a future awaited that nothing completes?)"
            )
        # Files given to children as their stdio move while the loop waits.
        ready = _pump.poll_with_pumps(pollables)
        if timer is not None:
            drop(timer)
        return [waiters[i][0] for i in ready if i < len(waiters)]

    def close(self):
        pass


class PollLoop(base_events.BaseEventLoop):
    """asyncio's event loop for a procgate guest: its only sources of events
    are `wasi:io/poll.poll` and timers. `loop.subprocess_exec` and
    `loop.subprocess_shell` start processes through the host's policy, so
    `asyncio.create_subprocess_exec`/`_shell` return asyncio's own
    `asyncio.subprocess.Process`."""

    def __init__(self):
        super().__init__()
        self._waiters = {}  # future -> pollable; the loop owns the pollables
        self._selector = _PollSelector(self)

    def close(self):
        super().close()
        for future in list(self._waiters):
            self._forget(future)

    def _write_to_self(self):
        # call_soon_threadsafe: a guest has one thread; nothing to wake.
        pass

    def _process_events(self, ready):
        for future in ready:
            self._forget(future)
            if not future.done():
                future.set_result(None)

    # Waiting on pollables.

    def _add_waiter(self, pollable):
        """A future done once `pollable` is ready. The loop owns the pollable
        and drops it when it is ready or `_forget` is called."""
        future = self.create_future()
        self._waiters[future] = pollable
        return future

    def _forget(self, future):
        """Drops the pollable of a wait now (before its stream goes)."""
        pollable = self._waiters.pop(future, None)
        if pollable is not None:
            drop(pollable)

    # Pipes and subprocesses (asyncio's hooks for a loop implementation).

    def _make_read_pipe_transport(self, pipe, protocol, waiter=None, extra=None):
        return ReadPipeTransport(self, pipe, protocol, waiter, extra)

    def _make_write_pipe_transport(self, pipe, protocol, waiter=None, extra=None):
        return WritePipeTransport(self, pipe, protocol, waiter, extra)

    async def _make_subprocess_transport(
        self, protocol, args, shell, stdin, stdout, stderr, bufsize, extra=None, **kwargs
    ):
        waiter = self.create_future()
        transport = SubprocessTransport(
            self, protocol, args, shell, stdin, stdout, stderr, bufsize, waiter=waiter, extra=extra, **kwargs
        )
        transport._watch_exit()
        try:
            await waiter
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException:
            transport.close()
            await transport._wait()
            raise
        return transport


_BasePolicy = getattr(events, "_BaseDefaultEventLoopPolicy", None) or events.BaseDefaultEventLoopPolicy


class PollLoopPolicy(_BasePolicy):
    """The event-loop policy whose loops are `PollLoop`s."""

    _loop_factory = PollLoop

    def get_child_watcher(self):
        # asyncio before 3.14 had child watchers; the host watches
        # procgate's children.
        raise NotImplementedError("procgate's children are watched by the host")


async def wait_ready(pollable):
    """Awaits until `pollable` is ready, letting other tasks run; takes
    ownership of the pollable and drops it before returning."""
    if pollable.ready():
        drop(pollable)
        return
    loop = events.get_running_loop()
    if not isinstance(loop, PollLoop):
        drop(pollable)
        raise RuntimeError(
            "procgate needs its own event loop (procgate.install() sets it for asyncio.run): "
            "asyncio's default loop cannot wait on WASI pollables"
        )
    future = loop._add_waiter(pollable)
    try:
        await future
    finally:
        loop._forget(future)


def install_policy():
    """Makes `PollLoop` the loop of `asyncio.run` and `asyncio.new_event_loop`."""
    setter = getattr(events, "_set_event_loop_policy", None) or asyncio.set_event_loop_policy
    setter(PollLoopPolicy())
