from toolwire.strategies.staged.spans import span_grammar
from toolwire.text import mentions, words
from toolwire.text.reading import read


def test_numbers_digits_separators_decimals_and_words() -> None:
    found = mentions.numbers("Convert 1,000 yen, then 3.5 and -2; also two more")
    assert [n.value for n in found] == [1000.0, 3.5, -2.0, 2.0]
    assert found[0].literal(integer=False) == "1000"
    assert found[1].literal(integer=False) == "3.5"


def test_a_number_and_its_scale_words_are_one_number() -> None:
    found = mentions.numbers("100 million shares, a payout of 2.5 billion, two hundred thousand")
    assert [(n.value, n.text) for n in found] == [
        (100_000_000.0, "100 million"), (2_500_000_000.0, "2.5 billion"),
        (200_000.0, "two hundred thousand")]


def test_numbers_ignore_digits_inside_words() -> None:
    assert mentions.numbers("use mp3 and h264 codecs") == []


def test_mentions_phrases_and_identifiers() -> None:
    assert read("Use celsius please").mentions("celsius")
    assert read("the max results count").mentions("max_results")
    assert not read("Paris weather").mentions("unit")
    assert words.split_identifier("getWeatherForecast.v2") == [
        "get", "weather", "forecast", "v2"
    ]


def test_span_grammar_keeps_separators_and_escapes() -> None:
    grammar = span_grammar(read('Weather in "Paris, France" now'))
    assert grammar is not None
    assert 's1 ::= "in"' in grammar and '", "' in grammar  # the comma separator is kept
    assert '\\"' in grammar  # the quote characters became spaces, the JSON quotes are escaped
    assert span_grammar(read("!!!")) is None


def test_numbers_glued_to_units_and_ordinals() -> None:
    found = mentions.numbers("weight 150lbs, the 16th century, 5ft 10in")
    assert [n.value for n in found] == [150.0, 16.0, 5.0, 10.0]


def test_span_grammar_bans_starts_but_keeps_them_inside() -> None:
    grammar = span_grammar(read("convert 200 US dollars"), no_start={"200", "convert"})
    assert grammar is not None
    root = grammar.splitlines()[0]
    assert "s0" not in root.split("(")[1] and "s1 " not in root and "s2" in root
    assert 's1 ::= "200"' in grammar  # still reachable inside a longer span
    # every start banned: all starts allowed rather than none
    assert span_grammar(read("only"), no_start={"only"}) is not None


def test_words_of_any_script() -> None:
    assert words.words("tracks by Käärijä in Zürich") == ["tracks", "by", "Käärijä", "in",
                                                             "Zürich"]


def test_dates_in_the_ways_people_write_them() -> None:
    text = "April 25th 2023, then March 1st, 2023, the 3rd of May 2022, 2024-01-09 and 20230929"
    assert [d.render() for d in mentions.dates(text)] == [
        "2023-04-25", "2023-03-01", "2022-05-03", "2024-01-09", "2023-09-29"]
    assert mentions.dates("may I come in 2023?") == []
    assert mentions.dates("on 12/31/2024")[0].render("DD/MM/YYYY") == "31/12/2024"


def test_a_comma_with_no_space_before_the_year() -> None:
    assert [d.render() for d in mentions.dates("from 15th October,2023 to March 3 ,2024")] == [
        "2023-10-15", "2024-03-03"]


def test_a_month_and_its_day_joined_by_a_dot() -> None:
    assert [d.render() for d in mentions.dates("closing March.11, 2022, or Mar. 12 2022")] == [
        "2022-03-11", "2022-03-12"]
    assert mentions.dates("in March2022") == []


def test_date_parameters_by_format_description_or_name() -> None:
    assert mentions.date_format("when", {"description": "Day, as DD-MM-YYYY."}) == "DD-MM-YYYY"
    assert mentions.date_format("departure_date", {}) == "YYYY-MM-DD"
    assert mentions.date_format("d", {"format": "date"}) == "YYYY-MM-DD"
    assert mentions.date_format("city", {"description": "A city"}) is None


def test_quoted_passages_not_apostrophes() -> None:
    text = "the instrument 'Violin' from 'Stradivarius' maker, it's Sarah's, say \"hi there\""
    assert [q.text for q in mentions.quoted(text)] == ["Violin", "Stradivarius", "hi there"]


def test_span_grammar_never_crosses_a_wall_word() -> None:
    grammar = span_grammar(read("British Pounds to Japanese Yen"), no_cross={"to"})
    assert grammar is not None
    assert 's1 ::= "Pounds"\n' in grammar  # "Pounds" ends a span: "to" is never inside one
    assert "(s0 | s1 | s3 | s4)" in grammar


def test_times_of_day_in_24_hours() -> None:
    text = "at 19:00, or 7:30 pm, 3pm, 2 in the afternoon, noon"
    assert [t.render() for t in mentions.times(text)] == [
        "19:00", "19:30", "15:00", "14:00", "12:00"]
    assert mentions.times("on 2023.10.1")[:1] == []
    assert [d.render() for d in mentions.dates("this Sunday 2023.10.1?")] == ["2023-10-01"]


def test_time_parameters_only_when_the_description_spells_a_clock() -> None:
    assert mentions.time_format("pickup", {"description": "24-hour format 'HH:MM'"}) == "HH:MM"
    assert mentions.time_format("time", {"description": "The time to convert."}) is None
    stamp = {"description": "formatted as 'YYYY-MM-DD HH:MM:SS'"}
    assert mentions.time_format("ts", stamp) is None  # a date and time: neither alone
    assert mentions.date_format("ts_date", stamp) is None


def test_span_grammar_does_not_end_on_a_function_word() -> None:
    grammar = span_grammar(read("a landmark in Portland, that's it"))
    assert grammar is not None
    assert 's2 ::= "in" " " s3\n' in grammar  # "in" never ends a span
    assert 's3 ::= "Portland"\n' in grammar  # nothing after it makes a proper end
    assert span_grammar(read("go to")) == 'root ::= "\\"" (s0 | s1) "\\""\ns0 ::= "go"\ns1 ::= "to"'


def test_span_grammar_stops_at_and_after_a_name() -> None:
    grammar = span_grammar(read("directed by David Leitch and acted by Lori"))
    assert grammar is not None and 's3 ::= "Leitch"\n' in grammar
    kept = span_grammar(read("salt and pepper"))
    assert kept is not None and 's0 ::= "salt" | "salt" " " s1' in kept
