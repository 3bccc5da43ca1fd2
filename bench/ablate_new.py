"""A new staged rule's worth on BFCL's whole tuning split, without a default run of it all.

    .venv/bin/python -m bench.ablate_new [--rules listed_values,cities_alone,initial_letters]

``bench/ablate.py`` measures every rule on a sample of the tuning split from one default run
(26 min on 2 cores). A rule added after that run is measured here instead: its *candidates*
are the tuning questions on which its own functions, asked of the sentence and the offered
tools before any model runs, give something (a list the sentence writes for an array
parameter, a city with its country beside a country parameter, a value's initial); every
candidate is answered with all rules on and with the rule off, scored by bfcl-eval's checker.
Other questions cannot move: the rule never acts on them. Printed per rule: candidates, those
it fired on in the real run, gained, lost, net.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from typing import Any

from bench.ablate import CATEGORIES, answer
from toolwire.config import get_settings
from toolwire.eval import bfcl
from toolwire.models import load_model
from toolwire.strategies import StagedRules
from toolwire.strategies.staged.priors import non_null
from toolwire.strategies.staged.rules.base import ValueAsk
from toolwire.strategies.staged.rules.value import (
    city_alone,
    listed_strings,
    listed_values,
    written_choices,
    written_initial,
)
from toolwire.text.reading import Reading, read
from toolwire.tools.registry import Tool


def _asks(reading: Reading, tool: Tool) -> list[ValueAsk]:
    props: dict[str, Any] = tool.parameters.get("properties", {})
    return [ValueAsk(reading=reading, tool=tool, name=name, schema=non_null(schema),
                     kind=non_null(schema).get("type"), bad=None, taken=set(),
                     params=list(props))
            for name, schema in props.items() if isinstance(schema, dict)]


def _lists(reading: Reading, tool: Tool) -> bool:
    return any(listed_values(ask) for ask in _asks(reading, tool))


def _strings(reading: Reading, tool: Tool) -> bool:
    return any(listed_strings(ask) for ask in _asks(reading, tool))


def _cities(reading: Reading, tool: Tool) -> bool:
    return any(city_alone(ask, json.dumps(p.text)) != json.dumps(p.text)
               for ask in _asks(reading, tool) for p in reading.places)


def _initials(reading: Reading, tool: Tool) -> bool:
    return any(written_initial(reading, ask.schema) for ask in _asks(reading, tool))


def _choices(reading: Reading, tool: Tool) -> bool:
    return any(written_choices(reading, ask.schema) for ask in _asks(reading, tool))


CANDIDATE: dict[str, Callable[[Reading, Tool], bool]] = {
    "listed_values": _lists,
    "listed_strings": _strings,
    "cities_alone": _cities,
    "initial_letters": _initials,
    "described_choices": _choices,
}
"""Per rule: whether its functions give anything for a sentence and an offered tool."""


async def main(rules: list[str]) -> dict[str, dict[str, int]]:
    model = load_model(get_settings().model)
    out: dict[str, dict[str, int]] = {}
    for category in CATEGORIES:
        for case in bfcl.load_cases(category, split="tune"):
            question, _history = bfcl.split_question(case.messages)
            reading, tools = read(question), list(bfcl.build_registry(case.functions))
            for name in rules:
                if not any(CANDIDATE[name](reading, tool) for tool in tools):
                    continue
                on = await answer(case, model, StagedRules())
                off = await answer(case, model, StagedRules().off(name))
                row = out.setdefault(name, dict.fromkeys(
                    ("candidates", "fired", "gained", "lost"), 0))
                row["candidates"] += 1
                row["fired"] += name in on.fired
                row["gained"] += on.valid and not off.valid
                row["lost"] += off.valid and not on.valid
    for name, row in out.items():
        print(f"{name}: candidates {row['candidates']}, fired {row['fired']}, gained "
              f"{row['gained']}, lost {row['lost']}, net {row['gained'] - row['lost']:+d}")
    print(json.dumps({"bench": "ablate_new", "rules": out}))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", default=",".join(CANDIDATE),
                        help="comma-separated rules, of " + ", ".join(CANDIDATE))
    args = parser.parse_args()
    asyncio.run(main([r for r in args.rules.split(",") if r]))
