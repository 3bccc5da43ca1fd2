"""The BFCL HTML report: one self-contained file (inline CSS and SVG, no script, no CDN).

It shows BFCL's own summary figures (weighted as bfcl-eval weights them), then, per category,
toolwire's accuracy next to the baseline strategy and the published anchors, then the checker's
error types. A run of the tuning split also lists its failing questions with expected vs got; a
run that takes report-split questions shows figures only (:attr:`Benchmark.lists_questions`):
those questions are for publishing figures, never for study.
"""

from __future__ import annotations

import json
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

from toolwire.eval.bfcl import Benchmark, coverage, describe_overall, overall, staleness
from toolwire.eval.results import CaseResult

#: Published BFCL v3 accuracies (percent) for comparison. Hammer2.1-1.5b's published live
#: figure (70.6) is not among them: BFCL v3's live figure also counted live irrelevance and
#: relevance, so it does not compare with the pinned bfcl-eval's.
ANCHORS: dict[str, list[tuple[str, float]]] = {
    "simple_python": [
        ("Qwen2.5-0.5B-Instruct", 58.25),
        ("FunctionGemma-270M", 61.6),
        ("Hammer2.1-0.5b", 68.0),
        ("Hammer2.1-1.5b", 74.7),
    ],
    "multiple": [
        ("Qwen2.5-0.5B-Instruct", 68.0),
        ("Hammer2.1-0.5b", 83.0),
        ("Hammer2.1-1.5b", 92.0),
    ],
    "irrelevance": [
        ("Qwen2.5-0.5B-Instruct", 16.4),
        ("Hammer2.1-0.5b", 73.9),
        ("Hammer2.1-1.5b", 79.3),
    ],
}

_MAX_FAILURES = 25
_TEXT_CHARS = 400
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#f4f4f4}td.num{text-align:right}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{border:1px solid #eee;padding:6px}
pre{white-space:pre-wrap;word-break:break-word;margin:0;font-size:12px;max-width:420px}
.muted{color:#777}
"""
_COLORS = {"main": "#2b6cb0", "baseline": "#a0aec0", "anchor": "#dd8a3e"}


def write_report(path: Path, bench: Benchmark) -> Path:
    """Render ``bench`` and write it to ``path`` (folders created); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(bench), encoding="utf-8")
    return path


def render_report(bench: Benchmark) -> str:
    """The whole report as one HTML string."""
    main = bench.main
    sections = [
        f"<h1>BFCL accuracy — {escape(bench.model)}</h1>",
        _summary_line(bench),
        "<h2>BFCL's summary figures</h2>",
        _figures_table(bench),
        "<h2>Accuracy by category</h2>",
        _score_table(bench),
        "<p class=muted><i>gated</i>: questions the relevance gate turned away (no call tried); "
        "<i>lost to gate</i>: those that needed a call and were answered right when asked again "
        "without the gate, in points of the category.</p>",
        _charts(bench),
        "<h2>Error types</h2>",
        "<p class=muted>As named by bfcl-eval's checker (main strategy).</p>",
        _error_table(bench),
        "<h2>Failing questions</h2>",
        _failures(main.results) if bench.lists_questions else _NO_QUESTIONS,
    ]
    body = "\n".join(sections)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>toolwire BFCL — {escape(bench.model)}</title><style>{_CSS}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )


def _summary_line(bench: Benchmark) -> str:
    sample = f"a seeded sample of {bench.limit} per category" if bench.limit else "all questions"
    total = overall(bench.main.scores, bench.totals)
    answered = total["n"] if total["n"] >= total["selected"] else (
        f"{total['n']} of {total['selected']}"
    )
    parts = [
        f"strategy <b>{escape(bench.main.strategy)}</b>",
        f"{sample} of the {escape(bench.split)} split (seed {bench.seed})",
        f"{answered} questions",
    ]
    if bench.shard is not None:
        parts.insert(2, f"shard {bench.shard}")
    if bench.baseline is not None:
        parts.append(f"baseline <b>{escape(bench.baseline.strategy)}</b>")
    runs = [bench.main] + ([bench.baseline] if bench.baseline is not None else [])
    notes = [note for run in runs if (note := staleness(run, answered=bench.answered))]
    provenance = [f"engine {escape(bench.fingerprints.get(bench.main.strategy, '?'))}"]
    if bench.commit:
        provenance.append(f"toolwire {escape(bench.commit)}")
    if not bench.answered:
        provenance.append("figures of stored results (nothing answered)")
    lines = describe_overall(total)
    return (
        "<p>" + " · ".join(parts) + "</p>"
        + f"<p>{escape(lines[0])}</p>"
        + "".join(f"<p class=muted>{escape(line)}</p>" for line in lines[1:] + notes)
        + "<p class=muted>" + " · ".join(provenance) + "</p>"
    )


#: BFCL's summary figures shown in the report, by key of ``overall()["bfcl"]``.
_FIGURE_LABELS: tuple[tuple[str, str], ...] = (
    ("overall", "overall (10% non-live, 10% live, 10% irrelevance, 30% multi-turn, 40% agentic)"),
    ("non_live", "non-live (mean of simple, multiple, parallel, parallel multiple)"),
    ("live", "live (the four live AST categories, weighted by size)"),
    ("irrelevance", "irrelevance (mean of irrelevance and live irrelevance)"),
)


def _figures_table(bench: Benchmark) -> str:
    """BFCL's summary figures of the main strategy (and the baseline), as bfcl-eval weights them."""
    runs = [bench.main] + ([bench.baseline] if bench.baseline is not None else [])
    figures = [overall(run.scores, bench.totals)["bfcl"] for run in runs]
    head = "<tr><th>figure</th>" + "".join(f"<th>{escape(r.strategy)}</th>" for r in runs)
    rows = [head + "<th>not scored (counted 0)</th></tr>"]
    for key, label in _FIGURE_LABELS:
        cells = "".join(f"<td class=num>{100 * f[key]['accuracy']:.1f}%</td>" for f in figures)
        missing = ", ".join(figures[0][key]["not_scored"]) or "—"
        rows.append(f"<tr><td>{escape(label)}</td>{cells}<td>{escape(missing)}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def _score_table(bench: Benchmark) -> str:
    head = ["category", "n", "accuracy", "p50 ms", "gated", "lost to gate"]
    if bench.baseline is not None:
        head += ["baseline", "baseline p50 ms", "Δ points", "ratio"]
    rows = ["<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for name, score in bench.main.scores.items():
        cells = [escape(name), coverage(score), f"{100 * score.accuracy:.1f}%",
                 f"{score.p50_ms:.0f}", str(score.gated),
                 f"{score.lost_to_gate_points:.1f} pts" if score.n else "—"]
        base = bench.baseline.scores.get(name) if bench.baseline else None
        if base is not None:
            ratio = f"{score.accuracy / base.accuracy:.2f}×" if base.accuracy else "—"
            cells += [
                f"{100 * base.accuracy:.1f}%",
                f"{base.p50_ms:.0f}",
                f"{100 * (score.accuracy - base.accuracy):+.1f}",
                ratio,
            ]
        rows.append("<tr>" + "".join(_cell(c, i) for i, c in enumerate(cells)) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _cell(text: str, index: int) -> str:
    return f"<td>{text}</td>" if index == 0 else f"<td class=num>{text}</td>"


def _charts(bench: Benchmark) -> str:
    charts = [
        bar_chart(name, _bars(bench, name, 100 * score.accuracy))
        for name, score in bench.main.scores.items()
    ]
    if any(name.startswith("live_") for name in bench.main.scores):
        live = overall(bench.main.scores, bench.totals)["bfcl"]["live"]["accuracy"]
        charts.append(bar_chart("live (BFCL's figure)", _bars(bench, "live", 100 * live)))
    return "<div class=charts>" + "".join(charts) + "</div>"


def _bars(bench: Benchmark, name: str, accuracy: float) -> list[tuple[str, float, str]]:
    bars = [(f"toolwire ({bench.main.strategy})", accuracy, "main")]
    if bench.baseline is not None:
        if name == "live":
            base = overall(bench.baseline.scores, bench.totals)["bfcl"]["live"]["accuracy"]
        else:
            score = bench.baseline.scores.get(name)
            base = score.accuracy if score else None
        if base is not None:
            bars.append((f"toolwire ({bench.baseline.strategy})", 100 * base, "baseline"))
    bars += [(label, value, "anchor") for label, value in ANCHORS.get(name, [])]
    return bars


def bar_chart(title: str, bars: list[tuple[str, float, str]]) -> str:
    """A horizontal bar chart (0-100%) as inline SVG; ``bars`` are (label, percent, kind)."""
    label_w, plot_w, row_h, top = 170, 220, 22, 26
    height = top + row_h * len(bars) + 8
    parts = [
        f'<svg class=chart xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 50}" '
        f'height="{height}" role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="16" font-weight="bold" font-size="13">{escape(title)}</text>',
    ]
    for i, (label, value, kind) in enumerate(bars):
        y = top + i * row_h
        width = max(0.0, min(100.0, value)) / 100 * plot_w
        shown = f"{value:g}" if kind == "anchor" else f"{value:.1f}"  # anchors as published
        parts += [
            f'<text x="4" y="{y + 14}" font-size="11">{escape(label)}</text>',
            f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row_h - 8}" '
            f'fill="{_COLORS[kind]}"><title>{escape(label)}: {shown}%</title></rect>',
            f'<text x="{label_w + width + 4:.1f}" y="{y + 14}" font-size="11">{shown}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)


def _error_table(bench: Benchmark) -> str:
    """Counts of the checker's error types per category (main strategy): figures only."""
    scores = bench.main.scores
    counts: dict[str, Counter[str]] = {}
    for category, score in scores.items():
        for error_type, count in score.error_types.items():
            counts.setdefault(error_type, Counter())[category] += count
    if not counts:
        return "<p>No errors.</p>"
    head = "<tr><th>error type</th>" + "".join(f"<th>{escape(c)}</th>" for c in scores)
    rows = [head + "<th>total</th></tr>"]
    for error_type, per in sorted(counts.items(), key=lambda kv: -sum(kv[1].values())):
        cells = "".join(f"<td class=num>{per.get(c, 0) or ''}</td>" for c in scores)
        total = sum(per.values())
        rows.append(f"<tr><td>{escape(error_type)}</td>{cells}<td class=num>{total}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


_NO_QUESTIONS = (
    "<p class=muted>Listed for runs of the tuning split only (<code>--split tune</code>). "
    "This run takes report-split questions, whose figures are published: they are shown as "
    "figures, never as questions to study.</p>"
)


def _failures(results: list[CaseResult]) -> str:
    by_category: dict[str, list[CaseResult]] = {}
    for r in results:
        if not r.valid:
            by_category.setdefault(r.category, []).append(r)
    if not by_category:
        return "<p>None.</p>"
    parts = []
    for category, failed in by_category.items():
        shown = failed[:_MAX_FAILURES]
        more = f" (first {len(shown)} of {len(failed)})" if len(failed) > len(shown) else ""
        parts.append(f"<h3>{escape(category)}{more}</h3>")
        parts.append(
            "<table><tr><th>id</th><th>question</th><th>expected</th><th>got</th>"
            "<th>error</th></tr>" + "".join(_failure_row(r) for r in shown) + "</table>"
        )
    return "".join(parts)


def _failure_row(r: CaseResult) -> str:
    expected = "no call" if r.expected is None else _json(r.expected)
    got = _json(r.got) if r.got else "no call"
    detail = _short(_json(r.errors[0])) if r.errors else ""
    return (
        f"<tr><td>{escape(r.id)}</td><td><pre>{escape(_short(r.prompt))}</pre></td>"
        f"<td><pre>{escape(_short(expected))}</pre></td><td><pre>{escape(_short(got))}</pre></td>"
        f"<td><b>{escape(r.error_type or '')}</b><pre>{escape(detail)}</pre></td></tr>"
    )


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)


def _short(text: str) -> str:
    return text if len(text) <= _TEXT_CHARS else text[: _TEXT_CHARS - 1] + "…"
