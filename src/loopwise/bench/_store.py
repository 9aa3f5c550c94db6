"""The results folder: one JSON file per finished cell while running, one compact JSON per dataset after.

Layout under ``root``::

    <dataset>.json                         # {"dataset", "protocol", "data", "versions", "cells": [...]}
    cells/<dataset>/_data.json             # protocol and data description, written with the first cell
    cells/<dataset>/<strategy>/seed<k>.json  # a finished cell, until it is merged

A cell found in either place is finished and never runs again. Files are
written to a temporary name and renamed, so a killed run leaves only whole
files behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from loopwise.bench._protocol import Protocol
from loopwise.errors import ConfigError, DataError

CELLS = "cells"


def _dump(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=False)


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot read benchmark results: {exc}") from None


def _strategy_dir(strategy: str) -> str:
    # ':' separates library and method in names but is not portable in file names.
    return strategy.replace(":", ".")


class ResultStore:
    """Finished cells of a results folder, and where new ones go."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    # -- reading ------------------------------------------------------------
    def dataset_file(self, dataset: str) -> Path:
        return self.root / f"{dataset}.json"

    def cell_file(self, dataset: str, strategy: str, seed: int) -> Path:
        return self.root / CELLS / dataset / _strategy_dir(strategy) / f"seed{seed}.json"

    def _merged(self, dataset: str) -> dict[str, Any] | None:
        path = self.dataset_file(dataset)
        return _read(path) if path.is_file() else None

    def _loose_cells(self, dataset: str) -> list[dict[str, Any]]:
        folder = self.root / CELLS / dataset
        if not folder.is_dir():
            return []
        return [_read(p) for p in sorted(folder.glob("*/seed*.json"))]

    def finished(self, protocol: Protocol) -> set[tuple[str, int]]:
        """``(strategy, seed)`` of every finished cell of ``protocol``'s dataset.

        Results of another protocol for the same dataset are refused: mixing
        them would compare runs that did not share a pool, budget or batch.
        """
        dataset = protocol.dataset
        done: set[tuple[str, int]] = set()
        merged = self._merged(dataset)
        cells = list(merged["cells"]) if merged else []
        cells += self._loose_cells(dataset)
        for cell in cells:
            if cell["protocol_id"] != protocol.protocol_id:
                raise ConfigError(
                    f"{self.root} holds results of {dataset!r} under another protocol "
                    f"({cell['protocol_id']} vs {protocol.protocol_id} now: pool, budget, batch or seed differ); "
                    "use another --results folder or move the old results away"
                )
            done.add((cell["strategy"], int(cell["seed"])))
        return done

    # -- writing ------------------------------------------------------------
    def write_cell(self, result: dict[str, Any], protocol: Protocol, data: dict[str, Any]) -> None:
        """Save a finished cell; the first cell of a dataset also saves its protocol and data description."""
        dataset = result["dataset"]
        info = self.root / CELLS / dataset / "_data.json"
        if not info.is_file():
            write_atomic(info, _dump({"protocol": protocol.describe(), "data": data}))
        write_atomic(self.cell_file(dataset, result["strategy"], int(result["seed"])), _dump(result))

    def merge(self, protocol: Protocol, versions: dict[str, Any]) -> Path | None:
        """Fold the loose cell files of a dataset into ``<dataset>.json``; returns its path (None if nothing)."""
        dataset = protocol.dataset
        loose = self._loose_cells(dataset)
        merged = self._merged(dataset)
        if not loose and merged is None:
            return None
        if not loose:
            return self.dataset_file(dataset)
        info_path = self.root / CELLS / dataset / "_data.json"
        data = _read(info_path)["data"] if info_path.is_file() else (merged or {}).get("data", {})
        by_key = {(c["strategy"], int(c["seed"])): c for c in (merged["cells"] if merged else [])}
        by_key.update({(c["strategy"], int(c["seed"])): c for c in loose})
        cells = [by_key[k] for k in sorted(by_key)]
        doc = {
            "dataset": dataset,
            "protocol_id": protocol.protocol_id,
            "protocol": protocol.describe(),
            "data": data,
            "versions": {**(merged or {}).get("versions", {}), **versions},
            "cells": cells,
        }
        self._write_merged(dataset, doc)
        for cell in loose:
            self.cell_file(dataset, cell["strategy"], int(cell["seed"])).unlink(missing_ok=True)
        info_path.unlink(missing_ok=True)
        _remove_empty_dirs(self.root / CELLS)
        return self.dataset_file(dataset)

    def forget(self, protocol: Protocol, strategies: list[str]) -> int:
        """Drop the stored cells of ``strategies`` on ``protocol``'s dataset so they run again; returns how many.

        For a strategy whose code changed: its old cells would otherwise count as finished.
        """
        dataset = protocol.dataset
        self.finished(protocol)  # refuses a folder that holds another protocol's results
        drop = set(strategies)
        removed = 0
        for cell in self._loose_cells(dataset):
            if cell["strategy"] in drop:
                self.cell_file(dataset, cell["strategy"], int(cell["seed"])).unlink()
                removed += 1
        merged = self._merged(dataset)
        if merged is not None:
            kept = [c for c in merged["cells"] if c["strategy"] not in drop]
            removed += len(merged["cells"]) - len(kept)
            if len(kept) != len(merged["cells"]):
                self._write_merged(dataset, {**merged, "cells": kept})
        return removed

    def _write_merged(self, dataset: str, doc: dict[str, Any]) -> None:
        # One cell per line: compact, yet a diff of a re-run shows which cells changed.
        body = ",\n".join(_dump(c) for c in doc["cells"])
        head = _dump({k: v for k, v in doc.items() if k != "cells"})[:-1]
        write_atomic(self.dataset_file(dataset), f'{head},"cells":[\n{body}\n]}}\n')

    def load(self) -> list[dict[str, Any]]:
        """Every dataset in the folder: merged documents plus loose cells, combined in memory (nothing is written).

        Reading never merges, so a report can run while a benchmark is still writing cells.
        """
        docs: dict[str, dict[str, Any]] = {}
        for path in sorted(self.root.glob("*.json")):
            doc = _read(path)
            # Other tools may keep their own JSON here (the speed benchmark does); only quality documents count.
            if isinstance(doc, dict) and {"cells", "dataset", "protocol_id"} <= set(doc):
                docs[doc["dataset"]] = doc
        cells_root = self.root / CELLS
        folders = sorted(p for p in cells_root.iterdir() if p.is_dir()) if cells_root.is_dir() else []
        for folder in folders:
            loose = self._loose_cells(folder.name)
            if not loose:
                continue
            info = folder / "_data.json"
            doc = docs.setdefault(
                folder.name,
                {"dataset": folder.name, "protocol_id": loose[0]["protocol_id"], "protocol": {}, "data": {}, "versions": {}, "cells": []},
            )
            if info.is_file() and not doc["data"]:
                saved = _read(info)
                doc["protocol"], doc["data"] = saved["protocol"], saved["data"]
            by_key = {(c["strategy"], int(c["seed"])): c for c in doc["cells"]}
            by_key.update({(c["strategy"], int(c["seed"])): c for c in loose})
            doc["cells"] = [by_key[k] for k in sorted(by_key)]
        return [docs[k] for k in sorted(docs)]

def _remove_empty_dirs(root: Path) -> None:
    if not root.is_dir():
        return
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    if not any(root.iterdir()):
        root.rmdir()
