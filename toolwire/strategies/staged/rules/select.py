"""Rules of the SELECT stage: features of each candidate that the fitted selection model reads
(``choice.candidate_evidence``). A rule's features take their ``neutral`` values when it is
off; a new feature has weight 0 until ``bench/tune_selection.py --fit`` fits it."""

from __future__ import annotations

from collections.abc import Mapping

from toolwire.strategies.staged.matching import (
    feasible,
    lexical_match,
    moments_feasible,
    name_share,
)
from toolwire.strategies.staged.rules.base import Rule, Stage
from toolwire.text.reading import Reading
from toolwire.tools.registry import Tool


def literal_features(reading: Reading, tool: Tool) -> Mapping[str, float]:
    """``name_share``: the share of the tool's name words the sentence writes; ``enum_named``:
    1 when it names one of the tool's enum values."""
    share = name_share(reading, tool)
    return {"name_share": share,
            "enum_named": float(lexical_match(reading, tool) - share >= 1.0)}


def feasibility_features(reading: Reading, tool: Tool) -> Mapping[str, float]:
    """``feasible``: 1 when the sentence writes enough numbers for the tool's required numeric
    parameters; ``moments_feasible``: the same for its required dates and times."""
    return {"feasible": float(feasible(reading, tool)),
            "moments_feasible": float(moments_feasible(reading, tool))}


LITERAL_SELECTION = Rule(
    name="literal_selection",
    what="Selection weighs a literal match: the tool's name words, or one of its enum values, "
         "written in the sentence.",
    why="Names are the strongest evidence a small model can miss.",
    example="'open the calculator' with launch(app: enum [calculator, notes]) beside "
            "other tools: launch.",
    stages=(Stage.SELECT,),
    features=literal_features,
    neutral={"name_share": 0.0, "enum_named": 0.0},
)

FEASIBILITY = Rule(
    name="feasibility",
    what="Selection penalises a tool whose required numbers (dates, times) the sentence "
         "cannot supply.",
    why="Of two similar tools, the one the sentence can fill is the one meant.",
    example="'is it hot in Tokyo, in fahrenheit' is not convert_temperature(value, ...).",
    stages=(Stage.SELECT,),
    features=feasibility_features,
    neutral={"feasible": 1.0, "moments_feasible": 1.0},
)

RULES = (LITERAL_SELECTION, FEASIBILITY)
