"""The AG News labelling scenario on the annotation server: minilm against the TF-IDF learner, through the API.

600 records drawn (seeded) from ../shared/datasets/ag_news become a text project without a test split;
a simulated annotator takes each record the queue serves and labels it with the dataset's own label,
10 at a time (loop 0 is the first 10, then batches of 10, margin sampling, one retrain per 10 labels).
The retrains run in the server's retraining child, as in production; the annotator waits for each one,
as a team that pauses for the re-ranked queue would. Each loop's stored pool probabilities are the
previous loop's model scoring the whole pool, so the model at n labels is scored on the records still
unlabelled then, against the dataset's labels. The curve also shows what the dashboard showed
(cross-validated accuracy on the labelled set).

    nice -n 10 .venv/bin/python benchmarks/server_agnews/run.py --learner minilm --learner logreg
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from loopwise.server import ServerSettings, create_app

ROOT = Path(__file__).resolve().parents[2]
# ../shared/datasets beside the checkout (a git worktree sits one folder deeper).
DATA = next(
    (p for p in (base / "shared" / "datasets" / "ag_news" / "data.csv.gz" for base in ROOT.parents) if p.exists()),
    ROOT.parent / "shared" / "datasets" / "ag_news" / "data.csv.gz",
)
PASSWORD = "benchmark-password-1"


def _records(n: int, seed: int) -> pd.DataFrame:
    frame = pd.read_csv(DATA)
    return frame.sample(n=n, random_state=seed).reset_index(drop=True)


def run(learner: str, n_records: int, target: int, batch: int, seed: int, subprocess: bool) -> dict[str, Any]:
    """One labelling session; returns the curve and the accuracy at ``target`` labels."""
    records = _records(n_records, seed)
    truth = dict(zip(records["id"].astype(str), records["label"], strict=True))
    names = sorted(records["label"].unique().tolist())
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "imports").mkdir()
        settings = ServerSettings(
            db=f"sqlite:///{tmp}/server.db", artifacts_dir=Path(tmp) / "artifacts", import_dir=Path(tmp) / "imports",
            admin_password=PASSWORD, train_in_subprocess=subprocess, secret_key="x" * 32,
        )
        with TestClient(create_app(settings)) as client:
            csrf = client.post("/api/login", json={"name": "admin", "password": PASSWORD}).json()["csrf_token"]
            headers = {"X-CSRF-Token": csrf}
            body = {"name": "ag_news", "task": "text", "label_names": names, "learner": learner, "strategy": "margin",
                    "batch_size": batch, "retrain_every": batch, "seed": seed}
            response = client.post("/api/projects", json=body, headers=headers)
            assert response.status_code == 201, response.text
            project = response.json()
            pid = project["id"]
            csv = io.StringIO()
            records[["id", "text"]].to_csv(csv, index=False)
            upload = client.post(f"/api/projects/{pid}/import/upload", headers=headers,
                                 files={"file": ("ag_news.csv", csv.getvalue().encode(), "text/csv")})
            assert upload.status_code == 201, upload.text
            worker = client.app.state.services.worker  # type: ignore[attr-defined]
            start = time.perf_counter()
            for _ in range((target + batch) // batch):  # one more loop: it stores the pool scores of the model at target
                for _ in range(batch):
                    record = client.post(f"/api/projects/{pid}/queue/next", headers=headers).json()["record"]
                    value = truth[record["external_id"]]
                    answer = client.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": value}, headers=headers)
                    assert answer.status_code == 201, answer.text
                assert worker.wait_idle(600), "a retrain did not finish in 10 minutes"
                assert not worker.errors, worker.errors
            seconds = time.perf_counter() - start
            stats = client.get(f"/api/projects/{pid}/stats", headers=headers).json()
            repo = client.app.state.services.repo  # type: ignore[attr-defined]
            external = {r.record_id: r.external_id for r in repo.snapshot(pid)}
            curve = _curve(repo.store, project["run_id"], truth, names, stats, external)
    at_target = next(point for point in curve if point["n_labelled"] == target)
    return {"learner": learner, "n_records": n_records, "seed": seed, "seconds": round(seconds, 1),
            "accuracy_at_target": at_target["remaining_accuracy"], "target": target, "curve": curve}


def _curve(
    store: Any, run_id: str, truth: dict[str, str], names: list[str], stats: dict[str, Any], external_of: dict[int, str]
) -> list[dict[str, Any]]:
    """Per model (after each loop): accuracy on the records unlabelled then, and the dashboard's figure."""
    loops = store.loops(run_id)
    dashboard = {loop["n_labelled"]: loop["metrics"].get("accuracy") for loop in stats["loops"]}
    labelled: set[str] = set()
    points = []
    for before, after in zip(loops, loops[1:]):
        labelled |= set(before.selected_ids)
        arrays = store.load_arrays(after.artifact_hash)
        external = [external_of[int(r)] for r in arrays["pool_record_ids"]]
        predicted = np.asarray(names)[arrays["pool_proba"].argmax(axis=1)]
        remaining = [i for i, rid in enumerate(external) if rid not in labelled]
        correct = np.mean([predicted[i] == truth[external[i]] for i in remaining])
        points.append({"n_labelled": before.n_labelled, "remaining_accuracy": round(float(correct), 4),
                       "n_remaining": len(remaining), "dashboard_cv_accuracy": dashboard.get(before.n_labelled)})
    return points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learner", action="append", help="learner to run (repeatable); default: minilm and logreg")
    parser.add_argument("--records", type=int, default=600)
    parser.add_argument("--target", type=int, default=80)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--in-process", action="store_true", help="retrain in the server process, not its child")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args(argv)
    results = []
    for learner in args.learner or ["minilm", "logreg"]:
        result = run(learner, args.records, args.target, args.batch, args.seed, not args.in_process)
        results.append(result)
        print(f"{learner}: accuracy on the remaining records at {args.target} labels = {result['accuracy_at_target']:.3f} "
              f"({result['seconds']} s)")
        for point in result["curve"]:
            cv = point["dashboard_cv_accuracy"]
            print(f"  {point['n_labelled']:4d} labels: remaining {point['remaining_accuracy']:.3f} "
                  f"(n={point['n_remaining']}), dashboard CV {'-' if cv is None else f'{cv:.3f}'}")
        sys.stdout.flush()
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
