"""Rules of the MENTION stage: which parameters a call fills. Required ones always; an optional
one only when the sentence mentions it (by its name or one of its enum values, or by one of
these rules), as a value never stated is never invented (``fill.Filler``)."""

from __future__ import annotations

from typing import Any

from toolwire.strategies.staged.examples import (
    code_shape,
    example_of,
    named_codes,
    names_a_place,
    names_the_kind,
)
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


def example_named(reading: Reading, name: str, schema: dict[str, Any]) -> bool:
    """Whether the sentence names something of the kind the description's example shows
    ("42 US dollars" mentions from_currency, "e.g. USD")."""
    example = example_of(schema)
    return bool(example and (names_the_kind(reading, example) or named_codes(reading, example)
                             or names_a_place(reading, example)))


def code_example(schema: dict[str, Any]) -> str | None:
    """The description's example when it is a code ("e.g. USD"): the value is written as one."""
    example = example_of(schema)
    return example if code_shape(example) else None


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

DESCRIBED_EXAMPLES = Rule(
    name="described_examples",
    what="An optional parameter whose description gives an example ('the source currency, "
         "e.g. USD') counts as mentioned when a phrase of the sentence is close to it in "
         "meaning ('US dollars'; sentence embeddings, examples.EXAMPLE_SIMILARITY), names a "
         "code of the example's code system ('Canadian dollars': ISO 4217) or, for a place "
         "example ('e.g. Tokyo'), names a place the gazetteer knows ('New York'); a value "
         "whose example is a code is written as a code of that shape ('USD'), not in the "
         "user's words.",
    why="Descriptions say by example what a value looks like; the user's words rarely match "
        "it.",
    example="'convert 42 Canadian dollars' with convert(amount, currency 'e.g. USD'): "
            "currency 'CAD'.",
    stages=(Stage.MENTION, Stage.VALUE),
    mentions=example_named,
    code_example=code_example,
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

RULES = (DISTINCTIVE_MENTIONS, DESCRIBED_EXAMPLES, NUMERIC_OPTIONALS)
