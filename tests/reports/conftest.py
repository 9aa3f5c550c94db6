"""Small runs in loopwise's own result format, built from explicit accuracy curves."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from loopwise.reports import LoopPoint, RunResult, write_html_report

# Names a report must escape, not interpret: HTML, a script end tag, mathtext dollars, rich markup.
LABEL_NAMES = ["<b>cat</b>", "dog & co", "</script><!--", "$x$ [red]bird"]
DATASET = "pets <v2>"
N_PER_CLASS = 25


def confusion_for(accuracy: float, n_classes: int, rng: np.random.Generator) -> list[list[int]]:
    """A confusion matrix with about ``accuracy`` on the diagonal, errors spread over other classes."""
    cm = np.zeros((n_classes, n_classes), dtype=int)
    for i in range(n_classes):
        correct = int(round(accuracy * N_PER_CLASS))
        cm[i, i] = correct
        others = [j for j in range(n_classes) if j != i]
        for j in rng.choice(others, size=N_PER_CLASS - correct):
            cm[i, j] += 1
    return cm.tolist()


def f1_from_confusion(cm: Sequence[Sequence[int]]) -> list[float]:
    m = np.asarray(cm, dtype=float)
    tp = np.diag(m)
    denom = m.sum(axis=0) + m.sum(axis=1)
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0).tolist()


def make_run(
    run_id: str,
    strategy: str,
    seed: int,
    n_labelled: Sequence[int],
    accuracy: Sequence[float],
    full_pool_accuracy: float | None = 0.9,
    label_names: Sequence[str] = LABEL_NAMES,
    dataset: str = DATASET,
) -> RunResult:
    """A run whose recorded accuracy is exactly ``accuracy`` and whose matrices and F1 agree with it."""
    rng = np.random.default_rng(seed)
    loops = []
    for i, (n, acc) in enumerate(zip(n_labelled, accuracy)):
        cm = confusion_for(acc, len(label_names), rng)
        f1 = f1_from_confusion(cm)
        loops.append(
            LoopPoint(
                loop_index=i,
                n_labelled=int(n),
                accuracy=float(acc),
                macro_f1=float(np.mean(f1)),
                log_loss=float(1.5 - acc),
                per_class_f1=f1,
                confusion_matrix=cm,
                timings={"infer": 0.02 * (i + 1), "select": 0.005 * (i + 1), "train": 0.1 + 0.01 * i},
                label_cost=float(n - (n_labelled[i - 1] if i else 0)),
            )
        )
    return RunResult(run_id, strategy, seed, dataset, list(label_names), full_pool_accuracy, loops)


N_LABELLED = [10, 20, 40, 80, 160]

# Hand-made curves, full-pool accuracy 0.9: targets 0.855 (95%) and 0.891 (99%).
CURVES = {
    ("random", 0): [0.40, 0.55, 0.70, 0.86, 0.895],  # 95% at 80, 99% at 160
    ("random", 1): [0.42, 0.50, 0.72, 0.84, 0.89],  # 95% at 160, 99% never
    ("random", 2): [0.38, 0.60, 0.74, 0.87, 0.90],  # 95% at 80, 99% at 160
    ("margin", 0): [0.40, 0.65, 0.86, 0.89, 0.90],  # 95% at 40, 99% at 160
    ("margin", 1): [0.45, 0.70, 0.80, 0.88, 0.90],  # 95% at 80, 99% at 160
    ("margin", 2): [0.41, 0.66, 0.87, 0.895, 0.91],  # 95% at 40, 99% at 80
}


def build_results() -> list[RunResult]:
    """Two strategies times three seeds on one four-class dataset; the same every call."""
    return [
        make_run(f"{strategy}-{seed}", strategy, seed, N_LABELLED, acc)
        for (strategy, seed), acc in CURVES.items()
    ]


@pytest.fixture
def results() -> list[RunResult]:
    """A fresh copy of the two-strategy, three-seed results, free for a test to change."""
    return build_results()


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The HTML report of ``build_results()``, rendered once per module: figures take a while."""
    path = tmp_path_factory.mktemp("html") / "nested" / "report.html"
    write_html_report(build_results(), path, title="Pets & <friends>")
    return path.read_text(encoding="utf-8")


@pytest.fixture
def build_run() -> Callable[..., RunResult]:
    """The run builder, for tests that need curves of their own."""
    return make_run
