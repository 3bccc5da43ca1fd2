"""Rules of the SETTLE stage: a call the sentence settles by itself, before the gate and the
selection (``strategy.py``'s ``StagedStrategy.settled`` and ``choose``)."""

from __future__ import annotations

import json

from toolwire.strategies.staged.rules.base import Rule, Stage, ValueAsk
from toolwire.strategies.staged.settled import pair_values, phrase_for, unwritten_amount


def conversion_side(ask: ValueAsk) -> list[str]:
    """The values a source (target) parameter takes from the conversion's source (target)
    phrase ("how many kilometers is 42 miles": miles is the source), by the tool's own name
    resolution ("yen" is JPY); none for other parameters or sentences."""
    phrase = phrase_for(ask.name, ask.reading.conversion)
    if phrase is None:  # the amount, when written as "a" ("how many cups in a liter")
        return [json.dumps(v) for v in unwritten_amount(ask.reading, ask.tool, ask.name)]
    side = ask.reading.part(phrase.start, phrase.end)
    given = [json.dumps(v) for v in pair_values(ask.tool, ask.name, side)]
    return [g for g in given if g != ask.bad]


ARITHMETIC = Rule(
    name="arithmetic",
    what="A sentence that asks for a sum ('what is twelve times seven', 'divide 144 by 12', "
         "'15% of 80') goes to a candidate that evaluates expressions (a required string "
         "parameter named like 'expression', a tool that speaks of arithmetic), with the "
         "expression written from the sentence's own numbers and operators, past the "
         "relevance gate.",
    why="A 135M model guesses sums and a calculator computes them.",
    example="'what is twelve times seven' with calculate(expression): expression '12 * 7'.",
    stages=(Stage.SETTLE,),
    decides=("toolwire.strategies.staged.settled:arithmetic_call",),
)

FOLLOWUPS = Rule(
    name="followups",
    what="An elliptical follow-up ('and in London?', 'what about 100 of them?', 'and how "
         "much is that in euros?') reuses the previous call's tool and the arguments it does "
         "not replace; 'that'/'them' stand for the previous result and 'there' for its place "
         "(followup.py).",
    why="Alone, such a sentence names no tool, and the model restated the earlier result as "
        "a new one.",
    example="'and in London?' after get_weather(city='Paris'): get_weather(city='London').",
    stages=(Stage.SETTLE,),
    decides=("toolwire.strategies.staged.followup:followup_call",
             "toolwire.strategies.staged.followup:with_previous_result",
             "toolwire.strategies.staged.followup:with_previous_place"),
)

CONVERSION_PAIRS = Rule(
    name="conversion_pairs",
    what="In 'how many X is N Y', 'N Y in X', 'change N Y into X', 'from Y to X' and 'T in "
         "P1 ... in P2', Y (P1) is the source and X (P2) the target: a candidate whose "
         "source/target pair takes both phrases is chosen, past the gate, and each side takes "
         "the value its phrase names by the tool's own name resolution ('yen' is JPY).",
    why="The model and word order alone ran conversions backwards ('how many kilometers is "
        "42 miles').",
    example="'how many kilometers is 42 miles' with convert(value, from_unit, to_unit): "
            "from_unit mile, to_unit kilometer.",
    stages=(Stage.SETTLE, Stage.VALUE),
    decides=("toolwire.strategies.staged.settled:converter",),
    offer=conversion_side,
)

RULES = (ARITHMETIC, FOLLOWUPS, CONVERSION_PAIRS)
