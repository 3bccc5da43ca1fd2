"""What the tuning scripts (``tune_relevance.py``, ``tune_selection.py``) share: the command
line that collects questions or loads saved ones, saves them, and writes the fitted model."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

Q = TypeVar("Q")


def arguments(parser: argparse.ArgumentParser, shipped: Path) -> None:
    """``--save``, ``--load`` and ``--fit`` (the fitted model written to ``shipped``)."""
    parser.add_argument("--save", type=Path, help="keep the collected questions (JSON lines)")
    parser.add_argument("--load", type=Path, help="use questions collected before")
    parser.add_argument("--fit", action="store_true", help=f"write the model to {shipped}")


def questions(args: argparse.Namespace, kind: Callable[..., Q],
              collect: Callable[[], Sequence[Q]]) -> list[Q]:
    """The questions saved in ``--load``, else those ``collect`` gathers."""
    if args.load:
        lines = args.load.read_text().splitlines()
        return [kind(**json.loads(line)) for line in lines if line]
    return list(collect())


def save(path: Path | None, questions: Sequence[Any]) -> None:
    """Keep ``questions`` (dataclasses) in ``path`` as JSON lines, if given."""
    if path:
        path.write_text("".join(json.dumps(asdict(q)) + "\n" for q in questions))
