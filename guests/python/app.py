"""The app module componentize-py builds a procgate guest from: it runs a
plain Python program (``program.py`` beside it) as ``__main__`` when the
guest's ``wasi:cli/run`` is called.

componentize-py snapshots the interpreter after importing this module, and
only what is imported then is in the component. So the program's source is
read and compiled here, and every module its ``import`` statements name is
imported here too; at run time its imports find them in ``sys.modules``.
An import inside a ``try`` that catches ``ImportError`` is optional: a
module the guest's interpreter lacks is left out, and the program's own
``except`` sees the ImportError at run time, as it would anywhere.
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



def _optional_imports(tree):
    """The import statements inside a `try` that catches ImportError (or
    a base of it): a module the interpreter lacks is expected there."""
    optional = set()
    catches = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        names = set()
        for handler in node.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            names |= {k.id if isinstance(k, ast.Name) else "BaseException" for k in kinds if k is not None}
            if handler.type is None:
                names.add("BaseException")
        if names & catches:
            for statement in node.body:
                optional |= {id(n) for n in ast.walk(statement) if isinstance(n, (ast.Import, ast.ImportFrom))}
    return optional


def _import(name, optional):
    try:
        return importlib.import_module(name)
    except ImportError:
        if not optional:
            raise
        return None


_TREE = ast.parse(_SOURCE)
_OPTIONAL = _optional_imports(_TREE)
for _node in ast.walk(_TREE):
    _optional = id(_node) in _OPTIONAL
    if isinstance(_node, ast.Import):
        for _alias in _node.names:
            _import(_alias.name, _optional)
    elif isinstance(_node, ast.ImportFrom) and _node.level == 0 and _node.module:
        _module = _import(_node.module, _optional)
        for _alias in _node.names:
            if _module is not None and not hasattr(_module, _alias.name):
                # `from package import submodule`
                _import(f"{_node.module}.{_alias.name}", _optional)
if "sysconfig" in sys.modules:
    # It imports its data module by a computed name, on first use.
    sys.modules["sysconfig"].get_config_vars()


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
