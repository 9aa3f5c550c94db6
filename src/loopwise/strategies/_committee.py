"""Query by committee: disagreement among models trained on bootstrap samples (Seung et al. 1992)."""

from __future__ import annotations

import numpy as np

from loopwise.strategies._capabilities import Capabilities
from loopwise.strategies._base import COMMITTEE, Strategy, StrategyInputs
from loopwise.strategies._uncertainty import entropy


def vote_entropy(committee: np.ndarray) -> np.ndarray:
    """Entropy of the members' hard votes (Dagan & Engelson 1995); committee is ``m x n x k``."""
    committee = np.asarray(committee)
    n_members, n, k = committee.shape
    votes = committee.argmax(axis=2)  # m x n
    counts = np.zeros((n, k), dtype=np.float64)
    rows = np.broadcast_to(np.arange(n), votes.shape)
    np.add.at(counts, (rows.ravel(), votes.ravel()), 1.0)
    return entropy(counts / n_members)


def kl_to_consensus(committee: np.ndarray) -> np.ndarray:
    """Mean KL divergence of each member from the consensus (McCallum & Nigam 1998)."""
    committee = np.asarray(committee, dtype=np.float64)
    consensus = committee.mean(axis=0)
    eps = 1e-12
    ratio = np.log(np.clip(committee, eps, None)) - np.log(np.clip(consensus, eps, None))[None]
    return (committee * ratio).sum(axis=2).mean(axis=0)


class QueryByCommittee(Strategy):
    """Query by committee over a bagged committee; ``disagreement`` is ``vote_entropy`` or ``kl``.

    The loop trains the committee (``n_members`` bootstrap replicas of the
    learner) because the strategy declares ``committee``; the strategy only
    scores the members' probabilities.
    """

    name = "qbc"
    requires = frozenset({COMMITTEE})
    # Row-local, but the committee is trained by the loop on the driver, so not on partitions.
    capabilities = Capabilities(row_local=True, ranks=True)

    def __init__(self, disagreement: str = "vote_entropy", n_members: int = 5) -> None:
        if disagreement not in ("vote_entropy", "kl"):
            raise ValueError(f"disagreement must be 'vote_entropy' or 'kl', got {disagreement!r}")
        if n_members < 2:
            raise ValueError(f"n_members must be at least 2, got {n_members}")
        self.disagreement = disagreement
        self.n_members = n_members

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        committee = inputs.require("committee")
        if self.disagreement == "kl":
            return kl_to_consensus(committee)
        # Vote entropy ties a lot (5 votes give a handful of values); the tied records go to the
        # seeded random tie-break of top_k. A soft tie-break (the KL term) fills the batch with
        # near-duplicates and cost 1.5-2.3 AULC points (docs/benchmarks.md, query by committee).
        return vote_entropy(committee)
