"""Everyday sentences (issue 22) on the embedded model: the right call, the right number, and
no number from nowhere.

    .venv/bin/python -m bench.everyday [--split tune|heldout|all] [--limit N] [--json out.json]
                                       [--model local:smollm2-135m]

One warm engine (the built-in tools, the embedded SmolLM2-135M; the weather service down and
no display, as in ``bench/engine_e2e.py``) runs every sentence of ``bench/everyday_sentences.py``
once, and every conversation turn by turn: a later turn gets the earlier ones as ``history``,
built as the service builds it from stored turns (``toolwire.store.history.turn_messages``:
the user's sentence, the calls and their results, the answer) and cut to the model's context
(``toolwire.service.context.fit_to_context``). Each run is right when all of these hold:

- **call**: the expected call (or none), compared as ``bench/bar.py`` does (an argument left
  out is its schema default, numbers within a cent, strings in any case), after the tool's own
  normalisation ("miles" is ``mile``); a calculation by its value (``12*7`` and ``7 * 12`` are
  one call; a bare number is not a calculation); a time zone by the zone it names ("LA" and
  "Los Angeles"), a time by its time of day, a city before any ", country". The outcome too:
  the weather call's "unreachable" error offline, ``open_app`` waiting for approval.
- **number**: the answer states the result (rounding to fewer places is fine): the number the
  expected call returns when dispatched through the registry; for the clock tools the time
  (HH:MM) the call returned.
- **grounded**: every number of the answer is found in the sentence (digits or words), the
  call's arguments, result or error, at any depth (``toolwire.grounding``).
- **echo**: the answer is not the sentence said back (``echoes``).
- **error**: a weather answer says the service failed (it never invents weather).

Printed: right per tool and per style, tune beside held-out; the failures with what came back;
p50/p90 seconds per run; how many no-tool answers say that no tool serves (issue 22, Must 4:
counted, not scored). The last line is the summary as JSON; ``--json`` writes it with every
run's details. ``--limit N`` runs N sentences and N conversations of the split, spread evenly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from functools import cache
from types import SimpleNamespace
from typing import Any, TypeVar

from bench.bar import with_defaults
from bench.everyday_sentences import CONVERSATIONS, SENTENCES, THAT, Call, Case, Conversation
from bench.stats import percentile, table
from toolwire.grounding import sources, stated, ungrounded

GOAL_TUNE = 0.95
"""Right share the tune part must reach (issue 22)."""
GOAL_HELDOUT = 0.90
CHECKS = ("call", "number", "grounded", "echo", "error")
CLOCKS = ("get_time", "convert_timezone")
ZONE_ARGUMENTS = ("timezone", "from_timezone", "to_timezone")
T = TypeVar("T")


# -- what a case must produce ------------------------------------------------------------------
@dataclass(kw_only=True)
class Want:
    """One accepted call, with what dispatching it through the registry gave."""

    name: str
    arguments: dict[str, Any]
    status: str
    result: Any = None
    error: dict[str, Any] | None = None


async def wants(registry: Any, case: Case, previous: Any) -> list[Want]:
    """The calls ``case`` accepts, each dispatched; ``previous`` replaces ``THAT``."""
    from toolwire.tools.dispatch import dispatch

    found: list[Want] = []
    for call in (case.expected, *case.also) if case.expected else ():
        arguments = {k: _that(v, previous) for k, v in call.arguments.items()}
        outcome = await dispatch(registry, call.name, arguments)
        found.append(Want(name=call.name, arguments=arguments, status=outcome.status,
                          result=outcome.result, error=outcome.error))
    return found


def _that(value: Any, previous: Any) -> Any:
    if value != THAT:
        return value
    return round(previous, 2) if isinstance(previous, int | float) else previous


# -- comparing calls -----------------------------------------------------------------------------
def call_problems(wanted: list[Want], calls: list[Mapping[str, Any]],
                  registry: Any) -> tuple[list[str], Want | None]:
    """What is wrong with ``calls`` ([] if right) and the accepted call they match."""
    if not wanted:
        return ([f"expected no call, got {_names(calls)}"] if calls else []), None
    if len(calls) != 1:
        return [f"expected one call to {wanted[0].name}, got {_names(calls)}"], None
    call = calls[0]
    if call["name"] not in {w.name for w in wanted}:
        return [f"called {call['name']} instead of {wanted[0].name}"], None
    tool = registry.get(call["name"])
    match = next((w for w in wanted if w.name == call["name"]
                  and same_arguments(tool, call["arguments"], w.arguments)), None)
    if match is None:
        return [f"arguments {call['arguments']} instead of {wanted[0].arguments}"], None
    return _outcome_problems(match, call), match


def _names(calls: list[Mapping[str, Any]]) -> list[str]:
    return [c["name"] for c in calls]


def _outcome_problems(want: Want, call: Mapping[str, Any]) -> list[str]:
    if want.name == "get_weather":
        message = str((call.get("error") or {}).get("message", ""))
        return [] if "unreachable" in message else [
            f"expected the weather service's 'unreachable' error, got status "
            f"{call.get('status')!r} error={call.get('error')!r}"]
    if call.get("status") != want.status:
        return [f"status {call.get('status')!r} instead of {want.status!r} "
                f"(error {call.get('error')!r})"]
    if want.name == "get_time" or want.status != "ok":
        return []  # the clock moves; other statuses carry no result
    if not _same(call.get("result"), want.result):
        return [f"result {call.get('result')!r} instead of {want.result!r}"]
    return []


def same_arguments(tool: Any, got: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    """Whether ``got`` and ``want`` are one call of ``tool``: normalised by the tool, an
    argument left out as its schema default, each value by its kind (see the module doc)."""
    got = with_defaults(tool.normalized(dict(got)), tool.parameters)
    want = with_defaults(tool.normalized(dict(want)), tool.parameters)
    if set(got) != set(want):
        return False
    return all(_same_argument(tool.name, k, got[k], want[k]) for k in want)


def _same_argument(tool: str, name: str, got: Any, want: Any) -> bool:
    if tool == "calculate" and name == "expression":
        return _same_calculation(got, want)
    if name in ZONE_ARGUMENTS:
        return isinstance(got, str) and same_zone(got, want)
    if name == "time":
        return isinstance(got, str) and _same_time(got, want)
    if name == "city":
        return isinstance(got, str) and _place(got) == _place(want)
    return _same(got, want)


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float | int) and not isinstance(want, bool):
        return (isinstance(got, float | int) and not isinstance(got, bool)
                and math.isclose(got, want, abs_tol=0.0051))
    if isinstance(want, str) and isinstance(got, str):
        return got.strip().casefold() == want.strip().casefold()
    return bool(got == want)


_BARE_NUMBER = re.compile(r"\s*[-+]?\d[\d,]*(?:\.\d+)?\s*")


def _same_calculation(got: Any, want: str) -> bool:
    """Same value, and ``got`` computes something (not a bare, guessed number)."""
    from toolwire.builtin.calculator import CalculatorError, calculate

    if not isinstance(got, str) or _BARE_NUMBER.fullmatch(got):
        return False
    try:
        return math.isclose(calculate(got), calculate(want), rel_tol=1e-9, abs_tol=1e-9)
    except CalculatorError:
        return False


def _place(city: str) -> str:
    return " ".join(city.split(",")[0].split()).casefold()


@cache
def same_zone(got: str, want: str) -> bool:
    """Whether two names are one time zone: the same IANA key, or the same UTC offset every
    day since 1970 (IANA keeps apart only zones that differ since then: "Singapore" and
    "Asia/Singapore" are one, Berlin and Paris two)."""
    from toolwire.builtin.clock import ClockError, zone

    try:
        first, second = zone(got), zone(want)
    except ClockError:
        return False
    key = getattr(first, "key", None)
    if key is not None and key == getattr(second, "key", None):
        return True
    start = datetime(1970, 1, 1, 12, tzinfo=UTC)
    days = (datetime(2036, 1, 1, tzinfo=UTC) - start).days
    instants = (start + timedelta(days=d) for d in range(days))
    return all(t.astimezone(first).utcoffset() == t.astimezone(second).utcoffset()
               for t in instants)


def _same_time(got: str, want: str) -> bool:
    """The same time of day (and the same date when both give one)."""
    a, b = _moment(got), _moment(want)
    if a is None or b is None:
        return False
    (day_a, time_a), (day_b, time_b) = a, b
    return time_a == time_b and (day_a is None or day_b is None or day_a == day_b)


def _moment(text: str) -> tuple[date | None, clock_time] | None:
    try:
        moment = datetime.fromisoformat(text.strip())
        return moment.date(), moment.time().replace(tzinfo=None)
    except ValueError:
        pass
    try:
        return None, clock_time.fromisoformat(text.strip()).replace(tzinfo=None)
    except ValueError:
        return None


# -- the answer --------------------------------------------------------------------------------
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})(?::\d{2})?(?:\s*([ap])\.?\s?m\b\.?)?|\b(\d{1,2})\s*([ap])\.?\s?m\b",
                   re.IGNORECASE)
_FAILED = re.compile(
    r"unreachable|could\s?n[o']?t|can\s?n[o']?t|unable|not available|unavailable|error|fail"
    r"|\bdown\b|offline|no (?:network|connection)", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9']+")
_DECLINES = re.compile(
    r"no tool|can\s?n[o']?t|cannot|unable|not able|do(?:n't| not) have|not available",
    re.IGNORECASE)
"""What an answer that says no tool serves the sentence holds (counted, not scored)."""


def ungrounded_numbers(answer: str, sentence: str, calls: list[Any]) -> list[str]:
    """The numbers written in ``answer`` that neither ``sentence`` (digits or number words)
    nor any call's name, arguments, result or error holds, at any depth; a number rounded
    from a source counts as that source ("132" for 131.95): ``toolwire.grounding``'s rule."""
    return ungrounded(answer, sources(sentence, calls))


def states_number(answer: str, value: float) -> bool:
    """Whether ``answer`` writes ``value``, exactly or rounded to fewer places."""
    return stated(answer, Decimal(repr(float(value))))


def times_in(answer: str) -> set[tuple[int, int]]:
    """The times of day ``answer`` writes, as (hour on 24 h, minute): "19:45", "7:45 pm", "7pm"."""
    found = set()
    for m in _TIME.finditer(answer):
        hour, minute, half = ((m.group(1), m.group(2), m.group(3)) if m.group(1)
                              else (m.group(4), "0", m.group(5)))
        hour_24 = int(hour) % 12 + (12 if half.lower() == "p" else 0) if half else int(hour)
        found.add((hour_24, int(minute)))
    return found


def states_time(answer: str, iso: Any) -> bool:
    try:
        moment = datetime.fromisoformat(str(iso))
    except ValueError:
        return False
    return (moment.hour, moment.minute) in times_in(answer)


def echoes(answer: str, sentence: str) -> bool:
    """Whether ``answer`` is ``sentence`` said back: a run of its words, in order, that is at
    least 80 % of the sentence (of three words or more) and 75 % of the answer. Restating the
    question around a result ("The result of 2 to the 16th power is 65536.") is not an echo."""
    said, asked = _WORD.findall(answer.casefold()), _WORD.findall(sentence.casefold())
    if len(asked) < 3:
        return False
    longest = _longest_common_run(said, asked)
    return longest >= 0.8 * len(asked) and longest >= 0.75 * len(said)


def _longest_common_run(a: Sequence[str], b: Sequence[str]) -> int:
    best, previous = 0, [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


# -- one run -----------------------------------------------------------------------------------
@dataclass(kw_only=True)
class Outcome:
    """One sentence (or conversation turn) run once, and how it scored."""

    case: Case
    conversation: int | None = None
    """The conversation's index in ``CONVERSATIONS``; ``None`` for a single sentence."""
    turn: int = 0
    calls: list[dict[str, Any]] = field(default_factory=list)
    answer: str = ""
    seconds: float = 0.0
    problems: dict[str, list[str]] = field(default_factory=dict)
    """Per check (``CHECKS``), what is wrong; a check not listed does not apply."""
    expected_result: Any = None

    @property
    def right(self) -> bool:
        return not any(self.problems.values())

    def passed(self, check: str) -> bool | None:
        """Whether ``check`` passed; ``None`` where it does not apply."""
        return None if check not in self.problems else not self.problems[check]

    def summary(self) -> dict[str, Any]:
        return {
            "sentence": self.case.sentence, "tool": self.case.tool, "style": self.case.style,
            "split": self.case.split, "conversation": self.conversation, "turn": self.turn,
            "right": self.right, "problems": {k: v for k, v in self.problems.items() if v},
            "expected": _call_text(self.case.expected), "expected_result": self.expected_result,
            "calls": [{k: c.get(k) for k in ("name", "arguments", "status", "result", "error")}
                      for c in self.calls],
            "answer": self.answer, "seconds": round(self.seconds, 4),
        }


def _call_text(call: Call | None) -> str:
    if call is None:
        return "no call"
    return f"{call.name}({', '.join(f'{k}={v!r}' for k, v in call.arguments.items())})"


def score(outcome: Outcome, wanted: list[Want], run: Any, registry: Any) -> None:
    """Fill ``outcome.problems`` for ``run`` against the accepted calls ``wanted``."""
    case, answer = outcome.case, run.answer or ""
    problems, match = call_problems(wanted, outcome.calls, registry)
    outcome.problems["call"] = problems
    shown = ungrounded_numbers(answer, case.sentence, list(run.calls))
    outcome.problems["grounded"] = [f"ungrounded {', '.join(shown)}"] if shown else []
    outcome.problems["echo"] = ["the answer echoes the sentence"] if echoes(
        answer, case.sentence) else []
    if not wanted:
        return
    want = match or wanted[0]
    if case.tool == "get_weather":
        outcome.problems["error"] = [] if _FAILED.search(answer) else [
            "the answer does not say the weather service failed"]
    elif case.tool in CLOCKS:
        result = outcome.calls[0].get("result") if match and outcome.calls else want.result
        outcome.expected_result = result
        outcome.problems["number"] = [] if states_time(answer, result) else [
            f"the answer does not state the time {str(result)[11:16]}"]
    elif want.status == "ok" and isinstance(want.result, int | float):
        outcome.expected_result = want.result
        outcome.problems["number"] = [] if states_number(answer, want.result) else [
            f"the answer does not state {want.result:.10g}"]


async def run_case(engine: Any, case: Case, *, previous: Any = None,
                   history: list[Any] | None = None) -> tuple[Outcome, Any]:
    """Run ``case`` (after ``history``) once and score it; the outcome and the run."""
    wanted = await wants(engine.registry, case, previous)
    started = time.perf_counter()
    run = await engine.arun(case.sentence, history=history)
    outcome = Outcome(case=case, seconds=time.perf_counter() - started, answer=run.answer or "",
                      calls=[c.to_dict() for c in run.calls])
    score(outcome, wanted, run, engine.registry)
    if outcome.expected_result is None and wanted and wanted[0].status == "ok":
        outcome.expected_result = wanted[0].result
    return outcome, run


def turn_history(engine: Any, history: list[Any], run: Any, question: str) -> list[Any]:
    """``history`` with the finished turn ``run`` added as the service stores and reads it back
    (``turn_messages``), cut as it cuts it before asking ``question``."""
    from toolwire.service.context import fit_to_context
    from toolwire.store.history import turn_messages

    calls = [SimpleNamespace(call_id=c.id, name=c.name, arguments=c.arguments, result=c.result,
                             error=c.error) for c in run.calls]
    turn = turn_messages(SimpleNamespace(content=run.prompt),
                         SimpleNamespace(content=run.answer), calls)
    return fit_to_context(engine, [*history, *turn], question=question)


async def run_conversation(engine: Any, index: int, conversation: Conversation) -> list[Outcome]:
    """Each turn with the earlier ones as history; ``THAT`` is the previous expected result."""
    outcomes: list[Outcome] = []
    history: list[Any] = []
    previous: Any = None
    for turn, case in enumerate(conversation.turns):
        outcome, run = await run_case(engine, case, previous=previous, history=history)
        outcome.conversation, outcome.turn = index, turn
        outcomes.append(outcome)
        previous = outcome.expected_result
        if turn + 1 < len(conversation.turns):
            history = turn_history(engine, history, run, conversation.turns[turn + 1].sentence)
    return outcomes


async def evaluate(engine: Any, sentences: Sequence[Case],
                   conversations: Sequence[tuple[int, Conversation]],
                   progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Every sentence, then every conversation (with its index in ``CONVERSATIONS``)."""
    outcomes: list[Outcome] = []
    for case in sentences:
        outcome, _ = await run_case(engine, case)
        outcomes.append(outcome)
        if progress:
            progress(outcome)
    for index, conversation in conversations:
        for outcome in await run_conversation(engine, index, conversation):
            outcomes.append(outcome)
            if progress:
                progress(outcome)
    return outcomes


def select(split: str, limit: int | None = None
           ) -> tuple[list[Case], list[tuple[int, Conversation]]]:
    """The sentences and (indexed) conversations of ``split`` (``all``: both), at most
    ``limit`` of each, spread evenly over the fixture."""
    sentences = [c for c in SENTENCES if split in ("all", c.split)]
    conversations = [(i, c) for i, c in enumerate(CONVERSATIONS) if split in ("all", c.split)]
    return _spread(sentences, limit), _spread(conversations, limit)


def _spread(items: list[T], limit: int | None) -> list[T]:
    if limit is None or limit >= len(items):
        return items
    return [items[i * len(items) // limit] for i in range(limit)]


# -- the report --------------------------------------------------------------------------------
def share(outcomes: Iterable[Outcome]) -> float:
    """Right share of ``outcomes`` (NaN when none)."""
    done = list(outcomes)
    return sum(o.right for o in done) / len(done) if done else math.nan


def _group_row(label: str, outcomes: list[Outcome]) -> list[Any]:
    tune = [o for o in outcomes if o.case.split == "tune"]
    held = [o for o in outcomes if o.case.split == "heldout"]
    row: list[Any] = [label, f"{sum(o.right for o in tune)}/{len(tune)}",
                      f"{sum(o.right for o in held)}/{len(held)}", _pct(share(outcomes))]
    for check in CHECKS:
        applied = [p for o in outcomes if (p := o.passed(check)) is not None]
        row.append(f"{sum(applied)}/{len(applied)}" if applied else "-")
    return row


def _pct(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{100 * value:.0f}%"


def _rounded(value: float) -> float | None:
    """``value`` to 4 places; ``None`` for NaN (no run), which JSON cannot hold."""
    return None if math.isnan(value) else round(value, 4)


def _groups(outcomes: list[Outcome], key: Callable[[Outcome], str]) -> dict[str, list[Outcome]]:
    grouped: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        grouped.setdefault(key(outcome), []).append(outcome)
    return grouped


def _kind(outcome: Outcome) -> str:
    if outcome.conversation is None:
        return "sentence"
    return "first turn" if outcome.turn == 0 else "follow-up"


def report(outcomes: list[Outcome], *, model: str, load_s: float, split: str,
           limit: int | None) -> dict[str, Any]:
    seconds = [o.seconds for o in outcomes]
    by_split = _groups(outcomes, lambda o: o.case.split)
    conversations = _groups([o for o in outcomes if o.conversation is not None],
                            lambda o: str(o.conversation))
    no_tool = [o for o in outcomes if o.case.expected is None]
    return {
        "bench": "everyday",
        "model": model,
        "split": split,
        "limit": limit,
        "grounding": "toolwire.grounding",
        "load_s": round(load_s, 3),
        "runs": len(outcomes),
        "right": sum(o.right for o in outcomes),
        "right_share": _rounded(share(outcomes)),
        "tune_share": _rounded(share(by_split.get("tune", []))),
        "heldout_share": _rounded(share(by_split.get("heldout", []))),
        "conversations_right": sum(all(o.right for o in c) for c in conversations.values()),
        "conversations": len(conversations),
        "p50_s": _rounded(percentile(seconds, 50)),
        "p90_s": _rounded(percentile(seconds, 90)),
        "no_tool_declined": [sum(bool(_DECLINES.search(o.answer)) for o in no_tool),
                             len(no_tool)],
        "checks": {check: [sum(p for o in outcomes if (p := o.passed(check)) is not None),
                           sum(o.passed(check) is not None for o in outcomes)]
                   for check in CHECKS},
        "goals": {"tune_share": GOAL_TUNE, "heldout_share": GOAL_HELDOUT},
        "tables": {
            "tool": {k: _group_row(k, v)[1:] for k, v in _groups(outcomes, lambda o: o.case.tool).items()},
            "style": {k: _group_row(k, v)[1:] for k, v in _groups(outcomes, lambda o: o.case.style).items()},
            "kind": {k: _group_row(k, v)[1:] for k, v in _groups(outcomes, _kind).items()},
        },
        "failures": [o.summary() for o in outcomes if not o.right],
    }


def print_report(data: dict[str, Any]) -> None:
    headers = ["", "tune", "heldout", "right", *CHECKS]
    limit = "" if data["limit"] is None else f", limit {data['limit']}"
    print(f"everyday sentences: {data['model']}, split {data['split']}{limit}; "
          f"load {data['load_s']:.2f} s; grounding by {data['grounding']}")
    for name in ("tool", "style", "kind"):
        rows = [[k, *v] for k, v in sorted(data["tables"][name].items())]
        print()
        print(table([name, *headers[1:]], rows))
    print()
    print(f"failures ({len(data['failures'])}):")
    for f in data["failures"]:
        where = "" if f["conversation"] is None else f" [conversation {f['conversation']}, turn {f['turn']}]"
        print(f"- [{f['split']}/{f['style']}/{f['tool']}]{where} {f['sentence']!r}")
        print(f"    expected {f['expected']}"
              + ("" if f["expected_result"] is None else f" -> {f['expected_result']!r}"))
        for call in f["calls"]:
            outcome = call["result"] if call["error"] is None else call["error"].get("message")
            print(f"    called   {call['name']}({call['arguments']}) {call['status']}: "
                  f"{str(outcome)[:100]}")
        print(f"    answer   {f['answer'][:200]!r}")
        for check, problems in f["problems"].items():
            print(f"    {check}: {'; '.join(problems)[:200]}")
    print()
    checks = ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in data["checks"].items())
    print(f"right: {data['right']}/{data['runs']} ({_pct(data['right_share'])}); "
          f"tune {_pct(data['tune_share'])} (goal ≥ {GOAL_TUNE:.0%}), "
          f"held-out {_pct(data['heldout_share'])} (goal ≥ {GOAL_HELDOUT:.0%}); "
          f"conversations all right {data['conversations_right']}/{data['conversations']}")
    print(f"checks passed: {checks}")
    declined, no_tool = data["no_tool_declined"]
    print(f"no-tool answers that say no tool serves (counted, not scored): {declined}/{no_tool}")
    print(f"seconds per run: p50 {data['p50_s']:.3f}, p90 {data['p90_s']:.3f}")


def _progress(total: int) -> Callable[[Outcome], None]:
    done = [0]

    def show(outcome: Outcome) -> None:
        done[0] += 1
        mark = "ok" if outcome.right else "NO"
        print(f"  {done[0]:>3}/{total} {mark} {outcome.seconds:5.2f} s  {outcome.case.sentence}",
              file=sys.stderr, flush=True)

    return show


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("tune", "heldout", "all"), default="all")
    parser.add_argument("--limit", type=int, default=None,
                        help="at most N sentences and N conversations, spread evenly")
    parser.add_argument("--json", dest="json_path", default=None,
                        help="write the report with every run's details to this file")
    parser.add_argument("--model", default=None, help="model string (default: the embedded one)")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    from bench.engine_e2e import make_engine

    setup = make_engine(args.model)
    sentences, conversations = select(args.split, args.limit)
    total = len(sentences) + sum(len(c.turns) for _, c in conversations)
    outcomes = asyncio.run(evaluate(setup.engine, sentences, conversations, _progress(total)))
    data = report(outcomes, model=setup.engine.model.name, load_s=setup.load_s,
                  split=args.split, limit=args.limit)
    data["runs_detail"] = [o.summary() for o in outcomes]
    if args.json_path:
        with open(args.json_path, "w") as out:
            json.dump(data, out, indent=1, default=str)
    print_report(data)
    summary = {k: v for k, v in data.items() if k not in ("failures", "runs_detail", "tables")}
    print(json.dumps(summary, default=str))
    return data


if __name__ == "__main__":
    main()
