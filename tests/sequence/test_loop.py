"""The sequence loop on a small CoNLL-2003 slice: selection, cost in tokens, token budget, restore, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from loopwise.errors import ConfigError, DataError, LoopwiseError
from loopwise.evaluation._ner import entity_scores
from loopwise.labeling import SimulatedOracle
from loopwise.learners._crf import CRFTagger
from loopwise.loop import FixedSchedule, run_simulation
from loopwise.sequence import SequenceLoop, load_sentences, sentence_vectors, split_sentences, token_strategies
from loopwise.strategies import StrategyInputs, make_strategy


@pytest.fixture(scope="module")
def conll():
    try:
        data = load_sentences("conll2003")
    except DataError:
        pytest.skip("the shared CoNLL-2003 folder is not here")
    pool, test = split_sentences(data, eval_split="dev", max_pool=300, max_test=100, seed=0)
    return data, pool, test


def _loop(conll, strategy: str = "token_entropy_mean", **kw) -> tuple[SequenceLoop, SimulatedOracle]:
    data, pool, test = conll
    tokens = [data.tokens[i] for i in pool]
    loop = SequenceLoop(
        tokens, data.ids[pool], CRFTagger(data.tag_names, max_iterations=15), make_strategy(strategy), kw.pop("schedule", FixedSchedule(10, 10, 40)),
        seed=kw.pop("seed", 3), features=sentence_vectors(tokens), test_tokens=[data.tokens[i] for i in test],
        test_tags=data.tag_strings(test), evaluate=entity_scores, **kw,
    )
    truth = np.empty(len(pool), dtype=object)
    truth[:] = [data.tags[i] for i in pool]
    return loop, SimulatedOracle(truth)


def test_a_run_labels_the_chosen_sentences_and_counts_their_tokens(conll) -> None:
    data, pool, _ = conll
    loop, oracle = _loop(conll)
    records = run_simulation(loop, oracle)
    assert [r.n_labelled for r in records] == [10, 20, 30, 40]
    chosen = np.concatenate([r.positions for r in records])
    assert len(np.unique(chosen)) == 40
    assert [r.metrics["labelled_tokens"] for r in records] == list(np.cumsum([sum(len(data.tokens[pool[p]]) for p in r.positions) for r in records]))
    for r in records:
        assert all(np.array_equal(t, data.tags[pool[p]]) for p, t in zip(r.positions, r.labels, strict=True))
        assert 0.0 <= r.metrics["entity_f1"] <= 1.0
    # The strategy, not chance, chose loops 1..3: the top mean token entropy of the model before each of them.
    again, _ = _loop(conll)
    again.restore(records[:2], None)
    candidates = again.pool.unlabelled_positions
    marginals = again.model.predict_marginals([again.tokens[i] for i in candidates])
    entropy = make_strategy("token_entropy_mean").score(StrategyInputs(candidates=candidates, token_marginals=marginals))
    assert set(records[2].positions.tolist()) == set(candidates[np.argsort(-entropy, kind="stable")[:10]].tolist())


def test_restore_continues_as_an_uninterrupted_run(conll) -> None:
    full = run_simulation(*_loop(conll, strategy="seq_entropy_kcenter", seed=5))
    loop, oracle = _loop(conll, strategy="seq_entropy_kcenter", seed=5)
    loop.restore(full[:2], None)
    rest = run_simulation(loop, oracle)[2:]
    assert len(rest) == len(full) - 2
    assert [r.ids.tolist() for r in rest] == [r.ids.tolist() for r in full[2:]]
    assert [r.metrics for r in rest] == [r.metrics for r in full[2:]]


def test_the_token_budget_stops_the_run(conll) -> None:
    loop, oracle = _loop(conll, strategy="random", schedule=FixedSchedule(10, 10, 300), token_budget=400)
    records = run_simulation(loop, oracle)
    assert records[-1].metrics["labelled_tokens"] >= 400 > records[-2].metrics["labelled_tokens"]


def test_refusals_name_what_is_wrong(conll) -> None:
    with pytest.raises(ConfigError, match="strategy 'margin' does not serve token classification; sentence strategies: .*token_entropy_mean"):
        _loop(conll, strategy="margin")
    assert "random" in token_strategies() and "kcenter" in token_strategies() and "margin" not in token_strategies()
    with pytest.raises(ConfigError, match="budget of 400 sentences is larger than the pool \\(300 sentences\\)"):
        _loop(conll, schedule=FixedSchedule(10, 10, 400))
    loop, _ = _loop(conll)
    query = loop.propose()
    with pytest.raises(LoopwiseError, match=f"record id {str(query.ids[1])!r}: 1 tags for {len(loop.tokens[query.positions[1]])} tokens"):
        loop.record([np.zeros(len(loop.tokens[p]), np.int64) if i != 1 else np.zeros(1, np.int64) for i, p in enumerate(query.positions)])
    with pytest.raises(LoopwiseError, match="tag indices must lie in 0..8"):
        loop.record([np.full(len(loop.tokens[p]), 9, np.int64) for p in query.positions])
    assert loop.n_labelled == 0  # refused tags label nothing


def test_the_loader_refuses_a_bad_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "ner.jsonl"
    rows = [{"id": "a", "tokens": ["Peter"], "tags": ["B-PER"], "split": "train"}, {"id": "b", "tokens": ["x", "y"], "tags": ["O"], "split": "train"}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(DataError, match=r"ner.jsonl, line 2 \(id 'b'\): 2 tokens but 1 tags"):
        load_sentences(str(path))
    rows[1]["tags"] = ["O", "O"]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    data = load_sentences(str(path))
    assert data.tag_names == ["O", "B-PER"] and data.tag_strings([0, 1]) == [["B-PER"], ["O", "O"]]
    with pytest.raises(DataError, match="no sentences in split 'test'"):
        split_sentences(data, eval_split="test", max_pool=None, max_test=None, seed=0)
