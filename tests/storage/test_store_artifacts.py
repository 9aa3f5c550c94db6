"""Artifacts: per-loop arrays and models round-trip, named by their content hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from loopwise.errors import DataError, NotFoundError, StoreError
from loopwise.storage import Store
from loopwise.storage._artifacts import ArtifactStore
from tests.storage.helpers import make_loop


def _arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "proba": rng.dirichlet(np.ones(3), size=50).astype(np.float32),
        "candidate_index": np.arange(50, dtype=np.int64),
        "labelled": rng.random(50) < 0.2,
        "ids": np.array([f"r{i}" for i in range(50)]),
    }


def test_loop_arrays_and_model_round_trip(store: Store, run_id: str) -> None:
    arrays = _arrays()
    store.record_loop(run_id, make_loop(0, ["r000"], arrays=arrays, model=b"\x00model\xff"))
    store.record_loop(run_id, make_loop(1, ["r001"], arrays={}))
    first, second = store.loops(run_id)

    loaded = store.load_arrays(first.artifact_hash)
    assert loaded.keys() == arrays.keys()
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded[name], array)
    assert store.load_arrays(second.artifact_hash) == {}
    assert store.load_model(run_id, 0) == b"\x00model\xff"
    assert store.load_model(run_id, 1) is None
    assert store.counts()["model_versions"] == 1


def test_files_are_named_by_their_sha256(store: Store, run_id: str) -> None:
    store.record_loop(run_id, make_loop(0, ["r000"], arrays=_arrays(), model=b"weights"))
    artifact_hash = store.loops(run_id)[0].artifact_hash
    path = store.artifacts_dir / artifact_hash[:2] / f"{artifact_hash}.npz"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == artifact_hash
    model_hash = hashlib.sha256(b"weights").hexdigest()
    assert (store.artifacts_dir / model_hash[:2] / f"{model_hash}.bin").read_bytes() == b"weights"
    # Nothing half-written is left behind.
    assert not [p for p in store.artifacts_dir.rglob(".tmp-*")]


def test_same_content_gives_the_same_single_file(tmp_path: Path) -> None:
    artifacts = ArtifactStore(tmp_path)
    arrays = _arrays()
    first = artifacts.put_arrays(arrays)
    reordered = artifacts.put_arrays(dict(reversed(list(arrays.items()))))
    copied = artifacts.put_arrays({name: array.copy() for name, array in arrays.items()})
    assert first == reordered == copied
    changed = artifacts.put_arrays({**arrays, "proba": arrays["proba"] + np.float32(1e-3)})
    assert changed != first
    assert artifacts.put_bytes(b"m") == artifacts.put_bytes(b"m") == hashlib.sha256(b"m").hexdigest()
    assert len([path for path in tmp_path.rglob("*") if path.is_file()]) == 3


def test_object_arrays_are_refused_rather_than_pickled(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="dtype object"):
        ArtifactStore(tmp_path).put_arrays({"ids": np.array(["a", 1], dtype=object)})
    with pytest.raises(DataError, match="without slashes"):
        ArtifactStore(tmp_path).put_arrays({"a/b": np.zeros(2)})


def test_missing_and_corrupted_artifacts_are_reported(tmp_path: Path) -> None:
    artifacts = ArtifactStore(tmp_path)
    artifact_hash = artifacts.put_arrays({"x": np.arange(3)})
    with pytest.raises(NotFoundError, match="not an artifact hash"):
        artifacts.get_arrays("../../etc/passwd")
    with pytest.raises(NotFoundError, match="is missing"):
        artifacts.get_arrays("ab" * 32)
    path = artifacts.path(artifact_hash, ".npz")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="corrupted"):
        artifacts.get_arrays(artifact_hash)
