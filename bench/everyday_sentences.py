"""Everyday sentences over the built-in tools (issue 22): what each must call, in two voices.

The measure of ``bench/everyday.py`` and ``tests/integration/test_everyday.py``. Each case is a
sentence as a person writes it and the call it must produce (``None``: no call, because no
built-in tool serves it). The number the answer must state is not written here: the harness
gets it by dispatching the expected call through the registry (see ``bench/everyday.py``).

- ``SENTENCES``: single sentences, in two blocks written in two voices (``style``):
  ``texting`` (lowercase, terse, typos, "pls", "rn", symbols) and ``polite`` (whole
  sentences, varied structure, context around the request).
- ``CONVERSATIONS``: two or three turns where the later ones lean on the earlier ones ("and
  london?", "what about 80 of them", "now divide that by 8"). Each later turn expects the
  previous tool with the arguments it does not replace; ``THAT`` in an accepted call stands
  for the previous turn's result ("how much is that in yen" may convert the amount again or
  the converted result).

Expected arguments use the schemas' canonical values where the tool has them (currency codes,
the unit names of ``convert_units``' enum, ``open_app``'s app names); time zones are written as
the place is named, and the harness accepts any name that resolves to the same zone.

**The split.** Every case is ``tune`` or ``heldout``; the held-out third is never used to
tune the engine. The rule is fixed: within each group (expected tool and style for sentences,
the first turn's tool for conversations), in the order written, each run of three gives the one whose
SHA-256 is lowest to ``heldout`` (a last run of two gives one, a last run of one none). Add
new sentences at the end of their block, and never reword one: that keeps the split of the
others as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Style = Literal["texting", "polite"]
Split = Literal["tune", "heldout"]

THAT = "<that>"
"""In an accepted call of a follow-up: the previous turn's result (rounded to cents)."""


@dataclass(kw_only=True, frozen=True)
class Call:
    """One expected tool call."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    """As the schema takes them; an argument left out is its schema default."""


@dataclass(kw_only=True, frozen=True)
class Case:
    """One sentence and what it must produce."""

    sentence: str
    expected: Call | None
    """The call to make; ``None``: no call (no built-in tool serves the sentence)."""
    also: tuple[Call, ...] = ()
    """Other calls that are as right (a follow-up's "that" as the amount or the result)."""
    style: Style
    split: Split = "tune"

    @property
    def tool(self) -> str:
        """The expected tool's name, or ``"none"``."""
        return self.expected.name if self.expected else "none"


@dataclass(kw_only=True, frozen=True)
class Conversation:
    """Turns sent one after the other, each with the earlier ones as history."""

    turns: tuple[Case, ...]
    style: Style
    split: Split = "tune"

    @property
    def tool(self) -> str:
        """The first turn's tool."""
        return self.turns[0].tool


# -- how the expected calls are written --------------------------------------------------------
def calc(expression: str) -> Call:
    """``calculate``: compared by value, so any expression with the same result is right."""
    return Call(name="calculate", arguments={"expression": expression})


def money(amount: float | str, source: str, target: str) -> Call:
    return Call(name="convert_currency",
                arguments={"amount": amount, "from_currency": source, "to_currency": target})


def units(value: float | str, source: str, target: str) -> Call:
    return Call(name="convert_units",
                arguments={"value": value, "from_unit": source, "to_unit": target})


def clock(place: str | None = None) -> Call:
    """``get_time`` in ``place`` (``None``: the schema default, UTC)."""
    return Call(name="get_time", arguments={} if place is None else {"timezone": place})


def shift(time: str, source: str, target: str) -> Call:
    """``convert_timezone`` of ``time`` (ISO, "15:00") from ``source`` to ``target``."""
    return Call(name="convert_timezone",
                arguments={"time": time, "from_timezone": source, "to_timezone": target})


def weather(city: str, unit: str = "celsius") -> Call:
    return Call(name="get_weather", arguments={"city": city, "unit": unit})


def app(name: str) -> Call:
    return Call(name="open_app", arguments={"app_name": name})


NONE = None
"""No call: no built-in tool does it (facts, chit-chat, reminders, apps ``open_app`` lacks)."""

Raw = tuple[str, Call | None]

# -- style "texting": lowercase, terse, typos, symbols, "pls", "rn" ---------------------------
TEXTING: tuple[Raw, ...] = (
    # calculate
    ("whats 15*8", calc("15 * 8")),
    ("1289+4471=?", calc("1289 + 4471")),
    ("2^12 pls", calc("2 ^ 12")),
    ("sqrt of 729", calc("sqrt(729)")),
    ("twelve times nine", calc("12 * 9")),
    ("wats 18% of 250", calc("18 / 100 * 250")),
    ("calc 999 minus 456", calc("999 - 456")),
    ("7 to the power of 3", calc("7 ** 3")),
    ("how much is 1000 divided by 8", calc("1000 / 8")),
    ("3.5 * 4.2 = ?", calc("3.5 * 4.2")),
    ("whats 4500/12", calc("4500 / 12")),
    ("250 + 125 + 75", calc("250 + 125 + 75")),
    ("(17+3)*5 ??", calc("(17 + 3) * 5")),
    ("half of 86", calc("86 / 2")),
    ("square root 2", calc("sqrt(2)")),
    ("fifteen plus twenty seven", calc("15 + 27")),
    ("100 - 37.5", calc("100 - 37.5")),
    ("9 x 13", calc("9 * 13")),
    ("wat is 25 percent of 640", calc("25 / 100 * 640")),
    ("6 squared", calc("6 ** 2")),
    ("can u do 81 divided by 9", calc("81 / 9")),
    ("2 to the 16th power", calc("2 ** 16")),
    # convert_currency
    ("50 bucks in euros", money(50, "USD", "EUR")),
    ("€80 to usd", money(80, "EUR", "USD")),
    ("how many yen is 20 dollars", money(20, "USD", "JPY")),
    ("convert 300 pesos to dollars", money(300, "MXN", "USD")),
    ("£45 in euro pls", money(45, "GBP", "EUR")),
    ("1000 rupees to pounds", money(1000, "INR", "GBP")),
    ("whats 60 swiss francs in usd", money(60, "CHF", "USD")),
    ("change 5000 yen into euros", money(5000, "JPY", "EUR")),
    ("how many aussie dollars for 100 usd", money(100, "USD", "AUD")),
    ("200 cad to usd rn", money(200, "CAD", "USD")),
    ("how much is 1 euro in dollars", money(1, "EUR", "USD")),
    ("15 quid to dollars", money(15, "GBP", "USD")),
    ("how many euros in 250 pounds", money(250, "GBP", "EUR")),
    ("90 usd to mxn", money(90, "USD", "MXN")),
    ("500 yuan in dollars", money(500, "CNY", "USD")),
    # convert_units
    ("how many km is 26.2 miles", units(26.2, "mile", "kilometer")),
    ("5 ft to cm", units(5, "foot", "centimeter")),
    ("70 kg in lbs", units(70, "kilogram", "pound")),
    ("100f in c", units(100, "fahrenheit", "celsius")),
    ("how many oz in 5 lbs", units(5, "pound", "ounce")),
    ("change 2 gallons into liters", units(2, "gallon", "liter")),
    ("25 c to f", units(25, "celsius", "fahrenheit")),
    ("how many cups in a liter", units(1, "liter", "cup")),
    ("55 mph to kph", units(55, "miles_per_hour", "kilometers_per_hour")),
    ("how many meters is 500 yards", units(500, "yard", "meter")),
    ("convert 12 inches to cm", units(12, "inch", "centimeter")),
    ("how many grams in 8 ounces", units(8, "ounce", "gram")),
    ("180 cm in feet", units(180, "centimeter", "foot")),
    ("300 kelvin to celsius", units(300, "kelvin", "celsius")),
    ("how many tbsp in 3 cups", units(3, "cup", "tablespoon")),
    ("10 knots in mph", units(10, "knot", "miles_per_hour")),
    ("2.5 tonnes to kg", units(2.5, "tonne", "kilogram")),
    ("how many ml is 2 tsp", units(2, "teaspoon", "milliliter")),
    ("1 mile in meters pls", units(1, "mile", "meter")),
    ("-40 f to c", units(-40, "fahrenheit", "celsius")),
    ("how many pints in 2 quarts", units(2, "quart", "pint")),
    # get_time
    ("time in tokyo?", clock("Tokyo")),
    ("whats the time in new york rn", clock("New York")),
    ("current time sydney", clock("Sydney")),
    ("wat time is it in rio de janeiro", clock("Rio de Janeiro")),
    ("time in LA pls", clock("Los Angeles")),
    ("what time is it in hong kong", clock("Hong Kong")),
    ("is it morning in london rn", clock("London")),
    ("clock in berlin?", clock("Berlin")),
    ("what time is it rn", clock()),
    # convert_timezone
    ("3pm in new york is what time in paris", shift("15:00", "New York", "Paris")),
    ("10am london = ? in dubai", shift("10:00", "London", "Dubai")),
    ("if its 8pm in la whats the time in sydney", shift("20:00", "Los Angeles", "Sydney")),
    ("convert 14:30 berlin time to new york", shift("14:30", "Berlin", "New York")),
    ("noon in tokyo in london time", shift("12:00", "Tokyo", "London")),
    ("6:45 in mumbai whats that in singapore", shift("06:45", "Mumbai", "Singapore")),
    ("11pm sydney time to chicago time", shift("23:00", "Sydney", "Chicago")),
    # get_weather (offline: the call must be made and its error stated)
    ("weather rome", weather("Rome")),
    ("is it gonna rain in seattle", weather("Seattle")),
    ("how hot is it in dubai rn", weather("Dubai")),
    ("temp in chicago in F", weather("Chicago", "fahrenheit")),
    ("do i need a jacket in amsterdam today", weather("Amsterdam")),
    ("weather new york pls", weather("New York")),
    ("hows the weather in rio de janeiro", weather("Rio de Janeiro")),
    ("is it snowing in oslo", weather("Oslo")),
    # open_app (waits for approval)
    ("open chrome", app("chrome")),
    ("launch firefox pls", app("firefox")),
    ("open terminal", app("terminal")),
    ("pull up the calc app", app("calculator")),
    ("open my files", app("files")),
    ("start notepad", app("notepad")),
    # no tool
    ("who wrote hamlet", NONE),
    ("tell me a joke", NONE),
    ("remind me to buy milk at 6", NONE),
    ("set an alarm for 6:30 tmrw", NONE),
    ("hey whats up", NONE),
    ("text sarah that im running late", NONE),
    ("play some lofi music", NONE),
    ("whats the capital of canada", NONE),
    ("how tall is mt everest", NONE),
    ("can u open spotify", NONE),  # open_app offers browser, chrome, firefox, calculator, ...
    ("order me a pizza", NONE),
    ("translate thank you to french", NONE),
    ("who won the super bowl last year", NONE),
    ("turn off the lights", NONE),
    ("whats the population of japan", NONE),
    ("thx!", NONE),
    ("how much is bitcoin rn", NONE),
)

# -- style "polite": whole sentences, varied structure, context around the request ------------
POLITE: tuple[Raw, ...] = (
    # calculate
    ("What is 48 multiplied by 12?", calc("48 * 12")),
    ("Could you work out 3,600 divided by 45 for me?", calc("3600 / 45")),
    ("I need the square root of 1,024, please.", calc("sqrt(1024)")),
    ("What do you get if you add 2,750 and 1,380?", calc("2750 + 1380")),
    ("Please calculate 15 percent of 84.", calc("15 / 100 * 84")),
    ("How much is seventy-five minus twenty-eight?", calc("75 - 28")),
    ("What is 3 to the power of 8?", calc("3 ** 8")),
    ("If I split a bill of 186 dollars among 6 people, how much does each person pay?",
     calc("186 / 6")),
    ("What's the result of (45 + 55) * 3?", calc("(45 + 55) * 3")),
    ("Would you compute 1.25 times 64?", calc("1.25 * 64")),
    ("Can you tell me what 2 raised to the 20th power is?", calc("2 ** 20")),
    ("What is 7 percent of 1,500?", calc("7 / 100 * 1500")),
    ("Subtract 389 from 1,000.", calc("1000 - 389")),
    ("Divide 540 by 18, please.", calc("540 / 18")),
    ("I'd like to know the sum of 128, 256 and 512.", calc("128 + 256 + 512")),
    ("What is one hundred and twenty divided by eight?", calc("120 / 8")),
    ("What is the cube of 9?", calc("9 ** 3")),
    ("How much is a third of 270?", calc("270 / 3")),
    ("Please multiply 23 by 47.", calc("23 * 47")),
    ("What's 12.5% of 80?", calc("12.5 / 100 * 80")),
    ("What is 1,000,000 divided by 250?", calc("1000000 / 250")),
    ("If I save 350 a month, how much will I have after 18 months?", calc("350 * 18")),
    # convert_currency
    ("How many Canadian dollars would I get for 75 euros?", money(75, "EUR", "CAD")),
    ("I have 120 British pounds. What is that in Japanese yen?", money(120, "GBP", "JPY")),
    ("Could you convert 2,500 Indian rupees into US dollars?", money(2500, "INR", "USD")),
    ("What are 40 Australian dollars worth in euros?", money(40, "AUD", "EUR")),
    ("Please tell me how much 10,000 yen is in Swiss francs.", money(10000, "JPY", "CHF")),
    ("How many US dollars is 330 Chinese yuan?", money(330, "CNY", "USD")),
    ("I'm travelling to Mexico; how many pesos will 150 dollars buy?",
     money(150, "USD", "MXN")),
    ("What is the value of 18 euros in pounds sterling?", money(18, "EUR", "GBP")),
    ("Change 64 Swiss francs into Canadian dollars, please.", money(64, "CHF", "CAD")),
    ("How much is $1,200 in Australian dollars?", money(1200, "USD", "AUD")),
    ("Convert 99 euros to Indian rupees.", money(99, "EUR", "INR")),
    ("If something costs 4,800 yen, how much is that in dollars?", money(4800, "JPY", "USD")),
    ("What would 35 pounds be in euros?", money(35, "GBP", "EUR")),
    ("How many euros make 500 Mexican pesos?", money(500, "MXN", "EUR")),
    ("Tell me what 7 US dollars comes to in Chinese yuan.", money(7, "USD", "CNY")),
    # convert_units
    ("How many miles are there in 10 kilometres?", units(10, "kilometer", "mile")),
    ("What is 98.6 degrees Fahrenheit in Celsius?", units(98.6, "fahrenheit", "celsius")),
    ("I weigh 11 stone. How much is that in kilograms?", units(11, "stone", "kilogram")),
    ("Could you convert 750 millilitres to fluid ounces?",
     units(750, "milliliter", "fluid_ounce")),
    ("My recipe calls for 250 grams of butter; how many ounces is that?",
     units(250, "gram", "ounce")),
    ("Please change 6 feet into meters.", units(6, "foot", "meter")),
    ("How many inches are in 2.5 meters?", units(2.5, "meter", "inch")),
    ("What is 20 metres per second in kilometres per hour?",
     units(20, "meters_per_second", "kilometers_per_hour")),
    ("The oven is set to 180 degrees Celsius. What is that in Fahrenheit?",
     units(180, "celsius", "fahrenheit")),
    ("How many litres does a 15-gallon tank hold?", units(15, "gallon", "liter")),
    ("Convert 400 metres to yards, please.", units(400, "meter", "yard")),
    ("How heavy is 160 pounds in kilograms?", units(160, "pound", "kilogram")),
    ("What is 5,000 milligrams in grams?", units(5000, "milligram", "gram")),
    ("How many nautical miles are 100 kilometres?", units(100, "kilometer", "nautical_mile")),
    ("Tell me how many teaspoons are in 2 tablespoons.", units(2, "tablespoon", "teaspoon")),
    ("Convert 0 kelvin to degrees Fahrenheit.", units(0, "kelvin", "fahrenheit")),
    ("A ship is sailing at 22 knots. How fast is that in kilometres per hour?",
     units(22, "knot", "kilometers_per_hour")),
    ("I ran 8 kilometres this morning; how far is that in miles?",
     units(8, "kilometer", "mile")),
    ("How many centimetres are in 9 inches?", units(9, "inch", "centimeter")),
    ("Would you convert 2 quarts to milliliters?", units(2, "quart", "milliliter")),
    ("What's 350 degrees Fahrenheit in Celsius? I'm baking bread.",
     units(350, "fahrenheit", "celsius")),
    # get_time
    ("What time is it in Buenos Aires right now?", clock("Buenos Aires")),
    ("Could you tell me the current time in Mexico City?", clock("Mexico City")),
    ("I need to call a colleague in Singapore. What time is it there?", clock("Singapore")),
    ("What's the local time in Cape Town?", clock("Cape Town")),
    ("Do you know what time it is in San Francisco at the moment?", clock("San Francisco")),
    ("Please give me the current date and time in New Delhi.", clock("New Delhi")),
    ("What time is it over in Moscow?", clock("Moscow")),
    ("Is it already evening in Seoul?", clock("Seoul")),
    # convert_timezone
    ("If it is 4 pm in Sydney, what time is it in Los Angeles?",
     shift("16:00", "Sydney", "Los Angeles")),
    ("Our meeting is at 11:00 in Chicago. What time will that be in Berlin?",
     shift("11:00", "Chicago", "Berlin")),
    ("Please convert 18:00 Tokyo time to Rio de Janeiro time.",
     shift("18:00", "Tokyo", "Rio de Janeiro")),
    ("When it is 9:30 in the morning in Paris, what time is it in Hong Kong?",
     shift("09:30", "Paris", "Hong Kong")),
    ("What time is 5 pm London time in New York?", shift("17:00", "London", "New York")),
    ("I land in Madrid at 7:15 local time. What time is that in Toronto?",
     shift("07:15", "Madrid", "Toronto")),
    ("Convert 22:00 in Dubai to the time in Sao Paulo, please.",
     shift("22:00", "Dubai", "Sao Paulo")),
    ("A webinar starts at 1 pm in Los Angeles. What time is that in Kuala Lumpur?",
     shift("13:00", "Los Angeles", "Kuala Lumpur")),
    # get_weather (offline: the call must be made and its error stated)
    ("What is the weather like in Vienna today?", weather("Vienna")),
    ("Could you check the current temperature in Toronto in Fahrenheit?",
     weather("Toronto", "fahrenheit")),
    ("Is it sunny in Barcelona at the moment?", weather("Barcelona")),
    ("I'm flying to Lisbon tonight. What's the weather there?", weather("Lisbon")),
    ("How cold is it in Moscow right now, in Celsius?", weather("Moscow")),
    ("Will I need an umbrella in Dublin this afternoon?", weather("Dublin")),
    ("Please tell me the weather conditions in Los Angeles.", weather("Los Angeles")),
    ("What is the temperature in Buenos Aires in degrees Fahrenheit?",
     weather("Buenos Aires", "fahrenheit")),
    # open_app (waits for approval)
    ("Could you open the web browser for me?", app("browser")),
    ("Please launch Google Chrome.", app("chrome")),
    ("I'd like to write a quick note; can you open a text editor?", app("notepad")),
    ("Open the file manager, please.", app("files")),
    ("Would you start a terminal window?", app("terminal")),
    ("Please start Firefox so I can check something.", app("firefox")),
    # no tool
    ("Who painted the Mona Lisa?", NONE),
    ("Could you remind me to call the dentist tomorrow at 9?", NONE),
    ("Please send an email to my manager saying I will be late.", NONE),
    ("What does the word 'ephemeral' mean?", NONE),
    ("Can you recommend a good science fiction novel?", NONE),
    ("How do I make a cup of green tea?", NONE),
    ("Good morning! How are you today?", NONE),
    ("Please book a table for two at an Italian restaurant tonight.", NONE),
    ("What year did the Second World War end?", NONE),
    ("Could you summarise the plot of Romeo and Juliet?", NONE),
    ("Please add eggs and bread to my shopping list.", NONE),
    ("At what temperature does water boil at sea level?", NONE),
    ("How far is the Moon from the Earth?", NONE),
    ("Please open Spotify and play my workout playlist.", NONE),  # not an app open_app knows
    ("Thank you very much for your help.", NONE),
    ("What is the stock price of Apple today?", NONE),
    ("Can you schedule a meeting with Tom on Friday at 3 pm?", NONE),
    ("Who is the current president of France?", NONE),
)

Turn = tuple[str, Call | None] | tuple[str, Call | None, tuple[Call, ...]]

# -- conversations ---------------------------------------------------------------------------
TEXTING_CONVERSATIONS: tuple[tuple[Turn, ...], ...] = (
    (("time in tokyo rn", clock("Tokyo")), ("and london?", clock("London")),
     ("paris?", clock("Paris"))),
    (("5 miles in km", units(5, "mile", "kilometer")),
     ("and 13?", units(13, "mile", "kilometer"))),
    (("100 usd to eur", money(100, "USD", "EUR")), ("and to yen?", money(100, "USD", "JPY"),
                                                    (money(THAT, "EUR", "JPY"),))),
    (("whats 144/12", calc("144 / 12")), ("times 5?", calc("144 / 12 * 5"))),
    (("weather in paris", weather("Paris")), ("and in F?", weather("Paris", "fahrenheit"))),
    (("30 c to f", units(30, "celsius", "fahrenheit")),
     ("now in kelvin", units(30, "celsius", "kelvin"))),
    (("3pm london in nyc time", shift("15:00", "London", "New York")),
     ("and in tokyo?", shift("15:00", "London", "Tokyo"))),
    (("20% of 150", calc("20 / 100 * 150")), ("and of 300?", calc("20 / 100 * 300"))),
    (("50 quid in dollars", money(50, "GBP", "USD")),
     ("what about 80 of them", money(80, "GBP", "USD"))),
    (("how many lbs is 80 kg", units(80, "kilogram", "pound")),
     ("and 65?", units(65, "kilogram", "pound"))),
    (("whats the time in sydney", clock("Sydney")), ("hows the weather there", weather("Sydney"))),
    (("2 cups to ml", units(2, "cup", "milliliter")), ("ok cool ty", NONE)),
)

POLITE_CONVERSATIONS: tuple[tuple[Turn, ...], ...] = (
    (("What time is it in Chicago?", clock("Chicago")),
     ("And what about Mumbai?", clock("Mumbai"))),
    (("Could you convert 250 euros into US dollars?", money(250, "EUR", "USD")),
     ("And how much would that be in Japanese yen?", money(250, "EUR", "JPY"),
      (money(THAT, "USD", "JPY"),))),
    (("How many kilometres are 3 miles?", units(3, "mile", "kilometer")),
     ("What about 10 miles?", units(10, "mile", "kilometer")),
     ("And in metres?", units(10, "mile", "meter"))),
    (("What is 15 multiplied by 24?", calc("15 * 24")),
     ("Now divide that by 8, please.", calc("15 * 24 / 8"))),
    (("What's the weather like in Edinburgh?", weather("Edinburgh")),
     ("And in Glasgow?", weather("Glasgow"))),
    (("If it is 8 am in Los Angeles, what time is it in London?",
      shift("08:00", "Los Angeles", "London")),
     ("And in Singapore?", shift("08:00", "Los Angeles", "Singapore"))),
    (("Please convert 68 degrees Fahrenheit to Celsius.", units(68, "fahrenheit", "celsius")),
     ("What about 86 degrees?", units(86, "fahrenheit", "celsius"))),
    (("How much is 500 Mexican pesos in US dollars?", money(500, "MXN", "USD")),
     ("And 2,000 pesos?", money(2000, "MXN", "USD"))),
    (("What is the square root of 196?", calc("sqrt(196)")),
     ("And the square root of 625?", calc("sqrt(625)"))),
    (("How many grams are in 12 ounces?", units(12, "ounce", "gram")),
     ("And how many kilograms is that?", units(12, "ounce", "kilogram"),
      (units(THAT, "gram", "kilogram"),))),
    (("Could you tell me the time in Berlin?", clock("Berlin")),
     ("Thanks. Is it warm there right now?", weather("Berlin"))),
    (("Convert 40 Canadian dollars to euros, please.", money(40, "CAD", "EUR")),
     ("Thank you, that's all I needed.", NONE)),
)


# -- the split ----------------------------------------------------------------------------------
def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def held_out(items: Sequence[tuple[Hashable, str]]) -> list[bool]:
    """Which of ``items`` (group, text) are held out: within each group, in order, each run of
    three gives the one with the lowest SHA-256 of its text (a last run of two gives one, a
    last run of one none)."""
    groups: dict[Hashable, list[int]] = {}
    for i, (group, _) in enumerate(items):
        groups.setdefault(group, []).append(i)
    chosen = [False] * len(items)
    for members in groups.values():
        for start in range(0, len(members), 3):
            run = members[start:start + 3]
            if len(run) > 1:
                chosen[min(run, key=lambda i: _digest(items[i][1]))] = True
    return chosen


def _sentences() -> tuple[Case, ...]:
    cases = [Case(sentence=s, expected=call, style=style)
             for style, block in (("texting", TEXTING), ("polite", POLITE))
             for s, call in block]
    flags = held_out([((c.tool, c.style), c.sentence) for c in cases])
    return tuple(replace(c, split="heldout") if f else c for c, f in zip(cases, flags, strict=True))


def _turn(raw: Turn, style: Style) -> Case:
    also = raw[2] if len(raw) == 3 else ()
    return Case(sentence=raw[0], expected=raw[1], also=also, style=style)


def _conversations() -> tuple[Conversation, ...]:
    found = [Conversation(turns=tuple(_turn(t, style) for t in turns), style=style)
             for style, block in (("texting", TEXTING_CONVERSATIONS),
                                  ("polite", POLITE_CONVERSATIONS))
             for turns in block]
    flags = held_out([(c.tool, " / ".join(t.sentence for t in c.turns)) for c in found])
    return tuple(
        replace(c, split="heldout", turns=tuple(replace(t, split="heldout") for t in c.turns))
        if f else c
        for c, f in zip(found, flags, strict=True)
    )


SENTENCES: tuple[Case, ...] = _sentences()
CONVERSATIONS: tuple[Conversation, ...] = _conversations()
