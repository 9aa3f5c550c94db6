"""Loop-0 initialisation has no import circle: each module imports alone, and only _cold_start imports _initial."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import loopwise.loop

LOOP = Path(loopwise.loop.__file__).parent


@pytest.mark.parametrize("module", ["loopwise.loop._initial", "loopwise.loop._cold_start"])
def test_each_module_imports_alone_in_a_fresh_interpreter(module: str) -> None:
    code = f"import {module} as m; print(sorted(n for n in ('StrategyInit', 'TypiClustInit', 'parse_initializer') if hasattr(m, n)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() != "[]"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_dependency_runs_one_way() -> None:
    assert "loopwise.loop._initial" in _imports(LOOP / "_cold_start.py")
    assert not any(name.startswith("loopwise.loop") for name in _imports(LOOP / "_initial.py"))
