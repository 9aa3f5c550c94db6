"""loopwise command line: simulate, resume, inspect runs, and write reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from loopwise.cli._bench import bench_app
from loopwise.cli._common import DB_HELP, console, initializer_spec, make_progress, open_store, print_runs_table, resolve_db, user_errors
from loopwise.errors import ConfigError

if TYPE_CHECKING:  # each command imports what it uses, so `serve` or `--help` starts without scikit-learn or matplotlib
    from loopwise.experiments import RunProgress

# The same as loopwise.loop.RETRAIN_MODES (tests/cli/test_startup.py checks), for the help text without importing the loop.
RETRAIN_MODES = ("scratch", "warm_start", "new_only")

app = typer.Typer(
    help="Active-learning loops that are recorded, resumable and reported.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
runs_app = typer.Typer(help="List and inspect stored runs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
# Command groups that live in their own modules are registered below, one line each.
from loopwise.cli._serve import serve_cmd as _serve_cmd; app.command("serve")(_serve_cmd)  # noqa: E402, E702
app.add_typer(bench_app, name="bench")
from loopwise.cli._labels import labels_app as _labels_app; app.add_typer(_labels_app, name="labels")  # noqa: E402, E702
from loopwise.cli._stream import stream_cmd as _stream_cmd; app.command("stream")(_stream_cmd)  # noqa: E402, E702
from loopwise.cli._teach import export_cmd as _export_cmd, teach_cmd as _teach_cmd; app.command("teach")(_teach_cmd); app.command("export")(_export_cmd)  # noqa: E402, E702

DbOption = Annotated[str | None, typer.Option("--db", help=DB_HELP)]
from loopwise.cli._common import ArtifactsOption  # noqa: E402


def _stopping(target: float | None, max_loops: int | None, stable: float | None, plateau: int | None) -> dict | None:
    from loopwise.stopping import MaxLoops, Plateau, StabilizingPredictions, StoppingCriterion, TargetMetric

    criteria: list[StoppingCriterion] = []
    if target is not None:
        criteria.append(TargetMetric(target))
    if max_loops is not None:
        criteria.append(MaxLoops(max_loops))
    if stable is not None:
        criteria.append(StabilizingPredictions(threshold=stable, window=3))
    if plateau is not None:
        criteria.append(Plateau(window=plateau))
    if not criteria:
        return None
    return {"kind": "AnyOf", "criteria": [c.describe() for c in criteria]}


def _label_quality(noise: float, annotators: str | None, audit: bool) -> dict:
    """The run's simulated label quality from --noise, --annotators and --audit, checked before any data loads."""
    from loopwise.labeling._simulate import check_quality_spec

    try:
        accuracies = [float(a) for a in annotators.split(",")] if annotators else []
    except ValueError:
        raise ConfigError(f"--annotators takes comma-separated accuracies such as 0.9,0.75,0.6; got {annotators!r}") from None
    return check_quality_spec({"noise": noise, "annotators": accuracies, "audit": audit})


def _with_cost_stop(spec: dict | None, value: float | None, label_cost: float, compute_rate: float) -> dict | None:
    """The stopping spec with cost-aware stopping added when --stop-value-per-point is given."""
    if value is None:
        return spec
    from loopwise.stopping import CostAwareStop

    rule = CostAwareStop(value, label_cost=label_cost, compute_rate=compute_rate).describe()
    return {"kind": "AnyOf", "criteria": [*(spec["criteria"] if spec else []), rule]}


class _Bars:
    """One rich progress bar per run, advanced as loops are committed."""

    def __init__(self, progress) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def on_loop(self, p: RunProgress) -> None:
        if p.run_id not in self.tasks:
            self.tasks[p.run_id] = self.progress.add_task(f"{p.label} [{p.run_id}]", total=p.budget, accuracy="-")
        acc = "-" if p.accuracy is None else f"{p.accuracy:.3f}"
        self.progress.update(self.tasks[p.run_id], completed=p.n_labelled, accuracy=acc)


def _write_outputs(store, run_ids: list[str], json_out: Path | None, report_out: Path | None) -> None:
    from loopwise.experiments import load_results
    from loopwise.reports import losing_lines, render_table, summarise, write_html_report, write_json_report

    results = load_results(store, run_ids)
    summary = summarise(results)
    console.print(render_table(summary))
    for line in losing_lines(results):
        console.print(line, style="bold red", markup=False)
    if json_out is not None:
        write_json_report(results, json_out)
        console.print(f"JSON written to [bold]{json_out}[/]")
    if report_out is not None:
        write_html_report(results, report_out)
        console.print(f"HTML report written to [bold]{report_out}[/]")


@app.command("simulate")
def simulate_cmd(
    data: Annotated[str, typer.Option("--data", help="Dataset: digits, breast_cancer, wine, a ../shared/datasets name (conll2003: token classification), or a CSV/JSONL/Parquet/.npz path.")],
    strategy: Annotated[list[str], typer.Option("--strategy", help=(
        "Querying strategy; repeat to compare several. Default: auto against random. auto covers the pool first "
        "(TypiClust while labels are under 3 a class or the model is barely confident), then lets a bandit choose "
        "each loop between coverage, cluster-spread margin, margin and random, rewarded by a 5% random slice of "
        "every batch whose labels estimate the model's accuracy and say when the active picks lose to random. "
        "learned scores each candidate with a model trained offline on simulated runs (LAL-style); auto_learned "
        "adds it to auto's bandit as a fifth arm."
    ))] = ["auto", "random"],  # noqa: B006
    seeds: Annotated[int, typer.Option(help="Seeds per strategy (0..N-1).", min=1)] = 3,
    initial: Annotated[int, typer.Option(help="Size of the loop-0 sample.", min=1)] = 10,
    batch: Annotated[int, typer.Option(help="Records per loop after loop 0.", min=1)] = 10,
    budget: Annotated[int, typer.Option(help="Total labels to buy, loop 0 included (sentences, for token classification).", min=1)] = 300,
    label_column: Annotated[str | None, typer.Option(help="Label column of a file (default: label).")] = None,
    text_column: Annotated[str | None, typer.Option(help="Free-text column of a file.")] = None,
    id_column: Annotated[str | None, typer.Option(help="Record-id column of a file (default: id if present).")] = None,
    learner: Annotated[str | None, typer.Option(help="Built-in learner: logreg (the classification default); rf or hgb (tabular, non-linear); tfidf_logreg, tfidf_svd or minilm (raw text; minilm needs the text extra); mlp (torch extra). Multilabel: ovr_logreg, tfidf_ovr_logreg (the text default), tfidf_ovr_balanced (per-label balanced weights), tfidf_svd_ovr, minilm_ovr. Regression: bagging_trees (the default), bagging_ridge, gp, quantile_hgb. Token classification: crf (the default).")] = None,
    task: Annotated[str | None, typer.Option("--task", help="What the labels are: classification, multilabel (label names joined by |) or regression (a number). Default: the dataset's meta.json task, else classification.")] = None,
    init: Annotated[str, typer.Option(help="Loop-0 sample: random, diverse (k-means), typiclust, probcover, ids (with --init-ids), or any strategy that declares loop-0 use (kcenter).")] = "random",
    init_ids: Annotated[str | None, typer.Option(help="With --init ids: the loop-0 record ids, ID,ID,... or @FILE (one id per line).")] = None,
    growth: Annotated[float, typer.Option(help="Geometric growth of the batch per loop (1.0 = fixed).", min=1.0)] = 1.0,
    retrain: Annotated[str, typer.Option(help=f"Retraining mode: {', '.join(RETRAIN_MODES)}.")] = "scratch",
    target_accuracy: Annotated[float | None, typer.Option(help="Stop once test accuracy reaches this.")] = None,
    max_loops: Annotated[int | None, typer.Option(help="Stop after this many loops (loop 0 included).")] = None,
    stable_kappa: Annotated[float | None, typer.Option(help="Stop when kappa between successive predictions stays >= this for 3 loops.")] = None,
    plateau: Annotated[int | None, typer.Option(help="Stop when accuracy gains < 0.002 over this many loops.")] = None,
    adaptive_batch: Annotated[int | None, typer.Option("--adaptive-batch", help="Adaptive loop sizes from --batch up to this, chosen from the learning curve and the prices.", min=1)] = None,
    stop_value: Annotated[float | None, typer.Option("--stop-value-per-point", help="Cost-aware stopping: stop when the next loop's expected gain, at this value per accuracy point, is worth less than its label and compute cost.", min=0.0)] = None,
    test_size: Annotated[float, typer.Option(help="Test fraction when the data has no split of its own.")] = 0.25,
    max_pool: Annotated[int | None, typer.Option(help="Subsample the pool to this many records (stratified, seeded).")] = None,
    max_test: Annotated[int | None, typer.Option(help="Subsample the test set to this many records.")] = None,
    budget_tokens: Annotated[int | None, typer.Option("--budget-tokens", help="Token classification: also stop once this many tokens are labelled.", min=1)] = None,
    eval_split: Annotated[str, typer.Option("--eval-split", help="Token classification: the split the curve is measured on, dev (for choices) or test.")] = "test",
    cost_per_label: Annotated[float, typer.Option("--label-cost", "--cost-per-label", help="Cost of one label, for the cost ledger (of one token, for token classification).")] = 1.0,
    cost_per_class: Annotated[list[str], typer.Option("--cost-per-class", help="CLASS=COST: price of a label of that class (overrides --label-cost); repeat per class.")] = [],  # noqa: B006
    compute_rate: Annotated[float, typer.Option("--compute-rate", help="Price of one CPU hour of TRAIN + INFER + SELECT, for the cost ledger.", min=0.0)] = 0.0,
    noise: Annotated[float, typer.Option("--noise", help="Simulated annotator's error rate (uniform over the other classes).")] = 0.0,
    annotators: Annotated[str | None, typer.Option("--annotators", help="Simulated annotator panel by accuracy, e.g. 0.9,0.75,0.6; labels by Dawid-Skene consensus.")] = None,
    audit: Annotated[bool, typer.Option("--audit", help="Audit labels each loop (cleanlab on out-of-fold probabilities); suspects get a second opinion.")] = False,
    db: DbOption = None,
    artifacts: ArtifactsOption = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write figures for machines to this file.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the HTML report to this file.")] = None,
) -> None:
    """Run simulated active learning (a ground-truth oracle) for each strategy and seed, and compare them."""
    from loopwise.experiments import simulate
    from loopwise.experiments._config import DataSpec
    from loopwise.experiments._costs import parse_class_costs
    from loopwise.loop import AdaptiveSchedule, FixedSchedule, GeometricSchedule, Schedule

    with user_errors():
        if retrain not in RETRAIN_MODES:
            raise ConfigError(f"--retrain must be one of {', '.join(RETRAIN_MODES)}; got {retrain!r}")
        initializer = initializer_spec(init, init_ids, initial)
        from loopwise.cli._sequence import is_sentence_data, simulate_sentences

        if is_sentence_data(data):  # sentences of tagged tokens: the sequence loop (docs/architecture.md says why)
            return simulate_sentences(
                {"data": data, "strategy": strategy, "seeds": seeds, "initial": initial, "batch": batch, "budget": budget,
                 "learner": learner, "init": initializer, "max_pool": max_pool, "max_test": max_test, "eval_split": eval_split,
                 "budget_tokens": budget_tokens, "cost_per_label": cost_per_label, "db": db, "artifacts": artifacts, "json_out": json_out,
                 "report": report},
                {"--task": task not in (None, "token_classification"), "--retrain": retrain != "scratch", "--growth": growth != 1.0, "--adaptive-batch": adaptive_batch is not None,
                 "--target-accuracy": target_accuracy is not None, "--max-loops": max_loops is not None, "--stable-kappa": stable_kappa is not None,
                 "--plateau": plateau is not None, "--stop-value-per-point": stop_value is not None, "--cost-per-class": bool(cost_per_class),
                 "--compute-rate": compute_rate != 0.0, "--noise": noise != 0.0, "--annotators": annotators is not None, "--audit": audit,
                 "--label-column": label_column is not None, "--text-column": text_column is not None,
                 "--id-column": id_column is not None},
            )
        if budget_tokens is not None or eval_split != "test":
            raise ConfigError("--budget-tokens and --eval-split apply to token classification only")
        schedule: Schedule = (
            FixedSchedule(initial, batch, budget)
            if growth == 1.0
            else GeometricSchedule(initial, batch, growth, budget)
        )
        if adaptive_batch is not None:
            schedule = AdaptiveSchedule(initial, batch, max(batch, adaptive_batch), budget,
                                        label_cost=cost_per_label, compute_rate=compute_rate)
        spec = DataSpec(
            source=data,
            label_column=label_column,
            text_column=text_column,
            id_column=id_column,
            test_size=test_size,
            max_pool=max_pool,
            max_test=max_test,
            task=task,
        )
        from loopwise.strategies import make_strategy

        for name in strategy:
            make_strategy(name)  # an unknown name fails before any data is loaded
        _label_quality(noise, annotators, audit)
        with open_store(db, artifacts) as store, make_progress() as progress:
            bars = _Bars(progress)
            run_ids = simulate(
                store,
                spec,
                strategy,
                seeds,
                schedule,
                learner=learner,
                initializer=initializer,
                stopping=_with_cost_stop(_stopping(target_accuracy, max_loops, stable_kappa, plateau), stop_value, cost_per_label, compute_rate),
                retrain=retrain,
                cost_per_label=cost_per_label,
                cost_per_class=parse_class_costs(cost_per_class),
                compute_rate=compute_rate,
                label_quality=_label_quality(noise, annotators, audit),
                on_loop=bars.on_loop,
            )
        with open_store(db, artifacts) as store:
            _write_outputs(store, run_ids, json_out, report)
        console.print(f"{len(run_ids)} runs stored in [bold]{resolve_db(db)}[/]: {' '.join(run_ids)}")


@app.command("resume")
def resume_cmd(run_id: str, db: DbOption = None, artifacts: ArtifactsOption = None) -> None:
    """Continue a run that was interrupted (even by kill -9) from its last committed loop."""
    from loopwise.experiments import resume_run

    with user_errors(), open_store(db, artifacts) as store:
        kind = store.get_run(run_id).config.get("kind")
        if kind == "stream":  # stream runs resume through `loopwise stream`
            return _stream_cmd(resume=run_id, db=db)
        if kind == "sequence":  # token-classification runs: the sequence loop
            from loopwise.cli._sequence import resume_sentences

            return resume_sentences(store, run_id)
        with make_progress() as progress:
            resume_run(store, run_id, on_loop=_Bars(progress).on_loop)
        run = store.get_run(run_id)
        console.print(f"run {run_id} {run.status}: {run.n_loops} loops")


@app.command("report")
def report_cmd(
    run_ids: Annotated[list[str], typer.Argument(help="Run ids to put in one report.")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the figures as JSON.")] = None,
    db: DbOption = None,
    artifacts: ArtifactsOption = None,
) -> None:
    """Write one self-contained HTML report (and optionally JSON) for the given runs."""
    from loopwise.cli._sequence import is_sentence_run, write_sentence_outputs

    with user_errors(), open_store(db, artifacts) as store:
        if any(is_sentence_run(store, r) for r in run_ids):  # token classification: entity F1 by labelled tokens
            return write_sentence_outputs(store, list(run_ids), json_out, out)
        _write_outputs(store, list(run_ids), json_out, out)


@runs_app.command("list")
def runs_list(
    db: DbOption = None,
    artifacts: ArtifactsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON (a list of objects) instead of a table.")] = False,
) -> None:
    """List stored runs, oldest first, with their full ids (for resume, report and runs show)."""
    with user_errors(), open_store(db, artifacts) as store:
        rows = [_run_row(store, run) for run in store.list_runs()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    print_runs_table(rows)


def _run_row(store, run) -> dict:  # noqa: ANN001 - Store and its run summary
    loops = store.loops(run.id)
    last = loops[-1] if loops else None
    from loopwise.core.tasks import headline

    metric = headline(run.task)[0]  # accuracy, micro_f1, neg_rmse or entity_f1: what the run's curve reads
    score = last.metrics.get(metric) if last else None
    return {
        "id": run.id,
        "project": run.project_name,
        "name": run.name or "",
        "status": run.status,
        "loops": int(run.n_loops),
        "labels": int(last.n_labelled) if last else 0,
        "task": run.task,
        "metric": metric,
        "score": None if score is None else float(score),
        "accuracy": float(score) if score is not None and metric == "accuracy" else None,
        "created": str(run.created_at)[:19],
    }


@runs_app.command("show")
def runs_show(run_id: str, db: DbOption = None, artifacts: ArtifactsOption = None) -> None:
    """Show a run's config and its loops."""
    from loopwise.experiments import load_results

    from loopwise.core.tasks import TASK_METRICS, METRIC_TITLES

    with user_errors(), open_store(db, artifacts) as store:
        run = store.get_run(run_id)
        console.print(f"[bold]run {run.id}[/] ({run.name}) on {run.project_name}, {run.task}: {run.status}")
        console.print_json(json.dumps(run.config))
        shown = TASK_METRICS[run.task]
        table = Table("loop", "strategy", "labels", *(METRIC_TITLES.get(m, m) for m in shown), "infer s", "select s", "train s", "cost")
        for loop in store.loops(run_id):
            t = loop.timings
            table.add_row(
                str(loop.loop_index),
                loop.strategy,
                str(loop.n_labelled),
                *(_metric_cell(loop.metrics.get(m)) for m in shown),
                f"{t.get('infer', 0):.3f}",
                f"{t.get('select', 0):.3f}",
                f"{t.get('train', 0):.3f}",
                f"{loop.label_cost:g}",
            )
        console.print(table)
        from loopwise.cli._sequence import is_sentence_run, write_sentence_outputs

        if is_sentence_run(store, run_id):  # no accuracy or ledger: its curve is entity F1 by labelled tokens
            return write_sentence_outputs(store, [run_id], None)
        _print_ledger(load_results(store, [run_id])[0])


def _metric_cell(value: object) -> str:
    """A metric as the table shows it: 3 decimals below 1,000, thousands separated above (an RMSE in dollars)."""
    if not isinstance(value, (int, float)):
        return "nan"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3f}"


def _print_ledger(result) -> None:
    """The cost ledger's totals: labels and their cost, CPU seconds by step and their cost, and the break-even."""
    from loopwise.reports import break_even, break_even_sentence, ledger_totals

    t = ledger_totals(result)
    steps = t["cpu_seconds_by_step"]
    gpu = "none" if t["gpu_seconds"] is None else f"{t['gpu_seconds']:.3f} s"
    console.print(
        f"ledger: {t['labels']} labels cost {t['label_cost']:,.2f}; CPU {t['cpu_seconds']:.3f} s "
        f"(train {steps['train']:.3f}, infer {steps['infer']:.3f}, select {steps['select']:.3f}), GPU {gpu}; "
        f"compute cost {t['compute_cost']:,.4f} at {t['compute_rate']:g} per CPU hour; total {t['total_cost']:,.2f}",
        markup=False, highlight=False,
    )
    if t["annotator_seconds"] is not None:
        imputed = int(sum(p.timings.get("annotator_labels_imputed", 0) for p in result.loops))
        console.print(
            f"annotator time: {t['annotator_seconds']:,.1f} s measured from the server's event log "
            f"({imputed} label(s) after a break or a first action imputed with the annotator's median)",
            markup=False, highlight=False,
        )
    for name, entry in break_even([result]).items():
        console.print(break_even_sentence(name, entry), markup=False, highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
