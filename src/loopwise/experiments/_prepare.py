"""Turn a data spec into the arrays a run needs: pool and test features, labels, ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from loopwise.data import Dataset, featurize, load_dataset, split_pool_test
from loopwise.experiments._config import DataSpec
from loopwise.learners import TEXT_LEARNERS


def learner_features(dataset: Dataset, learner: str, pool: np.ndarray, test: np.ndarray) -> tuple[Any, Any]:
    """Pool and test rows as ``learner`` takes them: raw texts for a text learner, else the default features.

    One function for ``simulate`` and the annotation server, so both feed a learner the same rows.
    """
    if learner in TEXT_LEARNERS and dataset.text_columns and dataset.frame is not None:
        texts = dataset.frame[dataset.text_columns].astype(str).agg(" ".join, axis=1).to_numpy()
        return texts[pool], texts[test]
    return featurize(dataset, pool, test)


@dataclass
class PreparedData:
    """A dataset split into pool and test, featurised once and shared by every run on it."""

    spec: DataSpec
    dataset: Dataset
    pool_ids: np.ndarray
    X_pool: Any
    y_pool: np.ndarray
    X_test: Any
    y_test: np.ndarray

    @property
    def label_names(self) -> list[str]:
        return list(self.dataset.label_names)

    @property
    def n_classes(self) -> int:
        return len(self.dataset.label_names)

    @property
    def task(self) -> str:
        """The learning task of the labels (``Dataset.label_task``)."""
        return self.dataset.label_task


def load_spec(spec: DataSpec) -> Dataset:
    """The dataset ``spec`` names, loaded (not split, not featurised)."""
    return load_dataset(
        spec.source, label_column=spec.label_column, text_column=spec.text_column, id_column=spec.id_column,
        task=spec.task,
    )


def prepare_data(spec: DataSpec, learner: str = "logreg", dataset: Dataset | None = None) -> PreparedData:
    """Load (unless ``dataset`` is ``spec``'s, already loaded), split and featurise; a raw-text learner
    (``tfidf_logreg``, ``tfidf_svd``, ``minilm``, ``tfidf_ovr_logreg`` ...) gets the texts themselves."""
    dataset = dataset if dataset is not None else load_spec(spec)
    pool, test = split_pool_test(
        dataset, test_size=spec.test_size, seed=spec.split_seed, max_pool=spec.max_pool, max_test=spec.max_test
    )
    X_pool, X_test = learner_features(dataset, learner, pool, test)
    return PreparedData(
        spec=spec,
        dataset=dataset,
        pool_ids=np.asarray(dataset.ids)[pool].astype(str),
        X_pool=X_pool,
        y_pool=np.asarray(dataset.y)[pool],
        X_test=X_test,
        y_test=np.asarray(dataset.y)[test],
    )
