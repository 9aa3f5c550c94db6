"""Data sources: load a labelled pool from a name or a file, split it, featurize it."""

from loopwise.data._dataset import Dataset
from loopwise.data._features import build_featurizer, featurize
from loopwise.data._sources import BUNDLED, load_dataset, shared_dataset_names, shared_datasets_root
from loopwise.data._split import split_pool_test

__all__ = [
    "BUNDLED",
    "Dataset",
    "build_featurizer",
    "featurize",
    "load_dataset",
    "shared_dataset_names",
    "shared_datasets_root",
    "split_pool_test",
]
