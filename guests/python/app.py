"""The app module componentize-py builds a procgate guest from: it runs a
plain Python program (``program.py`` beside it) as ``__main__`` when the
guest's ``wasi:cli/run`` is called.

componentize-py snapshots the interpreter after importing this module, and
only what is imported then is in the component. So the program's source is
read and compiled here, and every module its ``import`` statements name is
imported here too; at run time its imports find them in ``sys.modules``.
Top-level code of the program (``asyncio.run(main())``) runs at run time,
not at build time.
"""

import ast
import importlib
import os
import sys
import traceback

import procgate  # noqa: F401 (imported for the snapshot)
import wit_world.exports
from componentize_py_types import Err

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
        namespace = {"__name__": "__main__", "__file__": _NAME, "__builtins__": __builtins__}
        failed = False
        try:
            exec(_CODE, namespace)
        except SystemExit as e:
            if e.code not in (None, 0):
                failed = True
                if not isinstance(e.code, int):
                    print(e.code, file=sys.stderr)
        except BaseException:
            failed = True
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        if failed:
            # wasi:cli/run's error: the guest exits with status 1.
            raise Err(None)
