"""Random sampling: the baseline every other strategy must beat."""

from __future__ import annotations

import numpy as np

from loopwise.core.records import Selection
from loopwise.strategies._capabilities import TASKS, Capabilities
from loopwise.strategies._base import Strategy, StrategyInputs


class RandomSampling(Strategy):
    """Uniform sampling without replacement from the unlabelled candidates."""

    name = "random"
    requires = frozenset()
    # Draws, not ranks; serves any task and loop 0, since it looks at nothing.
    capabilities = Capabilities(cold_start=True, tasks=TASKS)

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        n = len(inputs.candidates)
        positions = rng.choice(n, size=min(batch_size, n), replace=False).astype(np.int64)
        return Selection(positions=positions, scores=np.zeros(len(positions)))
