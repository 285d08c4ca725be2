"""`procgate.subprocess`: asyncio's `asyncio.subprocess` for code that
writes `import procgate as asyncio` (`asyncio.subprocess.PIPE`,
`asyncio.subprocess.Process`). The classes are asyncio's own: since
procgate's event loop runs `asyncio.create_subprocess_exec`, this module
re-exports `asyncio.subprocess` plus procgate's errors."""

from asyncio.subprocess import *  # noqa: F401,F403
from asyncio.subprocess import DEVNULL, PIPE, STDOUT, Process, create_subprocess_exec, create_subprocess_shell
from asyncio.streams import StreamReader, StreamWriter

from ._spawn import DeniedError, LimitExceededError, NotOfferedError

__all__ = [
    "PIPE",
    "STDOUT",
    "DEVNULL",
    "Process",
    "StreamReader",
    "StreamWriter",
    "DeniedError",
    "LimitExceededError",
    "NotOfferedError",
    "create_subprocess_exec",
    "create_subprocess_shell",
]
