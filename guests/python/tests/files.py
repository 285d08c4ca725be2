# The guest's files as a child's stdin, stdout and stderr, written as
# CPython code writes them (tests/tests/guests/python_files.rs runs it with
# a writable directory in argv[1] and checks the lines it prints).
import asyncio
import hashlib
import io
import os
import subprocess
import sys

DIR = sys.argv[1]


def path(name):
    return os.path.join(DIR, name)


def contents(name):
    with open(path(name), "rb") as f:
        return f.read()


def file_objects():
    with open(path("in"), "wb") as f:
        f.write(b"pear\n")
    with open(path("in"), "rb") as src, open(path("out"), "wb") as dst:
        result = subprocess.run(["tr", "a-z", "A-Z"], stdin=src, stdout=dst)
    print(f"run stdin=file stdout=file: {result.returncode} {contents('out')!r}")
    with open(path("in"), "rb") as src:
        print(f"check_output stdin=file: {subprocess.check_output(['cat'], stdin=src)!r}")
    with open(path("text"), "w") as dst:
        dst.write("before\n")
        dst.flush()
        subprocess.run(["echo", "appended"], stdout=dst)
    print(f"text file, offset kept: {contents('text')!r}")


def descriptors():
    fd = os.open(path("fd"), os.O_RDWR | os.O_CREAT | os.O_TRUNC)
    p = subprocess.Popen(["sh", "-c", "echo out; echo err >&2"], stdout=fd, stderr=subprocess.STDOUT)
    print(f"stdout=fd stderr=STDOUT: {p.wait()}")
    os.lseek(fd, 0, 0)
    print(f"  {os.read(fd, 100)!r}")
    os.close(fd)
    with open(path("same"), "w+b") as f:
        # One pipe for both, so the order is the child's (two pipes would
        # be read one after the other: "bac").
        p = subprocess.Popen(["sh", "-c", "printf a >&2; printf b; printf c >&2"], stdout=f, stderr=f)
        p.wait()
        f.seek(0)
        print(f"stdout and stderr the same file: {f.read()!r}")
    with open(path("err"), "w+b") as f:
        subprocess.run(["sh", "-c", "echo to-stderr >&2"], stderr=f.fileno())
        f.seek(0)
        print(f"stderr=fd: {f.read()!r}")


def large():
    # More than a pipe holds, both ways at once: the guest moves the file
    # into cat's stdin while cat's output goes into another file.
    data = bytes(range(256)) * 8192  # 2 MiB
    with open(path("big"), "wb") as f:
        f.write(data)
    with open(path("big"), "rb") as src, open(path("big.out"), "wb") as dst:
        code = subprocess.call(["cat"], stdin=src, stdout=dst)
    out = contents("big.out")
    same = hashlib.sha256(out).digest() == hashlib.sha256(data).digest()
    print(f"2 MiB through cat: {code} {len(out)} same={same}")
    with open(path("big"), "rb") as src:
        p = subprocess.Popen(["cat"], stdin=src, stdout=subprocess.PIPE)
        read = p.stdout.read()
        print(f"stdin=file, reading stdout: {len(read)} {p.wait()}")


def polling():
    with open(path("poll"), "w+b") as f:
        p = subprocess.Popen(["sh", "-c", "sleep 0.2; echo polled"], stdout=f)
        while p.poll() is None:
            pass
        f.seek(0)
        print(f"poll until done: {p.returncode} {f.read()!r}")


def refused():
    try:
        subprocess.run(["echo"], stdout=4321)
    except OSError as e:
        print(f"closed descriptor: {e}")
    try:
        subprocess.run(["echo"], stdout=io.BytesIO())
    except io.UnsupportedOperation as e:
        print(f"BytesIO: UnsupportedOperation {e}")
    f = open(path("closed"), "wb")
    p = subprocess.Popen(["sh", "-c", "sleep 0.2; echo late"], stdout=f)
    f.close()
    try:
        p.wait()
    except OSError as e:
        print(f"file closed before the child was done: {e}; returncode {p.returncode}")
    p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for pipe in (p.stdin, p.stdout):
        try:
            pipe.fileno()
        except io.UnsupportedOperation as e:
            print(f"fileno: UnsupportedOperation {str(e)[:51]}")
    p.communicate()


async def with_asyncio():
    with open(path("async"), "wb") as dst:
        proc = await asyncio.create_subprocess_exec("echo", "from asyncio", stdout=dst)
        print(f"asyncio stdout=file: {await proc.wait()}")
    print(f"  {contents('async')!r}")
    with open(path("in"), "rb") as src:
        proc = await asyncio.create_subprocess_exec("cat", stdin=src, stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
    print(f"asyncio stdin=file: {out!r} {proc.returncode}")


file_objects()
descriptors()
large()
polling()
refused()
asyncio.run(with_asyncio())
