"""A sentence is read once per turn (``text.reading``): what it writes, parts of it for clauses
and segments, the names it writes; one clause splitter and one required-number count serve
retrieval and the staged strategy; every word list lives in ``text.lexicon`` with its source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.unit.test_pipeline import make_registry, staged_model
from tests.unit.test_retrieval import HashEmbedder
from toolwire.builtin import default_registry
from toolwire.pipeline import EngineConfig, Pipeline
from toolwire.retrieval import ToolIndex, clauses
from toolwire.strategies import StagedRules, StagedStrategy, Turn
from toolwire.strategies.staged.matching import feasible, required_numbers
from toolwire.strategies.staged.segments import number_sets
from toolwire.text import lexicon, mentions
from toolwire.text.reading import read
from toolwire.tools import Registry

ROOT = Path(__file__).resolve().parents[2] / "toolwire"


def test_a_reading_holds_what_the_sentence_writes_with_where_it_stands() -> None:
    text = "Book 'Jo' at 3pm on April 25th 2023 for 2 people, and then email Sam"
    r = read(text)
    assert r.words[:2] == ("Book", "Jo") and r.stems[0] == "book"
    assert [n.value for n in r.numbers] == [3.0, 25.0, 2023.0, 2.0]
    assert [d.render() for d in r.dates] == ["2023-04-25"]
    assert [t.render() for t in r.times] == ["15:00"]
    assert [q.text for q in r.quotes] == ["Jo"]
    assert [c.text for c in r.clauses] == [
        "Book 'Jo' at 3pm on April 25th 2023 for 2 people", "email Sam"]
    assert r.clauses[1].separator == ", and then"
    assert all(text[w.start : w.end] == w.text for w in r.spans)
    assert r.position("people") == 10 and r.mentions("email") and not r.mentions("phone")


def test_a_part_is_cut_from_the_reading_not_read_again() -> None:
    r = read("convert 150lbs to kg and twenty-five more in Los Angeles")
    part = r.part(r.clauses[1].start)
    assert part.text == "twenty-five more in Los Angeles"
    assert [(n.text, n.start) for n in part.numbers] == [("twenty", 0), ("five", 7)]
    assert [p.text for p in part.places] == ["Los Angeles"]
    assert part.places[0].start == part.text.index("Los")
    assert part.whole is r and part.part(0).whole is r
    glued = r.numbers[0]  # "150" of "150lbs": the unit is the word after it
    assert [w.text for w in r.after(glued.start + len(glued.text))][:2] == ["lbs", "to"]
    five = r.numbers[-1]
    assert [w.text for w in r.before(five.start)][-1] == "twenty"
    assert r.holds_number(r.spans[1]) and not r.holds_number(r.spans[0])


def test_a_splice_is_cut_from_the_reading_not_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text made of the sentence's stretches and words put between (an item of a listed
    request) keeps what each stretch writes, in its own positions, with no second reading."""
    r = read("Book 'Jo' at 3pm on April 25th 2023 in Paris, and 'Al' in London for 2 people")
    for name in ("numbers", "dates", "times", "quoted"):
        monkeypatch.setattr(mentions, name, lambda text: pytest.fail("read again"))
    jo, al = r.text.index("'Jo'"), r.text.index("'Al'")
    spliced = r.spliced([(0, jo + 4), " and ", (al, len(r.text))])
    assert spliced.text == "Book 'Jo' and 'Al' in London for 2 people"
    assert [(q.text, spliced.text[q.start : q.end]) for q in spliced.quotes] == [
        ("Jo", "'Jo'"), ("Al", "'Al'")]
    assert [(n.text, n.start) for n in spliced.numbers] == [("2", spliced.text.index("2"))]
    assert not spliced.dates and not spliced.times
    assert [(p.text, p.start) for p in spliced.places] == [("London", spliced.text.index("L"))]
    assert [w.text for w in spliced.spans][:4] == ["Book", "Jo", "and", "Al"]
    assert spliced.whole is r and spliced.source(spliced.text.index("Al")) == al + 1
    again = spliced.part(spliced.text.index("'Al'"))  # a part of a splice: still cut from r
    assert again.text == "'Al' in London for 2 people" and again.whole is r
    assert [p.text for p in again.places] == ["London"]


def test_a_word_opens_a_sentence_in_the_whole_reading() -> None:
    """English capitalises a sentence's first word for its place: judged in the whole turn,
    not in a part that happens to start with a name."""
    r = read("Calculate the revenue of Microsoft and Apple. Then Google")
    part = r.part(r.text.index("Microsoft"))
    assert r.opens_sentence(0) and r.opens_sentence(r.text.index("Then"))
    assert not part.opens_sentence(0) and part.source(0) == r.text.index("Microsoft")


@pytest.mark.parametrize(("sentence", "names"), [
    ("Tell me the weather in Paris and London", ["Paris", "London"]),
    ("Exchange 42 US dollars to Canadian dollars", ["Canadian"]),
    ("London and Paris please. Thanks!", ["London", "Paris"]),
    ("Is Sarah's flight on Monday in May?", ["Sarah"]),
    ("Im at Riga, Latvia", ["Riga", "Latvia"]),
    ("Summarize the report for Acme Corp", ["Acme Corp"]),
])
def test_names_are_capitalised_runs_not_capitalised_for_another_reason(
    sentence: str, names: list[str]
) -> None:
    """A sentence's first word is capitalised for its place (a name only if a place); function
    words, months and weekdays are capitalised by English orthography."""
    assert [n.text for n in read(sentence).names] == names


def test_the_turn_carries_one_reading() -> None:
    turn = Turn(question="weather in Paris", history=[])
    assert turn.reading is turn.reading and turn.reading.text == "weather in Paris"


@pytest.mark.parametrize("question", [
    "what's the weather in Paris and London in celsius",
    "convert 5 miles to km, and 10 miles to km",
    "what is 12 times 7",
])
async def test_the_staged_strategy_parses_the_sentence_once(
    monkeypatch: pytest.MonkeyPatch, question: str
) -> None:
    counted: dict[str, int] = {}
    for name in ("numbers", "dates", "times", "quoted"):
        original = getattr(mentions, name)

        def counting(text: str, _name: str = name, _original: object = original) -> object:
            counted[_name] = counted.get(_name, 0) + 1
            return _original(text)  # type: ignore[operator]

        monkeypatch.setattr(mentions, name, counting)
    registry = default_registry() if "miles" in question or "times" in question else (
        make_registry())
    registry.use_index(ToolIndex(embedder=HashEmbedder()))
    pipeline = Pipeline(registry, staged_model(), config=EngineConfig(rules=StagedRules()))
    assert isinstance(pipeline.strategy, StagedStrategy)
    turn = Turn(question=question, history=[])
    turn.hits = await pipeline.retrieve(turn)
    await pipeline.strategy.propose(turn)
    assert counted == dict.fromkeys(("numbers", "dates", "times", "quoted"), 1)


def test_retrieval_and_the_staged_strategy_split_clauses_alike() -> None:
    question = "Convert 20 USD to EUR and then tell me the weather in Paris. Also the time"
    staged = [c.text for c in read(question).clauses]
    assert staged == ["Convert 20 USD to EUR", "tell me the weather in Paris", "Also the time"]
    assert clauses(question) == staged  # retrieval keeps those of three words or more


def test_an_optional_number_is_not_a_required_one() -> None:
    registry = Registry()
    registry.add_schema({"name": "area", "parameters": {"type": "object", "properties": {
        "base": {"type": "number"}, "height": {"type": "number"},
        "scale": {"anyOf": [{"type": "number"}, {"type": "null"}]}},
        "required": ["base", "height", "scale"]}})
    tool = registry.get("area")
    assert required_numbers(tool) == 2  # null will do for "scale"
    assert feasible(read("base 3 and height 4"), tool)
    two = number_sets(read("base 3 and height 4, and base 5 and height 6"), tool)
    assert two is not None and [p.text for p in two] == ["base 3 and height 4, and ",
                                                          "base 5 and height 6"]


def _word_lists(path: Path) -> list[str]:
    """Module-level names bound to a set or dict of three string literals or more (a tuple
    of names, such as a model's features, is no word list)."""
    found = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        value = node.value
        if isinstance(value, ast.Call) and value.args:  # frozenset({...})
            value = value.args[0]
        items = (value.keys if isinstance(value, ast.Dict)
                 else value.elts if isinstance(value, ast.Set) else [])
        words = [k for k in items if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        if len(words) >= 3:
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            found.append(f"{path.name}:{ast.unparse(target)}")
    return found


def test_every_word_list_lives_in_the_lexicon_with_its_source() -> None:
    modules = [*sorted((ROOT / "text").glob("*.py")),
               *sorted((ROOT / "strategies" / "staged").glob("*.py"))]
    elsewhere = [name for m in modules if m.name != "lexicon.py" for name in _word_lists(m)]
    assert elsewhere == []
    tree = ast.parse((ROOT / "text" / "lexicon.py").read_text(encoding="utf-8"))
    for node, after in zip(tree.body, [*tree.body[1:], None], strict=True):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            assert isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant), (
                ast.unparse(node)[:40])  # a docstring saying where its words come from
    assert lexicon.CORE_FUNCTION_WORDS <= lexicon.FUNCTION_WORDS <= lexicon.STOP_WORDS
    assert "Celsius".lower() not in lexicon.STOP_WORDS and "exchange" not in lexicon.STOP_WORDS
