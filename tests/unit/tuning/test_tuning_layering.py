"""The tuning engine stays an engine: no SDK, store or compute imports, Optuna lazily."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import runyard.tuning

ALLOWED = ("runyard.errors", "runyard.entities", "runyard.tuning", "optuna")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_tuning_imports_only_errors_entities_and_optuna_from_outside_the_stdlib():
    package = Path(runyard.tuning.__file__).parent
    for path in sorted(package.glob("*.py")):
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top == "runyard" or top == "optuna":
                assert name.startswith(ALLOWED), f"{path.name} imports {name}"
            else:
                assert top in sys.stdlib_module_names or top == "__future__", (
                    f"{path.name} imports {name}"
                )


def test_importing_the_engine_and_the_sdk_names_does_not_import_optuna():
    code = "import sys, runyard.tuning; print('optuna' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
