"""Names of data splits: which rows of a dataset are held out for evaluation rather than pooled."""

from __future__ import annotations

#: Split names whose rows are held out as the test set (GLUE-style sets call them dev, val or validation).
HELD_OUT_NAMES = ("test", "dev", "val", "valid", "validation")
