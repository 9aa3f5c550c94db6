"""mypy over the package, started in the background as soon as a run has collected the typing test.

mypy takes about a minute of one core on a fresh clone (no cache to reuse), and most of the suite keeps
the second core of a two-core CI machine idle. So the check starts when collection ends and
``tests/test_typing.py`` only waits for its verdict: the same command over the same files, with a
fresh cache, whatever runs beside it. It runs at the tests' own priority: a lower one would starve it
on a busy machine, and the test's wait would then run out. A run that does not select the test starts
no mypy.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_RUN = pytest.StashKey["MypyRun"]()


class MypyRun:
    """``python -m mypy src/loopwise`` in a child process, its output in a file, its cache a fresh folder."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="loopwise-mypy-"))
        self.log_path = self.folder / "mypy.log"
        command = [sys.executable, "-m", "mypy", "--cache-dir", str(self.folder / "cache"), "src/loopwise"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def result(self, timeout: float) -> tuple[int, str]:
        """mypy's exit status and output, once it has finished (TimeoutExpired after ``timeout`` seconds)."""
        code = self.process.wait(timeout)
        return code, self.log_path.read_text(errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _wants_mypy(items: list[pytest.Item]) -> bool:
    return any(Path(str(item.path)).name == "test_typing.py" for item in items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start mypy now if the typing test is among the tests this run will execute."""
    if _wants_mypy(session.items) and _mypy_installed():
        session.config.stash[_RUN] = MypyRun()


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(_RUN, None)
    if run is not None:
        run.close()


def _mypy_installed() -> bool:
    try:
        import mypy  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture
def mypy_run(request: pytest.FixtureRequest) -> Iterator[MypyRun]:
    """The run's background mypy, or (when collection did not start one) one started now."""
    run = request.config.stash.get(_RUN, None)
    if run is not None:
        yield run
        return
    run = MypyRun()
    try:
        yield run
    finally:
        run.close()
