"""Rules of the VALUE stage: which value a parameter takes, as options offered to the model
(a place whole, a date in the wanted pattern, a quoted passage) or as priors on its choice
among the numbers and enum values the sentence names (``fill.Filler``), or as the form a chosen
value is sent in ("Chicago" -> "Chicago, IL" where the description asks for "City, State";
``Filler.formed``, asked by the strategy of each finished call)."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from toolwire.strategies.staged.priors import (
    direction_prior,
    non_null,
    number_prior,
    quote_prior,
    role_of,
    written_moments,
)
from toolwire.strategies.staged.rules.base import Rule, Stage, ValueAsk
from toolwire.strategies.staged.settled import wants_place
from toolwire.text import lexicon
from toolwire.text.lists import written_lists
from toolwire.text.mentions import NumberMention
from toolwire.text.places import Place, fold, gazetteer
from toolwire.text.reading import Reading
from toolwire.text.words import split_identifier, stem


def names_a_place(reading: Reading, name: str, schema: dict[str, Any]) -> bool:
    """A place parameter (city, location, timezone) is mentioned by any place named."""
    return wants_place(name, non_null(schema)) and bool(reading.places)


def whole_place(ask: ValueAsk) -> list[str]:
    """The places the sentence names, whole, for a place parameter: first those no earlier
    parameter took; none written inside another ("India" of "Hyderabad, India", the place
    being the city in its country)."""
    if not wants_place(ask.name, ask.schema):
        return []
    found = ask.reading.places
    places = [json.dumps(p.text) for p in found if not any(
        q.start <= p.start and p.end <= q.end and q.end - q.start > p.end - p.start
        for q in found)]
    return ([p for p in places if p not in ask.taken and p != ask.bad]
            or [p for p in places if p != ask.bad])


_STATE_FORM = re.compile(r"\bcity,? (?:and )?state\b|\b[A-Z][a-z]+(?: [A-Z][a-z]+)*, ([A-Z]{2})\b",
                         re.IGNORECASE)
"""What a description asking for a US city with its state says: "City, State", "the city and
state", or an example such as 'Berkeley, CA' (two capitals after a capitalised name)."""


def asks_state(schema: dict[str, Any]) -> bool:
    """Whether a string parameter's description asks for a city with its US state ("in the
    format of 'City, State', such as 'Berkeley, CA'")."""
    if non_null(schema).get("type") != "string" or "enum" in schema:
        return False
    for found in _STATE_FORM.finditer(str(schema.get("description", ""))):
        code = found.group(1)
        if code is None or (code.isupper() and code.casefold() in gazetteer().region_zones):
            return True
    return False


def with_state(written: str) -> str:
    """A place as the user wrote it, with its US state's code after it when it is a US city
    ("Chicago" -> "Chicago, IL"; "LA" -> "Los Angeles, CA"); any other place as written."""
    head, comma, tail = written.partition(",")
    place = _us_city(fold(head), fold(tail) if comma else "")
    if place is None:
        return written
    folded = fold(head)
    name = head.strip() if fold(place.name).startswith(folded) or folded in gazetteer().cities \
        else place.name
    return f"{name}, {place.region}"


def _us_city(key: str, within: str) -> Place | None:
    """The most populous place called ``key`` (its own name, else another name of a large
    city), when it is a US city (in state or country ``within`` when given)."""
    place = gazetteer().city(key, within=within) or (
        None if within else gazetteer().aliases.get(key))
    return place if place is not None and place.country == "US" else None


def names_a_stated_city(reading: Reading, name: str, schema: dict[str, Any]) -> bool:
    """A parameter asking for "City, State" is mentioned by a US city named."""
    return asks_state(schema) and any(with_state(p.text) != p.text for p in reading.places)


def stated_city(ask: ValueAsk, literal: str) -> str:
    """The string chosen for a parameter asking for "City, State" (a place whole, a side of
    "from X to Y", a span), with its state when it is a US city."""
    value = json.loads(literal)
    if not isinstance(value, str) or not asks_state(ask.schema):
        return literal
    return json.dumps(with_state(value))


def moments_written(reading: Reading, name: str, schema: dict[str, Any]) -> bool:
    """A date or time parameter is mentioned by a date or time written."""
    return bool(written_moments(reading, name, schema))


def moment_values(ask: ValueAsk) -> list[str]:
    """The dates or times written, in the pattern a string date/time parameter wants."""
    if ask.kind != "string":
        return []
    literals = [json.dumps(d) for d in written_moments(ask.reading, ask.name, ask.schema)]
    return [x for x in literals if x != ask.bad] or literals


def quoted(ask: ValueAsk) -> dict[str, float]:
    """The passages the user quoted that no earlier parameter took, each with its prior (the
    one beside the parameter's own words leans to it)."""
    quotes = [q for q in ask.reading.quotes
              if json.dumps(q.text) not in ask.taken and json.dumps(q.text) != ask.bad]
    return quote_prior(ask.reading, quotes, ask.name, ask.params) if quotes else {}


def direction_walls(name: str) -> frozenset[str]:
    """"from"/"to" words, which a source or target parameter's span may not cross."""
    return frozenset(lexicon.DIRECTION_WORDS) if role_of(name) else frozenset()


def is_paired(name: str) -> bool:
    """A source or target parameter (from_x, to_x, origin, destination)."""
    return role_of(name) is not None


WHOLE_PLACES = Rule(
    name="whole_places",
    what="A parameter named for a place or time zone (city, location, timezone) takes a place "
         "the sentence names, whole ('Los Angeles', never 'Los'; 'paris' after 'in'), and "
         "such a place counts as mentioning it; a tool wanting only places passes the gate "
         "when the sentence names one and shares another word with it.",
    why="Spans cut names short and an unmentioned optional time zone silently became UTC.",
    example="'what time is it in Los Angeles' with get_time(timezone='UTC'): timezone "
            "'Los Angeles'.",
    stages=(Stage.GATE, Stage.MENTION, Stage.VALUE),
    decides=("toolwire.strategies.staged.settled:place_feasible",),
    mentions=names_a_place,
    offer=whole_place,
)

WRITTEN_MOMENTS = Rule(
    name="written_moments",
    what="Dates and times are rewritten to the pattern the parameter describes ('April 25th "
         "2023' -> 2023-04-25); such a moment also counts as mentioning an optional "
         "parameter.",
    why="A span of the user's words is not the format the function parses.",
    example="'book it for April 25th 2023' with book(date 'YYYY-MM-DD'): date '2023-04-25'.",
    stages=(Stage.MENTION, Stage.VALUE),
    mentions=moments_written,
    offer=moment_values,
)

NUMBER_PRIORS = Rule(
    name="number_priors",
    what="A number goes to the parameter whose words stand right before (or after) it, else "
         "in written order.",
    why="The model alone swaps numbers of similar parameters.",
    example="'a height of 15 and a base of 12' with area(base, height): base 12, height 15.",
    stages=(Stage.VALUE,),
    number_prior=number_prior,
)

QUOTED_PASSAGES = Rule(
    name="quoted_passages",
    what="A passage the user quoted is offered beside the span, leaning to the parameter "
         "named next to it.",
    why="Quotes mark values.",
    example="\"find the instrument 'Violin' from 'Stradivarius' maker\": instrument Violin, "
            "maker Stradivarius.",
    stages=(Stage.VALUE,),
    passages=quoted,
)

DIRECTION_WALLS = Rule(
    name="direction_walls",
    what="Source/target parameters (from_x/to_x) take values on their side of 'from'/'to', "
         "and their spans never cross those words; the target never repeats the source's enum "
         "value when others remain.",
    why="'5 miles to km' is not mile to mile, and 'from Paris to Rome' is not Paris to Paris.",
    example="'convert 5 miles to km' with convert(from_unit, to_unit: enum): mile, km.",
    stages=(Stage.VALUE,),
    enum_prior=direction_prior,
    walls=direction_walls,
    pairs=is_paired,
)

STATED_CITIES = Rule(
    name="stated_cities",
    what="A string parameter whose description asks for a city with its US state ('City, "
         "State', 'e.g. Berkeley, CA') takes a US city the sentence names with its state's "
         "code after it, from the gazetteer ('Chicago' -> 'Chicago, IL', 'LA' -> 'Los "
         "Angeles, CA'); such a city counts as mentioning it. Other places stay as written.",
    why="The user names the city; the function's description asks for the city and its "
        "state, which no span of the sentence holds.",
    example="'find a salon in Alameda' with find_salon(city 'City, State, e.g. New York, NY'): "
            "city 'Alameda, CA'.",
    stages=(Stage.MENTION, Stage.VALUE),
    mentions=names_a_stated_city,
    form=stated_city,
)


def written_initial(reading: Reading, schema: dict[str, Any]) -> str | None:
    """The enum value the sentence writes by its initial alone ("the temperature in Chicago in
    F", "25 °C"): a lone capital letter, not a one-letter word ("I", "A") nor a sentence's
    first word, that begins exactly one of the parameter's (longer) string values, none of
    which is written whole."""
    values = [v for v in schema.get("enum", []) if isinstance(v, str) and len(v) > 1]
    if not values or any(reading.mentions(v) for v in values):
        return None
    for _, letter in lone_capitals(reading):
        starting = [v for v in values if v[0].upper() == letter]
        if len(starting) == 1:
            return starting[0]
    return None


def lone_capitals(reading: Reading) -> list[tuple[int, str]]:
    """The words that are a capital letter alone (after a degree sign: "°C"), each with its
    index among the sentence's words: not a one-letter word ("I", "A") nor a sentence's first
    word, which are capitals for another reason."""
    found = []
    for i, word in enumerate(reading.spans):
        letter = word.text.lstrip("°º")
        if (len(letter) == 1 and letter.isupper()
                and letter.lower() not in lexicon.ONE_LETTER_WORDS
                and not reading.opens_sentence(word.start)):
            found.append((i, letter))
    return found


def initial_named(reading: Reading, name: str, schema: dict[str, Any]) -> bool:
    """An enum parameter is mentioned by its value's initial ("in F" mentions the unit)."""
    return written_initial(reading, non_null(schema)) is not None


def initial_value(ask: ValueAsk) -> list[str]:
    """The value whose initial the sentence writes, for an enum parameter."""
    value = written_initial(ask.reading, ask.schema)
    return [] if value is None or json.dumps(value) == ask.bad else [json.dumps(value)]


INITIAL_LETTERS = Rule(
    name="initial_letters",
    what="An enum value written as its initial alone, a lone capital letter that begins "
         "exactly one of the values ('in F', '°C'), mentions the parameter and is its value.",
    why="People abbreviate units and other closed choices to a letter; the model reads a "
        "lone letter as nothing, and the default takes its place.",
    example="'temp in chicago in F' with get_weather(city, unit: enum [celsius, fahrenheit] "
            "= celsius): unit fahrenheit.",
    stages=(Stage.MENTION, Stage.VALUE),
    mentions=initial_named,
    offer=initial_value,
)


def city_alone(ask: ValueAsk, literal: str) -> str:
    """A city's value without the country or US state written after it ("Sydney, Australia"
    -> "Sydney") when the tool takes the country or state in a parameter of its own."""
    others = {w for p in ask.params if p != ask.name for w in split_identifier(p)}
    if not (set(split_identifier(ask.name)) & lexicon.CITY_PARAMS
            and others & lexicon.REGION_PARAMS):
        return literal
    value = json.loads(literal)
    if not isinstance(value, str):
        return literal
    head, comma, tail = value.rpartition(",")
    if comma and head.strip() and gazetteer().is_region(tail):
        return json.dumps(head.strip())
    return literal


CITIES_ALONE = Rule(
    name="cities_alone",
    what="A city parameter beside a country or state parameter takes the city alone: the "
         "country or US state written after a comma is the other parameter's.",
    why="The span or place the filler takes is the sentence's whole 'Sydney, Australia', "
        "which such a tool does not look up as a city.",
    example="'what is the current time in Sydney, Australia?' with get_current_time(city, "
            "country): city 'Sydney', country 'Australia'.",
    stages=(Stage.VALUE,),
    form=city_alone,
)


_LIST_JOIN = re.compile(r"\s*(?:,\s*(?:and\s+)?|and\s+|&\s*)", re.IGNORECASE)
"""What stands between two items of a written list: a comma, "and", ", and", "&"."""


def number_lists(reading: Reading) -> list[list[NumberMention]]:
    """The runs of two numbers or more the sentence lists ("85, 90, 88 and 92"), in order."""
    runs: list[list[NumberMention]] = []
    for number in reading.numbers:
        last = runs[-1][-1] if runs else None
        if last is not None and _LIST_JOIN.fullmatch(
                reading.text[last.start + len(last.text):number.start]):
            runs[-1].append(number)
        else:
            runs.append([number])
    return [run for run in runs if len(run) > 1]


def listed_values(ask: ValueAsk) -> list[str]:
    """An array parameter's list as the sentence writes it: of numbers, the first list of
    numbers no earlier parameter took; of closed choices, the values named, in the sentence's
    order."""
    items = non_null(ask.schema.get("items") or {})
    if ask.kind != "array":
        return []
    if items.get("type") in ("number", "integer"):
        integer = items["type"] == "integer"
        for run in number_lists(ask.reading):
            if integer and not all(n.is_integer for n in run):
                continue
            literal = json.dumps([json.loads(n.literal(integer)) for n in run])
            if literal not in ask.taken and literal != ask.bad:
                return [literal]
        return []
    values = items.get("enum") or []
    if not values or not all(isinstance(v, str) for v in values):
        return []
    named = sorted((at, v) for v in values if (at := _named_at(ask.reading, v)) is not None)
    literal = json.dumps([v for _, v in named])
    return [literal] if named and literal != ask.bad else []


def _named_at(reading: Reading, value: str) -> int | None:
    """Where the sentence names an enum value: a one-letter value as that capital letter alone
    (:func:`lone_capitals`), a longer one as a phrase."""
    if len(value) > 1:
        return reading.position(value)
    return next((i for i, letter in lone_capitals(reading) if letter == value.upper()), None)


LISTED_VALUES = Rule(
    name="listed_values",
    what="An array parameter takes the list the sentence writes: of numbers, a run of numbers "
         "joined by commas or 'and' (the first no earlier parameter took); of closed "
         "choices, the values named, in order.",
    why="Asked for a whole list, the model writes numbers or values of its own, or runs out "
        "of room, and the call is lost.",
    example="'a histogram of the scores 85, 90, 88 and 92 with 5 bins' with "
            "create_histogram(data: array of integers, bins): data [85, 90, 88, 92].",
    stages=(Stage.VALUE,),
    offer=listed_values,
)


def listed_strings(ask: ValueAsk) -> list[str]:
    """A string array parameter's list as the sentence writes it ("the Lakers and Clippers",
    "engine size and fuel economy variables"): each reading of each written list
    (:func:`lists.written_lists`), none holding a word of the parameter's name, which names
    what is listed rather than an item ("variables")."""
    items = non_null(ask.schema.get("items") or {})
    if ask.kind != "array" or items.get("type") != "string" or "enum" in items:
        return []
    own = {stem(w) for w in split_identifier(ask.name)}
    named = frozenset(w for w, s in zip(ask.reading.lowered, ask.reading.stems, strict=True)
                      if s in own)
    literals = [json.dumps(reading) for found in written_lists(ask.reading, named)
                for reading in found]
    return [x for x in dict.fromkeys(literals) if x != ask.bad]


LISTED_STRINGS = Rule(
    name="listed_strings",
    what="An array parameter of free strings takes a list the sentence writes, items joined "
         "by commas and a last 'and'/'or', each item a run of up to three content words; "
         "where the first and last items start and end is the model's choice among the "
         "readings, and a word of the parameter's name ends an item.",
    why="Asked for a whole array of strings the model writes on past its room, and the "
        "required array left the call unmade.",
    example="'who won the game between the Lakers and Clippers' with get_winner(teams: "
            "array of strings): teams ['Lakers', 'Clippers'].",
    stages=(Stage.VALUE,),
    offer=listed_strings,
)


_QUOTED_CHOICE = re.compile(r"""(?<![\w'"])(['"])([A-Za-z][\w -]{0,30}?)\1(?![\w'"])""")
"""A short passage a description quotes: 'vaporization', "miles", 'small_claims'."""


def described_choices(schema: dict[str, Any]) -> list[str]:
    """The values a free string parameter's description quotes as its choices ("Can be
    'melting', 'freezing', 'vaporization'", "'real' for real roots, 'all' for both", "('miles'
    or 'kilometers')"): two short quoted passages or more; else the examples it lists
    unquoted (:func:`_listed_examples`); none for an enum or another type."""
    if non_null(schema).get("type") != "string" or "enum" in schema:
        return []
    description = str(schema.get("description", ""))
    found = _QUOTED_CHOICE.finditer(description)
    choices = list(dict.fromkeys(m.group(2).strip() for m in found))
    if len(choices) > 1:
        return choices
    return _listed_examples(description)


_EXAMPLES = re.compile(r"\b(?:e\.g\.|for example|such as|like)[,:]?\s+([^.;:()]+)", re.IGNORECASE)
"""A description's examples: "E.g., painting, sculpture, installation"."""
_EXAMPLE = re.compile(r"[A-Za-z][A-Za-z-]*(?: [A-Za-z][A-Za-z-]*){0,2}")
"""One listed example: a word or three ("main course", "gluten-free")."""
_MIN_EXAMPLES = 3
"""The fewest unquoted examples read as choices: two may be one value's parts ("Los
Angeles, CA" is a city and its state)."""


def _listed_examples(description: str) -> list[str]:
    """The examples a description lists unquoted after "e.g."/"such as" ("E.g., painting,
    sculpture, installation"), three or more joined by commas, the last maybe by "and"/"or";
    "etc." ends the list."""
    found = _EXAMPLES.search(description)
    if found is None:
        return []
    items = [x.strip() for x in re.split(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+",
                                         found.group(1))]
    items = [x for x in items if x and x.lower() not in ("etc", "etc.")]
    if len(items) < _MIN_EXAMPLES or not all(_EXAMPLE.fullmatch(x) for x in items):
        return []
    places = gazetteer()
    if any(places.is_city(a) and places.is_region(b) for a, b in itertools.pairwise(items)):
        return []  # one place written with its state and country ("New York, NY, USA")
    return list(dict.fromkeys(items))


def written_choices(reading: Reading, schema: dict[str, Any]) -> list[str]:
    """The described choices the sentence writes (a plural or singular all the same: "in
    mile" writes 'miles'), in the sentence's order."""
    at = {c: reading.position(c) for c in described_choices(schema)}
    return sorted((c for c, i in at.items() if i is not None), key=lambda c: at[c] or 0)


def names_a_choice(reading: Reading, name: str, schema: dict[str, Any]) -> bool:
    """A free string parameter is mentioned by one of its described choices written."""
    return bool(written_choices(reading, schema))


def choice_values(ask: ValueAsk) -> list[str]:
    """The described choices the sentence writes, as the description spells them: first those
    no earlier parameter took."""
    if ask.kind != "string":
        return []
    literals = [json.dumps(c) for c in written_choices(ask.reading, ask.schema)
                if json.dumps(c) != ask.bad]
    return [x for x in literals if x not in ask.taken] or literals


DESCRIBED_CHOICES = Rule(
    name="described_choices",
    what="A free string parameter whose description quotes its choices ('Can be 'melting', "
         "'freezing'', ''miles' or 'kilometers'') or lists three examples or more after "
         "'e.g.'/'such as' ('E.g., painting, sculpture, installation') takes the choice the "
         "sentence writes, spelled as the description spells it; such a choice also counts "
         "as mentioning an optional parameter.",
    why="Without an enum the filler takes a span ('mile', 'teaspoons') the function does not "
        "know, or leaves the optional parameter out though the sentence chose its value.",
    example="'distance from Boston to Washington in mile' with geo_distance(units: "
            "\"('miles' or 'kilometers')\"): units 'miles'.",
    stages=(Stage.MENTION, Stage.VALUE),
    mentions=names_a_choice,
    offer=choice_values,
)

RULES = (WHOLE_PLACES, WRITTEN_MOMENTS, NUMBER_PRIORS, QUOTED_PASSAGES, DIRECTION_WALLS,
         STATED_CITIES, INITIAL_LETTERS, CITIES_ALONE, LISTED_VALUES, LISTED_STRINGS,
         DESCRIBED_CHOICES)
