"""The staged filler's priors: numbers by name and order, dates in the wanted format, quotes."""

from __future__ import annotations

from toolwire import Registry
from toolwire.models.base import ChoiceConstraint, Completion, GrammarConstraint
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.strategies.staged.fill import Filler
from toolwire.strategies.staged.priors import number_prior
from toolwire.text import mentions
from toolwire.text.reading import read


def _flat_model(span: str = '"x"') -> ScriptedModel:
    """Every option equally likely: the priors alone decide."""

    def respond(request: Request) -> Completion:
        if isinstance(request.constraint, ChoiceConstraint):
            scores = dict.fromkeys(request.constraint.options, -1.0)
            return Completion(text=request.constraint.options[0], scores=scores)
        if isinstance(request.constraint, GrammarConstraint):
            return Completion(text=span)
        return Completion(text="{}")

    return ScriptedModel(respond, supports_tools=False, supports_grammar=True)


def _tool(props: dict, required: list[str] | None = None):  # type: ignore[no-untyped-def,type-arg]
    registry = Registry()
    registry.add_schema({"name": "f", "parameters": {
        "type": "object", "properties": props, "required": required or list(props)}})
    return registry.get("f")


def test_a_number_goes_to_the_parameter_named_before_it() -> None:
    question = "net income of $2,000,000, equity of $10,000,000 and dividends paid of $200,000"
    found = mentions.numbers(question)
    bonus = number_prior(read(question), "dividends_paid", found)
    assert max(range(3), key=lambda i: bonus[i]) == 2
    bonus = number_prior(read(question), "net_income", found)
    assert max(range(3), key=lambda i: bonus[i]) == 0


async def test_numbers_fill_in_order_when_no_name_is_written() -> None:
    tool = _tool({"principle": {"type": "number"}, "rate": {"type": "number"},
                  "years": {"type": "integer"}})
    question = "an investment of $10,000 at 5% compounded for 10 years"
    fill = await Filler(_flat_model()).fill(read(question), tool, [tool])
    assert fill.arguments == {"principle": 10000, "rate": 0.05, "years": 10}  # 5% as a rate


async def test_a_date_parameter_gets_the_written_date_in_its_format() -> None:
    tool = _tool({"city": {"type": "string"},
                  "date": {"type": "string", "description": "The day, as MM/DD/YYYY"}},
                 required=["city"])
    fill = await Filler(_flat_model('"Palo Alto"')).fill(
        read("weather for Palo Alto on April 25th 2023?"), tool, [tool])
    assert fill.arguments == {"city": "Palo Alto", "date": "04/25/2023"}


async def test_a_quoted_passage_beside_the_parameter_name_wins() -> None:
    tool = _tool({"name": {"type": "string"}, "maker": {"type": "string"}})
    question = "details about the instrument 'Violin' from 'Stradivarius' maker"
    fill = await Filler(_flat_model('"details"')).fill(read(question), tool, [tool])
    assert fill.arguments == {"name": "Violin", "maker": "Stradivarius"}


async def test_a_percentage_stays_a_percentage_when_the_description_says_so() -> None:
    tool = _tool({"yield_rate": {"type": "number", "description": "The yield as a percentage."}})
    fill = await Filler(_flat_model()).fill(read("a fund yielding 5% a year"), tool, [tool])
    assert fill.arguments == {"yield_rate": 5}


async def test_a_time_parameter_gets_the_written_time_on_a_24_hour_clock() -> None:
    tool = _tool({"stylist": {"type": "string"},
                  "at": {"type": "string", "description": "Time, in 24-hour format 'HH:MM'."}},
                 required=["stylist"])
    fill = await Filler(_flat_model('"Jo"')).fill(
        read("book Jo at 2 in the afternoon"), tool, [tool])
    assert fill.arguments == {"stylist": "Jo", "at": "14:00"}


async def test_an_optional_parameter_named_by_a_distinctive_word_is_filled() -> None:
    tool = _tool({"receiver": {"type": "string"}, "private_visibility": {"type": "boolean"},
                  "number_of_items": {"type": "integer"}}, required=["receiver"])
    fill = await Filler(_flat_model('"Svetlana"')).fill(
        read("send it to Svetlana and make it private"), tool, [tool])
    assert set(fill.arguments) == {"receiver", "private_visibility"}


async def test_an_optional_list_is_mentioned_by_a_value_of_its_items() -> None:
    diets = {"type": "array", "items": {"type": "string", "enum": ["Vegan", "Vegetarian"]}}
    tool = _tool({"location": {"type": "string"}, "dietary_preference": diets},
                 required=["location"])
    fill = await Filler(_flat_model('"Los Angeles"')).fill(
        read("find a nearby restaurant that serves vegan food in Los Angeles"), tool, [tool])
    assert fill.arguments == {"location": "Los Angeles", "dietary_preference": ["Vegan"]}


async def test_an_optional_number_never_reuses_a_number_already_taken() -> None:
    tool = _tool({"location": {"type": "string"}, "minimum_rating": {"type": "integer"},
                  "number_of_players": {"type": "integer"}},
                 required=["location", "minimum_rating"])
    fill = await Filler(_flat_model('"New York"')).fill(
        read("top chess players in New York with a rating above 2300"), tool, [tool])
    assert fill.arguments == {"location": "New York", "minimum_rating": 2300}


async def test_a_quote_beside_another_parameters_name_is_left_to_it() -> None:
    def respond(request: Request) -> Completion:  # the model likes Stradivarius everywhere
        if isinstance(request.constraint, ChoiceConstraint):
            scores = {o: (0.0 if "Stradivarius" in o else -3.0) for o in request.constraint.options}
            return Completion(text=max(scores, key=lambda o: scores[o]), scores=scores)
        return Completion(text='"details"')

    tool = _tool({"name": {"type": "string"}, "maker": {"type": "string"}})
    question = "details about the instrument 'Violin' from 'Stradivarius' maker"
    model = ScriptedModel(respond, supports_tools=False, supports_grammar=True)
    fill = await Filler(model).fill(read(question), tool, [tool])
    assert fill.arguments == {"name": "Violin", "maker": "Stradivarius"}


def test_a_description_asking_for_city_and_state_is_told_from_other_examples() -> None:
    from toolwire.strategies.staged.rules.value import asks_state

    def described(text: str) -> dict[str, str]:
        return {"type": "string", "description": text}

    assert asks_state(described("The city, in the format of 'City, State'"))
    assert asks_state(described("The city and state, e.g. San Francisco, CA"))
    assert not asks_state(described("The city, e.g. Paris, FR"))  # no US state: not asked
    assert not asks_state(described("The city, e.g. Tokyo"))
    assert not asks_state({"type": "string", "enum": ["Berkeley, CA"],
                           "description": "The city, e.g. Berkeley, CA"})


def test_a_us_city_gets_its_state_and_other_places_stay_as_written() -> None:
    from toolwire.strategies.staged.rules.value import with_state

    assert with_state("Chicago") == "Chicago, IL"
    assert with_state("Portland") == "Portland, OR"  # the most populous Portland
    assert with_state("SF") == "San Francisco, CA"  # another name of a large city
    assert with_state("Portland, ME") == "Portland, ME"  # the state written decides
    assert with_state("Paris") == "Paris"
    assert with_state("Nairobi, Kenya") == "Nairobi, Kenya"


async def test_two_cities_asked_with_their_states_are_sent_with_their_states() -> None:
    city = {"type": "string", "description": "The city, formatted as 'City, State' (e.g., "
                                             "'New York, NY')"}
    tool = _tool({"from_city": city, "to_city": city})
    reading = read("a bus from San Diego to Chicago")
    filler = Filler(_flat_model())
    fill = await filler.fill(reading, tool, [tool])
    assert fill.arguments == {"from_city": "San Diego", "to_city": "Chicago"}  # the words
    assert filler.formed(reading, tool, fill.arguments) == {  # the form the call is sent in
        "from_city": "San Diego, CA", "to_city": "Chicago, IL"}


def test_a_lone_capital_is_neither_a_one_letter_word_nor_a_sentence_opener() -> None:
    from toolwire.strategies.staged.rules.value import lone_capitals

    assert lone_capitals(read("C or F? I want it in C, says A")) == [(2, "F"), (7, "C")]


async def test_an_optional_string_is_mentioned_by_a_choice_its_description_quotes() -> None:
    roots = {"type": "string", "description": "'real' for real roots, 'all' for both real and "
             "complex roots. Default value is 'real'."}
    tool = _tool({"a": {"type": "integer"}, "root_type": roots}, required=["a"])
    fill = await Filler(_flat_model()).fill(read("find all the roots for a = 3"), tool, [tool])
    assert fill.arguments == {"a": 3, "root_type": "all"}
    fill = await Filler(_flat_model()).fill(read("find the roots for a = 3"), tool, [tool])
    assert fill.arguments == {"a": 3}


def test_one_quoted_example_is_no_list_of_choices() -> None:
    from toolwire.strategies.staged.rules.value import described_choices

    assert described_choices({"type": "string", "description": "A city, e.g. 'Paris'"}) == []
    assert described_choices({"type": "string", "enum": ["a", "b"],
                              "description": "'a' or 'b'"}) == []
    assert described_choices({"type": "string", "description": "Can be 'melting', "
                              "\"freezing\" or 'small_claims'."}) == [
        "melting", "freezing", "small_claims"]


async def test_a_parameter_of_any_type_is_filled_under_no_constraint() -> None:
    from toolwire.models.base import JsonSchemaConstraint

    sent: list[dict] = []  # type: ignore[type-arg]

    def respond(request: Request) -> Completion:
        if isinstance(request.constraint, JsonSchemaConstraint):
            sent.append(request.constraint.schema)
            return Completion(text='"dataset"')
        raise AssertionError(f"unexpected request: {request.constraint}")

    # BFCL's type "any" leaves a description alone, which llama.cpp cannot make a grammar of
    tool = _tool({"data": {"description": "The training data for the model."}})
    model = ScriptedModel(respond, supports_tools=False, supports_grammar=True)
    fill = await Filler(model).fill(read("train a model on `dataset`"), tool, [tool])
    assert sent == [{}]
    assert fill.arguments == {"data": "dataset"}


def test_a_quote_goes_to_the_parameter_more_of_whose_words_stand_beside_it() -> None:
    from toolwire.strategies.staged.priors import quote_owners

    reading = read("Analyze the DNA sequence 'AGTCG' for substitutions based on a reference "
                   "sequence 'AGTCC'.")
    owners = quote_owners(reading, list(reading.quotes), ["sequence", "reference_sequence"])
    assert sorted(owners.values()) == ["reference_sequence", "sequence"]
    assert [owners[q.start] for q in reading.quotes] == ["sequence", "reference_sequence"]


def _spans_of(gbnf: str) -> set[str]:
    """Every string a span grammar (``spans.span_grammar``) admits, without its quotes."""
    import re

    literal = r'"((?:[^"\\]|\\.)*)"'
    rules = dict(re.findall(r"^(s\d+) ::= (.*)$", gbnf, re.MULTILINE))
    starts = re.findall(r"s\d+", gbnf.splitlines()[0])

    def admitted(rule: str) -> set[str]:
        out: set[str] = set()
        for option in rules[rule].split(" | "):
            parts = re.findall(literal, option)
            after = re.search(r"(s\d+)$", option)
            out |= ({parts[0] + parts[1] + rest for rest in admitted(after.group(1))}
                    if after else {parts[0]})
        return out

    return {span for start in starts for span in admitted(start)}


def _span_model(grammars: list[str], span: str) -> ScriptedModel:
    """The flat model, keeping each span grammar it is asked under."""
    flat = _flat_model(span)

    def respond(request: Request) -> Completion:
        if isinstance(request.constraint, GrammarConstraint):
            grammars.append(request.constraint.gbnf)
        return flat._responder(request)  # type: ignore[misc]

    return ScriptedModel(respond, supports_tools=False, supports_grammar=True)


async def test_a_string_span_stops_before_the_words_of_another_parameters_name() -> None:
    tool = _tool({"address": {"type": "string"}, "parcel_number": {"type": "string"}},
                 required=["address"])
    grammars: list[str] = []
    question = "records of my house at 123 main street, with parcel number 1234567890"
    await Filler(_span_model(grammars, '"123 main street"')).fill(read(question), tool, [tool])
    spans = _spans_of(grammars[0])
    assert "123 main street" in spans
    assert not any("parcel" in s or "street, with" in s for s in spans)


async def test_a_quantity_with_its_unit_glued_on_starts_no_string() -> None:
    tool = _tool({"substance": {"type": "string"}, "mass": {"type": "integer"}})
    grammars: list[str] = []
    question = "the entropy change of a 1kg ice block"
    await Filler(_span_model(grammars, '"ice"')).fill(read(question), tool, [tool])
    assert not any(s.startswith("1kg") for s in _spans_of(grammars[0]))
    assert "ice block" in _spans_of(grammars[0])
    formula = _tool({"function": {"type": "string"}, "x_value": {"type": "number"}})
    grammars.clear()
    await Filler(_span_model(grammars, '"3x^2"')).fill(
        read("the derivative of 3x^2 + 2x - 1"), formula, [formula])
    assert any(s.startswith("3x") for s in _spans_of(grammars[0]))  # a formula's term


async def test_a_description_listing_examples_unquoted_offers_them_as_written_there() -> None:
    from toolwire.strategies.staged.rules.value import described_choices

    kind = {"type": "string", "description": "Type of the artwork. E.g., painting, sculpture, "
            "installation."}
    assert described_choices(kind) == ["painting", "sculpture", "installation"]
    assert described_choices({"type": "string", "description": "e.g. Berkeley, CA, US"}) == []
    assert described_choices({"type": "string", "description": "e.g. Boston, MA"}) == []
    tool = _tool({"type": kind, "location": {"type": "string"}})
    fill = await Filler(_flat_model('"famous"')).fill(
        read("Search for famous contemporary sculptures in New York."), tool, [tool])
    assert fill.arguments["type"] == "sculpture"


async def test_a_place_is_offered_whole_not_its_country_alone() -> None:
    """'Pune, India' names one place: its country alone is no option for the location, even
    to a model that likes short answers best."""

    def respond(request: Request) -> Completion:
        if isinstance(request.constraint, ChoiceConstraint):
            scores = {o: -float(len(o)) for o in request.constraint.options}
            return Completion(text=max(scores, key=scores.__getitem__), scores=scores)
        return Completion(text='"x"')

    model = ScriptedModel(respond, supports_tools=False, supports_grammar=True)
    tool = _tool({"location": {"type": "string"}})
    fill = await Filler(model).fill(read("how hot is it in Pune, India today"), tool, [tool])
    assert fill.arguments == {"location": "Pune, India"}
