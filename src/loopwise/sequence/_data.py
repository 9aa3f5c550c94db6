"""Sentences of tagged tokens (the shared token-classification layout) read into ids, tokens and tag indices."""

from __future__ import annotations

import functools
import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from loopwise.data import shared_datasets_root
from loopwise.errors import DataError

DATA_FILE = "data.jsonl.gz"
TOKEN_CLASSIFICATION_META = "token_classification"


@dataclass
class SentenceData:
    """A token-classification dataset: ``tokens[i]`` and ``tags[i]`` (int64 indices into ``tag_names``) of record ``ids[i]``.

    ``split`` is each sentence's split (``train``, ``dev``, ``test``) when the source has one.
    """

    name: str
    source: str
    ids: np.ndarray
    tokens: list[list[str]]
    tags: list[np.ndarray]
    tag_names: list[str]
    split: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def tag_strings(self, positions: Any) -> list[list[str]]:
        """The BIO tags of the sentences at ``positions``, as strings."""
        return [[self.tag_names[int(t)] for t in self.tags[int(i)]] for i in np.asarray(positions, dtype=np.int64)]

    def n_tokens(self, positions: Any) -> int:
        """Tokens in the sentences at ``positions``: what labelling them costs."""
        return int(sum(len(self.tokens[int(i)]) for i in np.asarray(positions, dtype=np.int64)))


def sentence_file(source: str, shared_root: str | os.PathLike[str] | None = None) -> tuple[Path, dict[str, Any]] | None:
    """The JSONL file and meta.json of ``source`` when it is a token-classification dataset (a shared name, a folder, a file), else ``None``."""
    root = shared_datasets_root(shared_root)
    path = Path(source)
    folder = root / source if root is not None and (root / source / "meta.json").is_file() else path if path.is_dir() else None
    if folder is not None:
        # A folder without a readable meta.json is not a sentence dataset: the table loader says what is wrong.
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        if not isinstance(meta, dict) or meta.get("task") != TOKEN_CLASSIFICATION_META:
            return None
        return folder / DATA_FILE, meta
    if path.is_file() and path.name.endswith((".jsonl", ".jsonl.gz")) and _first_row_has_tags(path):
        return path, {}
    return None


def _open(path: Path) -> Any:
    return gzip.open(path, "rt", encoding="utf-8") if path.name.endswith(".gz") else path.open(encoding="utf-8")


def _first_row_has_tags(path: Path) -> bool:
    """Whether the file's first row holds tokens and tags; an unreadable file is left to the table loader to name."""
    try:
        with _open(path) as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    return isinstance(row, dict) and "tokens" in row and "tags" in row
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return False


def load_sentences(source: str, shared_root: str | os.PathLike[str] | None = None) -> SentenceData:
    """Read a token-classification dataset; a line that is not one sentence of known tags is refused with its line and id.

    The tag set is ``meta.json``'s ``tag_names`` when there is one, else the tags
    seen, ``O`` first and the rest sorted. A file read before (same path, size and
    modification time) is not parsed again in this process: the runs of one
    comparison, and a resume, share one read; callers must not modify the result.
    """
    found = sentence_file(source, shared_root)
    if found is None:
        raise DataError(f"{source}: not a token-classification dataset (a folder whose meta.json task is {TOKEN_CLASSIFICATION_META!r}, or JSONL lines with tokens and tags)")
    path, meta = found
    stat = path.stat()
    data = _read(str(path.resolve()), stat.st_size, stat.st_mtime_ns, json.dumps(meta, sort_keys=True))
    return SentenceData(data.name, source, data.ids, data.tokens, data.tags, data.tag_names, data.split)


@functools.lru_cache(maxsize=4)
def _read(file: str, size: int, mtime_ns: int, meta_json: str) -> SentenceData:
    path, meta = Path(file), json.loads(meta_json)
    rows = []
    with _open(path) as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                rows.append((number, _row(line, path, number)))
    if not rows:
        raise DataError(f"{path}: no sentences")
    names = meta.get("tag_names")
    seen = {t for _, r in rows for t in r["tags"]}
    tag_names = [str(t) for t in names] if isinstance(names, list) else ["O", *sorted(seen - {"O"})]
    index = {t: i for i, t in enumerate(tag_names)}
    tags = []
    for number, row in rows:
        unknown = sorted(set(row["tags"]) - set(index))
        if unknown:
            raise DataError(f"{path}, line {number} (id {row['id']!r}): tags {unknown} are not in the tag set {tag_names}")
        tags.append(np.asarray([index[t] for t in row["tags"]], dtype=np.int64))
    ids = np.asarray([str(r["id"]) for _, r in rows])
    uniq, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise DataError(f"{path}: duplicate sentence ids {uniq[counts > 1][:5].tolist()}")
    split = np.asarray([str(r.get("split", "")) for _, r in rows]) if any("split" in r for _, r in rows) else None
    return SentenceData(str(meta.get("name") or path.parent.name), file, ids, [r["tokens"] for _, r in rows], tags, tag_names, split)


def _row(line: str, path: Path, number: int) -> dict[str, Any]:
    where = f"{path}, line {number}"
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(row, dict) or "id" not in row:
        raise DataError(f"{where}: expected an object with id, tokens and tags")
    tokens, tags = row.get("tokens"), row.get("tags")
    if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) and t for t in tokens):
        raise DataError(f"{where} (id {row['id']!r}): tokens must be a non-empty list of non-empty strings")
    if not isinstance(tags, list) or len(tags) != len(tokens):
        raise DataError(f"{where} (id {row['id']!r}): {len(tokens)} tokens but {len(tags) if isinstance(tags, list) else 'no'} tags")
    return row


def split_sentences(data: SentenceData, *, eval_split: str, max_pool: int | None, max_test: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Pool positions (the ``train`` split, seeded subsample) and evaluation positions (``eval_split``: ``dev`` or ``test``).

    The evaluation split is never part of the pool, so a strategy is chosen on
    ``dev`` and reported on ``test`` without either leaking into labelling.
    """
    if data.split is None:
        raise DataError(f"{data.source}: the sentences carry no split; a pool needs train and {eval_split} sentences")
    if eval_split not in ("dev", "test"):
        raise DataError(f"the evaluation split must be 'dev' or 'test', got {eval_split!r}")
    rng = np.random.default_rng([seed, 14])
    out = []
    for name, cap in (("train", max_pool), (eval_split, max_test)):
        where = np.flatnonzero(data.split == name)
        if not len(where):
            raise DataError(f"{data.source}: no sentences in split {name!r} (splits: {sorted(set(data.split.tolist()))})")
        if cap is not None and cap < len(where):
            where = np.sort(rng.choice(where, size=cap, replace=False))
        out.append(where.astype(np.int64))
    return out[0], out[1]


def sentence_vectors(tokens: list[list[str]]) -> Any:
    """TF-IDF rows of the sentences (lower-cased words, unit length): the space diversity strategies measure in."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=lambda words: [w.lower() for w in words], min_df=1)
    return vectorizer.fit_transform(tokens).astype(np.float32)
