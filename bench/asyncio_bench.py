#!/usr/bin/python3
"""The asyncio variant of procgate's benchmark: one measurement of one
workload, printed as one JSON line ``{"value": V, "extra": {...}}``.

Run by ``procgate-bench`` (bench/src/main.rs) as
``/usr/bin/python3 bench/asyncio_bench.py WORKLOAD [--bytes N] ...``, in a
fresh process per measurement. Plain asyncio as its users write it:
default stdio unless the workload pipes, the default child watcher of
Python 3.11 (a thread per child), ``gather`` for concurrency. ``hello`` is
not a measurement: it is the program ``cli-run`` times as a whole.
"""

import argparse
import asyncio
import json
import os
import resource
import signal
import sys
import time
from asyncio.subprocess import DEVNULL, PIPE

OPS = 200
WARMUP = 20
SLEEP = "0.2"
CHUNK = 65536
PLUGINS = 50
STEPS = 20
GUESTS_PER_SAMPLE = 100


def status_kib(field="VmRSS"):
    """A KiB field of /proc/self/status: VmRSS now, VmHWM the peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return float(line.split()[1])
    raise RuntimeError(f"no {field}")


def rss_kib():
    return status_kib("VmRSS")


def cpu_s():
    """CPU time of this process (user + system), not of its children."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def spawn_true():
    proc = await asyncio.create_subprocess_exec("/usr/bin/true")
    assert await proc.wait() == 0


async def echo_hello():
    proc = await asyncio.create_subprocess_exec("/usr/bin/echo", "hello", stdout=PIPE)
    out, _ = await proc.communicate()
    assert out == b"hello\n"


async def per_op(op):
    for _ in range(WARMUP):
        await op()
    start = time.perf_counter()
    for _ in range(OPS):
        await op()
    return (time.perf_counter() - start) * 1e6 / OPS, {}


async def stdout_stream(nbytes):
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        "/usr/bin/head", "-c", str(nbytes), "/dev/zero", stdout=PIPE
    )
    total = 0
    while True:
        chunk = await proc.stdout.read(CHUNK)
        if not chunk:
            break
        total += len(chunk)
    assert await proc.wait() == 0
    assert total == nbytes
    return nbytes / (time.perf_counter() - start) / 1e6, {}


async def stdout_communicate(nbytes):
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        "/usr/bin/head", "-c", str(nbytes), "/dev/zero", stdout=PIPE
    )
    out, _ = await proc.communicate()
    assert len(out) == nbytes
    return nbytes / (time.perf_counter() - start) / 1e6, {}


async def stdin_stream(nbytes):
    buf = bytes(CHUNK)
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec("/usr/bin/cat", stdin=PIPE, stdout=DEVNULL)
    left = nbytes
    while left > 0:
        n = min(left, CHUNK)
        proc.stdin.write(buf if n == CHUNK else buf[:n])
        await proc.stdin.drain()
        left -= n
    proc.stdin.close()
    await proc.stdin.wait_closed()
    assert await proc.wait() == 0
    return nbytes / (time.perf_counter() - start) / 1e6, {}


async def pipeline(nbytes):
    # asyncio cannot hand one child's pipe to the next: the shell joins them.
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_shell(
        f"/usr/bin/head -c {nbytes} /dev/zero | /usr/bin/cat > /dev/null"
    )
    assert await proc.wait() == 0
    return nbytes / (time.perf_counter() - start) / 1e6, {}


async def sleeper(seconds):
    proc = await asyncio.create_subprocess_exec("/usr/bin/sleep", seconds)
    assert await proc.wait() == 0


async def concurrent(n):
    await sleeper("0")
    start = time.perf_counter()
    await asyncio.gather(*(sleeper(SLEEP) for _ in range(n)))
    return (time.perf_counter() - start) * 1e3, {}


async def memory(n):
    before = rss_kib()
    procs = []
    for _ in range(n):
        procs.append(
            await asyncio.create_subprocess_exec(
                "/usr/bin/sleep", "600", stdin=DEVNULL, stdout=DEVNULL, stderr=DEVNULL
            )
        )
    waits = asyncio.gather(*(p.wait() for p in procs))
    await asyncio.sleep(0)  # let every wait start
    after = rss_kib()
    for p in procs:
        os.kill(p.pid, signal.SIGKILL)
    codes = await waits
    assert all(c == -9 for c in codes)
    extra = {"rss_before_kib": before, "rss_alive_kib": after, "children": n}
    return (after - before) / n, extra


def step(plugin, i):
    """Step i of a plugin of plugins-50x20 (the table of the guest
    bench/guests/src/bin/plugin.rs): the command and a check of its stdout."""
    k = i % 4
    if k == 0:
        want = f"plugin-{plugin} step-{i}\n".encode()
        return ["/usr/bin/echo", f"plugin-{plugin}", f"step-{i}"], lambda out: out == want
    if k == 1:
        return ["/usr/bin/uname", "-s"], lambda out: out == b"Linux\n"
    if k == 2:
        return ["/usr/bin/ls", "/usr"], lambda out: b"bin" in out.split(b"\n")
    return ["/usr/bin/head", "-c", "4096", "/dev/zero"], lambda out: len(out) == 4096


async def plugin(plugin_id):
    """One plugin: its steps one after another, stdout and stderr captured."""
    for i in range(STEPS):
        argv, check = step(plugin_id, i)
        proc = await asyncio.create_subprocess_exec(*argv, stdout=PIPE, stderr=PIPE)
        out, err = await proc.communicate()
        assert proc.returncode == 0, (i, argv, proc.returncode)
        assert check(out), (i, argv, out)
        assert err == b"", (i, argv, err)


async def plugins():
    await plugin(PLUGINS)  # untimed warm-up
    before = rss_kib()
    cpu = cpu_s()
    start = time.perf_counter()
    await asyncio.gather(*(plugin(p) for p in range(PLUGINS)))
    ms = (time.perf_counter() - start) * 1e3
    extra = {
        "host_cpu_ms": (cpu_s() - cpu) * 1e3,
        "peak_rss_mib": status_kib("VmHWM") / 1024,
        "rss_before_mib": before / 1024,
        "plugins": PLUGINS,
        "steps": STEPS,
    }
    return ms, extra


async def guests(n, concurrent):
    """n "guests" (a task running one echo), one after another or at once;
    batches repeated until GUESTS_PER_SAMPLE ran; the wall time of all
    batches per guest, in µs."""
    await echo_hello()
    batches = max(1, -(-GUESTS_PER_SAMPLE // n))
    per_guest = []
    cpu = cpu_s()
    begin = time.perf_counter()
    for _ in range(batches):
        start = time.perf_counter()
        if concurrent:
            await asyncio.gather(*(echo_hello() for _ in range(n)))
        else:
            for _ in range(n):
                await echo_hello()
        per_guest.append((time.perf_counter() - start) * 1e6 / n)
    wall_us = (time.perf_counter() - begin) * 1e6 / (batches * n)
    cpu_us = (cpu_s() - cpu) * 1e6 / (batches * n)
    per_guest.sort()
    extra = {
        "host_cpu_us": cpu_us,
        "guests": n,
        "concurrent": concurrent,
        "batches": batches,
        "batch_min_us": per_guest[0],
        "batch_max_us": per_guest[-1],
        "peak_rss_mib": status_kib("VmHWM") / 1024,
    }
    return wall_us, extra


async def hello():
    proc = await asyncio.create_subprocess_exec("echo", "hello", stdout=PIPE)
    out, _ = await proc.communicate()
    sys.stdout.write(out.decode())


def workload(name, args):
    if name == "spawn":
        return per_op(spawn_true)
    if name == "echo":
        return per_op(echo_hello)
    if name == "stdout-stream":
        return stdout_stream(args.bytes)
    if name == "stdout-communicate":
        return stdout_communicate(args.communicate_bytes)
    if name == "stdin-stream":
        return stdin_stream(args.bytes)
    if name == "pipeline":
        return pipeline(args.bytes)
    if name.startswith("concurrent-"):
        return concurrent(int(name.rsplit("-", 1)[1]))
    if name.startswith("memory-"):
        return memory(int(name.rsplit("-", 1)[1]))
    if name.startswith("plugins-"):
        return plugins()
    if name.startswith("guests-"):
        return guests(int(name.rsplit("-", 1)[1]), name.startswith("guests-par-"))
    raise SystemExit(f"no asyncio variant of {name}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("workload")
    parser.add_argument("--bytes", type=int, default=1 << 30)
    parser.add_argument("--communicate-bytes", type=int, default=None)
    # The guest-side choices of the procgate variant; nothing to choose here.
    parser.add_argument("--stream-mode")
    parser.add_argument("--face")
    args = parser.parse_args()
    if args.communicate_bytes is None:
        args.communicate_bytes = args.bytes
    if args.workload == "hello":
        asyncio.run(hello())
        return

    async def measure():
        # In a task of its own, as the other variants run theirs.
        return await asyncio.create_task(workload(args.workload, args))

    value, extra = asyncio.run(measure())
    print(json.dumps({"value": value, "extra": extra}))


if __name__ == "__main__":
    main()
