"""A linear-chain CRF over hand-made token features (sklearn-crfsuite): the built-in NER learner, offline."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from loopwise.core.tokens import TokenMarginals
from loopwise.errors import ConfigError, DataError
from loopwise.learners._optional import require

Sentences = Sequence[Sequence[str]]


@runtime_checkable
class SequenceLearner(Protocol):
    """A tagger the sequence loop can train and query: tag names, fit on sentences, BIO tags and marginals back.

    ``predict_marginals`` gives, per sentence, ``n_tokens x len(tag_names)``
    probabilities in ``tag_names`` order and the probability of the most
    likely tag sequence (:class:`TokenMarginals`).
    """

    tag_names: list[str]

    def fit(self, sentences: Sentences, tags: Sequence[Sequence[str]]) -> None: ...

    def predict(self, sentences: Sentences) -> list[list[str]]: ...

    def predict_marginals(self, sentences: Sentences) -> TokenMarginals: ...

    def clone(self) -> SequenceLearner: ...


def _shape(word: str) -> str:
    """Word shape with runs collapsed: ``Xx``, ``X.X.``, ``d-d`` (capitalisation and digits, the classic NER cues)."""
    out: list[str] = []
    for ch in word:
        c = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def _word_features(word: str, prefix: str) -> dict[str, Any]:
    return {
        f"{prefix}lower": word.lower(),
        f"{prefix}istitle": word.istitle(),
        f"{prefix}isupper": word.isupper(),
        f"{prefix}shape": _shape(word),
    }


def token_features(tokens: Sequence[str]) -> list[dict[str, Any]]:
    """The features of each token: the word, its affixes and shape, and its neighbours' (after the sklearn-crfsuite tutorial)."""
    features = []
    n = len(tokens)
    for i, word in enumerate(tokens):
        f: dict[str, Any] = {
            "bias": 1.0,
            "word.lower": word.lower(),
            "suffix3": word[-3:],
            "suffix2": word[-2:],
            "prefix3": word[:3],
            "istitle": word.istitle(),
            "isupper": word.isupper(),
            "isdigit": word.isdigit(),
            "hasdigit": any(ch.isdigit() for ch in word),
            "hashyphen": "-" in word,
            "shape": _shape(word),
            "length": min(len(word), 10),
        }
        if i > 0:
            f.update(_word_features(tokens[i - 1], "-1:"))
        else:
            f["BOS"] = True
        if i > 1:
            f["-2:lower"] = tokens[i - 2].lower()
        if i < n - 1:
            f.update(_word_features(tokens[i + 1], "+1:"))
        else:
            f["EOS"] = True
        if i < n - 2:
            f["+2:lower"] = tokens[i + 2].lower()
        features.append(f)
    return features


class CRFTagger:
    """A CRF (L-BFGS with elastic-net penalties ``c1``, ``c2``) over :func:`token_features`; a :class:`SequenceLearner`.

    Marginals come from CRFsuite's forward-backward pass, the best path's
    probability from its Viterbi decoding, so sentence strategies see what
    the CRF believes rather than a per-token approximation. Training is
    deterministic (L-BFGS), so ``clone().fit`` on the same sentences gives
    the same model.
    """

    def __init__(self, tag_names: Sequence[str], c1: float = 0.1, c2: float = 0.1, max_iterations: int = 100) -> None:
        names = [str(t) for t in tag_names]
        if not names or len(set(names)) != len(names):
            raise ConfigError(f"tag_names must be distinct tag names, got {names!r}")
        for param, value in (("c1", c1), ("c2", c2)):
            if not value >= 0:
                raise ConfigError(f"{param} must be a number >= 0, got {value!r}")
        if not isinstance(max_iterations, int) or max_iterations < 1:
            raise ConfigError(f"max_iterations must be an integer >= 1, got {max_iterations!r}")
        self.tag_names = names
        self.c1 = c1
        self.c2 = c2
        self.max_iterations = max_iterations
        self.crf_: Any = None

    def get_params(self) -> dict[str, Any]:
        return {"tag_names": list(self.tag_names), "c1": self.c1, "c2": self.c2, "max_iterations": self.max_iterations}

    def clone(self) -> CRFTagger:
        return CRFTagger(**self.get_params())

    def fit(self, sentences: Sentences, tags: Sequence[Sequence[str]]) -> None:
        """Train on sentences (token lists) and their tags; a tag outside ``tag_names`` is refused with its sentence."""
        if len(sentences) != len(tags) or not len(sentences):
            raise DataError(f"fit needs one tag sequence per sentence and at least one sentence; got {len(sentences)} sentences, {len(tags)} tag sequences")
        known = set(self.tag_names)
        for i, (tokens, seq) in enumerate(zip(sentences, tags, strict=True)):
            if len(tokens) != len(seq):
                raise DataError(f"sentence {i}: {len(tokens)} tokens but {len(seq)} tags")
            unknown = sorted(set(seq) - known)
            if unknown:
                raise DataError(f"sentence {i}: tags {unknown} are not in tag_names {self.tag_names}")
        sklearn_crfsuite = require("sklearn_crfsuite", "ner", "the CRF tagger")
        crf = sklearn_crfsuite.CRF(
            algorithm="lbfgs", c1=self.c1, c2=self.c2, max_iterations=self.max_iterations, all_possible_transitions=True
        )
        crf.fit([token_features(s) for s in sentences], [list(t) for t in tags])
        self.crf_ = crf

    def _tagger(self) -> Any:
        if self.crf_ is None:
            raise ConfigError("the CRF tagger is not trained yet; call fit() first")
        return self.crf_.tagger_

    def predict(self, sentences: Sentences) -> list[list[str]]:
        """The Viterbi tag sequence of each sentence."""
        tagger = self._tagger()
        return [list(tagger.tag(token_features(s))) for s in sentences]

    def predict_marginals(self, sentences: Sentences) -> TokenMarginals:
        """Per-token tag marginals (``tag_names`` order; tags never seen in training get 0) and each best path's probability."""
        tagger = self._tagger()
        seen = [t for t in tagger.labels() if t in self.tag_names]
        columns = np.asarray([self.tag_names.index(t) for t in seen], dtype=np.int64)
        blocks, paths = [], []
        for i, tokens in enumerate(sentences):
            if not len(tokens):
                raise DataError(f"sentence {i} has no tokens")
            tagger.set(token_features(tokens))
            best = tagger.tag()
            paths.append(tagger.probability(best))
            block = np.zeros((len(tokens), len(self.tag_names)), dtype=np.float32)
            block[:, columns] = [[tagger.marginal(t, j) for t in seen] for j in range(len(tokens))]
            blocks.append(block)
        return TokenMarginals.from_sentences(blocks, paths)


SEQUENCE_LEARNERS: dict[str, Callable[..., SequenceLearner]] = {"crf": CRFTagger}


def make_sequence_learner(name: str, tag_names: Sequence[str], **params: Any) -> SequenceLearner:
    """A built-in sequence learner by name; an unknown name lists the known ones."""
    if name not in SEQUENCE_LEARNERS:
        raise ConfigError(f"unknown sequence learner {name!r}; known sequence learners: {', '.join(sorted(SEQUENCE_LEARNERS))}")
    return SEQUENCE_LEARNERS[name](tag_names, **params)
