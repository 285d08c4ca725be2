"""The app module componentize-py builds a procgate guest from: it runs a
plain Python program (``program.py`` beside it) as ``__main__`` when the
guest's ``wasi:cli/run`` is called.

componentize-py snapshots the interpreter after importing this module, and
only what is imported then is in the component. So the program's source is
read and compiled here, and every module its ``import`` statements name is
imported here too; at run time its imports find them in ``sys.modules``.
Top-level code of the program (``asyncio.run(main())``) runs at run time,
not at build time.

Before the program runs, ``procgate.install()`` makes ``asyncio`` and
``subprocess`` procgate's (see ``procgate/__init__.py``). The guest ends
with the program's status, as ``python3 program.py`` would: 0 at the end or
on ``sys.exit()``/``sys.exit(0)``; ``n & 0xFF`` on ``sys.exit(n)``; 1 with
the message on ``sys.exit("text")``, and 1 with the traceback on an uncaught
exception. A non-zero status goes out through
``wasi:cli/exit.exit-with-code``.
"""

import ast
import importlib
import os
import sys
import traceback

import procgate
import wit_world.exports
from wit_world.imports import exit as wasi_exit

_HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(_HERE, "program.py"), encoding="utf-8") as _file:
    _SOURCE = _file.read()
with open(os.path.join(_HERE, "program-name.txt"), encoding="utf-8") as _file:
    _NAME = _file.read().strip()
_CODE = compile(_SOURCE, _NAME, "exec")

for _node in ast.walk(ast.parse(_SOURCE)):
    if isinstance(_node, ast.Import):
        for _alias in _node.names:
            importlib.import_module(_alias.name)
    elif isinstance(_node, ast.ImportFrom) and _node.level == 0 and _node.module:
        _module = importlib.import_module(_node.module)
        for _alias in _node.names:
            if not hasattr(_module, _alias.name):
                # `from package import submodule`
                importlib.import_module(f"{_node.module}.{_alias.name}")


class Run(wit_world.exports.Run):
    def run(self) -> None:
        procgate.install()
        namespace = {"__name__": "__main__", "__file__": _NAME, "__builtins__": __builtins__}
        status = 0
        try:
            exec(_CODE, namespace)
        except SystemExit as e:
            status = _exit_status(e.code)
        except BaseException:
            status = 1
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        if status:
            # Does not return: the host ends the guest with this status.
            wasi_exit.exit_with_code(status)


def _exit_status(code):
    """The process status for `SystemExit(code)`, as CPython's."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1
