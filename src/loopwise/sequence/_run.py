"""Simulated token-classification runs against the store: one committed loop at a time, resumable, priced in tokens."""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from loopwise.core.records import LoopRecord
from loopwise.labeling import SimulatedOracle
from loopwise.errors import ConfigError, StoreError
from loopwise.evaluation._ner import entity_scores
from loopwise.learners._crf import make_sequence_learner
from loopwise.loop import Schedule, parse_initializer, parse_schedule, run_simulation
from loopwise.sequence._data import SentenceData, load_sentences, sentence_vectors, split_sentences
from loopwise.sequence._loop import SequenceLoop
from loopwise.storage import LoopWrite, Store, model_checkpoint
from loopwise.strategies import make_strategy
from loopwise.strategies._capabilities import TOKEN_CLASSIFICATION

KIND = "sequence"  # RunConfig "kind" of these runs, so `loopwise resume` sends them here


@dataclass
class SequenceConfig:
    """Everything needed to replay one token-classification run, stored as JSON with the run."""

    source: str
    strategy: str
    seed: int
    schedule: dict[str, Any]
    learner: str = "crf"
    learner_params: dict[str, Any] = field(default_factory=dict)
    strategy_params: dict[str, Any] = field(default_factory=dict)
    initializer: dict[str, Any] = field(default_factory=lambda: {"kind": "RandomInit"})
    eval_split: str = "test"
    max_pool: int | None = None
    max_test: int | None = None
    split_seed: int = 0
    cost_per_token: float = 1.0
    comparison: str | None = None
    token_budget: int | None = None
    kind: str = KIND

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SequenceConfig:
        return cls(**data)

    @property
    def label(self) -> str:
        return f"{self.strategy} seed {self.seed}"


@dataclass
class PreparedSentences:
    """The dataset split into pool and evaluation sentences, with the pool's TF-IDF rows; shared by every run on it."""

    data: SentenceData
    pool: np.ndarray
    test: np.ndarray
    features: Any

    @property
    def pool_ids(self) -> np.ndarray:
        return self.data.ids[self.pool]


def prepare_sentences(config: SequenceConfig) -> PreparedSentences:
    """Load and split the sentences of ``config`` and vectorise the pool."""
    data = load_sentences(config.source)
    pool, test = split_sentences(data, eval_split=config.eval_split, max_pool=config.max_pool, max_test=config.max_test, seed=config.split_seed)
    return PreparedSentences(data, pool, test, sentence_vectors([data.tokens[i] for i in pool]))


def build_sequence_loop(config: SequenceConfig, prepared: PreparedSentences) -> SequenceLoop:
    """A fresh SequenceLoop for ``config``; raises ConfigError before anything is stored if it cannot run."""
    data = prepared.data
    return SequenceLoop(
        [data.tokens[i] for i in prepared.pool],
        prepared.pool_ids,
        make_sequence_learner(config.learner, data.tag_names, **config.learner_params),
        make_strategy(config.strategy, **config.strategy_params),
        parse_schedule(config.schedule),
        seed=config.seed,
        features=prepared.features,
        initializer=parse_initializer(config.initializer),
        test_tokens=[data.tokens[i] for i in prepared.test],
        test_tags=data.tag_strings(prepared.test),
        evaluate=entity_scores,
        token_budget=config.token_budget,
    )


def sentence_oracle(prepared: PreparedSentences) -> SimulatedOracle:
    """The ground-truth oracle of the pool's sentences: their tag-index arrays."""
    truth = np.empty(len(prepared.pool), dtype=object)
    truth[:] = [prepared.data.tags[i] for i in prepared.pool]
    return SimulatedOracle(truth)


def sequence_write(record: LoopRecord, loop: SequenceLoop, tag_names: Sequence[str], cost_per_token: float) -> LoopWrite:
    """What one sentence loop persists: a label row per sentence (its tags joined by spaces), its price in tokens, the tags as arrays."""
    tags = [np.asarray(t, dtype=np.int64) for t in record.labels]
    lengths = np.asarray([len(t) for t in tags], dtype=np.int64)
    return LoopWrite(
        loop_index=record.loop_index,
        strategy=record.strategy,
        selected_ids=[str(i) for i in record.ids],
        labels=[" ".join(tag_names[int(v)] for v in t) for t in tags],
        n_labelled=record.n_labelled,
        metrics=record.metrics,
        timings=record.timings,
        label_cost=float(lengths.sum()) * float(cost_per_token),
        arrays={
            "positions": record.positions,
            "tags": np.concatenate(tags) if tags else np.empty(0, np.int64),
            "tag_offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            "scores": np.asarray(record.scores if record.scores is not None else [], dtype=np.float64),
        },
        model=model_checkpoint(loop.model),
    )


def stored_sequence_records(store: Store, run_id: str, pool_ids: np.ndarray) -> list[LoopRecord]:
    """The LoopRecords of a sentence run's committed loops, rebuilt against the pool ``pool_ids``."""
    position_of = {str(rid): i for i, rid in enumerate(np.asarray(pool_ids).tolist())}
    records = []
    for info in store.loops(run_id):
        arrays = store.load_arrays(info.artifact_hash)
        if any(i not in position_of for i in info.selected_ids):
            raise StoreError(f"run {run_id} loop {info.loop_index}: sentences are no longer in the pool")
        positions = np.asarray([position_of[i] for i in info.selected_ids], dtype=np.int64)
        if not np.array_equal(positions, arrays["positions"]):
            raise StoreError(f"run {run_id} loop {info.loop_index}: the data no longer matches the stored selection")
        offsets = arrays["tag_offsets"]
        labels = np.empty(len(positions), dtype=object)
        labels[:] = [arrays["tags"][offsets[i] : offsets[i + 1]] for i in range(len(positions))]
        records.append(LoopRecord(info.loop_index, info.strategy, positions, np.asarray(pool_ids)[positions], labels, info.n_labelled,
                                  info.metrics, info.timings, np.empty(0, np.int64), scores=arrays["scores"]))
    return records


def simulate_sequences(
    store: Store,
    source: str,
    strategies: Sequence[str],
    seeds: int | Sequence[int],
    schedule: Schedule,
    *,
    learner: str = "crf",
    learner_params: dict[str, Any] | None = None,
    strategy_params: dict[str, dict[str, Any]] | None = None,
    initializer: dict[str, Any] | None = None,
    eval_split: str = "test",
    max_pool: int | None = None,
    max_test: int | None = None,
    cost_per_token: float = 1.0,
    token_budget: int | None = None,
    on_loop: Callable[[str, LoopRecord], None] | None = None,
) -> list[str]:
    """Run every strategy with every seed on the same sentences; returns the run ids.

    As with ``simulate``: every config is built and loop 0 of each run trains and
    scores in memory before its run is created, so bad input leaves the store as it was.
    """
    if not cost_per_token >= 0 or cost_per_token == float("inf"):
        raise ConfigError(f"the cost of one token must be a finite number >= 0, got {cost_per_token!r}")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    comparison = uuid.uuid4().hex[:12]
    configs = [
        SequenceConfig(source, name, seed, schedule.describe(), learner, dict(learner_params or {}), (strategy_params or {}).get(name, {}),
                       dict(initializer or {"kind": "RandomInit"}), eval_split, max_pool, max_test, 0, float(cost_per_token), comparison,
                       token_budget)
        for name in strategies
        for seed in seed_list
    ]
    if not configs:
        raise ConfigError("give at least one strategy and one seed")
    prepared = prepare_sentences(configs[0])
    loops = [build_sequence_loop(config, prepared) for config in configs]  # validates every config
    project_id: int | None = None
    run_ids = []
    for config, loop in zip(configs, loops, strict=True):
        oracle = sentence_oracle(prepared)
        first = loop.record(oracle.collect(loop.propose()))  # in memory: a failing learner writes nothing
        if project_id is None:
            project = store.get_or_create_project(prepared.data.name, "text", prepared.data.tag_names, cost_per_label=float(cost_per_token))
            store.add_records(project.id, [str(i) for i in prepared.data.ids])
            project_id = project.id
        run_id = store.create_run(project_id, config.to_dict(), name=config.label, task=TOKEN_CLASSIFICATION)
        run_ids.append(run_id)
        _drive(store, run_id, loop, oracle, prepared, config, first, on_loop)
    return run_ids


def _drive(store: Store, run_id: str, loop: SequenceLoop, oracle: SimulatedOracle, prepared: PreparedSentences,
           config: SequenceConfig, first: LoopRecord | None, on_loop: Callable[[str, LoopRecord], None] | None) -> None:
    def persist(record: LoopRecord) -> None:
        store.record_loop(run_id, sequence_write(record, loop, prepared.data.tag_names, config.cost_per_token))
        if on_loop is not None:
            on_loop(run_id, record)

    try:
        if first is not None:
            persist(first)
        run_simulation(loop, oracle, on_record=persist)  # type: ignore[arg-type]  # it drives any propose/record/should_stop loop
    except BaseException:
        store.finish_run(run_id, status="failed")  # committed loops stay; `loopwise resume` continues the run
        raise
    store.finish_run(run_id, status="finished")


def resume_sequence_run(store: Store, run_id: str, on_loop: Callable[[str, LoopRecord], None] | None = None) -> str:
    """Continue a sentence run from its last committed loop; same seed, same selections as an uninterrupted run."""
    info = store.get_run(run_id)
    if info.status == "finished":
        raise StoreError(f"run {run_id} has already finished ({info.n_loops} loops); nothing to resume")
    config = SequenceConfig.from_dict(info.config)
    prepared = prepare_sentences(config)
    loop = build_sequence_loop(config, prepared)
    records = stored_sequence_records(store, run_id, prepared.pool_ids)
    checkpoint = store.load_model(run_id, records[-1].loop_index) if records else None
    loop.restore(records, pickle.loads(checkpoint) if checkpoint is not None else None)
    store.reopen_run(run_id)
    _drive(store, run_id, loop, sentence_oracle(prepared), prepared, config, None, on_loop)
    return run_id
