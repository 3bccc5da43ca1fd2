"""Rules of the MENTION stage: which parameters a call fills. Required ones always; an optional
one only when the sentence mentions it (by its name or one of its enum values, or by one of
these rules), as a value never stated is never invented (``fill.Filler``)."""

from __future__ import annotations

from typing import Any

from toolwire.strategies.staged.matching import is_numeric
from toolwire.strategies.staged.rules.base import Rule, Stage
from toolwire.text import lexicon
from toolwire.text.reading import Reading
from toolwire.text.words import split_identifier, stem


def distinctive_words(reading: Reading, name: str, schema: dict[str, Any]) -> bool:
    """Whether the sentence writes a distinctive word (5+ letters, not a common parameter
    word) of the parameter's name ("make it private" mentions private_visibility)."""
    distinctive = {stem(w) for w in split_identifier(name)
                   if len(w) >= 5 and w not in lexicon.COMMON_PARAM_WORDS}
    return bool(distinctive & reading.stem_set)


def with_numeric_optionals(
    reading: Reading, props: dict[str, Any], chosen: list[str]
) -> list[str]:
    """``chosen`` plus optional numeric parameters while the sentence writes more numbers than
    the chosen ones take ("find *ten* events" fills an optional ``count``), in schema order."""
    spare = len(reading.numbers) - sum(is_numeric(props[p]) for p in chosen)
    extra = set()
    for name, schema in props.items():
        if spare <= 0:
            break
        if name not in chosen and isinstance(schema, dict) and is_numeric(schema):
            extra.add(name)
            spare -= 1
    return [p for p in props if p in chosen or p in extra]


DISTINCTIVE_MENTIONS = Rule(
    name="distinctive_mentions",
    what="An optional parameter counts as mentioned when the sentence writes a distinctive "
         "word of its name.",
    why="People name a setting by its key word, not the parameter's whole name.",
    example="'create a repo named demo and make it private' fills private_visibility.",
    stages=(Stage.MENTION,),
    mentions=distinctive_words,
)

NUMERIC_OPTIONALS = Rule(
    name="numeric_optionals",
    what="Optional numeric parameters take the numbers no required parameter used.",
    why="A number the user wrote is meant for something; an optional number is the only "
        "place left for it.",
    example="'find ten events in Paris' with find_events(city, count=5): count 10.",
    stages=(Stage.MENTION,),
    params=with_numeric_optionals,
)

RULES = (DISTINCTIVE_MENTIONS, NUMERIC_OPTIONALS)
