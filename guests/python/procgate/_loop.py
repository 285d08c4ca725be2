"""An asyncio event loop over `wasi:io/poll`.

asyncio's own loops wait in `selectors` on file descriptors (and need a
socketpair to start), which a WebAssembly guest does not have. This loop
keeps asyncio's scheduling (`Handle`, `TimerHandle`, `Future`, `Task`: all
of asyncio above the loop works unchanged, `gather` included) and waits
instead on WASI pollables: every pending wait is a `(pollable, future)`
pair, and when nothing is ready to run the loop calls `wasi:io/poll.poll`
once on all of them, plus a monotonic-clock pollable for the earliest timer,
and resolves the futures of the pollables that are ready.
"""

import asyncio
import collections
import heapq
import sys
import traceback

from asyncio import events

from wit_world.imports import monotonic_clock, poll

__all__ = ["PollLoop", "wait_ready"]


def _drop(resource):
    """Releases a WASI resource now, not whenever it is collected (a
    pollable must go before the stream it was made from)."""
    resource.__exit__(None, None, None)


class PollLoop(asyncio.AbstractEventLoop):
    """An asyncio event loop whose only source of events is
    `wasi:io/poll.poll` (and timers, through `wasi:clocks/monotonic-clock`).

    Use it through `procgate.run(main())`, asyncio's `asyncio.run`.
    """

    def __init__(self):
        self._ready = collections.deque()
        self._scheduled = []
        self._waiters = []  # [pollable, future]; the loop owns the pollables
        self._running = False
        self._stopping = False
        self._closed = False
        self._debug = False
        self._exception_handler = None
        self._task_factory = None

    # Running and stopping.

    def run_until_complete(self, future):
        self._check_closed()
        if self._running:
            raise RuntimeError("this event loop is already running")
        future = asyncio.ensure_future(future, loop=self)
        previous = events._get_running_loop()
        events._set_running_loop(self)
        self._running = True
        try:
            while not future.done():
                self._run_once(future)
        finally:
            self._running = False
            events._set_running_loop(previous)
        return future.result()

    def run_forever(self):
        self._check_closed()
        if self._running:
            raise RuntimeError("this event loop is already running")
        previous = events._get_running_loop()
        events._set_running_loop(self)
        self._running = True
        try:
            while not self._stopping:
                self._run_once(None)
        finally:
            self._stopping = False
            self._running = False
            events._set_running_loop(previous)

    def stop(self):
        self._stopping = True

    def is_running(self):
        return self._running

    def is_closed(self):
        return self._closed

    def close(self):
        if self._running:
            raise RuntimeError("cannot close a running event loop")
        if self._closed:
            return
        self._closed = True
        self._ready.clear()
        self._scheduled.clear()
        for pollable, _ in self._waiters:
            _drop(pollable)
        self._waiters.clear()

    def _check_closed(self):
        if self._closed:
            raise RuntimeError("event loop is closed")

    async def shutdown_asyncgens(self):
        pass

    async def shutdown_default_executor(self, timeout=None):
        pass

    # Scheduling callbacks.

    def call_soon(self, callback, *args, context=None):
        self._check_closed()
        handle = events.Handle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    call_soon_threadsafe = call_soon

    def call_later(self, delay, callback, *args, context=None):
        return self.call_at(self.time() + delay, callback, *args, context=context)

    def call_at(self, when, callback, *args, context=None):
        self._check_closed()
        timer = events.TimerHandle(when, callback, args, self, context)
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer

    def _timer_handle_cancelled(self, handle):
        # Cancelled timers are skipped when they come up.
        pass

    def time(self):
        return monotonic_clock.now() / 1e9

    # Futures and tasks.

    def create_future(self):
        return asyncio.Future(loop=self)

    def create_task(self, coro, *, name=None, context=None, **kwargs):
        self._check_closed()
        if self._task_factory is not None:
            return self._task_factory(self, coro, name=name, context=context, **kwargs)
        return asyncio.Task(coro, loop=self, name=name, context=context, **kwargs)

    def set_task_factory(self, factory):
        self._task_factory = factory

    def get_task_factory(self):
        return self._task_factory

    # Errors.

    def get_exception_handler(self):
        return self._exception_handler

    def set_exception_handler(self, handler):
        self._exception_handler = handler

    def default_exception_handler(self, context):
        message = context.get("message") or "Unhandled exception in event loop"
        print(f"procgate event loop: {message}", file=sys.stderr)
        exception = context.get("exception")
        if exception is not None:
            traceback.print_exception(exception, file=sys.stderr)
        for key in ("future", "task", "handle"):
            if key in context:
                print(f"  {key}: {context[key]!r}", file=sys.stderr)

    def call_exception_handler(self, context):
        if self._exception_handler is None:
            self.default_exception_handler(context)
        else:
            self._exception_handler(self, context)

    def get_debug(self):
        return self._debug

    def set_debug(self, enabled):
        self._debug = enabled

    # Waiting on pollables.

    def _add_waiter(self, pollable):
        """A future that is done once `pollable` is ready. The loop owns the
        pollable from here on, and drops it once it is ready or the future
        is cancelled."""
        future = self.create_future()
        entry = [pollable, future]
        self._waiters.append(entry)

        def forget(_):
            # Done (ready) or cancelled: let go of the pollable at once.
            if entry in self._waiters:
                self._waiters.remove(entry)
                _drop(entry[0])

        future.add_done_callback(forget)
        return future

    def _run_once(self, main):
        while self._scheduled and self._scheduled[0]._cancelled:
            heapq.heappop(self._scheduled)
        if not self._ready:
            waiters = [entry for entry in self._waiters if not entry[1].done()]
            pollables = [pollable for pollable, _ in waiters]
            timer = None
            if self._scheduled:
                when = self._scheduled[0].when()
                delay = max(0, int((when - self.time()) * 1e9))
                timer = monotonic_clock.subscribe_duration(delay)
                pollables.append(timer)
            if not pollables:
                if main is not None and not main.done():
                    raise RuntimeError(
                        "procgate event loop: nothing left to wait for, but the main "
                        "future is not done (was a future awaited that nothing completes?)"
                    )
                if main is None:
                    raise RuntimeError("procgate event loop: run_forever with nothing to wait for")
            else:
                ready = poll.poll(pollables)
                if timer is not None:
                    _drop(timer)
                for index in ready:
                    if index < len(waiters):
                        future = waiters[index][1]
                        if not future.done():
                            # Its done callback drops the pollable.
                            future.set_result(None)
        now = self.time()
        while self._scheduled and self._scheduled[0].when() <= now:
            timer = heapq.heappop(self._scheduled)
            timer._scheduled = False
            if not timer._cancelled:
                self._ready.append(timer)
        for _ in range(len(self._ready)):
            handle = self._ready.popleft()
            if not handle._cancelled:
                handle._run()


async def wait_ready(pollable):
    """Awaits until `pollable` is ready, letting other tasks run; takes
    ownership of the pollable and drops it before returning."""
    if pollable.ready():
        _drop(pollable)
        return
    loop = events.get_running_loop()
    if not isinstance(loop, PollLoop):
        _drop(pollable)
        raise RuntimeError(
            "procgate needs its own event loop: run the program with procgate.run(main()) "
            "(asyncio.run's default loop cannot wait on WASI pollables)"
        )
    await loop._add_waiter(pollable)
