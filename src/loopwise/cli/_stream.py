"""`loopwise stream`: simulate stream-based active learning on an ordered dataset, stored and resumable."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from loopwise.cli._common import DB_HELP, console, make_progress, open_store, user_errors
from loopwise.errors import ConfigError

if TYPE_CHECKING:  # scikit-learn and pandas load only when the command runs, so `loopwise --help` stays quick
    from loopwise.storage import Store
    from loopwise.stream import StreamState
    from loopwise.stream._data import StreamData

_KIND = "stream"
# The names of loopwise.stream.MANAGERS, for the help text (tests/stream/test_stream_cli.py checks they agree).
MANAGER_NAMES = ("random", "fixed_uncertainty", "variable_uncertainty", "randomized_variable_uncertainty", "split", "biqf")


def _project(store: Store, data: StreamData) -> int:
    """The stream's project, with every record of the stream registered once."""
    project = store.get_or_create_project(f"stream:{data.name}", "tabular", data.label_names)
    store.add_records(project.id, [str(i) for i in data.ids])
    return project.id


def _drive(
    store: Store, run_id: str, data: StreamData, state: StreamState, config: dict[str, Any], progress: Any,
    max_chunks: int | None = None,
) -> dict[str, Any]:
    """Run the remaining chunks of a run, storing one loop (and the state) per chunk; return its summary.

    ``max_chunks`` stops early and leaves the run 'running', as a kill would (for resume tests).
    """
    from loopwise.storage._types import LoopWrite
    from loopwise.stream import chunk_rng, run_chunk

    chunk, seed = int(config["chunk"]), int(config["seed"])
    task = progress.add_task(f"{config['manager']} seed {seed}", total=len(data.X), completed=state.n_seen, accuracy="-")
    for index in range(state.chunks_done, -(-len(data.X) // chunk)):
        rows = slice(index * chunk, (index + 1) * chunk)
        outcome = run_chunk(state, data.X[rows], data.y[rows], chunk_rng(seed, index))
        ids = data.ids[rows][outcome.asked]
        labels = data.y[rows][outcome.asked]
        store.record_loop(
            run_id,
            LoopWrite(
                loop_index=index,
                strategy=str(config["manager"]),
                selected_ids=[str(i) for i in ids],
                labels=[data.label_names[int(v)] for v in labels],
                n_labelled=state.n_labelled,
                metrics=outcome.metrics,
                model=pickle.dumps(state),
            ),
        )
        progress.update(task, completed=state.n_seen, accuracy=f"{state.prequential.accuracy:.3f}")
        if max_chunks is not None and state.chunks_done >= max_chunks:
            return _summary(store, run_id)
    store.finish_run(run_id)
    return _summary(store, run_id)


def _summary(store: Store, run_id: str) -> dict[str, Any]:
    """A stored stream run as JSON: its config, final figures, and accuracy and labels over time."""
    run = store.get_run(run_id)
    curve = [loop.metrics for loop in store.loops(run_id)]
    last = curve[-1] if curve else {}
    return {
        "run_id": run_id,
        **{k: run.config[k] for k in ("dataset", "manager", "budget", "seed", "learner", "chunk")},
        "final_accuracy": last.get("accuracy"),
        "labels_spent": last.get("labels_spent"),
        "label_rate": last.get("label_rate"),
        "over_time": [
            {k: m[k] for k in ("n_seen", "accuracy", "window_accuracy", "labels_spent")} for m in curve
        ],
    }


def _fresh(config: dict[str, Any], n_classes: int) -> StreamState:
    """The state a stream run starts from, built from its config."""
    from loopwise.stream import IncrementalLearner, Prequential, StreamState, make_manager

    return StreamState(
        IncrementalLearner(config["learner"], n_classes, int(config["seed"])),
        make_manager(config["manager"], float(config["budget"])),
        Prequential(int(config["window"])),
    )


def stream_cmd(
    data: Annotated[str | None, typer.Option("--data", help="Dataset name or file, replayed in `t` order if it has one, else file order.")] = None,
    budget: Annotated[float, typer.Option("--budget", help="Fraction of the stream that may be labelled.")] = 0.1,
    manager: Annotated[str, typer.Option("--manager", help=f"Budget manager: {', '.join(MANAGER_NAMES)}.")] = "variable_uncertainty",
    learner: Annotated[str, typer.Option("--learner", help="Incremental learner: sgd (log loss) or nb (Gaussian NB).")] = "sgd",
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Runs with seeds 0..N-1.")] = 1,
    chunk: Annotated[int, typer.Option("--chunk", min=1, help="Records per stored loop.")] = 1000,
    window: Annotated[int, typer.Option("--window", min=1, help="Records in the sliding prequential accuracy.")] = 1000,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Replay only the first N records.")] = None,
    resume: Annotated[str | None, typer.Option("--resume", help="Continue an interrupted stream run by id.")] = None,
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the runs' prequential figures here.")] = None,
) -> None:
    """Replay a stream record by record, asking for labels on the spot under a budget (prequential evaluation)."""
    from loopwise.stream import IncrementalLearner, make_manager
    from loopwise.stream._data import load_stream

    with user_errors(), open_store(db) as store, make_progress() as progress:
        results = []
        if resume is not None:
            run = store.get_run(resume)
            if run.config.get("kind") != _KIND:
                raise ConfigError(f"run {resume} is not a stream run; resume it with `loopwise resume {resume}`")
            config = dict(run.config)
            stream = load_stream(config["source"], config.get("limit"))
            loops = store.loops(resume)
            store.reopen_run(resume)
            state = pickle.loads(store.load_model(resume, loops[-1].loop_index) or b"") if loops else _fresh(config, len(stream.label_names))
            results.append(_drive(store, resume, stream, state, config, progress))
        else:
            if data is None:
                raise ConfigError("give --data DATASET to start a stream run, or --resume RUN_ID to continue one")
            make_manager(manager, budget)
            IncrementalLearner(learner, 2)
            stream = load_stream(data, limit)
            project_id = _project(store, stream)
            for seed in range(seeds):
                config = {
                    "kind": _KIND, "dataset": stream.name, "source": data, "order": stream.order, "limit": limit,
                    "budget": budget, "manager": manager, "learner": learner, "seed": seed, "chunk": chunk, "window": window,
                }
                run_id = store.create_run(project_id, config, name=f"stream {manager} seed {seed}")
                results.append(_drive(store, run_id, stream, _fresh(config, len(stream.label_names)), config, progress))
    for r in results:
        console.print(f"run {r['run_id']}: {r['manager']} seed {r['seed']}: prequential accuracy {r['final_accuracy']:.4f}, labels {r['labels_spent']} ({r['label_rate']:.3f} of the stream)")
    if json_out is not None:
        json_out.write_text(json.dumps({"runs": results}, indent=2))
