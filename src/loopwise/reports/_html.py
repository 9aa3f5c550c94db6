"""The self-contained HTML report: one file with embedded figures, tables and a confusion-matrix viewer."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from string import Template
from typing import Any

from loopwise.core.tasks import metric_titles
from loopwise.reports._choices import choices_section
from loopwise.reports._costs import break_even, break_even_sentence, ledger_totals
from loopwise.reports._json import jsonable
from loopwise.reports._results import RunResult, check_results
from loopwise.reports._summary import TARGETS, summarise
from loopwise.reports._table import summary_headers, summary_rows

# Nothing is fetched: no external CSS, JS, fonts or images, so the file can be mailed or archived.
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0 auto;
  max-width:1180px;padding:0 20px 40px}
h1{font-size:22px;margin:22px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;
  padding-bottom:3px}
.meta{color:#555;margin:0 0 6px}.meta b{color:#222}nav a{margin-right:12px;color:#2c6fb6}
table.data{border-collapse:collapse;font-size:13px}
table.data th,table.data td{border-bottom:1px solid #e3e3e3;padding:4px 10px;text-align:right;white-space:nowrap}
table.data th:first-child,table.data td:first-child{text-align:left}
table.data th{background:#f5f5f5}
table.choices td{white-space:normal;text-align:left}tr.losing td{background:#fbe3e3}#active-losing{color:#a11}
.note{color:#666;font-size:12px;max-width:900px}
img.fig{max-width:100%;height:auto;display:block;margin:6px 0}
.controls{display:flex;gap:18px;align-items:center;flex-wrap:wrap;margin:6px 0 10px}
#cm-loop{width:260px}#cm-info{color:#444;font-variant-numeric:tabular-nums}
.cm-wrap{overflow-x:auto}
table.cm{border-collapse:collapse;font-size:10px;font-variant-numeric:tabular-nums}
table.cm td{width:26px;min-width:26px;height:20px;text-align:center;border:1px solid #eee;padding:0 2px}
table.cm th{font-weight:normal;color:#333;padding:2px 4px;max-width:160px;overflow:hidden;
  text-overflow:ellipsis;white-space:nowrap}
table.cm th.row{text-align:right}
table.cm th.col{writing-mode:vertical-rl;transform:rotate(180deg);max-height:120px;text-align:left}
table.cm td.dark{color:#fff}
table.cm th.corner{color:#888;font-size:10px;vertical-align:bottom;text-align:right}
"""

# Builds the same table as ``_confusion_table`` below; names go in through textContent, never innerHTML.
_JS = """
(function () {
  var data = JSON.parse(document.getElementById("cm-data").textContent);
  var runSelect = document.getElementById("cm-run"), slider = document.getElementById("cm-loop");
  var info = document.getElementById("cm-info"), holder = document.getElementById("cm-table");
  function cell(row, tag, text, cls, title) {
    var c = document.createElement(tag); c.textContent = text;
    if (cls) c.className = cls; if (title) c.title = title; row.appendChild(c); return c;
  }
  function fmt(v) { return v === null ? "\\u2013" : v.toFixed(3); }
  function draw() {
    var run = data.runs[runSelect.value], p = run.loops[slider.value], names = data.label_names;
    info.textContent = "loop " + p.loop + " \\u00b7 " + p.labels + " labels \\u00b7 accuracy " +
      fmt(p.accuracy) + " \\u00b7 macro-F1 " + fmt(p.macro_f1);
    var table = document.createElement("table"); table.className = "cm";
    var head = document.createElement("tr"); table.appendChild(head);
    cell(head, "th", "true \\u2193 / predicted \\u2192", "corner");
    names.forEach(function (n) { cell(head, "th", n, "col", n); });
    p.cm.forEach(function (counts, i) {
      var tr = document.createElement("tr"); table.appendChild(tr);
      var total = counts.reduce(function (a, b) { return a + b; }, 0);
      cell(tr, "th", names[i], "row", names[i]);
      counts.forEach(function (n, j) {
        var f = total ? n / total : 0;
        var td = cell(tr, "td", n, f > 0.6 ? "dark" : "",
          "true " + names[i] + " \\u2192 predicted " + names[j] + ": " + n + " (" + Math.round(100 * f) + "% of row)");
        td.style.background = "rgba(" + (i === j ? "44,123,182," : "215,48,39,") + f.toFixed(3) + ")";
      });
    });
    holder.replaceChildren(table);
  }
  runSelect.addEventListener("change", function () {
    slider.max = data.runs[runSelect.value].loops.length - 1; slider.value = slider.max; draw();
  });
  slider.addEventListener("input", draw);
  draw();
})();
"""

_PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>$css</style>
</head>
<body>
<header>
<h1>$title</h1>
<p class="meta">dataset <b>$dataset</b> · task <b>$task</b> · <b>$n_runs</b> runs · strategies <b>$strategies</b> · seeds <b>$seeds</b></p>
<nav><a href="#summary">summary</a><a href="#curves">learning curves</a><a href="#per-class">per-class F1</a>
<a href="#confusion">confusion matrices</a><a href="#time">time per loop</a><a href="#cost">cost</a></nav>
</header>

<section id="summary">
<h2>Summary</h2>
$summary_table
<p class="note">AULC: area under the $score curve divided by the labels range (the mean $score over the
labelling budget), mean ± sample standard deviation over seeds. Labels to $targets: the first number of labelled
records at which a run's $score reaches that share of the $score of the same model trained on the whole
pool, averaged over the seeds that reached it (how many did, in brackets, when not all). Saving vs random: the
share of labels saved against the <code>random</code> strategy, shown only when every seed of both reached the
target.</p>
<details><summary>Runs ($n_runs)</summary>
$runs_table
</details>
</section>

<section id="curves">
<h2>Learning curves</h2>
<img class="fig" alt="$score and its second figure against labelled records, per strategy" src="data:image/png;base64,$curves_png">
<p class="note">Lines: mean over seeds; bands: ±1 standard deviation with 3 or more seeds, min–max with 2, none
with 1. Seeds with different labels grids are interpolated within each run's own range.</p>
</section>
$choices
<section id="per-class">
<h2>Per-class F1</h2>
<img class="fig" alt="F1 of each class against labelled records, per strategy" src="data:image/png;base64,$per_class_png">
<p class="note">One panel per class; one line per strategy, the mean over its seeds.</p>
</section>

<section id="confusion">
<h2>Confusion matrices</h2>
<div class="controls">
<label>run <select id="cm-run">$run_options</select></label>
<label>loop <input type="range" id="cm-loop" min="0" max="$loop_max" value="$loop_max" step="1"></label>
<span id="cm-info">$initial_info</span>
</div>
<div class="cm-wrap" id="cm-table">$initial_table</div>
<p class="note">Rows: true class; columns: predicted class. Shading: the cell's share of its row (blue on the
diagonal, red off it).</p>
</section>

<section id="time">
<h2>Time per loop</h2>
<img class="fig" alt="seconds per loop by step, per strategy" src="data:image/png;base64,$timings_png">
</section>

<section id="cost">
<h2>Cost</h2>
<ul id="break-even">$break_even</ul>
$ledger_table
<img class="fig" alt="accuracy against total money spent, and CPU seconds against labels bought" src="data:image/png;base64,$cost_png">
<p class="note">One line per run. Compute is process CPU seconds of TRAIN, INFER and SELECT (measured, not wall
time), priced per CPU hour at the run's compute rate; the dashed line is 95% of full-pool accuracy.</p>
</section>

<script type="application/json" id="cm-data">$cm_data</script>
<script>$js</script>
</body>
</html>
""")


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "–" if value is None else format(value, spec)


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _runs_table(summary: dict[str, Any], results: Sequence[RunResult]) -> str:
    score = metric_titles(results[0].task)[0]
    headers = ["run", "strategy", "seed", "loops", "labels", "AULC", f"final {score}",
               *(f"labels to {key}%" for key in TARGETS), f"full-pool {score}"]
    rows = []
    for entry, run in zip(summary["runs"], results):
        rows.append([
            entry["run_id"], entry["strategy"], str(entry["seed"]), str(len(run.loops)),
            f"{run.loops[-1].n_labelled:,}", _fmt(entry["aulc"]), _fmt(entry["final_accuracy"]),
            *("never" if entry[f"labels_to_{key}"] is None else f"{entry[f'labels_to_{key}']:,}" for key in TARGETS),
            _fmt(entry["full_pool_accuracy"]),
        ])
    return _html_table(headers, rows)


def _cost_parts(results: Sequence[RunResult]) -> tuple[str, str]:
    """The break-even lines (one <li> per strategy) and the per-run ledger totals table."""
    lines = "".join(f"<li>{escape(break_even_sentence(name, entry))}</li>" for name, entry in break_even(results).items())
    headers = ["run", "strategy", "labels", "label cost", "annotator time", "CPU s train", "CPU s infer", "CPU s select",
               "GPU s", "compute cost", "total cost"]
    rows = []
    for run in results:
        t = ledger_totals(run)
        step = t["cpu_seconds_by_step"]
        people = "–" if t["annotator_seconds"] is None else _duration(t["annotator_seconds"])
        rows.append([run.run_id, run.strategy, f"{t['labels']:,}", f"{t['label_cost']:,.2f}", people,
                     f"{step['train']:.3f}", f"{step['infer']:.3f}", f"{step['select']:.3f}",
                     "–" if t["gpu_seconds"] is None else f"{t['gpu_seconds']:.3f}",
                     f"{t['compute_cost']:,.4f}", f"{t['total_cost']:,.2f}"])
    return lines, _html_table(headers, rows)


def _duration(seconds: float) -> str:
    """Annotator time as people read it: 42 s, 12.5 min, 3.2 h."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def _confusion_table(names: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    """The no-JavaScript rendering of one matrix; the inline script redraws it the same way."""
    parts = ['<table class="cm"><tr><th class="corner">true ↓ / predicted →</th>']
    parts += [f'<th class="col" title="{escape(n)}">{escape(n)}</th>' for n in names]
    parts.append("</tr>")
    for i, counts in enumerate(matrix):
        total = sum(counts)
        parts.append(f'<tr><th class="row" title="{escape(names[i])}">{escape(names[i])}</th>')
        for j, n in enumerate(counts):
            f = n / total if total else 0.0
            rgb = "44,123,182" if i == j else "215,48,39"
            title = escape(f"true {names[i]} → predicted {names[j]}: {n} ({round(100 * f)}% of row)")
            dark = ' class="dark"' if f > 0.6 else ""
            parts.append(f'<td{dark} title="{title}" style="background:rgba({rgb},{f:.3f})">{n}</td>')
        parts.append("</tr>")
    parts.append("</table>")
    return "".join(parts)


def _script_json(data: Any) -> str:
    # Inside <script>, "</script>" or "<!--" in a label name would end the block: escape <, > and &.
    text = json.dumps(jsonable(data), separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _matrices(results: Sequence[RunResult]) -> dict[str, Any]:
    return {
        "label_names": list(results[0].label_names),
        "runs": [
            {
                "run_id": run.run_id,
                "loops": [
                    {"loop": p.loop_index, "labels": p.n_labelled, "accuracy": p.accuracy,
                     "macro_f1": p.macro_f1, "cm": p.confusion_matrix}
                    for p in run.loops
                ],
            }
            for run in results
        ],
    }


def render_html(results: Sequence[RunResult], title: str | None = None) -> str:
    """The whole report as one HTML string; see ``write_html_report``."""
    # Here, not at the top: matplotlib takes seconds to import, and most users of loopwise.reports draw nothing.
    from loopwise.reports._plots import cost_png, learning_curves_png, per_class_f1_png, timings_png

    results = check_results(results)
    summary = summarise(results)
    dataset = summary["dataset"]
    first = results[0]
    last = first.loops[-1]
    score, second = metric_titles(first.task)
    info = (f"loop {last.loop_index} · {last.n_labelled} labels · {score} {_fmt(jsonable(last.accuracy))}"
            f" · {second} {_fmt(jsonable(last.macro_f1))}")
    options = "".join(
        f'<option value="{i}">{escape(f"{run.run_id} ({run.strategy}, seed {run.seed})")}</option>'
        for i, run in enumerate(results)
    )
    break_even_lines, ledger_table = _cost_parts(results)
    return _PAGE.substitute(
        break_even=break_even_lines,
        ledger_table=ledger_table,
        title=escape(title if title is not None else f"loopwise report: {dataset}"),
        css=_CSS,
        dataset=escape(dataset),
        n_runs=len(results),
        strategies=escape(", ".join(summary["strategies"])),
        seeds=escape(", ".join(str(s) for s in sorted({run.seed for run in results}))),
        targets=" / ".join(f"{key}%" for key in TARGETS),
        summary_table=_html_table(summary_headers(summary), summary_rows(summary)),
        score=escape(score),
        task=escape(first.task),
        runs_table=_runs_table(summary, results),
        curves_png=_b64(learning_curves_png(results)),
        choices=choices_section(results),
        per_class_png=_b64(per_class_f1_png(results)),
        timings_png=_b64(timings_png(results)),
        cost_png=_b64(cost_png(results)),
        run_options=options,
        loop_max=len(first.loops) - 1,
        initial_info=escape(info),
        initial_table=_confusion_table(first.label_names, last.confusion_matrix),
        cm_data=_script_json(_matrices(results)),
        js=_JS,
    )


def write_html_report(results: Sequence[RunResult], path: str | Path, title: str | None = None) -> None:
    """Write one self-contained HTML file: summary table, learning, per-class, time and cost
    figures as embedded PNGs, and per-loop confusion matrices chosen by run and loop.

    Every name from the data (dataset, strategies, runs, labels) is HTML-escaped.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(results, title), encoding="utf-8")
