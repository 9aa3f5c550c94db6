"""The server's engine loop: one ``Loop`` per project run, restored from the store, fed with people's labels.

A retrain takes the labels given since the last loop and hands them to ``Loop.record()`` (TRAIN and
EVALUATE, as in ``simulate``), then ``Loop.propose()`` ranks the unlabelled pool for the queue (INFER
and SELECT). The loop is kept in the process that computes (the retraining child) and rebuilt from the
store's loop records, as ``loopwise resume`` does, whenever it is missing (a restart), the project's
records or settings changed, or the store does not hold the loops it has recorded.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loopwise.server._auto_label import AutoLabelled, auto_label
from loopwise.server._label_time import AnnotatorAction, LabelTime, time_on
from loopwise.server._label_quality import TrainingLabels, audit_suspects, training_labels, weak_ranking
from loopwise.storage import AnnotationRepository, LoopWrite, loop_write, stored_records, stored_stop_set
from loopwise.storage._annotation_review import Suspect

IMAGE_SIDE = 16
STOP_SET = 1000
_CV_FOLDS = 5


@dataclass
class RetrainResult:
    """What one retrain produced; plain data, so it crosses from the child process."""

    project_id: int
    run_id: str
    strategy: str  # the loop's (loop 0: its initialiser's)
    ranked_by: str  # the strategy that ranked the queue after it
    n_labelled: int
    ranking: list[int]  # record ids, best first
    scores: list[float | None]
    front: list[int]  # open records that have labels but need more (k > 1): served first
    write: LoopWrite | None  # the loop record, as simulate writes one; None for a cold-start ranking (no labels yet)
    stop: bool  # the project's stopping rule fired on the loops so far
    timings: dict[str, float] = field(default_factory=dict)
    suspects: list[Suspect] | None = None  # the audit's, most suspicious first; None when the project's audit is off
    consensus: TrainingLabels | None = None  # the training labels, their confidence and the annotators' quality
    auto: AutoLabelled | None = None  # the new model's auto-labels; None when the project's auto-labelling is off

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """The loop's stored arrays; ``model_proba`` is the new model on the pool (``pool_proba``, its predecessor's)."""
        return {} if self.write is None else self.write.arrays

    @property
    def loop_index(self) -> int:
        return 0 if self.write is None else self.write.loop_index

    @property
    def metrics(self) -> dict[str, Any]:
        return {} if self.write is None else self.write.metrics

    @property
    def model_arrays(self) -> dict[str, np.ndarray]:
        """The new model's probabilities on the pool as ``pool_proba`` with ``pool_record_ids`` (empty after a stop)."""
        arrays = self.arrays
        if "model_proba" not in arrays:
            return {}
        return {"pool_record_ids": arrays["pool_record_ids"], "pool_proba": arrays["model_proba"]}


@dataclass
class _Held:
    """A project's Loop and what it was built from (rebuilt when any of it changes)."""

    signature: tuple[Any, ...]
    loop: Any  # loopwise.loop.Loop, imported lazily
    record_ids: np.ndarray  # store record id of each pool position


_held: dict[tuple[str, int], _Held] = {}


def forget_loops() -> None:
    """Drop the Loops this process holds; each is restored from the store when next needed (as after a restart)."""
    _held.clear()


def compute_retrain(repo: AnnotationRepository, project_id: int, media_dir: Path) -> RetrainResult | None:
    """Record the labels given since the project's last loop in its Loop, then rank the pool for the queue."""
    from loopwise.experiments import LabelPrice

    project = repo.get_project(project_id)
    if project.label_kind != "single":
        return None  # the server's learner retrains single-class projects only; the queue keeps its import order
    settings = project.settings
    names = project.label_names
    snapshot = repo.snapshot(project_id)
    pool = [r for r in snapshot if r.role == "pool"]
    if not pool:
        return None
    # The annotators' own labels in force, oldest first; an adjudicated (or reviewed) record's decision wins below.
    votes: dict[int, list[tuple[str, str]]] = {}
    for label in repo.current_labels(project_id, adjudicated=False):
        votes.setdefault(label.record_id, []).append((label.annotator, label.value))
    held = _loop_for(repo, project, pool, [r for r in snapshot if r.role == "test"], media_dir)
    loop = held.loop
    position = {r.record_id: i for i, r in enumerate(pool)}
    # In the order they were first labelled (votes keeps the order of the labels, oldest first).
    new = [position[rid] for rid in votes if rid in position and not loop.pool.labelled_mask[position[rid]]]
    if not new and not loop.records:
        weak = repo.weak_labels(project_id) if settings.get("weak_start") else {}
        return _cold_start(loop, held.record_ids, pool, project, weak)
    if not new or loop.should_stop():
        return None
    decided = {r: v for r, v in repo.adjudicated_values(project_id).items() if r in position}

    def out_of_fold(record_ids: list[int], y: np.ndarray) -> np.ndarray | None:
        from loopwise.labeling import out_of_fold_proba

        return out_of_fold_proba(loop.learner, loop.pool.rows(np.asarray([position[r] for r in record_ids])), y)

    # The training label of each record: the project's consensus model over its labels (majority: a tie goes
    # to the label given first), an adjudication or a reviewer's change being the decided one.
    train = training_labels(
        {r: v for r, v in votes.items() if r in position}, decided, names,
        str(settings.get("consensus", "dawid_skene")), out_of_fold,
    )

    def majority(i: int) -> int:
        return train.labels[pool[i].record_id]

    # Labels in force that changed since a loop took them (a k-th vote, an adjudication) train from now on.
    earlier = [i for i in loop.pool.labelled_positions.tolist() if pool[i].record_id in votes]
    changed = [i for i in earlier if majority(i) != loop.pool.labels[i]]
    if changed:
        loop.pool.relabel(np.asarray(changed), np.asarray([majority(i) for i in changed]))
    _weak_training(loop, repo, project, position)
    if loop.loop_index > 0 and loop.proposed is None:
        loop.propose()  # after a restart: the same proposal, from the same model and the same seed
    new, served = _control_first(loop, new)
    labels = [majority(i) for i in new]
    record = loop.record(labels, positions=new)
    if served is not None:  # how the proposal's random-control slice fared in the queue
        record.extra.setdefault("selection", {}).update(served)
    spent = _annotator_time(repo, project_id, [pool[i].record_id for i in new])
    record.timings["annotator_seconds"] = spent.seconds  # people's time, not compute: the ledger prices it apart
    record.timings["annotator_labels_imputed"] = float(spent.n_imputed)
    suspects = None
    if settings.get("audit", True):
        started = time.perf_counter()
        seed = int(settings.get("seed", 0)) + loop.loop_index
        suspects = audit_suspects(loop, held.record_ids, names, int(settings.get("audit_max", 50)), seed)
        record.timings["audit"] = time.perf_counter() - started  # the audit's compute, in the loop record
    stop = loop.stopping is not None and loop.stopping.should_stop(loop.records)
    ranking, scores = _ranking(loop, held.record_ids, pool, project_id, int(settings.get("seed", 0))) if not stop else ([], [])
    auto = None
    if settings.get("auto_label_precision") is not None:
        # Open records nobody labelled (nor holds a label of in this loop): what an auto-label may take.
        candidates = np.asarray([
            i for i, r in enumerate(pool) if r.state == "open" and r.n_labels == 0 and not loop.pool.labelled_mask[i]
        ], dtype=np.int64)
        auto = auto_label(
            loop, held.record_ids, candidates, names, float(settings["auto_label_precision"]),
            int(settings.get("seed", 0)) + loop.loop_index,
        )
        if auto is not None:
            record.timings["auto_label"] = auto.seconds
    k = int(settings.get("labels_per_record", 1))
    rate = settings.get("annotator_rate")
    if rate is not None:  # the annotators' measured time, at their hourly rate
        label_cost = spent.seconds / 3600.0 * float(rate)
    else:
        label_cost = LabelPrice(float(project.cost_per_label)).cost(list(record.ids), [names[int(v)] for v in record.labels], "human")
    write = loop_write(
        record, names, label_cost=label_cost,
        model=loop.model, stop_set=loop.stop_set, label_source="human",
        arrays={
            "ranking": np.asarray(ranking, dtype=np.int64),
            "pool_record_ids": held.record_ids,
            "learner": np.asarray(str(settings.get("learner", "logreg"))),
            # The new model on the pool, for suggestions: the loop's own pool_proba is what its labels were chosen from.
            **({} if loop.proposed_proba is None else {"model_proba": loop.proposed_proba}),
            # How this loop's auto-labels were chosen (threshold, held-out labels, how many): stored with the loop.
            **({} if auto is None else {"auto_label": np.asarray(json.dumps(auto.summary()))}),
        },
    )
    return RetrainResult(
        project_id=project_id, run_id=project.run_id, strategy=record.strategy, ranked_by=loop.strategy.name,
        n_labelled=record.n_labelled,
        ranking=ranking, scores=scores, front=[r.record_id for r in pool if r.state == "open" and 0 < r.n_labels < k],
        write=write, stop=stop, timings=dict(record.timings), suspects=suspects, consensus=train, auto=auto,
    )


def _control_first(loop: Any, new: list[int]) -> tuple[list[int], dict[str, int] | None]:
    """The labelled positions in the order the strategy reads its random-control slice back from (slice first).

    A strategy with a slice (``auto``) puts its ``n_slice`` random picks first in the proposal and, in later
    loops, reads the first records of each recorded loop as that slice. People label in their own order, skip
    records and label past the proposal, so the loop is recorded as: the slice picks they labelled, then the
    records served past the proposal (the queue's seeded shuffle of the rest: random picks too), then the
    strategy's active picks. Also says how many of each there were (None without a slice).
    """
    query = loop.proposed
    n_slice = int(loop.proposed_selection.get("n_slice", 0)) if query is not None else 0
    if not n_slice:
        return new, None
    picks = [int(p) for p in query.positions]
    labelled = set(new)
    control = [p for p in picks[:n_slice] if p in labelled]
    proposed = set(picks)
    past = [p for p in new if p not in proposed]
    active = [p for p in picks[n_slice:] if p in labelled]
    counts = {"n_slice_labelled": len(control), "n_past_proposal": len(past), "n_active_labelled": len(active)}
    return control + past + active, counts


def _weak_training(loop: Any, repo: AnnotationRepository, project: Any, position: dict[int, int]) -> None:
    """The rules' weak labels train beside people's at the project's ``weak_weight`` (null: none), and the auto-labels
    in force at its ``auto_label_weight`` (while auto-labelling is on; an auto-label wins over a weak label)."""
    settings = project.settings
    weight = settings.get("weak_weight")
    weak = {rid: w.value for rid, w in repo.weak_labels(project.id).items()} if weight is not None else {}
    auto_weight = settings.get("auto_label_weight", 1.0) if settings.get("auto_label_precision") is not None else None
    auto = repo.auto_labels_in_force(project.id) if auto_weight is not None else {}
    index = {name: i for i, name in enumerate(project.label_names)}
    rows = {rid: (v, 0.0 if weight is None else float(weight)) for rid, v in weak.items()}
    rows.update({rid: (v, float(auto_weight)) for rid, v in auto.items()})  # type: ignore[arg-type]
    kept = [(position[rid], index[v], w) for rid, (v, w) in rows.items() if rid in position and v in index]
    positions = np.asarray([p for p, _, _ in kept], dtype=np.int64)
    labels = np.asarray([c for _, c, _ in kept], dtype=np.int64)
    scalar = 0.0 if weight is None else float(weight)
    per_row = np.asarray([w for _, _, w in kept], dtype=np.float64) if auto else None
    loop.set_weak_labels(positions, labels, scalar, row_weights=per_row)


def _annotator_time(repo: AnnotationRepository, project_id: int, record_ids: list[int]) -> LabelTime:
    """The annotators' measured time on every label of ``record_ids``, from the project's event log."""
    actions = [AnnotatorAction(*row) for row in repo.annotator_actions(project_id)]
    return time_on(record_ids, actions)


def _cold_start(loop: Any, record_ids: np.ndarray, pool: list[Any], project: Any, weak: dict[int, Any]) -> RetrainResult | None:
    """Before anyone labels: the queue order of the project's strategy on a model of the rules' weak labels (its
    ``weak_start`` setting, once the rules were applied), else of its loop-0 strategy (its ``initializer`` setting)."""
    from loopwise.loop import loop_rng

    settings = project.settings
    size = min(int(settings.get("batch_size", 20)), len(pool))
    seed = int(settings.get("seed", 0))
    if weak:
        index = {name: i for i, name in enumerate(project.label_names)}
        covered = np.asarray([i for i, r in enumerate(pool) if r.record_id in weak], dtype=np.int64)
        y = np.asarray([index[weak[pool[i].record_id].value] for i in covered], dtype=np.int64)
        found = weak_ranking(loop, covered, y, np.flatnonzero(_open(pool)), size, seed)
        if found is not None:
            picked, picked_scores = found
            order = _picks_then_shuffle(picked, np.arange(len(pool)), _open(pool), np.random.default_rng([seed, project.id, 0]))
            return RetrainResult(
                project_id=project.id, run_id=project.run_id, strategy=f"weak:{loop.strategy.name}",
                ranked_by=loop.strategy.name, n_labelled=0, ranking=[int(record_ids[p]) for p in order],
                scores=[float(v) for v in picked_scores] + [None] * (len(order) - len(picked)), front=[], write=None, stop=False,
            )
    if str(settings.get("initializer", "random")) == "random":
        return None  # records are served in the seeded shuffle they were imported in
    picked = loop.initializer.select(loop.pool.X, loop.pool.ids, size, loop_rng(seed, 0))
    order = _picks_then_shuffle(
        picked, np.arange(len(pool)), _open(pool), np.random.default_rng([seed, project.id, 0])
    )
    return RetrainResult(
        project_id=project.id, run_id=project.run_id, strategy=f"initial:{settings['initializer']}",
        ranked_by=str(settings["initializer"]), n_labelled=0, ranking=[int(record_ids[p]) for p in order],
        scores=[None] * len(order), front=[], write=None, stop=False,
    )


def _ranking(loop: Any, record_ids: np.ndarray, pool: list[Any], project_id: int, seed: int) -> tuple[list[int], list[float | None]]:
    """The queue order: the loop's proposal best first, then the rest of the open records in a seeded shuffle."""
    if loop.should_stop():
        return [], []
    query = loop.propose()
    open_ = _open(pool)
    scores: list[float | None] = [float(s) for p, s in zip(query.positions, query.scores, strict=True) if open_[p]]
    rng = np.random.default_rng([seed, project_id, loop.pool.n_labelled])
    positions = _picks_then_shuffle(query.positions, loop.pool.unlabelled_positions, open_, rng)
    return [int(record_ids[p]) for p in positions], scores + [None] * (len(positions) - len(scores))


def _open(pool: list[Any]) -> np.ndarray:
    """Which pool positions the queue may serve: every record neither flagged nor carrying an auto-label."""
    return np.asarray([r.state not in ("flagged", "auto") for r in pool])


def _picks_then_shuffle(picks: np.ndarray, candidates: np.ndarray, open_: np.ndarray, rng: np.random.Generator) -> list[int]:
    """Pool positions in queue order: the open ``picks`` as picked, then the other open ``candidates`` in ``rng``'s shuffle."""
    chosen = [int(p) for p in picks if open_[p]]
    rest = np.setdiff1d(candidates[open_[candidates]], picks)
    return chosen + [int(p) for p in rng.permutation(rest)]


def _loop_for(repo: AnnotationRepository, project: Any, pool: list[Any], test: list[Any], media_dir: Path) -> _Held:
    """The project's Loop: the one held here if it still matches the store, else one restored from it."""
    key = (repo.store.url, project.id)
    signature = (
        project.run_id, json.dumps(project.settings, sort_keys=True), project.task,
        tuple(r.record_id for r in pool), tuple(r.record_id for r in test),
    )
    held = _held.get(key)
    n_stored = len(repo.store.loops(project.run_id))
    if held is not None and held.signature == signature and len(held.loop.records) == n_stored:
        return held
    _held.pop(key, None)
    held = _Held(signature, _restore(repo, project, pool, test, media_dir), np.asarray([r.record_id for r in pool], dtype=np.int64))
    if len(_held) > 8:
        _held.clear()
    _held[key] = held
    return held


def _restore(repo: AnnotationRepository, project: Any, pool: list[Any], test: list[Any], media_dir: Path) -> Any:
    """The project's Loop, built as ``simulate`` builds one, put back in the state of its run's stored loops."""
    import pickle

    from loopwise.experiments import PreparedData, RunConfig, build_loop
    from loopwise.experiments._config import DataSpec
    from loopwise.learners import EmbeddingCache
    from loopwise.loop import FixedSchedule
    from loopwise.strategies import make_strategy, ranks_candidates

    settings = project.settings
    learner = str(settings.get("learner", "logreg"))
    # New projects store their strategy (auto by default); one stored without it predates auto and keeps margin.
    strategy = str(settings.get("strategy", "margin"))
    params = dict(settings.get("strategy_params", {}))
    # A strategy that only scores (no select of its own) ranks the whole pool at the cost of a sort.
    ranks_all = ranks_candidates(make_strategy(strategy, **params))
    batch = len(pool) if ranks_all else int(settings.get("batch_size", 20))
    config = RunConfig(
        data=DataSpec(source=f"annotation:{project.name}"), strategy=strategy, seed=int(settings.get("seed", 0)),
        schedule=FixedSchedule(1, batch, len(pool)).describe(), learner=learner, strategy_params=params,
        stopping=settings.get("stopping") or None, stop_set_size=STOP_SET,
        retrain=str(settings.get("retrain_mode", "scratch")),
        initializer={"kind": str(settings.get("initializer", "random"))},
    )
    dataset, X_pool, X_test = _features(project, learner, media_dir, pool, test)
    index = {name: i for i, name in enumerate(project.label_names)}
    ids = np.asarray([r.external_id for r in pool]).astype(str)
    data = PreparedData(
        spec=config.data, dataset=dataset, pool_ids=ids, X_pool=X_pool, y_pool=np.full(len(pool), -1, dtype=np.int64),
        X_test=X_test if test else None,
        y_test=np.asarray([index[str(r.gold)] for r in test], dtype=np.int64) if test else None,  # type: ignore[arg-type]
    )
    store = repo.store
    loop = build_loop(
        config, data, embedding_cache=EmbeddingCache(store.artifacts_dir / "embeddings"),
        evaluate_fn=_on_test, evaluate_labelled=None if test else cross_validate,
    )
    stop_set = stored_stop_set(store, project.run_id)
    if stop_set is not None:  # fixed by the run's first loop: records imported later never join it
        loop.stop_set = stop_set
    records = stored_records(store, project.run_id, ids)
    if records:
        last = store.load_arrays(store.loops(project.run_id)[-1].artifact_hash)
        same_learner = str(last.get("learner", np.asarray(learner))) == learner
        # Records imported since the last loop can change the features (TF-IDF is fitted on the project's
        # records), so that loop's model may no longer fit them.
        stored_pool = last.get("pool_record_ids")
        same_pool = stored_pool is not None and np.array_equal(stored_pool, [r.record_id for r in pool])
        checkpoint = store.load_model(project.run_id, records[-1].loop_index) if same_learner and same_pool else None
        # A changed learner or pool starts over from the stored labels, whatever the retrain mode.
        loop.restore(records, pickle.loads(checkpoint) if checkpoint is not None else None, start_over=not (same_learner and same_pool))
    return loop


def _on_test(y_true: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """The loop's evaluation on the project's test split."""
    from loopwise.evaluation import evaluate

    return {**evaluate(y_true, proba), "evaluation": "test"}


def cross_validate(learner: Any, X: Any, y: np.ndarray) -> dict[str, Any]:
    """The loop's evaluation without a test split: out-of-fold probabilities on the labelled set, scored like a test set.

    Only a note when the labels are too few to split (fewer than two classes, or one with a single label).
    """
    from sklearn.model_selection import StratifiedKFold

    from loopwise.evaluation import evaluate

    n_classes = int(learner.n_classes)
    counts = np.bincount(y, minlength=n_classes)
    present = counts[counts > 0]
    if len(present) < 2 or present.min() < 2:
        return {"evaluation": "cv", "note": "too few labels per class for cross-validation"}
    folds = StratifiedKFold(n_splits=int(min(_CV_FOLDS, present.min())), shuffle=True, random_state=0)
    proba = np.zeros((len(y), n_classes))
    for train, held in folds.split(np.zeros(len(y)), y):
        member = learner.clone()
        member.fit(X[train], y[train])
        proba[held] = member.predict_proba(X[held])
    return {**evaluate(y, proba), "evaluation": "cv"}


# -- features -----------------------------------------------------------------------------------


def _features(project: Any, learner: str, media_dir: Path, pool: list[Any], test: list[Any]) -> tuple[Any, Any, Any]:
    """The project's records as a Dataset, and its pool and test rows through the same data layer as ``simulate``
    (raw texts for a text learner)."""
    import pandas as pd  # here, not at the top: serving requests needs neither pandas nor scikit-learn

    from loopwise.data import Dataset
    from loopwise.experiments import learner_features

    records = pool + test
    if project.task == "image":
        images = np.stack([_image_vector(media_dir, r.payload) for r in records]).astype(np.float32)
        dataset = Dataset(
            name=project.name, source="annotation", task="image", ids=np.arange(len(records)).astype(str), frame=None,
            images=images, y=np.zeros(len(records), dtype=np.int64), label_names=list(project.label_names), split=None,
        )
        return dataset, images[: len(pool)], images[len(pool) :]
    frame = pd.DataFrame.from_records([dict(r.payload or {}) for r in records])
    if project.task == "text":
        text_field = str(project.settings.get("text_field", "text"))
        if text_field not in frame.columns:
            frame[text_field] = ""
        frame = frame[[text_field]].fillna("").astype(str)
        roles: dict[str, list[str]] = {"text_columns": [text_field]}
    else:
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
        categorical = [c for c in frame.columns if c not in numeric]
        for column in categorical:
            frame[column] = frame[column].astype(str)
        roles = {"numeric_columns": numeric, "categorical_columns": categorical}
    dataset = Dataset(
        name=project.name, source="annotation", task=project.task, ids=np.arange(len(records)).astype(str), frame=frame,
        images=None, y=np.zeros(len(records), dtype=np.int64), label_names=list(project.label_names), split=None,
        text_columns=roles.get("text_columns", []), numeric_columns=roles.get("numeric_columns", []),
        categorical_columns=roles.get("categorical_columns", []),
    )
    return dataset, *learner_features(dataset, learner, np.arange(len(pool)), np.arange(len(pool), len(records)))


def _image_vector(media_dir: Path, payload: dict[str, Any] | None) -> np.ndarray:
    from PIL import Image

    name = (payload or {}).get("image")
    try:
        with Image.open(media_dir / str(name)) as image:
            small = image.convert("L").resize((IMAGE_SIDE, IMAGE_SIDE))
            return np.asarray(small, dtype=np.float32).reshape(-1) / np.float32(255.0)
    except (OSError, ValueError):
        return np.zeros(IMAGE_SIDE * IMAGE_SIDE, dtype=np.float32)
