"""Every English word list that reading a sentence and the staged strategy use, in one place,
each with where its words come from.

A list here is a closed class of English (articles, prepositions, pronouns, number words), a
calendar's or a standard's names (month names, ISO 4217 currencies through CLDR), or the
vocabulary of API naming conventions (``get_``, ``from_``/``to_``, ``limit``/``offset``). No
list holds a word because a known test sentence has it: a word belongs to a list by the rule
its comment states, and the rule's other members are there too.

Lists are frozensets (or mappings, for words with a value); the modules that read sentences
build their patterns from them.
"""

from __future__ import annotations

from functools import cache

# -- function words --------------------------------------------------------------------------
CORE_FUNCTION_WORDS = frozenset({"a", "an", "the", "and", "of", "is", "to", "with", "for"})
"""The articles, "and", "is" and the commonest prepositions (the top of any English word
frequency list): never part of a value's meaning, so left out of a number's context."""

FUNCTION_WORDS = CORE_FUNCTION_WORDS | frozenset({
    "in", "at", "on", "from", "or", "by", "that", "that's", "this", "are", "was", "were", "be",
    "please", "it", "its", "my", "your", "our", "me", "i", "as", "but", "so", "if", "then",
    "than", "which", "who", "can", "could", "would", "will", "do", "does", "about", "into",
    "via", "using",
})
"""English function words: the pronouns, prepositions, auxiliaries and conjunctions of NLTK's
English stop-word list that link a sentence's parts, with the modals "could" and "would",
"please", "via" and "using". A span of the sentence copied as a value ends on none of them."""

REQUEST_WORDS = frozenset({
    "want", "wants", "need", "needs", "like", "let", "lets", "tell", "show", "find", "get",
    "use", "used", "given", "also",
})
"""The verbs people ask with ("I want", "I need", "I'd like", "let me", "tell me", "show me",
"find", "get me", "use", "given"), and "also": they say that something is asked, not what."""

STOP_WORDS = FUNCTION_WORDS | REQUEST_WORDS | frozenset({
    "above", "after", "again", "against", "all", "am", "any", "because", "been", "before",
    "being", "below", "between", "both", "did", "doing", "down", "during", "each", "few",
    "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him",
    "himself", "his", "how", "itself", "just", "more", "most", "myself", "no", "nor", "not",
    "now", "off", "once", "only", "other", "ours", "ourselves", "out", "over", "own", "same",
    "she", "should", "some", "such", "their", "theirs", "them", "themselves", "there",
    "these", "they", "those", "through", "too", "under", "until", "up", "very", "we", "what",
    "when", "where", "while", "whom", "why", "you", "yours", "yourself", "yourselves",
})
"""Words too common to tell tools apart: the rest of NLTK's English stop-word list (its
contractions and letter fragments left out; the question words among them) and the request
words. Nested: ``CORE_FUNCTION_WORDS`` ⊂ ``FUNCTION_WORDS`` ⊂ ``STOP_WORDS``."""

POLITE_WORDS = frozenset({"please", "pls", "plz", "thanks", "thx"})
"""English politeness words and their chat spellings."""

LIST_JOINERS = frozenset({"and", "or"})
"""The conjunctions before the last item of an English list ("A, B and C", "tea or coffee")."""

COORDINATORS = frozenset({"and", "but"})
"""Coordinating conjunctions that start a new clause after a name ("David Leitch and acted
by ..."): a span does not run across one from a capitalised word to a lower-case one."""

CLAUSE_LINKS = (
    "and then", "and also", "as well as", "after that", "afterwards", "additionally", "also",
    "then", "plus", "and",
)
"""Words that join one request to the next ("convert 5 USD to EUR and then tell me ..."):
English coordinating "and" and the sequencing adverbs, longest first. With commas,
semicolons, line breaks and sentence ends they cut a sentence into clauses."""

# -- numbers ---------------------------------------------------------------------------------
CARDINALS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
"""The English cardinal numbers below twenty."""
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
"""The English multiples of ten."""
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
"""The English scale words (short scale)."""
MULTIPLES = {"dozen": 12, "half": 0.5, "twice": 2, "double": 2, "triple": 3, "once": 1}
"""English words for a count that are no cardinal: "a dozen", "half", "twice", "double"."""
NUMBER_WORDS: dict[str, float] = {**CARDINALS, **TENS, **SCALES, **MULTIPLES}
"""Every number written as one English word, to its value."""

# -- the calendar and the clock --------------------------------------------------------------
MONTHS = {
    name: number
    for number, names in enumerate((
        "january jan", "february feb", "march mar", "april apr", "may", "june jun",
        "july jul", "august aug", "september sep sept", "october oct", "november nov",
        "december dec",
    ), start=1)
    for name in names.split()
}
"""The English month names and their usual abbreviations (three letters, "sept"), to the
month's number."""
WEEKDAYS = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                      "sunday"})
"""The English names of the days of the week."""
RELATIVE_DAYS = frozenset({"today", "tonight", "tomorrow", "yesterday"})
"""English adverbs naming a day by where it stands from today."""
PERIODS = frozenset({"week", "month", "year", "weekend"})
"""Calendar periods a day is named by with "next", "last" or "this" ("next week")."""
PERIOD_MARKERS = frozenset({"next", "last", "this"})
"""The words that place a period ("next week", "last month", "this year")."""
NOW_WORDS = frozenset({"now", "currently", "current"})
"""Words for the present moment."""
DAY_PARTS = {"morning": "am", "afternoon": "pm", "evening": "pm", "night": "pm"}
"""The English parts of the day said after an hour ("2 in the afternoon"), to the half of the
day they put it in."""
CLOCK_WORDS = {"noon": 12, "midday": 12, "midnight": 0}
"""English names of a time of day, to its hour."""

# -- pointing back ---------------------------------------------------------------------------
REFERENCES = ("the result", "that", "it", "them", "this", "those")
"""English demonstrative and personal pronouns that point back to what came before ("divide
that by 8"), and "the result"."""
PLACE_REFERENCES = frozenset({"there"})
"""The English locative pro-form: it points back to a place named before ("how's the weather
*there*?"), unless it is the existential "there" of "there is" (``BE_FORMS``)."""
BE_FORMS = frozenset({"is", "are", "was", "were", "be", "been", "being", "'s", "’s"})
"""The forms of English "to be" ("there *is*", "*are* there"), and its contraction."""
FOLLOWUP_LEADS = frozenset({"and", "so", "also", "then", "now", "same", "but", "ok", "okay"})
"""English coordinators and discourse markers that may come before "what about" or "how
about" in a follow-up ("ok so what about 100?")."""
FOLLOWUP_OPENERS = ("same for", "ok and", "okay and", "and", "also", "now", "but")
"""What a follow-up may open with and lean on the sentence before ("and in London?", "same
for Paris"): the coordinators that add to what was said, "now", and "same for"."""

# -- places ----------------------------------------------------------------------------------
PLACE_PREPOSITIONS = frozenset({"in", "at", "for", "from", "to", "of", "near", "around",
                                "into"})
"""English prepositions of place and direction: a single lower-case word after one is read as
a possible place ("time in paris")."""
EXTRA_COUNTRIES: dict[str, str] = {
    "uk": "GB", "britain": "GB", "great britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "us": "US", "america": "US", "united states of america": "US",
}
"""Country names people write that GeoNames' and CLDR's English names lack: the United
Kingdom's usual names and its constituent countries, the United States' usual names."""

# -- conversions -----------------------------------------------------------------------------
CONVERSION_LINKS = ("fit in", "go into", "is", "are", "in", "for", "does", "do", "would",
                    "will", "make", "makes", "equals", "equal", "=", "from", "of")
"""What links "how many X" to the amount converted ("how many km *is* 5 miles", "how many
cups *go into* a gallon"): English copulas, auxiliaries and prepositions, "=", "fit in" and
"go into"."""
PHRASE_ENDS = frozenset({
    "to", "into", "in", "as", "is", "are", "equals", "equal", "for", "from", "make", "makes",
    "at", "and", "about", "worth", "when", "if", "what", "how", "whats", "what's", "it", "its",
    "it's", "the", "then", "would", "will", "do", "does", "did", "get", "i", "we", "you",
    "can", "could", "should", "exactly", "approximately", "roughly", "now", "today",
    "right", "currently", "rn",
}) | POLITE_WORDS
"""Words that end a unit's, currency's or place's phrase in a conversion ("5 miles *in* km
*please*"): the links of ``CONVERSION_LINKS``, pronouns and auxiliaries that start the next
part, politeness and hedges ("please", "thanks", "roughly") with their chat spellings ("pls",
"plz", "thx"), and the words for now ("now", "today", "right now" and its "rn")."""
ONE_LETTER_WORDS = frozenset({"a", "i"})
"""English's one-letter words: a capital "A" or "I" alone is a word, not a value's initial."""

ARTICLES = frozenset({"a", "an"})
"""The English indefinite articles: where an amount is expected they count one ("how many cups
in *a* liter")."""
DETERMINERS = frozenset({"the", "a", "an", "some", "my", "many", "much", "of"})
"""English determiners (and "of") a phrase may open with; they are not part of it ("how many
of *the* euros")."""

# -- arithmetic ------------------------------------------------------------------------------
PERCENT_WORDS = frozenset({"percent", "%"})
"""The words for a hundredth."""
FRACTIONS: dict[str, int] = {
    "half": 2, "halves": 2, "quarter": 4, "quarters": 4,
    **{word: n for n, ordinal in enumerate(
        ("third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"), start=3)
       for word in (ordinal, ordinal + "s")},
}
"""The English fraction words to their denominator ("a *third* of 270", "two *thirds*"):
"half" and "quarter", and the ordinals third to tenth, which English uses as denominators,
each in the singular and the plural."""
POWER_NOUNS = {"square": 2, "cube": 3}
"""The English nouns of a number's second and third power ("the *cube* of 9")."""
SHARE_VERBS = frozenset({"split", "share", "divide", "shared", "divided"})
"""English verbs of sharing a quantity out, and their participles ("*split* 186 dollars
among 6")."""
SHARE_PREPOSITIONS = frozenset({"among", "amongst", "between"})
"""The English prepositions of distribution: what follows them is how many share."""
RATE_WORDS = frozenset({"a", "an", "per", "each", "every"})
"""What makes "N <word> <unit>" a rate in English: the article, "per", "each" and "every"
("350 *a* month", "60 miles *per* hour")."""

# -- parameters and tool names ---------------------------------------------------------------
GENERIC_NAME_WORDS = frozenset({"get", "set", "do", "run", "make", "api", "info", "data",
                                "the", "by", "for"})
"""Words of tool names that say nothing of what a tool does: the verbs of API naming
conventions (``get_``, ``set_``, ``do_``, ``run_``, ``make_``), "api", "info", "data", and
the article and prepositions names join words with (``get_user_by_id``)."""
COMMON_PARAM_WORDS = frozenset({
    "number", "value", "count", "limit", "level", "location", "format", "default", "option",
    "options", "include", "total", "result", "results", "status", "query", "search",
    "filter", "user", "detail", "details", "list", "items", "start", "price", "amount",
    "range", "order", "sort", "index", "offset", "page", "version", "language", "region",
    "country", "units",
})
"""Words that many APIs' parameter names share, so a sentence writing one does not single out
an optional parameter: paging (``limit``, ``offset``, ``page``, ``index``), querying
(``query``, ``search``, ``filter``, ``sort``, ``order``, ``range``), output (``format``,
``include``, ``detail``, ``status``, ``result``, ``version``, ``language``) and the generic
nouns of schemas (``number``, ``value``, ``count``, ``amount``, ``total``, ``list``,
``items``, ``user``, ``location``, ``region``, ``country``, ``units``, ``price``)."""
TARGET_PARAM_WORDS = frozenset({"to", "target", "destination", "dest", "output", "end"})
"""Words of a parameter name that make it the target of a conversion or trip
(``to_currency``, ``destination``, ``output_unit``)."""
SOURCE_PARAM_WORDS = frozenset({"from", "source", "origin", "src", "input", "start", "base"})
"""Words of a parameter name that make it the source (``from_unit``, ``origin``,
``base_currency``)."""
TO_WORDS = frozenset({"to", "into", "in", "as", "toward", "towards"})
"""English prepositions that mark what follows as a target ("5 miles *to* km")."""
FROM_WORDS = frozenset({"from", "of"})
"""English prepositions that mark what follows as a source ("*from* dollars")."""
DIRECTION_WORDS = frozenset({"to", "into", "from", "toward", "towards"})
"""Prepositions of direction: a source or target value never holds one ("British pounds to
yen" is two values)."""
EXPRESSION_PARAMS = frozenset({"expression", "expr", "formula", "equation", "calculation",
                               "math"})
"""Parameter-name words of a calculator's one input."""
CALCULATOR_STEMS = ("arithmetic", "calculat", "math", "evaluat", "comput", "expression")
"""Word beginnings of a calculator's name or description ("calculate", "evaluates",
"computes")."""
PLACE_PARAMS = frozenset({"city", "location", "place", "town", "timezone", "tz", "zone"})
"""Parameter-name words of a place or time zone."""
CITY_PARAMS = frozenset({"city", "town"})
"""Words of parameter names that hold a city alone."""
REGION_PARAMS = frozenset({"country", "state", "province", "region"})
"""Words of parameter names that hold the country or the region a city lies in."""
EXAMPLE_MARKERS = ("e.g.", "eg.", "for example", "such as", "for instance")
"""How an English description introduces an example value ("the currency, e.g. USD")."""
ENUM_LABEL_LINKS = frozenset({"for", "is", "means"})
"""Words a description links an enum value to its label with ("'C' for Celsius")."""
FRACTION_WORDS = frozenset({"decimal", "fraction"})
"""Description words that want a rate as a fraction of one (0.05, not 5)."""
PERCENTAGE_WORDS = frozenset({"percent", "percentage", "%"})
"""Description words that want a rate as a percentage (5, not 0.05)."""
FREE_STRING_FORMATS = frozenset({"date", "date-time", "time", "email", "uri", "uuid"})
"""JSON Schema ``format`` values whose strings are written, not copied from the sentence (the
formats of JSON Schema's format vocabulary that a sentence rarely writes verbatim)."""


# -- code systems ----------------------------------------------------------------------------
@cache
def currencies() -> dict[str, list[str]]:
    """ISO 4217 currency codes with their English names from CLDR (``babel``), the singular
    and plural forms too ("USD": "US Dollar", "US dollar", "US dollars")."""
    from babel import Locale
    from babel.numbers import get_currency_name

    english = Locale("en")
    return {code: list(dict.fromkeys([
        name, get_currency_name(code, count=1, locale=english),
        get_currency_name(code, count=2, locale=english),
    ])) for code, name in english.currencies.items()}


ORDINALS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5,
    "secondly": 2, "thirdly": 3, "fourthly": 4,
}
"""English ordinal numerals and adverbs up to the eighth (words and digit forms), with their
rank: "the second", "secondly", "2nd" mark the second item of a listed request."""

ITEM_PREPOSITIONS: frozenset[str] = frozenset( {"between", "of", "for", "in", "from", "at", "on", "near", "with", "to", "about"})
"""English prepositions that introduce a listed item again ("of 12 and 15, and of 18 and 24",
"in Paris and in London"): the common spatial and relational ones."""


@cache
def regions() -> dict[str, list[str]]:
    """ISO 3166 region codes with their English names from CLDR (``babel``)."""
    from babel import Locale

    return {code: [name] for code, name in Locale("en").territories.items() if code.isalpha()}
