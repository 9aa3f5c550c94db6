"""``loopwise bench speed``: time and peak memory of one selection, loopwise against the peer libraries.

Every configuration (library, method, pool size, dimensions, batch size)
runs in its own Python process with a time cap and a memory cap, so one
slow or memory-hungry peer cannot stall or skew the rest, and a process's
peak memory is its configuration's alone. Inside the process the pool is
loaded and everything a user would do once (fit the model, wrap it, build
the committee) is done untimed; then the timed call is one selection,
model inference included wherever the method scores with the model (the
peers call ``predict_proba`` inside their query; loopwise infers chunk by
chunk). Strategies that read past loops (``auto``) get a history of ten,
built untimed (:mod:`._speed_history`). Peak memory is the rise of the
process's resident set during the call above what it held before (the
pool, the fitted models, the history), read from
``VmHWM`` after resetting it through ``/proc/self/clear_refs``.

The pools are synthetic: a mixture of ``n_classes`` Gaussians in ``d``
float32 dimensions (the last ``n_labelled`` rows labelled), generated once
and cached as ``.npy`` files so every process loads the same bytes.
"""

from __future__ import annotations

import gc
import os
import pickle
import platform
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from loopwise.bench._speed_cases import (
    BATCHES,
    COMMITTEE,
    DIMS,
    LIBRARIES,
    LIBRARY_NAMES,
    N_CLASSES,
    N_LABELLED,
    SEED,
    SIZES,
    SpeedCase,
    SpeedResult,
)
from loopwise.bench._speed_report import (  # _cell, _ratio_text: the CLI prints the same cells
    BASELINES,
    FLOORS,
    _cell,
    _ratio_text,
    baseline_rows,
    floor_rows,
    load_results,
    ratio_rows,
    render_markdown,
    write_results,
)
from loopwise.bench._speed_history import speed_history
from loopwise.bench.speed_peers import NOTES, PEERS, SpeedData


def loopwise_methods() -> list[str]:
    """The registered strategies that serve classification pools (the speed cases are classification)."""
    from loopwise.strategies import CLASSIFICATION, available, serves_task, strategy_class

    return [name for name in available() if serves_task(strategy_class(name), CLASSIFICATION)]


def plan(
    sizes: Iterable[int] = SIZES,
    dims: Iterable[int] = DIMS,
    batches: Iterable[int] = BATCHES,
    methods: Iterable[str] | None = None,
    libraries: Iterable[str] = LIBRARIES,
) -> list[SpeedCase]:
    """Every configuration, smallest pools first (a peer that fails at one size is skipped at larger ones)."""
    libraries = list(libraries)
    unknown = set(libraries) - set(LIBRARIES)
    if unknown:
        from loopwise.errors import ConfigError

        raise ConfigError(f"unknown libraries {sorted(unknown)}; known: {', '.join(LIBRARIES)}")
    wanted = list(methods) if methods is not None else loopwise_methods()
    cases = []
    for n in sorted(set(sizes)):
        for d in sorted(set(dims)):
            for batch in sorted(set(batches)):
                for method in wanted:
                    for library in libraries:
                        if library == "loopwise" or (library, method) in PEERS:
                            cases.append(SpeedCase(library, method, int(n), int(d), int(batch)))
    return cases


# -- data -------------------------------------------------------------------------------


def data_dir(cache: Path, n: int, d: int) -> Path:
    return cache / f"pool_{n}x{d}_k{N_CLASSES}_seed{SEED}"


def prepare_data(cache: Path, n: int, d: int) -> Path:
    """Generate (once) the pool, its labels and the fitted models for ``n x d``; returns the folder."""
    folder = data_dir(cache, n, d)
    if (folder / "models.pkl").is_file():
        return folder
    from sklearn.linear_model import LogisticRegression

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([SEED, n, d])
    means = rng.normal(scale=1.5 / np.sqrt(d / 64), size=(N_CLASSES, d)).astype(np.float32)
    X = np.lib.format.open_memmap(folder / "X.npy.part", mode="w+", dtype=np.float32, shape=(n, d))
    y = rng.integers(0, N_CLASSES, n)
    for start in range(0, n, 65536):
        stop = min(n, start + 65536)
        block = rng.standard_normal((stop - start, d), dtype=np.float32)
        block += means[y[start:stop]]
        X[start:stop] = block
    X.flush()
    labelled = np.asarray(X[n - N_LABELLED :])
    y_labelled = y[n - N_LABELLED :]
    model = LogisticRegression(max_iter=300).fit(labelled, y_labelled)
    committee = []
    for _ in range(COMMITTEE):
        boot = rng.integers(0, N_LABELLED, N_LABELLED)
        committee.append(LogisticRegression(max_iter=300).fit(labelled[boot], y_labelled[boot]))
    del X
    os.replace(folder / "X.npy.part", folder / "X.npy")
    np.save(folder / "y_labelled.npy", y_labelled)
    with open(folder / "models.pkl.part", "wb") as f:
        pickle.dump({"model": model, "committee": committee}, f)
    os.replace(folder / "models.pkl.part", folder / "models.pkl")
    return folder


def load_data(folder: Path) -> SpeedData:
    with open(folder / "models.pkl", "rb") as f:
        models = pickle.load(f)  # noqa: S301 - our own cache
    return SpeedData(
        X=np.load(folder / "X.npy"),
        y_labelled=np.load(folder / "y_labelled.npy"),
        n_classes=N_CLASSES,
        model=models["model"],
        committee=models["committee"],
    )


# -- loopwise's calls ---------------------------------------------------------------------


def loopwise_call(method: str, data: SpeedData, batch: int, seed: int) -> Callable[[], Any]:
    """One loopwise selection with everything it requires inferred inside the call, as the loop would.

    Score-based methods stream: float32 chunked inference
    (:class:`~loopwise.loop.LinearSoftmax` over the same fitted model the
    peers use) feeds :func:`~loopwise.strategies.select_streaming`, so no
    more than a chunk of probabilities ever exists. Batch-aware methods get
    the pool's probabilities (float32, chunked) and the candidates'
    features, as ``Loop`` hands them over.
    """
    from loopwise.loop import LinearSoftmax
    from loopwise.strategies import COMMITTEE as COMMITTEE_INPUT
    from loopwise.strategies import (
        EMBEDDINGS,
        FEATURES,
        HISTORY,
        MC_SAMPLES,
        PROBA,
        StrategyInputs,
        is_row_local,
        make_strategy,
        select_streaming,
    )

    strategy = make_strategy(method)
    model = LinearSoftmax.from_estimator(data.model, data.n_classes)
    members = [LinearSoftmax.from_estimator(m, data.n_classes, n_threads=1) for m in data.committee]
    X, L = data.unlabelled, data.labelled
    candidates = data.unlabelled_positions
    requires = set(strategy.requires)
    history = speed_history(data.X, data.model, data.y_labelled) if HISTORY in requires else None  # untimed

    if is_row_local(strategy):
        if requires <= {PROBA}:
            return lambda: select_streaming(strategy, model.predict_proba_chunks(X), batch, np.random.default_rng(seed))
        # A committee (or its Monte-Carlo stand-in) of linear members, chunk by chunk.
        size = model.chunk_size

        def chunks() -> Iterable[StrategyInputs]:
            for start in range(0, X.shape[0], size):
                rows = X[start : start + size]
                stack = np.stack([m.predict_proba(rows) for m in members])
                yield StrategyInputs(candidates=np.arange(rows.shape[0]), committee=stack, mc_samples=stack)

        return lambda: select_streaming(strategy, chunks(), batch, np.random.default_rng(seed))

    def call() -> Any:
        fields: dict[str, Any] = {"candidates": candidates}
        if PROBA in requires:
            fields["proba"] = model.predict_proba(X)
        if FEATURES in requires or EMBEDDINGS in requires:
            fields["features"] = X
            fields["labelled_features"] = L
            fields["embeddings"] = X
            fields["labelled_embeddings"] = L
        if COMMITTEE_INPUT in requires or MC_SAMPLES in requires:
            stack = np.stack([m.predict_proba(X) for m in members])
            fields["committee"] = fields["mc_samples"] = stack
        if history is not None:
            fields["history"] = history
        return strategy.select(StrategyInputs(**fields), batch, np.random.default_rng(seed))

    return call


def build_call(case: SpeedCase, data: SpeedData, seed: int = SEED) -> Callable[[], Any]:
    if case.library == "loopwise":
        return loopwise_call(case.method, data, case.batch, seed)
    return PEERS[(case.library, case.method)](data, case.batch, seed)


# -- one configuration, inside its own process ----------------------------------------------


def _status_kib(field_name: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return -1


def _trim_heap() -> None:
    """Give the allocator's free memory back to the system, so it is not counted as held before a call."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak() -> bool:
    """Reset the process's peak resident set (``VmHWM``) to its current size; False where Linux does not allow it."""
    _trim_heap()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _small(data: SpeedData, rows: int) -> SpeedData:
    """A slice of the pool (same labelled rows) to warm imports and caches before timing."""
    unl = data.unlabelled[:rows]
    return SpeedData(np.concatenate([unl, data.labelled]), data.y_labelled, data.n_classes, data.model, data.committee)


def measure(case: SpeedCase, data: SpeedData, cap_s: float) -> dict[str, Any]:
    """Run one configuration in this process and return its measurements."""
    warm = _small(data, min(2000, data.n - data.n_labelled))
    build_call(SpeedCase(case.library, case.method, warm.n, case.d, min(case.batch, 20)), warm)()
    del warm
    call = build_call(case, data)
    gc.collect()
    times: list[float] = []
    peaks: list[float] = []
    started = time.perf_counter()
    exact_peak = True
    while True:
        exact_peak = _reset_peak() and exact_peak
        before = _status_kib("VmRSS")
        t0 = time.perf_counter()
        info = getattr(call(), "info", None) or {}
        times.append(time.perf_counter() - t0)
        peaks.append(max(0, _status_kib("VmHWM") - before) / 1024)
        spent = time.perf_counter() - started
        # Fast calls are repeated (best of up to 7); slow ones once, and never past the cap.
        wanted = 7 if times[0] < 0.5 else 3 if times[0] < 5 else 1
        if len(times) >= wanted or spent + times[-1] > 0.6 * cap_s:
            break
    return {
        "best_s": min(times),
        "median_s": float(np.median(times)),
        "repeats": len(times),
        "peak_extra_mib": max(peaks),
        "extra": {"peak_is_exact": exact_peak, "times_s": times, **({"arm": info["arm"]} if "arm" in info else {})},
    }


def _vm_kib(field_name: str) -> int:
    return _status_kib(field_name)


def _child(case: SpeedCase, data: SpeedData, cap_s: float, mem_cap_gib: float, conn: Any) -> None:
    """The forked process of one configuration: cap its memory, measure, send the result back."""
    if mem_cap_gib > 0:
        # The cap is on top of what the fork inherited (the pool, the imported libraries).
        cap = _vm_kib("VmSize") * 1024 + int(mem_cap_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        out: dict[str, Any] = {"status": "ok", **measure(case, data, cap_s)}
    except MemoryError:
        out = {"status": "oom", "detail": f"MemoryError above the {mem_cap_gib:g} GiB cap"}
    except Exception as exc:  # a peer's own failure is a result, not a crash of the bench
        msg = f"{type(exc).__name__}: {exc}".strip().splitlines()
        first = msg[0] if msg else type(exc).__name__
        out = {"status": "oom" if "Unable to allocate" in first else "error", "detail": first[:300]}
    conn.send(out)
    conn.close()


# -- the whole run ----------------------------------------------------------------------------

#: Modules every configuration would import; the parent imports them once and each fork inherits them.
PREIMPORT = {
    "loopwise": ("loopwise.strategies", "loopwise.loop", "sklearn.linear_model"),
    "modal": ("modAL.uncertainty", "modAL.batch", "modAL.models", "modAL.disagreement", "modAL.density", "modAL.utils.selection"),
    "small_text": ("small_text", "small_text.classifiers"),
    "skactiveml": ("skactiveml.pool", "skactiveml.classifier"),
}


def _preimport(libraries: Iterable[str]) -> None:
    import importlib

    for library in libraries:
        for module in PREIMPORT.get(library, ()):
            try:
                importlib.import_module(module)
            except ImportError:
                pass  # the configuration reports it


def run_case(case: SpeedCase, data: SpeedData, cap_s: float, mem_cap_gib: float) -> SpeedResult:
    """Run one configuration in a forked process (it inherits the pool and the imports), killed at ``cap_s``."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(case, data, cap_s, mem_cap_gib, send), daemon=True)
    note = NOTES.get((case.library, case.method), "")
    start = time.perf_counter()
    proc.start()
    send.close()
    try:
        if not receive.poll(cap_s):
            proc.kill()
            proc.join()
            return SpeedResult(**asdict(case), status="timeout", wall_s=cap_s, detail=f"over the {cap_s:g} s cap", note=note)
        out = receive.recv()
    except EOFError:
        proc.join()
        killed = proc.exitcode is not None and proc.exitcode < 0
        detail = f"the process died (exit {proc.exitcode})" + (": killed, most likely out of memory" if killed else "")
        return SpeedResult(**asdict(case), status="oom" if killed else "error", wall_s=time.perf_counter() - start, detail=detail, note=note)
    finally:
        receive.close()
    proc.join(10)
    if proc.is_alive():
        proc.kill()
    return SpeedResult(**asdict(case), wall_s=time.perf_counter() - start, note=note, **out)


def environment() -> dict[str, Any]:
    """The conditions of the run: machine, load, versions (the machine may be shared)."""
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str | None] = {}
    for dist in ("loopwise", "numpy", "scipy", "scikit-learn", "modAL-python", "small-text", "scikit-activeml"):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = None
    with open("/proc/loadavg") as f:
        load = [float(x) for x in f.read().split()[:3]]
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "versions": versions,
        "load_average": load,
        "time": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


def _skip_reason(case: SpeedCase, done: list[SpeedResult], cap_s: float) -> str | None:
    """Why a configuration need not run: the same method already failed on an easier one, or a peer would pass the cap.

    A configuration is easier when its pool, dimensions and batch are all at
    most the other's. For peers, a time ``t`` on an easier pool of ``m``
    rows projects to at least ``t * n / m`` (their selections touch every
    row at least once); loopwise always runs (its batch-aware methods work
    on capped subsamples, so their time is not linear in the pool).
    """
    same = [r for r in done if r.library == case.library and r.method == case.method]
    easier = [r for r in same if r.n <= case.n and r.d <= case.d and r.batch <= case.batch and r.key() != case.key()]
    for r in easier:
        if r.status not in ("ok", "skipped"):
            return f"{r.status} at n={r.n:,}, d={r.d}, batch={r.batch}"
        if r.status == "skipped" and r.n < case.n:
            return r.detail
    if case.library != "loopwise":
        timed = [r for r in easier if r.status == "ok" and r.best_s is not None and r.n < case.n]
        if timed:
            r = max(timed, key=lambda r: (r.n, r.d, r.batch))
            projected = (r.best_s or 0.0) * case.n / r.n
            if projected > cap_s:
                return f"projected over the cap: {r.best_s:.3g} s at n={r.n:,} gives >= {projected:.0f} s"
    return None


def run_speed(
    cases: list[SpeedCase],
    cache: Path,
    *,
    cap_s: float = 120.0,
    mem_cap_gib: float = 10.0,
    on_result: Callable[[SpeedResult, int, int], None] | None = None,
) -> tuple[list[SpeedResult], dict[str, Any]]:
    """Run every configuration, one process at a time; a configuration that failed at a smaller pool is skipped."""
    env = environment()
    started = time.time()
    _preimport({c.library for c in cases})
    gc.collect()
    gc.freeze()  # the imported libraries' objects: later collections (one per configuration) skip them
    results: list[SpeedResult] = []
    loaded: tuple[int, int] | None = None
    data: SpeedData | None = None
    for i, case in enumerate(cases):
        note = NOTES.get((case.library, case.method), "")
        reason = _skip_reason(case, results, cap_s)
        if reason is not None:
            result = SpeedResult(**asdict(case), status="skipped", detail=reason, note=note)
        else:
            if loaded != (case.n, case.d):
                data = None
                gc.collect()
                data = load_data(prepare_data(cache, case.n, case.d))
                loaded = (case.n, case.d)
            assert data is not None
            result = run_case(case, data, cap_s, mem_cap_gib)
        results.append(result)
        if on_result is not None:
            on_result(result, i + 1, len(cases))
    env["load_average_end"] = environment()["load_average"]
    env["duration_s"] = round(time.time() - started, 1)
    env["cap_s"] = cap_s
    env["mem_cap_gib"] = mem_cap_gib
    return results, env


__all__ = [
    "BASELINES",
    "BATCHES",
    "COMMITTEE",
    "DIMS",
    "FLOORS",
    "_cell",
    "_ratio_text",
    "LIBRARIES",
    "LIBRARY_NAMES",
    "N_CLASSES",
    "N_LABELLED",
    "SEED",
    "SIZES",
    "SpeedCase",
    "SpeedResult",
    "baseline_rows",
    "build_call",
    "environment",
    "floor_rows",
    "load_data",
    "load_results",
    "loopwise_methods",
    "measure",
    "plan",
    "prepare_data",
    "ratio_rows",
    "render_markdown",
    "run_case",
    "run_speed",
    "write_results",
]
