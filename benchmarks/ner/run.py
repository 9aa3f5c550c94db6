"""NER benchmark (issue 14): random against each sentence strategy on a CoNLL-2003 train slice, CRF tagger, entity F1 by labelled tokens.

Every (strategy, seed) cell drives the same SequenceLoop that `loopwise simulate --data conll2003` drives, with a
token budget so that strategies preferring short or long sentences spend alike; each cell is saved as JSON on
finishing, so an interrupted run continues where it stopped. `summarise` reads the cells and answers the
Done-when: the labelled tokens at which each strategy's mean curve first reaches the entity F1 random reaches
with its whole budget, as a share of random's tokens.

    nice -n 10 python benchmarks/ner/run.py --out benchmarks/results/ner --seeds 10 --workers 2
    python benchmarks/ner/run.py --out benchmarks/results/ner --summary benchmarks/results/ner.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

STRATEGIES = ["random", "seq_least_confidence", "seq_margin", "token_entropy_mean", "token_entropy_max", "token_entropy_sum", "seq_entropy_kcenter"]
SETTINGS = {
    "source": "conll2003",
    "max_pool": 1500,  # train sentences in the pool (seeded slice)
    "max_test": 1000,  # test sentences the curve is measured on (the same for every cell)
    "initial": 20,
    "batch": 20,
    "token_budget": 3000,  # random spends its whole budget at about 3,000 tokens (~210 sentences)
    "learner_params": {"max_iterations": 50},
}


def _config(strategy: str, seed: int, eval_split: str):  # noqa: ANN202 - a SequenceConfig
    from loopwise.loop import FixedSchedule
    from loopwise.sequence import SequenceConfig

    s = SETTINGS
    return SequenceConfig(
        s["source"], strategy, seed, FixedSchedule(s["initial"], s["batch"], s["max_pool"]).describe(),
        learner_params=dict(s["learner_params"]), eval_split=eval_split, max_pool=s["max_pool"], max_test=s["max_test"],
        token_budget=s["token_budget"],
    )


def run_cell(strategy: str, seed: int, eval_split: str, out: str) -> str:
    from loopwise.loop import run_simulation
    from loopwise.sequence import build_sequence_loop, prepare_sentences, sentence_oracle

    path = Path(out) / f"{strategy}__{seed}.json"
    if path.exists():
        return f"{path.name} (kept)"
    config = _config(strategy, seed, eval_split)
    prepared = prepare_sentences(config)
    loop = build_sequence_loop(config, prepared)
    start = time.process_time()
    records = run_simulation(loop, sentence_oracle(prepared))
    curve = [
        {"loop": r.loop_index, "sentences": r.n_labelled, "tokens": r.metrics["labelled_tokens"], "entity_f1": r.metrics["entity_f1"],
         "entity_precision": r.metrics["entity_precision"], "entity_recall": r.metrics["entity_recall"], "token_accuracy": r.metrics["token_accuracy"]}
        for r in records
    ]
    cell = {"strategy": strategy, "seed": seed, "eval_split": eval_split, "settings": SETTINGS, "cpu_seconds": time.process_time() - start, "curve": curve}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(cell, indent=1))
    os.replace(tmp, path)
    return path.name


def summarise(folder: Path) -> dict:
    """Mean curves per strategy on a 50-token grid, random's final point, and the tokens each strategy needs to reach it."""
    from loopwise.reports._sequence import mean_curve

    cells: dict[str, list[dict]] = {}
    for path in sorted(folder.glob("*.json")):
        cell = json.loads(path.read_text())
        cells.setdefault(cell["strategy"], []).append(cell)
    if "random" not in cells:
        raise SystemExit(f"{folder}: no random cells yet")
    random_tokens = float(np.mean([c["curve"][-1]["tokens"] for c in cells["random"]]))
    random_f1 = float(np.mean([c["curve"][-1]["entity_f1"] for c in cells["random"]]))
    top = max(p["tokens"] for cs in cells.values() for c in cs for p in c["curve"])
    grid = np.arange(0, top + 1, 50, dtype=float)
    out = {"settings": SETTINGS, "random_final_tokens": random_tokens, "random_final_entity_f1": random_f1, "strategies": {}}
    for name, cs in sorted(cells.items()):
        mean = mean_curve(cs, grid)
        # Only grid points every seed reaches, so the mean is over all seeds.
        covered = grid <= min(c["curve"][-1]["tokens"] for c in cs)
        reached = np.flatnonzero(covered & (mean >= random_f1))
        tokens_needed = float(grid[reached[0]]) if len(reached) else None
        out["strategies"][name] = {
            "n_seeds": len(cs),
            "seeds": sorted(c["seed"] for c in cs),
            "final_tokens_mean": float(np.mean([c["curve"][-1]["tokens"] for c in cs])),
            "final_entity_f1_mean": float(np.mean([c["curve"][-1]["entity_f1"] for c in cs])),
            "final_entity_f1_std": float(np.std([c["curve"][-1]["entity_f1"] for c in cs])),
            "tokens_to_random_final_f1": tokens_needed,
            "share_of_random_tokens": None if tokens_needed is None else tokens_needed / random_tokens,
            "mean_tokens_per_sentence": float(np.mean([c["curve"][-1]["tokens"] / c["curve"][-1]["sentences"] for c in cs])),
            "cpu_seconds_mean": float(np.mean([c["cpu_seconds"] for c in cs])),
            "curve": {"tokens": grid[covered].tolist(), "entity_f1_mean": [round(float(v), 4) for v in mean[covered]]},
        }
    return out


def markdown(summary: dict) -> str:
    """The table of docs/benchmarks.md: per strategy, final entity F1 and the tokens it needs to reach random's final F1."""
    lines = [
        f"Random's whole budget: {summary['random_final_tokens']:.0f} tokens (mean), entity F1 {summary['random_final_entity_f1']:.3f}.",
        "",
        "| strategy | seeds | tokens per sentence | final tokens | final entity F1 (mean ± sd) | tokens to random's final F1 | share of random's tokens |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in sorted(summary["strategies"].items(), key=lambda kv: (kv[1]["share_of_random_tokens"] is None, kv[1]["share_of_random_tokens"] or 0)):
        needed = "not reached" if s["tokens_to_random_final_f1"] is None else f"{s['tokens_to_random_final_f1']:.0f}"
        if name == "random":
            needed = f"{summary['random_final_tokens']:.0f} (its whole budget: the reference)"
        share = "–" if s["share_of_random_tokens"] is None else f"{s['share_of_random_tokens']:.0%}"
        lines.append(f"| {name} | {s['n_seeds']} | {s['mean_tokens_per_sentence']:.1f} | {s['final_tokens_mean']:.0f} | "
                     f"{s['final_entity_f1_mean']:.3f} ± {s['final_entity_f1_std']:.3f} | {needed} | {share} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder of per-cell JSON files")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--eval-split", default="test", choices=["dev", "test"], help="dev for choices, test for the reported curve")
    parser.add_argument("--summary", type=Path, help="write the summary of --out to this JSON file and exit")
    args = parser.parse_args()
    if args.summary:
        summary = summarise(args.out)
        args.summary.write_text(json.dumps(summary, indent=1))
        print(markdown(summary))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    # Seeds outermost, so a run cut short still has every strategy on the first seeds.
    cells = [(name, seed) for seed in range(args.seeds) for name in args.strategies.split(",")]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for done in pool.map(run_cell, *zip(*cells), [args.eval_split] * len(cells), [str(args.out)] * len(cells)):
            print(done, flush=True)


if __name__ == "__main__":
    main()
