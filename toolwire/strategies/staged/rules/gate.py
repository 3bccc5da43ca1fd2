"""Rules of the GATE stage: whether the sentence wants a call at all (``strategy.py``'s
``StagedStrategy.gate``)."""

from __future__ import annotations

from typing import Any

from toolwire.strategies.staged.matching import enum_labels, name_share
from toolwire.strategies.staged.priors import non_null
from toolwire.strategies.staged.rules.base import Rule, Stage
from toolwire.strategies.staged.rules.value import written_initial
from toolwire.text import lexicon
from toolwire.text.reading import Reading
from toolwire.text.words import split_identifier, stem
from toolwire.tools.registry import Tool

RELEVANCE_GATE = Rule(
    name="relevance_gate",
    what="No call when no candidate's retrieval relevance reaches the threshold (a lower one "
         "for a tool the sentence names).",
    why="A 135M model's own call/no-call signal is weak.",
    example="'tell me a joke about penguins' with get_weather: no call.",
    stages=(Stage.GATE,),
    decides=("toolwire.strategies.staged.strategy:StagedStrategy.verdict",),
)

CALIBRATED_RELEVANCE = Rule(
    name="calibrated_relevance",
    what="The gate's decision comes from a logistic model over the evidence (retrieval, "
         "embedding and literal scores, feasibility, the sentence's length and numbers; "
         "relevance.py), fitted on BFCL's tuning split, rather than from two hand-set "
         "thresholds on the fused score; the thresholds still decide where the embedding "
         "scores are missing (keyword-only retrieval).",
    why="No single score separates 'wants a call' from 'talks near a tool'.",
    example="'what is the capital of France' near get_weather(city): the model turns it away.",
    stages=(Stage.GATE,),
    decides=("toolwire.strategies.staged.strategy:StagedStrategy.calibrated",),
)



def unnamed_choice(reading: Reading, tool: Tool) -> bool:
    """Whether nothing in the sentence points at ``tool`` nor says what to pass it: every
    required parameter is a closed choice (an enum of strings in the sentence's alphabet), the
    sentence names none of their values (by value, label, one of their longer words, or a
    value's initial) and none of the tool's name words."""
    props: dict[str, Any] = tool.parameters.get("properties", {})
    required = [non_null(props.get(name, {})) for name in tool.parameters.get("required", [])]
    if not required or not all(_closed(schema) for schema in required):
        return False
    if name_share(reading, tool) > 0.0:
        return False
    return not any(_named(reading, schema) for schema in required)


def _closed(schema: dict[str, Any]) -> bool:
    """An enum of strings a sentence in Latin letters can name (not "거실")."""
    values: list[Any] = schema.get("enum") or []
    return bool(values) and all(isinstance(v, str) and v.isascii() for v in values)


def _named(reading: Reading, schema: dict[str, Any]) -> bool:
    """Whether the sentence names a value of the enum ``schema``: whole, by a whole label, by
    one of the value's longer words ("the turing project" for "turing-machine"), or by its
    initial."""
    labels = [label for labels in enum_labels(schema).values() for label in labels]
    if any(reading.mentions(label) for label in labels):
        return True
    longer = {stem(w) for value in schema["enum"] for w in split_identifier(value)
              if len(w) > 3 and w.lower() not in lexicon.STOP_WORDS}
    return bool(longer & reading.stem_set) or written_initial(reading, schema) is not None


CLOSED_CHOICES = Rule(
    name="closed_choices",
    what="No call of a tool whose required parameters are all closed choices (enums of "
         "strings) when the sentence names none of their values (by value, label, word or "
         "initial) nor any word of the tool's name.",
    why="Such a call can only guess its value: 'text sarah that im running late' is no "
        "open_app(app_name) call, whichever app the model would pick.",
    example="'text sarah that im running late' with open_app(app_name: enum [browser, "
            "calculator, ...]): no call.",
    stages=(Stage.GATE,),
    decides=("toolwire.strategies.staged.rules.gate:unnamed_choice",),
)

RULES = (RELEVANCE_GATE, CALIBRATED_RELEVANCE, CLOSED_CHOICES)
