"""Rules of the SPLIT stage: how many calls the sentence asks for, and which part of it fills
each (``strategy.py``'s ``propose`` and ``_calls_for``)."""

from __future__ import annotations

from toolwire.strategies.staged.rules.base import Rule, Stage

FUNCTION_SEGMENTS = Rule(
    name="function_segments",
    what="Clauses that name different functions ('the GCD of ... and the LCM of ...') are cut "
         "into segments, each filled as its own calls.",
    why="One fill over the whole sentence gives both functions' numbers to one call.",
    example="'find the GCD of 12 and 18 and the LCM of 4 and 6': gcd(12, 18), lcm(4, 6).",
    stages=(Stage.SPLIT,),
    decides=("toolwire.strategies.staged.segments:tool_segments",),
)

NUMBER_SEGMENTS = Rule(
    name="number_segments",
    what="A sentence that writes the function's numbers once per call ('a base of 12 and a "
         "height of 15 ... a base of 18 and a height of 24') is cut into one segment per call.",
    why="Each call's numbers stand together; one fill would take the first of each.",
    example="'add 1 and 2, and also add 3 and 4': add(1, 2), add(3, 4).",
    stages=(Stage.SPLIT,),
    decides=("toolwire.strategies.staged.segments:number_sets",),
)

LISTED_ITEMS = Rule(
    name="listed_items",
    what="A sentence that lists items, one call each ('Also, ...', 'The first triangle ... "
         "The second triangle ...', 'between A and B, and between C and D', 'Persian Empire "
         "and Mauryan Empire', \"named 'A' in X, and 'B' in Y\", 'an Italian restaurant ... "
         "and a Japanese sushi restaurant'), is filled once per item from the words around the "
         "items and that item's own (a list the sentence counts, 'two datasets, d1 and d2', "
         "gives each item its own value); marked parts that ask for different functions go each to its own "
         "(items.py). A parameter that takes an array takes a list whole.",
    why="BFCL's parallel questions list the items a call each; one fill takes the first.",
    example="'the history of the Persian Empire and the Mauryan Empire': two calls.",
    stages=(Stage.SPLIT,),
    decides=("toolwire.strategies.staged.items:listed_calls",
             "toolwire.strategies.staged.values:value_calls"),
)

RULES = (FUNCTION_SEGMENTS, NUMBER_SEGMENTS, LISTED_ITEMS)
