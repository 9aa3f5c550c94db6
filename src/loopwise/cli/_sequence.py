"""`loopwise simulate --data conll2003 ...`: token-classification runs (the sequence loop), stored, resumable, with their curve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopwise.cli._common import console, make_progress, open_store, resolve_db
from loopwise.errors import ConfigError

if TYPE_CHECKING:
    from loopwise.storage import Store

# What `simulate` runs on sentences when --strategy is left at its default (auto and random serve classes).
DEFAULT_STRATEGIES = ["token_entropy_mean", "random"]


def is_sentence_data(source: str) -> bool:
    """Whether ``--data`` names a token-classification dataset (the shared layout: tokens and BIO tags per line)."""
    from loopwise.sequence import sentence_file

    return sentence_file(source) is not None


def simulate_sentences(options: dict[str, Any], not_for_sentences: dict[str, bool]) -> None:
    """Run ``simulate``'s options on sentences; options that only mean something for classes are refused by name."""
    from loopwise.loop import FixedSchedule
    from loopwise.sequence import simulate_sequences, token_strategies

    given = [name for name, used in not_for_sentences.items() if used]
    if given:
        raise ConfigError(f"{', '.join(given)} do not apply to token classification (sentences of tagged tokens); leave them out")
    strategies = list(options["strategy"])
    if strategies == ["auto", "random"]:
        strategies = list(DEFAULT_STRATEGIES)
        console.print(f"token classification: comparing {' and '.join(strategies)} (pass --strategy to choose; sentence strategies: {', '.join(token_strategies())})")
    learner = "crf" if options["learner"] in (None, "logreg") else options["learner"]
    schedule = FixedSchedule(options["initial"], options["batch"], options["budget"])
    with open_store(options["db"], options["artifacts"]) as store, make_progress() as progress:
        bars: dict[str, Any] = {}

        def on_loop(run_id: str, record: Any) -> None:
            if run_id not in bars:
                bars[run_id] = progress.add_task(f"{record.strategy} {run_id}", total=options["budget"], accuracy="-")
            progress.update(bars[run_id], completed=record.n_labelled, accuracy=f"{record.metrics.get('entity_f1', float('nan')):.3f} F1")

        run_ids = simulate_sequences(
            store, options["data"], strategies, options["seeds"], schedule, learner=learner,
            initializer={"kind": options["init"]} if isinstance(options["init"], str) else options["init"],
            eval_split=options["eval_split"], max_pool=options["max_pool"], max_test=options["max_test"],
            cost_per_token=options["cost_per_label"], token_budget=options["budget_tokens"], on_loop=on_loop,
        )
    with open_store(options["db"], options["artifacts"]) as store:
        write_sentence_outputs(store, run_ids, options["json_out"], options["report"])
    console.print(f"{len(run_ids)} runs stored in [bold]{resolve_db(options['db'])}[/]: {' '.join(run_ids)}")


def sentence_curves(store: Store, run_ids: list[str]) -> list[dict[str, Any]]:
    """Each run's learning curve: entity precision, recall and F1 by sentences and tokens labelled, with the label cost."""
    out = []
    for run_id in run_ids:
        run = store.get_run(run_id)
        points = [
            {"loop": loop.loop_index, "sentences": loop.n_labelled, "tokens": loop.metrics.get("labelled_tokens"), "label_cost": loop.label_cost,
             **{k: loop.metrics.get(k) for k in ("entity_f1", "entity_precision", "entity_recall", "token_accuracy", "per_type_f1")}}
            for loop in store.loops(run_id)
        ]
        out.append({"run_id": run_id, "strategy": run.config["strategy"], "seed": run.config["seed"], "dataset": run.project_name,
                    "status": run.status, "curve": points})
    return out


def is_sentence_run(store: Store, run_id: str) -> bool:
    """Whether a stored run is a token-classification run of the sequence loop."""
    from loopwise.sequence import KIND

    return store.get_run(run_id).config.get("kind") == KIND


def write_sentence_outputs(store: Store, run_ids: list[str], json_out: Path | None, report_out: Path | None = None) -> None:
    """A table of each run's last loop; the curves as JSON and the HTML report (entity F1 by labelled tokens) when asked."""
    from rich.table import Table

    not_sentences = [r for r in run_ids if not is_sentence_run(store, r)]
    if not_sentences:
        raise ConfigError(f"runs {not_sentences} are not token-classification runs; report them apart from {sorted(set(run_ids) - set(not_sentences))}")
    curves = sentence_curves(store, run_ids)
    table = Table("run", "strategy", "seed", "sentences", "tokens", "entity F1", "precision", "recall")
    for c in curves:
        last = c["curve"][-1] if c["curve"] else {}
        table.add_row(c["run_id"], c["strategy"], str(c["seed"]), str(last.get("sentences", 0)), str(last.get("tokens", 0)),
                      *(f"{last[k]:.3f}" if last.get(k) is not None else "-" for k in ("entity_f1", "entity_precision", "entity_recall")))
    console.print(table)
    if json_out is not None:
        json_out.write_text(json.dumps({"task": "token_classification", "runs": curves}, indent=1))
        console.print(f"JSON written to [bold]{json_out}[/]")
    if report_out is not None:
        from loopwise.reports._sequence import write_sequence_html

        write_sequence_html(curves, report_out)
        console.print(f"HTML report written to [bold]{report_out}[/]")


def resume_sentences(store: Store, run_id: str) -> None:
    """Continue an interrupted token-classification run from its last committed loop."""
    from loopwise.sequence import resume_sequence_run

    resume_sequence_run(store, run_id)
    run = store.get_run(run_id)
    console.print(f"run {run_id} {run.status}: {run.n_loops} loops")
