"""Parse project sources for tests that walk the code (imports, literals).

CPython 3.11 can raise ``SystemError: AST constructor recursion depth mismatch`` from
``ast.parse`` once an earlier test in the same process has changed the interpreter's recursion
bookkeeping (seen in this suite). The source is fine then: parse it in a fresh interpreter and
bring the tree back (AST nodes pickle).
"""

from __future__ import annotations

import ast
import pickle
import subprocess
import sys
from pathlib import Path

_PARSE = ("import ast, pickle, sys; path = sys.argv[1]; "
          "sys.stdout.buffer.write(pickle.dumps(ast.parse(open(path).read(), path)))")


def parse(path: Path) -> ast.Module:
    source = path.read_text()
    try:
        return ast.parse(source, str(path))
    except SystemError:
        result = subprocess.run([sys.executable, "-c", _PARSE, str(path)], capture_output=True,
                                check=True)
        return pickle.loads(result.stdout)
