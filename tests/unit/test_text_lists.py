"""Lists of words a sentence writes (``text.lists``): where items start and end."""

from __future__ import annotations

import pytest

from toolwire.text.lists import written_lists
from toolwire.text.reading import read


@pytest.mark.parametrize(("sentence", "first"), [
    ("compare the Celtics and the Knicks tonight", ["Celtics", "Knicks"]),
    ("a model of house size and street noise to predict rent", ["house size", "street noise"]),
    ("buy four apples and two pears at the market", ["apples", "pears"]),
    ("a tour with museums, parks, and cafes in it", ["museums", "parks", "cafes"]),
    ("rank the FTSE 100 and the DAX over a week", ["FTSE 100", "DAX"]),
])
def test_the_even_reading_of_a_list_comes_first(sentence: str, first: list[str]) -> None:
    (readings,) = written_lists(read(sentence))
    assert readings[0] == first


def test_a_stop_word_ends_an_item() -> None:
    (readings,) = written_lists(read("use house size and street noise levels"),
                                frozenset({"levels"}))
    assert ["house size", "street noise"] in readings
    assert all("levels" not in item for reading in readings for item in reading)


def test_no_list_without_an_item_on_each_side() -> None:
    assert written_lists(read("find it and")) == []
    assert written_lists(read("weather in Paris")) == []


def test_a_stop_word_ends_only_the_last_item() -> None:
    """The name of what is listed follows the list; before "and" it is an item's word."""
    (readings,) = written_lists(read("chart it for Data Analyst, Sales Lead, and Nurse"),
                                frozenset({"data"}))
    assert readings[0] == ["Data Analyst", "Sales Lead", "Nurse"]
