"""The staged strategy's heuristics, each one named rule that ``EngineConfig.rules`` can turn off.

    EngineConfig(rules=StagedRules(quoted_passages=False))

Every rule says what it does and why; ``bench/ablate.py`` measures what each is worth (the
points it adds per category on BFCL's tuning split, default run vs the same run with that rule
off) and docs/accuracy.md publishes the table. A new heuristic is a new field here,
off-switchable, with its measured worth.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(kw_only=True, frozen=True)
class StagedRules:
    relevance_gate: bool = True
    """No call when no candidate's retrieval relevance reaches the threshold (a lower one for a
    tool the sentence names). Why: a 135M model's own call/no-call signal is weak."""
    calibrated_relevance: bool = True
    """The gate's decision comes from a logistic model over the evidence (retrieval, embedding
    and literal scores, feasibility, the sentence's length and numbers; ``relevance.py``),
    fitted on BFCL's tuning split, rather than from two hand-set thresholds on the fused score.
    Why: no single score separates "wants a call" from "talks near a tool"; the thresholds
    still decide where the embedding scores are missing (keyword-only retrieval), as the
    model reads their level."""
    literal_selection: bool = True
    """Selection weighs a literal match: the tool's name words, or one of its enum values,
    written in the sentence. Why: names are the strongest evidence a small model can miss."""
    feasibility: bool = True
    """Selection penalises a tool whose required numbers the sentence cannot supply. Why: of two
    similar tools, the one the sentence can fill is the one meant."""
    function_segments: bool = True
    """Clauses that name different functions ("the GCD of … and the LCM of …") are cut into
    segments, each filled as its own calls."""
    number_segments: bool = True
    """A sentence that writes the function's numbers once per call ("a base of 12 and a height
    of 15 … a base of 18 and a height of 24") is cut into one segment per call."""
    listed_items: bool = True
    """A sentence that lists items, one call each ("Also, ...", "The first triangle ... The
    second triangle ...", "between A and B, and between C and D", "Persian Empire and Mauryan
    Empire"), is filled once per item from the words around the items and that item's own;
    marked parts that ask for different functions go each to its own (``items.py``). A
    parameter that takes an array takes a list whole."""
    more_calls: bool = True
    """Later clauses bringing values of their own ("Paris and London") become extra calls of
    the same function."""
    number_priors: bool = True
    """A number goes to the parameter whose words stand right before (or after) it, else in
    written order. Why: the model alone swaps numbers of similar parameters."""
    written_moments: bool = True
    """Dates and times are rewritten to the pattern the parameter describes ("April 25th 2023"
    → 2023-04-25); such a moment also counts as mentioning an optional parameter."""
    quoted_passages: bool = True
    """A passage the user quoted is offered beside the span, leaning to the parameter named
    next to it. Why: quotes mark values."""
    direction_walls: bool = True
    """Source/target parameters (from_x/to_x) take values on their side of "from"/"to", and
    their spans never cross those words; the target never repeats the source's enum value when
    others remain ("5 miles to km" is not mile to mile)."""
    numeric_optionals: bool = True
    """Optional numeric parameters take the numbers no required parameter used."""
    distinctive_mentions: bool = True
    """An optional parameter counts as mentioned when the sentence writes a distinctive word of
    its name ("make it private" → private_visibility)."""
    described_examples: bool = True
    """An optional parameter whose description gives an example ("the source currency, e.g.
    USD") counts as mentioned when a phrase of the sentence is close to it in meaning ("US
    dollars"; sentence embeddings, ``examples.EXAMPLE_SIMILARITY``), names a code of the
    example's code system ("Canadian dollars": ISO 4217) or, for a place example ("e.g.
    Tokyo"), names a place the gazetteer knows ("New York"); a value whose example is a code is
    written as a code of that shape ("USD"), not in the user's words."""

    arithmetic: bool = True
    """A sentence that asks for a sum ("what is twelve times seven", "divide 144 by 12",
    "15% of 80") goes to a candidate that evaluates expressions (a required string parameter
    named like ``expression``, a tool that speaks of arithmetic), with the expression written
    from the sentence's own numbers and operators, past the relevance gate. Why: a 135M model
    guesses sums and a calculator computes them."""
    conversion_pairs: bool = True
    """In "how many X is N Y", "N Y in X", "change N Y into X", "from Y to X" and "T in P1 …
    in P2", Y (P1) is the source and X (P2) the target: a candidate whose source/target pair
    takes both phrases is chosen, past the gate, and each side takes the value its phrase
    names by the tool's own name resolution ("yen" is JPY). Why: the model and word order
    alone ran conversions backwards ("how many kilometers is 42 miles")."""
    whole_places: bool = True
    """A parameter named for a place or time zone (city, location, timezone) takes a place the
    sentence names, whole ("Los Angeles", never "Los"; "paris" after "in"), and such a place
    counts as mentioning it. Why: spans cut names short and an unmentioned optional time zone
    silently became UTC."""
    followups: bool = True
    """An elliptical follow-up ("and in London?", "what about 100 of them?", "and how much is
    that in euros?") reuses the previous call's tool and the arguments it does not replace;
    "that"/"them" stand for the previous result (``followup.py``). Why: alone, such a sentence
    names no tool, and the model restated the earlier result as a new one."""

    @classmethod
    def names(cls) -> list[str]:
        """Every rule's name, in the order above."""
        return [f.name for f in fields(cls)]

    @classmethod
    def explain(cls, name: str) -> str:
        """A rule's docstring (its what and why)."""
        import inspect

        source = inspect.getsource(cls)
        marker = f"    {name}: bool = True\n"
        if marker not in source:
            raise KeyError(name)
        doc = source.split(marker, 1)[1].split('"""')[1]
        return " ".join(doc.split())
