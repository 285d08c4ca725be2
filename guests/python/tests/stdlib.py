# The standard library's process APIs in a Python guest, unchanged: no
# procgate import (tests/tests/guests/python_stdlib.rs runs each case and
# checks the lines it prints and its exit status). argv[1] names the case.
import asyncio
import subprocess
import sys


def run_git():
    # The example, as written.
    result = subprocess.run(["git", "status"], capture_output=True, text=True)
    print(f"returncode: {result.returncode}")
    print(f"branch line: {result.stdout.splitlines()[0].startswith('On branch')}")


def run_text():
    result = subprocess.run(["cat"], input="one\ntwo\n", capture_output=True, text=True, check=True)
    print(f"stdout: {result.stdout!r}")
    print(f"type: {type(result).__name__}")


def check_output():
    print(subprocess.check_output("echo $((6 * 7))", shell=True))
    try:
        subprocess.check_call(["false"])
    except subprocess.CalledProcessError as e:
        print(f"CalledProcessError: {e.returncode}")
    print(f"call: {subprocess.call(['true'])}")


def timeout():
    try:
        subprocess.run(["sleep", "30"], timeout=0.2)
    except subprocess.TimeoutExpired as e:
        print(f"TimeoutExpired: {e.cmd}")
    proc = subprocess.Popen(["sleep", "30"], stdout=subprocess.PIPE)
    try:
        proc.communicate(timeout=0.2)
    except subprocess.TimeoutExpired:
        print("communicate: TimeoutExpired")
    proc.kill()
    print(f"killed: {proc.wait()}")


def popen():
    with subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as proc:
        print(f"poll while running: {proc.poll()}")
        proc.stdin.write("through the pipe\n")
        proc.stdin.close()
        print(f"read: {proc.stdout.read()!r}")
    print(f"returncode: {proc.returncode}")
    first = subprocess.Popen(["echo", "piped"], stdout=subprocess.PIPE)
    second = subprocess.Popen(["tr", "a-z", "A-Z"], stdin=first.stdout, stdout=subprocess.PIPE)
    first.stdout.close()
    print(f"pipeline: {second.communicate()[0]!r} {first.wait()}")
    proc = subprocess.Popen(["sleep", "30"])
    proc.terminate()
    print(f"terminated: {proc.wait()}")
    proc.send_signal(9)
    print("signal after exit: ignored")


def refused():
    for kwargs in ({"preexec_fn": print}, {"pass_fds": (3,)}, {"close_fds": False}, {"user": "root"}):
        try:
            subprocess.run(["true"], **kwargs)
        except ValueError as e:
            print(f"{next(iter(kwargs))}: {e}")


def denied():
    try:
        subprocess.run(["rm", "-rf", "/tmp/nothing"])
    except PermissionError as e:
        print(f"denied: {e}")


async def asyncio_communicate():
    proc = await asyncio.create_subprocess_exec(
        "cat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await proc.communicate(b"async\n")
    print(f"stdout: {stdout!r} {proc.returncode}")
    print(f"classes: {type(proc).__module__}.{type(proc).__name__} {type(proc.stdout).__module__}")


CASES = {
    "git": run_git,
    "text": run_text,
    "check": check_output,
    "timeout": timeout,
    "popen": popen,
    "refused": refused,
    "denied": denied,
    "asyncio": lambda: asyncio.run(asyncio_communicate()),
    "exit": lambda: sys.exit(int(sys.argv[2])),
    "exit-builtin": lambda: exit(int(sys.argv[2])),
    "exit-text": lambda: sys.exit("bad input"),
    "raise": lambda: 1 / 0,
}

CASES[sys.argv[1]]()
