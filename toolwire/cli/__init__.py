"""The ``toolwire`` command line.

    toolwire run "I want to exchange 42 US dollars to Canadian dollars"
    toolwire run --json "convert 1000 JPY to GBP"
    toolwire tools list
    toolwire tools search "currency"
    toolwire rules list                 # the staged strategy's rules; rules explain NAME
    toolwire tools import-openapi https://api.example.com/openapi.json
    toolwire tools import-mcp -- python -m some_mcp_server
    toolwire mcp serve --http 8811     # the registry over MCP
    toolwire serve                      # the REST API (see toolwire.api)
    toolwire db upgrade                 # apply database migrations
    toolwire doctor                     # what works here and what to fix, one line each
    toolwire eval bfcl --limit 10       # accuracy on the Berkeley Function Calling Leaderboard
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from toolwire.run import (
    AnswerDelta,
    Answered,
    CallProposed,
    CallResult,
    Event,
    Executed,
    Retrieved,
    Run,
    Selected,
    ValidationFailed,
)

app = typer.Typer(
    help="toolwire: sentences in, validated function calls out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
tools_app = typer.Typer(help="Inspect the tool registry.", no_args_is_help=True)
app.add_typer(tools_app, name="tools")
rules_app = typer.Typer(help="The staged strategy's rules (heuristics).", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

err = Console(stderr=True)
out = Console()

ModelOption = Annotated[
    str | None,
    typer.Option("--model", "-m", help="Model string, e.g. local:smollm2-135m, openai:gpt-4o-mini"),
]


def package_version() -> str:
    """The installed package's version (``pyproject.toml``'s ``version``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("toolwire")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"toolwire {package_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print toolwire's version and exit.")] = False,
) -> None:
    """toolwire: sentences in, validated function calls out."""


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def _engine(model: str | None) -> Any:
    from toolwire.cli.sources import service_tools
    from toolwire.engine import Engine
    from toolwire.models import ModelSpecError, load_model
    from toolwire.models.base import ModelError

    try:
        instance = load_model(model) if model else None
        engine = Engine(service_tools(), model=instance)
        loaded = engine.model
        with err.status(f"Loading {loaded.name}..."):
            loaded.load()
    except (ModelSpecError, ModelError, ImportError) as e:
        raise _fail(str(e)) from e
    return engine


@app.command()
def run(
    prompt: Annotated[str, typer.Argument(help="What you want done, in plain words.")],
    model: ModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
    approve: Annotated[bool, typer.Option(
        "--approve", help="Run tools that need approval (open_app, non-GET HTTP tools): you "
        "approve them by asking.")] = False,
) -> None:
    """Turn one sentence into function calls, run them and describe the result.

    Example: toolwire run "what is 17 * 23 + 4"
    """
    if not prompt.strip():
        raise _fail("the prompt is empty")
    from toolwire.models.base import ModelError

    engine = _engine(model)
    live = None if as_json else _LiveRun()
    try:
        result: Run = asyncio.run(engine.pipeline(approve=approve).run(prompt, on_event=live))
    except ModelError as e:
        if live is not None:
            live.end_line()
        raise _fail(str(e), 1) from e
    if as_json:
        payload = {
            "calls": [
                {k: c.to_dict()[k]
                 for k in ("name", "arguments", "status", "result", "error", "snippet")}
                for c in result.calls
            ],
            "answer": result.answer,
        }
        if result.missing:
            payload["missing"] = result.missing
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


class _LiveRun:
    """Shows a run as it happens: the steps on stderr; each executed call with its result, then
    the answer's text as it is generated, on stdout. When the model's streamed sentence is not
    kept (``toolwire.answer.describe``), the answer that replaces it follows, once."""

    def __init__(self) -> None:
        self.streamed = ""

    def __call__(self, event: Event) -> None:
        if isinstance(event, Executed):
            _print_call(event.call)
        elif isinstance(event, AnswerDelta):
            self.streamed += event.text
            out.print(event.text, end="", markup=False, highlight=False, soft_wrap=True)
        elif isinstance(event, Answered):
            self._finish(event.run.answer)
        else:
            _show_step(event)

    def _finish(self, answer: str) -> None:
        self.end_line()
        if self.streamed.split() == answer.split():
            return
        if self.streamed:
            err.print("[dim](the model's sentence was not kept; the answer:)[/dim]")
        out.print(answer, markup=False, highlight=False, soft_wrap=True)

    def end_line(self) -> None:
        """Ends a streamed line, so what follows starts on its own."""
        if self.streamed and not self.streamed.endswith("\n"):
            out.print()


def _show_step(event: Event) -> None:
    """A step before the calls run, on stderr (stdout keeps the calls and the answer)."""
    if isinstance(event, Retrieved):
        shown = ", ".join(f"{name} ({score:.2f})" for name, score in event.candidates)
        err.print(f"[dim]retrieved {shown or 'no tool'}[/dim]")
    elif isinstance(event, Selected):
        err.print(f"[dim]selected {', '.join(event.names) or 'no call'}[/dim]")
    elif isinstance(event, CallProposed):
        err.print(f"[dim]attempt {event.attempt}: {event.name}({json.dumps(event.arguments)})[/dim]")
    elif isinstance(event, ValidationFailed):
        err.print(f"[dim]invalid: {'; '.join(event.errors)}[/dim]")


def _print_call(call: CallResult) -> None:
    args = ", ".join(f"{k}={v!r}" for k, v in call.arguments.items())
    out.print(f"[bold cyan]call[/bold cyan] {call.name}({args})")
    if call.status == "ok":
        out.print(f"[green]result[/green] {json.dumps(call.result, default=str)}")
    elif call.status == "pending_approval":
        out.print("[yellow]needs approval[/yellow] not run: add --approve to run it")
    else:
        out.print(f"[red]{call.status}[/red] {(call.error or {}).get('message', '')}")


@tools_app.command("list")
def tools_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the registered tools."""
    from toolwire.cli.sources import service_tools

    registry = service_tools()
    if as_json:
        rows = [{"name": t.name, "description": t.description, "parameters": t.parameters,
                 "source": t.source} for t in registry]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    for t in registry:
        out.print(f"[bold]{t.name}[/bold]  [dim]{t.source}[/dim]  {t.description}")


@tools_app.command("search")
def tools_search(
    query: Annotated[str, typer.Argument(help="Words describing what the tool should do.")],
    k: Annotated[int, typer.Option("-k", min=1, max=100)] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Find the tools most relevant to a query (keyword + embedding search)."""
    from toolwire.cli.sources import service_tools

    hits = service_tools().search(query, k)
    if as_json:
        rows = [{"name": h.tool.name, "score": round(h.score, 4)} for h in hits]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    for h in hits:
        out.print(f"{h.score:6.3f}  [bold]{h.tool.name}[/bold]  {h.tool.description}")


@rules_app.command("list")
def rules_list() -> None:
    """List the staged strategy's rules: name, the stages it acts in, what it does."""
    from toolwire.strategies.staged.rules import RULES

    for r in RULES:
        out.print(f"[bold]{r.name}[/bold]  [dim]{','.join(r.stages)}[/dim]  {r.what}",
                  highlight=False)


@rules_app.command("explain")
def rules_explain(name: Annotated[str, typer.Argument(help="A rule's name.")]) -> None:
    """A rule's what, why, example and the functions it acts with."""
    from toolwire.strategies.staged.rules import BY_NAME

    if name not in BY_NAME:
        raise _fail(f"no rule {name!r}; `toolwire rules list` names them")
    sys.stdout.write(BY_NAME[name].explain() + "\n")


def _mount_subcommands() -> None:
    """The service's and the evaluation's commands (their modules import lazily)."""
    from toolwire.cli import sources
    from toolwire.cli.admin import approvals_app, keys_app
    from toolwire.cli.doctor import doctor
    from toolwire.cli.serve import db_app, serve
    from toolwire.eval.commands import eval_app
    from toolwire.worker.commands import worker

    app.command()(serve)
    app.command()(worker)
    app.command()(doctor)
    tools_app.command("import-openapi")(sources.import_openapi)
    tools_app.command("import-mcp")(sources.import_mcp)
    tools_app.command("sources")(sources.sources)
    app.add_typer(sources.mcp_app, name="mcp")
    app.add_typer(db_app, name="db")
    app.add_typer(keys_app, name="keys")
    app.add_typer(approvals_app, name="approvals")
    app.add_typer(eval_app, name="eval")


_mount_subcommands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
