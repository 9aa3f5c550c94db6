"""The package type-checks: mypy over src/loopwise with the settings in pyproject.toml.

mypy itself runs in the background from the end of collection on (``tests/typecheck.py``), so the
rest of the suite overlaps it; this test waits for its verdict.
"""

from __future__ import annotations

import pytest

from tests.typecheck import MypyRun


@pytest.mark.slow
def test_mypy_finds_no_errors_in_the_package(mypy_run: MypyRun) -> None:
    pytest.importorskip("mypy")
    code, output = mypy_run.result(timeout=600)
    assert code == 0, output[-6000:]
