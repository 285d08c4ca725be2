# The cross-language cases, in Python (guests/python's procgate module): the
# same cases, printing the same lines, as tests/guests/src/bin/cases.rs. The
# table of expected output is in tests/tests/guests/languages.rs. argv[1]
# names the case; gather takes a FIFO's path in argv[2].
import sys

import procgate as asyncio
from procgate import PIPE, DeniedError


def shown(data):
    return data.decode().replace("\n", "\\n")


async def exec_():
    proc = await asyncio.create_subprocess_exec("echo", "hello from exec", stdout=PIPE)
    stdout, _ = await proc.communicate()
    print(f"stdout: {shown(stdout)}")
    print(f"returncode: {proc.returncode}")


async def shell():
    proc = await asyncio.create_subprocess_shell("echo hello from the shell", stdout=PIPE)
    stdout, _ = await proc.communicate()
    print(f"stdout: {shown(stdout)}")
    print(f"returncode: {proc.returncode}")


async def denied_program():
    proc = await asyncio.create_subprocess_exec("cat", "/etc/hostname")
    print(f"started {proc.pid}")


async def communicate():
    proc = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE)
    stdout, _ = await proc.communicate(b"one\ntwo\n")
    print(f"stdout: {shown(stdout)}")
    print(f"returncode: {proc.returncode}")


LINES = "import time\nfor word in ['alpha', 'beta', 'gamma']:\n    print(word, flush=True)\n    time.sleep(0.05)\n"


async def readline():
    proc = await asyncio.create_subprocess_exec("python3", "-c", LINES, stdout=PIPE)
    while True:
        line = await proc.stdout.readline()
        if not line:
            break
        print(f"line: {shown(line)}")
    print("eof")
    print(f"returncode: {await proc.wait()}")


async def kill():
    proc = await asyncio.create_subprocess_exec("sleep", "60")
    proc.kill()
    print(f"returncode: {await proc.wait()}")
    try:
        proc.kill()
        print("kill after exit: no error")
    except ProcessLookupError:
        print("kill after exit: process exited")


async def run_shell(cmd):
    proc = await asyncio.create_subprocess_shell(cmd, stdout=PIPE)
    stdout, _ = await proc.communicate()
    return f"returncode {proc.returncode}: {shown(stdout)}"


async def gather(fifo):
    # The first can only finish once the second runs: run one after the
    # other, they would wait for each other forever.
    results = await asyncio.gather(
        run_shell(f"echo ping > {fifo}; echo a done"),
        run_shell(f'read line < {fifo}; echo "b got $line"'),
    )
    for i, result in enumerate(results):
        print(f"[{i}] {result}")


async def main(case, args):
    cases = {
        "exec": exec_,
        "shell": shell,
        "denied": denied_program,
        "communicate": communicate,
        "readline": readline,
        "kill": kill,
        "gather": lambda: gather(args[0]),
    }
    try:
        await cases[case]()
    except PermissionError as e:
        # The native error for a denial: a PermissionError subclass.
        if not isinstance(e, DeniedError):
            raise
        print(f"denied: {e}")


asyncio.run(main(sys.argv[1], sys.argv[2:]))
