"""Fixtures for the data tests: tiny files written on the fly, and the shared datasets when present."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from loopwise.data import shared_datasets_root


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write ``text`` to ``tmp_path / name`` (gzip when the name ends in .gz) and return the path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        if name.endswith(".gz"):
            with gzip.open(path, "wt", encoding="utf-8") as fh:
                fh.write(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return _write


def make_shared_folder(root: Path, name: str, csv_text: str, meta: dict[str, object]) -> Path:
    """A dataset folder in the shared layout: data.csv.gz plus meta.json."""
    folder = root / name
    folder.mkdir(parents=True)
    with gzip.open(folder / "data.csv.gz", "wt", encoding="utf-8") as fh:
        fh.write(csv_text)
    (folder / "meta.json").write_text(json.dumps({"name": name, **meta}), encoding="utf-8")
    return folder


@pytest.fixture
def fake_shared(tmp_path: Path) -> Path:
    """A small shared-datasets root: 'toy_tab' (categorical codes, declared missing values), 'toy_text'."""
    root = tmp_path / "datasets"
    make_shared_folder(
        root,
        "toy_tab",
        "id,code,size,label,split\n"
        "r0,007,1.5,b,train\nr1,010,,a,train\nr2,007,2.5,b,train\nr3,,3.0,a,test\nr4,010,4.0,b,test\n",
        {
            "task": "tabular",
            "label_names": ["b", "a"],
            "missing_values": 2,
            "features": [{"name": "code", "type": "categorical"}, {"name": "size", "type": "numeric"}],
        },
    )
    make_shared_folder(
        root,
        "toy_text",
        'id,text,label\n0,"hello, world",pos\n1,bad day,neg\n2,"good ""quoted"" day",pos\n3,NA,neg\n',
        {"task": "text", "label_names": ["neg", "pos"]},
    )
    return root


@pytest.fixture(scope="session")
def real_shared() -> Path:
    """The real shared datasets folder; tests that need it are skipped where it is absent."""
    root = shared_datasets_root()
    if root is None or not (root / "sms_spam" / "meta.json").is_file():
        pytest.skip("shared datasets folder not available")
    return root
