"""Per-token tag probabilities of many sentences in one ragged array, so sentence strategies stay NumPy functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from loopwise.errors import DataError


@dataclass(frozen=True)
class TokenMarginals:
    """The marginals ``P(tag_t = j | sentence)`` of ``n`` sentences, stacked.

    ``values`` is ``n_tokens x n_tags`` (float32), the rows of sentence ``i``
    being ``values[offsets[i]:offsets[i + 1]]``; every sentence has at least
    one token. ``path_proba[i]`` is the probability the model gives its most
    likely tag sequence for sentence ``i`` (a CRF's Viterbi path, or the
    product of the per-token maxima for a per-token softmax), which no
    function of the marginals alone recovers for a CRF.
    """

    values: np.ndarray
    offsets: np.ndarray
    path_proba: np.ndarray

    def __post_init__(self) -> None:
        values, offsets, path = self.values, self.offsets, self.path_proba
        if values.ndim != 2 or values.shape[1] < 1:
            raise DataError(f"token marginals must be n_tokens x n_tags, got shape {values.shape}")
        if offsets.ndim != 1 or len(offsets) < 1 or offsets[0] != 0 or offsets[-1] != len(values):
            raise DataError(f"offsets must run from 0 to the {len(values)} token rows, got {offsets[:3].tolist()}...{offsets[-1:].tolist()}")
        lengths = np.diff(offsets)
        if (lengths < 1).any():
            raise DataError(f"sentence {int(np.flatnonzero(lengths < 1)[0])} has no tokens; every sentence needs one")
        if path.shape != (len(offsets) - 1,):
            raise DataError(f"path_proba must hold one value per sentence ({len(offsets) - 1}), got shape {path.shape}")
        if not (np.isfinite(values).all() and np.isfinite(path).all()):
            raise DataError("token marginals and path probabilities must be finite")

    @classmethod
    def from_sentences(cls, sentences: Sequence[np.ndarray], path_proba: Sequence[float] | np.ndarray) -> TokenMarginals:
        """Stack one ``n_tokens_i x n_tags`` array per sentence."""
        if not len(sentences):
            raise DataError("no sentences to stack")
        lengths = np.asarray([len(s) for s in sentences], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        values = np.concatenate([np.asarray(s, dtype=np.float32).reshape(len(s), -1) for s in sentences])
        return cls(values, offsets, np.asarray(path_proba, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_tags(self) -> int:
        return int(self.values.shape[1])

    @property
    def lengths(self) -> np.ndarray:
        """Tokens per sentence: what labelling each one costs."""
        return np.diff(self.offsets)

    def sentence(self, i: int) -> np.ndarray:
        """The ``n_tokens x n_tags`` marginals of sentence ``i``."""
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def take(self, positions: np.ndarray | slice) -> TokenMarginals:
        """The marginals of the sentences at ``positions`` (in that order)."""
        index = np.arange(len(self))[positions] if isinstance(positions, slice) else np.asarray(positions, dtype=np.int64)
        lengths = self.lengths[index]
        starts = self.offsets[index]
        rows = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(int(lengths.sum()))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return TokenMarginals(self.values[rows], offsets, self.path_proba[index])

    def reduce(self, per_token: np.ndarray, how: str) -> np.ndarray:
        """Per-sentence ``sum``, ``mean`` or ``max`` of one value per token row."""
        starts = self.offsets[:-1]
        if how == "sum":
            return np.add.reduceat(per_token, starts)
        if how == "mean":
            return np.add.reduceat(per_token, starts) / self.lengths
        if how == "max":
            return np.maximum.reduceat(per_token, starts)
        raise ValueError(f"how must be 'sum', 'mean' or 'max', got {how!r}")
