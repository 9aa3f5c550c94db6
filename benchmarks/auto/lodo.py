"""Leave-one-dataset-out quality cells: on dataset D, the learned selector is the model trained without D.

    python benchmarks/auto/lodo.py --dataset ag_news [--seeds 10] [--config benchmarks/quality.toml] \
        [--results benchmarks/results] [--strategy learned_lodo --strategy auto_learned_lodo]

Runs the quality plan's cells of D (same protocol, seeds, initial samples as every other strategy)
for ``learned_lodo`` (the learned selector with ``benchmarks/auto/lodo_models/without_D.json``) and
``auto_learned_lodo`` (``auto_learned`` with that model as its learned arm), saving them next to the
committed cells so that ``python benchmarks/auto/compare.py benchmarks/results learned_lodo`` compares
them with random and margin on the same seeds. The two names exist only in this script's process
(registered for the run), hence one process per dataset: run datasets in parallel with ``xargs -P``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from loopwise.bench._plan import load_plan
from loopwise.bench._runner import run_quality
from loopwise.strategies import AutoLearned, LearnedSelector, registered

MODELS = Path(__file__).with_name("lodo_models")


def lodo_classes(dataset: str) -> tuple[type[LearnedSelector], type[AutoLearned]]:
    """``learned_lodo`` and ``auto_learned_lodo`` bound to the model trained without ``dataset``."""
    path = str(MODELS / f"without_{dataset}.json")

    class LearnedLodo(LearnedSelector):
        """The learned selector trained without the dataset it runs on."""

        name = "learned_lodo"

        def __init__(self) -> None:
            super().__init__(model=path)

    class AutoLearnedLodo(AutoLearned):
        """``auto_learned`` whose learned arm was trained without the dataset it runs on."""

        name = "auto_learned_lodo"

        def __init__(self) -> None:
            super().__init__(learned_model=path)

    return LearnedLodo, AutoLearnedLodo


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--config", default="benchmarks/quality.toml")
    ap.add_argument("--results", default="benchmarks/results")
    # learned / auto_learned (the built-in model, trained with D: the in-sample figures) can run in the same process,
    # so that one process writes each dataset's results file.
    ap.add_argument("--strategy", action="append", choices=("learned_lodo", "auto_learned_lodo", "learned", "auto_learned"))
    args = ap.parse_args(argv)
    learned, auto = lodo_classes(args.dataset)
    with registered(learned), registered(auto):
        plan = load_plan(args.config, datasets=[args.dataset], strategies=args.strategy or ["learned_lodo", "auto_learned_lodo"],
                         seeds=args.seeds)  # fmt: skip
        outcome = run_quality(plan, args.results, n_jobs=1)
    print(f"{args.dataset}: ran {outcome.ran}, already done {outcome.already_done}, failed {len(outcome.failed)}")
    for cell, error in outcome.failed:
        print(f"FAILED {cell.key}:\n{error}")


if __name__ == "__main__":
    main()
