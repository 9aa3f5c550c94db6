"""Content-addressed artifact folder: per-loop arrays (.npz) and model checkpoints (bytes)."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

from loopwise.errors import DataError, NotFoundError, StoreError

_HASH = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


class ArtifactStore:
    """Files named by the sha256 of their bytes, under ``<root>/<hash[:2]>/<hash><suffix>``.

    Writes go to a temporary file in the same folder, then ``os.replace``: a reader never sees a half
    file, and writing the same content twice gives the same single file.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()

    def put_arrays(self, arrays: Mapping[str, np.ndarray]) -> str:
        """Save ``arrays`` as an ``.npz`` (no pickle) and return its content hash."""
        for name, value in arrays.items():
            if not isinstance(name, str) or not name or "/" in name or "\\" in name:
                raise DataError(
                    f"array names must be non-empty strings without slashes, got {name!r}"
                )
            if np.asarray(value).dtype.hasobject:
                raise DataError(
                    f"array {name!r} has dtype object, which cannot be saved without pickle; "
                    "convert it to numbers or fixed-width strings (e.g. np.asarray(x, dtype=str))"
                )

        def write(handle: BinaryIO) -> None:
            # Sorted names and np.savez's fixed zip timestamps: same arrays, same bytes, same hash.
            np.savez(handle, allow_pickle=False, **{name: arrays[name] for name in sorted(arrays)})

        return self._put(write, ".npz")

    def get_arrays(self, artifact_hash: str) -> dict[str, np.ndarray]:
        data = self._read(artifact_hash, ".npz")
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                return {name: npz[name] for name in npz.files}
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            raise StoreError(f"artifact {artifact_hash} is not a readable .npz file: {exc}") from exc

    def put_bytes(self, data: bytes) -> str:
        """Save a model checkpoint (opaque bytes) and return its content hash."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise DataError(f"a model checkpoint must be bytes, got {type(data).__name__}")
        return self._put(lambda handle: handle.write(data), ".bin")

    def get_bytes(self, artifact_hash: str) -> bytes:
        return self._read(artifact_hash, ".bin")

    def path(self, artifact_hash: str, suffix: str) -> Path:
        if not _HASH.fullmatch(artifact_hash):
            raise NotFoundError(f"{artifact_hash!r} is not an artifact hash (64 hex digits)")
        return self.root / artifact_hash[:2] / f"{artifact_hash}{suffix}"

    def _put(self, write: Callable[[BinaryIO], object], suffix: str) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".tmp-", suffix=suffix)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w+b") as handle:
                write(handle)
                handle.flush()
                # On disk before the database row that references it is committed.
                os.fsync(handle.fileno())
            artifact_hash = _sha256(tmp)
            final = self.path(artifact_hash, suffix)
            if final.exists():
                tmp.unlink()
                return artifact_hash
            final.parent.mkdir(exist_ok=True)
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; a server under another user must read it
            os.replace(tmp, final)
            _fsync_dir(final.parent)
            return artifact_hash
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _read(self, artifact_hash: str, suffix: str) -> bytes:
        path = self.path(artifact_hash, suffix)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(
                f"artifact {artifact_hash} is missing from {self.root}; was the artifact folder "
                "moved or deleted?"
            ) from exc
        if hashlib.sha256(data).hexdigest() != artifact_hash:
            raise StoreError(f"artifact {path} is corrupted: its content no longer matches its hash")
        return data


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
