"""The package's shape: no module over 500 lines, and nothing outside storage reaches into a store's private parts."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path

from loopwise.storage import AnnotationRepository, Store

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "loopwise"
STORAGE = PACKAGE / "storage"
MAX_LINES = 500
# A receiver named like a store or a repository (store, repo, self.store, services.repo, run_store...).
_STORE_NAME = re.compile(r"(^|_)(store|repo|repository)$")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _store_privates() -> frozenset[str]:
    """The private attributes and methods of Store and AnnotationRepository (and their storage base classes)."""
    names: set[str] = set()
    for cls in {c for root in (Store, AnnotationRepository) for c in root.__mro__}:
        if not cls.__module__.startswith("loopwise.storage"):
            continue
        names.update(n for n in vars(cls) if _private(n))
        names.update(n for n in getattr(cls, "__annotations__", {}) if _private(n))
        init = vars(cls).get("__init__")
        if init is None:
            continue
        for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(init)))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                if _private(node.attr):
                    names.add(node.attr)
    return frozenset(names)


def _receiver_name(node: ast.expr) -> str | None:
    """The last name of an attribute's receiver: ``store`` for ``store._x``, ``repo`` for ``self.repo._x``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def private_store_accesses(source: str, privates: frozenset[str]) -> list[tuple[int, str]]:
    """(line, expression) of every ``x._attr`` in ``source`` where x is not self/cls and looks like a store.

    A store is recognised by the receiver's name (store, repo, repository, or ending in _store, _repo)
    or by the attribute being one of the stores' own private names (``_engine``, ``_sessions``, ...).
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not _private(node.attr):
            continue
        receiver = _receiver_name(node.value)
        if receiver in ("self", "cls"):
            continue
        if (receiver is not None and _STORE_NAME.search(receiver)) or node.attr in privates:
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_no_module_of_the_package_is_over_500_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): n
        for path in sorted(PACKAGE.rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"modules over {MAX_LINES} lines (split them by concern): {too_long}"


def test_no_module_outside_storage_reaches_into_a_store() -> None:
    privates = _store_privates()
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {expression}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if STORAGE not in path.parents
        for line, expression in private_store_accesses(path.read_text(encoding="utf-8"), privates)
    ]
    assert not offenders, "private store attributes used outside loopwise.storage (add a public method):\n" + "\n".join(
        offenders
    )


def test_the_scan_knows_the_stores_private_parts() -> None:
    privates = _store_privates()
    assert {"_engine", "_sessions", "_write_sessions", "_artifacts", "_write", "_write_conn"} <= privates


def test_the_scan_flags_reaching_in_and_passes_a_class_using_its_own_attributes() -> None:
    privates = _store_privates()
    source = textwrap.dedent(
        """
        class Worker:
            def __init__(self, repo):
                self._repo = repo
                self._engine = None

            def run(self, store, services):
                self._engine = 1
                with self.repo._write(1) as session:
                    pass
                services.store._engine.dispose()
                store._sessions()
                self._repo._artifacts.put_bytes(b"")
                make()._write_sessions
                return self._engine, other._count
        """
    )
    flagged = [expression for _, expression in private_store_accesses(source, privates)]
    assert len(flagged) == len(set(flagged))  # one entry each
    assert set(flagged) == {
        "self.repo._write",
        "services.store._engine",
        "store._sessions",
        "self._repo._artifacts",
        "make()._write_sessions",
    }


# The layers above labeling (oracles and label quality) in docs/architecture.md: it imports none of them.
ABOVE_LABELING = (
    "loopwise.cli", "loopwise.server", "loopwise.bench", "loopwise.distributed", "loopwise.experiments",
    "loopwise.reports", "loopwise.storage", "loopwise.data",
)


def _imports(source: str) -> set[str]:
    """Every module an ``import`` or ``from ... import`` in ``source`` names (absolute imports)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_labeling_imports_no_layer_above_it() -> None:
    upward = sorted(
        (path.name, name)
        for path in (PACKAGE / "labeling").rglob("*.py")
        for name in _imports(path.read_text())
        if name.startswith(ABOVE_LABELING)
    )
    assert upward == [], f"labeling imports layers above it: {upward}"
