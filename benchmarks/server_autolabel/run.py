"""The server's auto-labelling at a 0.98 precision target, measured on shared datasets (issue 12, item 4).

Run from the repository root, niced (2 shared cores):

    OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python benchmarks/server_autolabel/run.py --out benchmarks/results/server_autolabel.json

Each cell: an annotation project (the server's repository and learning worker, SQLite) over a dataset's pool and
a gold test split; an oracle labels the queue in its order (margin, batch 20) up to the budget, a retrain after
every batch; auto-labelling at the target calibrates on the test split's gold labels each retrain. At the end: the
auto-labels in force (the human labels they saved), their precision against the dataset's labels, per loop too.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from loopwise.data import split_pool_test
from loopwise.experiments import prepare_data
from loopwise.experiments._config import DataSpec
from loopwise.server._driver import forget_loops
from loopwise.server._learning import LearningWorker
from loopwise.storage import AnnotationRepository, Store
from loopwise.storage._annotation_store import NewRecords

SHARED = Path("/work/shared/datasets")


def cell(name: str, seed: int, pool: int, test: int, batch: int, budget: int, target: float, weight: float | None = 1.0) -> dict[str, Any]:
    spec = DataSpec(source=str(SHARED / name), max_pool=pool, max_test=test, split_seed=seed)
    data = prepare_data(spec, "logreg")
    ds = data.dataset
    pool_rows, test_rows = split_pool_test(ds, test_size=spec.test_size, seed=spec.split_seed, max_pool=pool, max_test=test)
    rows = np.concatenate([pool_rows, test_rows])
    frame = ds.frame
    assert frame is not None, f"{name} is not a table or text dataset"
    if ds.task == "text":
        texts = frame[ds.text_columns[0]].astype(str).to_numpy()
        payloads = [{"text": str(texts[i])} for i in rows]
    else:
        columns = list(ds.numeric_columns) + list(ds.categorical_columns)
        payloads = [{c: (v.item() if hasattr(v, "item") else v) for c, v in frame.iloc[int(i)][columns].items()} for i in rows]
    names = list(data.label_names)
    records = NewRecords(
        external_ids=[str(i) for i in ds.ids[rows]], payloads=payloads,
        roles=["pool"] * len(pool_rows) + ["test"] * len(test_rows),
        gold=[None] * len(pool_rows) + [names[int(y)] for y in ds.y[test_rows]],
    )
    truth = {str(ds.ids[i]): names[int(ds.y[i])] for i in pool_rows}
    with tempfile.TemporaryDirectory() as tmp:
        repo = AnnotationRepository(Store.open(f"sqlite:///{tmp}/s.db"))
        settings = {"learner": "logreg", "strategy": "margin", "seed": seed, "batch_size": batch, "audit": False,
                    "auto_label_precision": target, "auto_label_weight": weight, "retrain_every": 100_000}
        project = repo.create_project(name, ds.task, names, "", settings, 1.0, records=records)
        user = repo.create_user("oracle", "annotator")
        worker = LearningWorker(repo, Path(tmp) / "media", subprocess=False)
        forget_loops()
        loops, started, n_human = [], time.perf_counter(), 0
        while n_human < budget:
            for _ in range(batch):
                record = repo.lease_next(project.id, user.id, 1, 600)
                if record is None:
                    break
                repo.submit_label(project, record.record_id, user, truth[record.external_id], 1)
                n_human += 1
            result = worker.retrain(project.id)
            if result is None or result.auto is None:
                break
            summary = result.auto.summary()
            given = result.auto.labels
            loops.append({"loop": result.loop_index, "n_human": n_human, **summary,
                          "threshold": None if not np.isfinite(summary["threshold"]) else summary["threshold"]})
        external = {r.record_id: r.external_id for r in repo.snapshot(project.id)}
        in_force = repo.auto_labels_in_force(project.id)
        right = [truth[external[r]] == v for r, v in in_force.items()]
        progress = repo.progress(project.id)
        repo.store.close()
    return {
        "dataset": name, "seed": seed, "n_pool": len(pool_rows), "n_test_gold": len(test_rows), "n_human": n_human,
        "human_counts": {"n_done": progress.n_done, "n_labels": progress.n_labels},
        "n_auto": len(in_force), "precision": float(np.mean(right)) if right else None, "loops": loops,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["sms_spam", "optdigits", "banknote"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--pool", type=int, default=2000)
    parser.add_argument("--test", type=int, default=300)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--target", type=float, default=0.98)
    parser.add_argument("--weight", type=float, default=1.0, help="auto_label_weight; a negative value: null (auto-labels do not train)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/server_autolabel.json"))
    args = parser.parse_args()
    cells = []
    for name in args.datasets:
        for seed in range(args.seeds):
            found = cell(name, seed, args.pool, args.test, args.batch, args.budget, args.target, None if args.weight < 0 else args.weight)
            cells.append(found)
            print(f"{name} seed {seed}: {found['n_auto']} auto-labels of {found['n_pool'] - found['n_human']} unlabelled, "
                  f"precision {found['precision']}, human {found['human_counts']}, {found['seconds']:.0f}s", flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({"protocol": vars(args) | {"out": str(args.out)}, "cells": cells}, indent=1))


if __name__ == "__main__":
    main()
