"""A PyTorch multilayer perceptron with Monte-Carlo dropout: probabilities, posterior samples and embeddings (``torch`` extra)."""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from loopwise.errors import ConfigError, DataError
from loopwise.learners._optional import require

_CHUNK_ROWS = 4096


def _torch() -> Any:
    return require("torch", "torch", "the MC-dropout MLP (learner 'mlp')")


def _as_features(X: Any, who: str) -> np.ndarray | sp.csr_matrix:
    """float32 rows: a dense 2-D array, or CSR (densified a chunk at a time)."""
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=np.float32)
    try:
        arr = np.asarray(X, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{who} needs numeric features; got {type(X).__name__} ({exc})") from None
    if arr.ndim != 2:
        raise DataError(f"{who} needs a 2-D feature matrix, got shape {arr.shape}")
    return arr


def _chunks(X: np.ndarray | sp.csr_matrix, torch: Any) -> Iterator[Any]:
    for start in range(0, X.shape[0], _CHUNK_ROWS):
        block: Any = X[start : start + _CHUNK_ROWS]
        yield torch.from_numpy(block.toarray() if sp.issparse(block) else np.ascontiguousarray(block))


def _seed_of(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**63 - 1))


@contextlib.contextmanager
def _threads(torch: Any, n_threads: int | None) -> Iterator[None]:
    """torch's intra-op thread count for the block, restored after (the setting is process-wide)."""
    if n_threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class MCDropoutMLP(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # sklearn ships no types
    """ReLU multilayer perceptron with dropout after every hidden layer, trained with AdamW on cross-entropy.

    Keeping dropout on at prediction time gives Monte-Carlo samples of the
    predictive distribution (Gal & Ghahramani 2016, "Dropout as a Bayesian
    Approximation"; Gal, Islam & Ghahramani 2017, "Deep Bayesian Active
    Learning with Image Data"), which BALD, mean STD and variation ratios read
    through :meth:`predict_proba_samples`. :meth:`embed` returns the last hidden
    layer, the input of the output layer, for k-center, BADGE and TypiClust.

    Weights live in NumPy arrays (``coefs_``, ``intercepts_``) like
    scikit-learn's ``MLPClassifier``, so the fitted model pickles without
    torch state; torch is imported only to train and predict
    (``pip install 'loopwise[torch]'``). Initialisation, shuffling and every
    dropout mask come from generators seeded by ``seed`` (or the ``rng`` given),
    never from torch's global generator, so fits and samples repeat exactly.
    Each fit runs ``epochs`` passes over the data, and at least ``min_steps``
    mini-batch steps so that a few dozen labels are not under-trained; with
    ``warm_start=True`` a fit on the same classes continues from the current
    weights. Such a continued fit can be made cheaper and kept plastic: ``warm_epochs``
    replaces ``epochs`` (and scales ``min_steps`` by the same fraction), and the kept weights
    are first shrunk and perturbed, ``w <- shrink * w + perturb * w0`` with ``w0`` a fresh
    initialisation (Ash & Adams 2020, "On Warm-Starting Neural Network Training"); the
    defaults (``None``, 1.0, 0.0) leave a warm start as it was. ``n_threads`` (default 1) is torch's thread count while this
    model trains or predicts: for layers this small, more threads cost more in
    synchronisation than they gain; ``None`` leaves torch's own setting.
    """

    classes_: np.ndarray
    n_features_in_: int
    coefs_: list[np.ndarray]
    intercepts_: list[np.ndarray]
    n_iter_: int
    version_: str

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (128,),
        dropout: float = 0.25,
        epochs: int = 60,
        min_steps: int = 300,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        warm_start: bool = False,
        n_threads: int | None = 1,
        seed: int = 0,
        warm_epochs: int | None = None,
        shrink: float = 1.0,
        perturb: float = 0.0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.epochs = epochs
        self.min_steps = min_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warm_start = warm_start
        self.n_threads = n_threads
        self.seed = seed
        self.warm_epochs = warm_epochs
        self.shrink = shrink
        self.perturb = perturb

    # -- validation ---------------------------------------------------------------------------
    def _check_params(self) -> tuple[int, ...]:
        sizes = tuple(self.hidden_layer_sizes)
        if not sizes or any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise ConfigError(f"hidden_layer_sizes must be one or more positive integers, got {self.hidden_layer_sizes!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout!r}")
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.min_steps, (int, np.integer)) or self.min_steps < 0:
            raise ConfigError(f"min_steps must be a non-negative integer, got {self.min_steps!r}")
        if self.n_threads is not None and (not isinstance(self.n_threads, (int, np.integer)) or self.n_threads < 1):
            raise ConfigError(f"n_threads must be a positive integer or None, got {self.n_threads!r}")
        if self.warm_epochs is not None and (not isinstance(self.warm_epochs, (int, np.integer)) or self.warm_epochs < 1):
            raise ConfigError(f"warm_epochs must be a positive integer or None, got {self.warm_epochs!r}")
        if not 0.0 < float(self.shrink) <= 1.0 or not float(self.perturb) >= 0.0:
            raise ConfigError(f"need 0 < shrink <= 1 and perturb >= 0, got {self.shrink!r} and {self.perturb!r}")
        if not float(self.learning_rate) > 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate!r}")
        return tuple(int(s) for s in sizes)

    # -- training -----------------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> MCDropoutMLP:
        sizes = self._check_params()
        X = _as_features(X, type(self).__name__)
        classes, y_index = np.unique(np.asarray(y), return_inverse=True)
        if X.shape[0] != len(y_index) or X.shape[0] == 0:
            raise DataError(f"{type(self).__name__}.fit needs as many labels as rows (>0); got {X.shape[0]} rows, {len(y_index)} labels")
        keep = (
            self.warm_start
            and hasattr(self, "coefs_")
            and np.array_equal(self.classes_, classes)
            and self.n_features_in_ == X.shape[1]
            and self._hidden_sizes == sizes
        )
        if not keep:
            self.classes_ = classes
            self.n_features_in_ = X.shape[1]
            self._init_weights(sizes, len(classes))
            self.n_iter_ = 0
            self._train(X, y_index.astype(np.int64))
            return self
        self._shrink_perturb(sizes)
        if self.warm_epochs is None:
            self._train(X, y_index.astype(np.int64))
        else:
            fraction = int(self.warm_epochs) / int(self.epochs)
            self._train(X, y_index.astype(np.int64), int(self.warm_epochs), math.ceil(int(self.min_steps) * fraction))
        return self

    def _shrink_perturb(self, sizes: tuple[int, ...]) -> None:
        """``w <- shrink * w + perturb * w0`` on kept weights, ``w0`` a fresh initialisation of its own stream."""
        if float(self.shrink) == 1.0 and float(self.perturb) == 0.0:
            return
        kept_coefs, kept_intercepts = self.coefs_, self.intercepts_
        self._init_weights(sizes, len(self.classes_), stream=2 + self.n_iter_)
        shrink, perturb = np.float32(self.shrink), np.float32(self.perturb)
        self.coefs_ = [shrink * w + perturb * w0 for w, w0 in zip(kept_coefs, self.coefs_, strict=True)]
        self.intercepts_ = [shrink * b + perturb * b0 for b, b0 in zip(kept_intercepts, self.intercepts_, strict=True)]

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MCDropoutMLP:
        """``epochs`` more passes over ``(X, y)`` only; the first call must name every class in ``classes``."""
        sizes = self._check_params()
        X = _as_features(X, type(self).__name__)
        if not hasattr(self, "coefs_"):
            if classes is None:
                raise ConfigError("the first partial_fit call needs classes=[every class label]")
            self.classes_ = np.unique(np.asarray(classes))
            self.n_features_in_ = X.shape[1]
            self._init_weights(sizes, len(self.classes_))
            self.n_iter_ = 0
        y = np.asarray(y)
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise DataError(f"partial_fit got labels {unknown[:5].tolist()} outside classes {self.classes_.tolist()}")
        self._train(X, np.searchsorted(self.classes_, y).astype(np.int64))
        return self

    @property
    def _hidden_sizes(self) -> tuple[int, ...]:
        return tuple(w.shape[1] for w in self.coefs_[:-1])

    def _init_weights(self, sizes: tuple[int, ...], n_outputs: int, stream: int = 0) -> None:
        # He-uniform weights and zero biases, drawn from NumPy so the seed alone fixes them.
        rng = np.random.default_rng([self.seed, 0] if stream == 0 else [self.seed, 0, stream])
        widths = (self.n_features_in_, *sizes, n_outputs)
        self.coefs_ = []
        self.intercepts_ = []
        for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
            bound = np.sqrt(6.0 / fan_in)
            self.coefs_.append(rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(np.float32))
            self.intercepts_.append(np.zeros(fan_out, dtype=np.float32))

    def _train(self, X: np.ndarray | sp.csr_matrix, y_index: np.ndarray, epochs: int | None = None,
               min_steps: int | None = None) -> None:
        torch = _torch()
        # One stream per fit call: a warm-started fit does not replay the first fit's shuffles.
        rng = np.random.default_rng([self.seed, 1, self.n_iter_])
        gen = torch.Generator().manual_seed(_seed_of(rng))
        params = [torch.tensor(a, requires_grad=True) for pair in zip(self.coefs_, self.intercepts_, strict=True) for a in pair]
        optimiser = torch.optim.AdamW(params, lr=float(self.learning_rate), weight_decay=float(self.weight_decay))
        targets = torch.from_numpy(y_index)
        n = X.shape[0]
        batch = min(int(self.batch_size), n)
        epochs = int(self.epochs) if epochs is None else epochs
        min_steps = int(self.min_steps) if min_steps is None else min_steps
        n_epochs = max(epochs, math.ceil(min_steps / math.ceil(n / batch)))
        with _threads(torch, self.n_threads):
            for _ in range(n_epochs):
                order = rng.permutation(n)
                for start in range(0, n, batch):
                    rows = order[start : start + batch]
                    block: Any = X[rows]
                    xb = torch.from_numpy(block.toarray() if sp.issparse(block) else block)
                    logits, _ = self._forward(torch, params, xb, gen)
                    loss = torch.nn.functional.cross_entropy(logits, targets[rows])
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
        self.n_iter_ += n_epochs
        with torch.no_grad():
            self.coefs_ = [p.detach().numpy().copy() for p in params[0::2]]
            self.intercepts_ = [p.detach().numpy().copy() for p in params[1::2]]
        self.version_ = self._weights_hash()

    def _forward(self, torch: Any, params: Sequence[Any], x: Any, gen: Any | None) -> tuple[Any, Any]:
        """Logits and the last hidden layer; dropout masks are drawn from ``gen`` (none when ``gen`` is None)."""
        hidden = x
        p = float(self.dropout)
        for layer in range(len(params) // 2 - 1):
            hidden = torch.relu(hidden @ params[2 * layer] + params[2 * layer + 1])
            if gen is not None and p > 0:
                keep = torch.bernoulli(torch.full_like(hidden, 1.0 - p), generator=gen)
                hidden = hidden * keep / (1.0 - p)
        return hidden @ params[-2] + params[-1], hidden

    def _weights_hash(self) -> str:
        digest = hashlib.sha256(repr((self.dropout, self.classes_.tolist())).encode())
        for array in (*self.coefs_, *self.intercepts_):
            digest.update(repr(array.shape).encode())
            digest.update(np.ascontiguousarray(array).data)
        return digest.hexdigest()

    # -- prediction ---------------------------------------------------------------------------
    def _params(self, torch: Any) -> list[Any]:
        check_is_fitted(self, "coefs_")
        return [torch.from_numpy(a) for pair in zip(self.coefs_, self.intercepts_, strict=True) for a in pair]

    def _checked(self, X: Any) -> np.ndarray | sp.csr_matrix:
        X = _as_features(X, type(self).__name__)
        if X.shape[1] != self.n_features_in_:
            raise DataError(f"{type(self).__name__} was fitted on {self.n_features_in_} features; got {X.shape[1]}")
        return X

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities with dropout off (the usual deterministic prediction)."""
        torch = _torch()
        params = self._params(torch)
        X = self._checked(X)
        out = np.empty((X.shape[0], len(self.classes_)), dtype=np.float32)
        with torch.no_grad(), _threads(torch, self.n_threads):
            for start, xb in zip(range(0, X.shape[0], _CHUNK_ROWS), _chunks(X, torch), strict=True):
                logits, _ = self._forward(torch, params, xb, None)
                out[start : start + xb.shape[0]] = torch.softmax(logits, dim=1).numpy()
        return out

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_[self.predict_proba(X).argmax(axis=1)])

    def embed(self, X: Any) -> np.ndarray:
        """The last hidden layer with dropout off: ``n x hidden_layer_sizes[-1]`` float32."""
        torch = _torch()
        params = self._params(torch)
        X = self._checked(X)
        out = np.empty((X.shape[0], self.coefs_[-1].shape[0]), dtype=np.float32)
        with torch.no_grad(), _threads(torch, self.n_threads):
            for start, xb in zip(range(0, X.shape[0], _CHUNK_ROWS), _chunks(X, torch), strict=True):
                _, hidden = self._forward(torch, params, xb, None)
                out[start : start + xb.shape[0]] = hidden.numpy()
        return out

    def predict_proba_samples(self, X: Any, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """``n_samples x n x n_classes`` float32: one forward pass per sample with fresh dropout masks drawn from ``rng``.

        The first layer, which dropout does not touch, is computed once per
        chunk and shared by all samples.
        """
        if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ConfigError(f"n_samples must be a positive integer, got {n_samples!r}")
        torch = _torch()
        params = self._params(torch)
        X = self._checked(X)
        gen = torch.Generator().manual_seed(_seed_of(rng))
        p = float(self.dropout)
        out = np.empty((int(n_samples), X.shape[0], len(self.classes_)), dtype=np.float32)
        n_layers = len(params) // 2
        with torch.no_grad(), _threads(torch, self.n_threads):
            for start, xb in zip(range(0, X.shape[0], _CHUNK_ROWS), _chunks(X, torch), strict=True):
                first = torch.relu(xb @ params[0] + params[1])
                for t in range(int(n_samples)):
                    hidden = first
                    for layer in range(1, n_layers):
                        if p > 0:
                            keep = torch.bernoulli(torch.full_like(hidden, 1.0 - p), generator=gen)
                            hidden = hidden * keep / (1.0 - p)
                        logits = hidden @ params[2 * layer] + params[2 * layer + 1]
                        hidden = torch.relu(logits) if layer < n_layers - 1 else logits
                    out[t, start : start + xb.shape[0]] = torch.softmax(hidden, dim=1).numpy()
        return out
