"""What each staged rule is worth: BFCL's tuning split, the default run next to the same run with
one rule off, question by question, with a paired 95 % interval.

    .venv/bin/python -m bench.ablate [--limit 60] [--rules quoted_passages,number_priors]
                                     [--verify 2] [--out docs/ablation.json]
    .venv/bin/python -m bench.ablate --everyday [--rules ...]   # the everyday sentences
    .venv/bin/python -m bench.ablate --markdown                  # the docs' table

The questions are a seeded sample of ``--limit`` per category from the *tuning* split (a fifth
of every category, never part of the reported figures; the whole of it where a category's
fifth is smaller). Every configuration answers with the staged strategy, scored by bfcl-eval's
checker.

The run is deterministic (temperature 0), so a rule can only change a question it *fired* on
(a hook of it gave a non-neutral answer: ``toolwire.strategies.staged.rules.tracing``). The
default run records which rules fired per question; a rule-off configuration re-answers only
those questions, and the others count as unchanged. ``--verify N`` checks that claim: for each
rule, N questions it did not fire on are re-answered with it off and must come out the same.
The gate, settlers and splitters fire too: ``strategy.py`` asks them of the rule table
(``StagedRules.decide``), which traces them.

Printed per rule: the questions it gains (right with it, wrong without) and loses, the points
it adds per category (default minus rule off), and its net worth in questions with a paired
bootstrap 95 % interval (questions resampled within each category). The JSON, with every
question's result and fired rules, is saved to ``--out`` after each rule (a partial run is
kept) and its default run is reused by a later run with the same questions.

``--everyday`` measures the same on the everyday sentences' *tune* split (``bench/everyday.py``,
issue 22; its held-out third is never run here): every tune sentence and every tune
conversation, answered by ``bench.everyday``'s warm engine with all rules on, then, for each
rule, the sentences and conversations it fired on re-answered with it off (a conversation is
re-answered whole: its later turns read the earlier ones). A run (a sentence or a turn) counts
as right as ``bench.everyday`` scores it. Saved under the JSON's ``everyday`` key; the interval
resamples sentences and conversations. ``--markdown`` prints both in one table, with each
rule's worth: its BFCL net plus its everyday net.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.stats import table
from toolwire.config import get_settings
from toolwire.eval import bfcl
from toolwire.models import load_model
from toolwire.strategies import StagedRules
from toolwire.strategies.staged.rules import tracing

CATEGORIES = ["simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance",
              "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple",
              "live_irrelevance"]
BOOTSTRAP = 4000
"""Bootstrap resamples for the intervals."""


@dataclass(kw_only=True)
class Answer:
    """One question's result under one configuration."""

    valid: bool
    got: list[dict[str, Any]]
    fired: list[str]


async def answer(case: Any, model: Any, rules: StagedRules) -> Answer:
    """One question answered by the staged strategy under ``rules``, with the rules that
    fired."""
    settings = get_settings()
    config = replace(bfcl.engine_config("staged"), rules=rules)
    with tracing() as seen:
        result = await bfcl.answer_case(case, model=model, model_name=settings.model,
                                        strategy="staged", config=config)
    got = json.loads(json.dumps(result.got, default=str))  # as the saved JSON holds it
    return Answer(valid=result.valid, got=got, fired=sorted(seen))


def interval(diffs: dict[str, list[int]], seed: int = 0) -> tuple[float, float]:
    """A paired bootstrap 95 % interval of the net questions gained (the sum of per-question
    differences), resampling questions within each category."""
    rng = random.Random(seed)
    totals = []
    for _ in range(BOOTSTRAP):
        total = 0
        for d in diffs.values():
            total += sum(d[rng.randrange(len(d))] for _ in d) if d else 0
        totals.append(total)
    totals.sort()
    return totals[int(0.025 * BOOTSTRAP)], totals[int(0.975 * BOOTSTRAP) - 1]


def worth(default: dict[str, list[Answer]], off: dict[str, dict[int, Answer]]
          ) -> dict[str, Any]:
    """A rule's worth from the default answers and its rule-off answers (by question index;
    the questions it did not fire on are unchanged)."""
    diffs: dict[str, list[int]] = {}
    for category, answers in default.items():
        diffs[category] = [int(a.valid) - int(off[category][i].valid) if i in off[category]
                           else 0 for i, a in enumerate(answers)]
    gained = sum(d == 1 for ds in diffs.values() for d in ds)
    lost = sum(d == -1 for ds in diffs.values() for d in ds)
    low, high = interval(diffs)
    return {
        "fired_on": sum(len(o) for o in off.values()),
        "gained": gained,
        "lost": lost,
        "net_questions": gained - lost,
        "net_95": [low, high],
        "points_added": {c: round(100 * sum(d) / max(1, len(d)), 1) for c, d in diffs.items()},
    }


async def run(args: argparse.Namespace, names: list[str]) -> dict[str, Any]:
    settings = get_settings()
    model = load_model(settings.model)
    cases = {c: bfcl.load_cases(c, split="tune", limit=args.limit, seed=args.seed)
             for c in CATEGORIES}
    ids = {c: [case.id for case in group] for c, group in cases.items()}
    out = Path(args.out)
    data = json.loads(out.read_text()) if out.exists() else {}
    if data.get("ids") != ids:
        data = {"everyday": data.get("everyday"), "bench": "ablate", "split": "tune", "limit": args.limit, "seed": args.seed,
                "questions": {c: len(g) for c, g in ids.items()}, "ids": ids, "rules": {}}
    started = time.perf_counter()
    data.setdefault("default", {})
    for c, group in cases.items():  # saved a category at a time: a stopped run resumes
        if c not in data["default"]:
            data["default"][c] = [vars(await answer(case, model, StagedRules()))
                                  for case in group]
            data["default_seconds"] = round(data.get("default_seconds", 0.0)
                                            + time.perf_counter() - started, 1)
            started = time.perf_counter()
            _save(out, data)
    default = {c: [Answer(**a) for a in group] for c, group in data["default"].items()}
    data["default_accuracy"] = {c: round(100 * sum(a.valid for a in g) / max(1, len(g)), 1)
                                for c, g in default.items()}
    for name in names:
        if name in data["rules"]:  # measured by an earlier (stopped) run
            continue
        begun = time.perf_counter()
        rules = StagedRules().off(name)
        off = {c: {i: await answer(case, model, rules) for i, case in enumerate(group)
                   if name in default[c][i].fired} for c, group in cases.items()}
        entry = worth(default, off)
        entry["verified"] = await _verify(cases, default, model, name, args.verify)
        entry["seconds"] = round(time.perf_counter() - begun, 1)
        data["rules"][name] = entry
        print(f"  {name}: fired on {entry['fired_on']}, +{entry['gained']} "
              f"-{entry['lost']} = {entry['net_questions']:+d} questions "
              f"[{entry['net_95'][0]:+d}, {entry['net_95'][1]:+d}] "
              f"({entry['seconds']} s)", flush=True)
        _save(out, data)
    return data


# -- the everyday sentences' tune split --------------------------------------------------------
@dataclass(kw_only=True)
class Unit:
    """One everyday sentence, or one conversation (its turns), under one configuration."""

    right: list[bool]
    """Per run: the sentence, or each turn in order."""
    fired: list[str]
    error: str | None = None
    """What stopped the engine (every run then counts as wrong)."""


def everyday_units() -> dict[str, Any]:
    """The tune split's units by key: ``s<i>`` a sentence of ``SENTENCES``, ``c<i>`` a
    conversation of ``CONVERSATIONS`` (the indices stay put as cases are added: see the
    fixture's split rule)."""
    from bench.everyday import select
    from bench.everyday_sentences import SENTENCES

    sentences, conversations = select("tune")
    units: dict[str, Any] = {f"s{SENTENCES.index(c)}": c for c in sentences}
    units.update({f"c{i}": c for i, c in conversations})
    return units


async def answer_unit(engine: Any, key: str, unit: Any, rules: StagedRules) -> Unit:
    """One sentence or conversation answered with ``rules``, scored as ``bench.everyday``
    scores it, with the rules that fired."""
    from bench.everyday import run_case, run_conversation
    from toolwire.errors import ModelError

    engine.config = replace(engine.config, rules=rules)
    with tracing() as seen:
        try:
            if key.startswith("s"):
                outcomes = [(await run_case(engine, unit))[0]]
            else:
                outcomes = await run_conversation(engine, int(key[1:]), unit)
        except ModelError as e:  # the model timed out: the engine gave no answer
            turns = 1 if key.startswith("s") else len(unit.turns)
            return Unit(right=[False] * turns, fired=sorted(seen), error=str(e))
    return Unit(right=[o.right for o in outcomes], fired=sorted(seen))


def everyday_worth(default: dict[str, Unit], off: dict[str, Unit]) -> dict[str, Any]:
    """A rule's worth on the everyday tune runs: runs gained and lost, net with its paired
    interval (sentences and conversations resampled apart), where it fired."""
    diffs: dict[str, list[int]] = {"sentences": [], "conversations": []}
    gained = lost = 0
    for key, unit in default.items():
        again = off.get(key, unit)
        steps = [int(a) - int(b) for a, b in zip(unit.right, again.right, strict=True)]
        gained += steps.count(1)
        lost += steps.count(-1)
        diffs["sentences" if key.startswith("s") else "conversations"].append(sum(steps))
    low, high = interval(diffs)
    return {"fired_on": len(off), "fired_runs": sum(len(default[k].right) for k in off),
            "errors": sum(u.error is not None for u in off.values()), "gained": gained, "lost": lost, "net_runs": gained - lost, "net_95": [low, high]}


async def run_everyday(args: argparse.Namespace, names: list[str]) -> dict[str, Any]:
    """The everyday part of the ablation (the module doc), saved under ``everyday``."""
    from bench.engine_e2e import make_engine

    engine = make_engine(None).engine
    units = everyday_units()
    out = Path(args.out)
    data = json.loads(out.read_text()) if out.exists() else {}
    part = data.get("everyday") or {}
    if sorted(part.get("default", {})) != sorted(units):
        part = {"bench": "everyday", "split": "tune", "model": engine.model.name,
                "units": {"sentences": sum(k.startswith("s") for k in units),
                          "conversations": sum(k.startswith("c") for k in units)},
                "rules": {}}
        started = time.perf_counter()
        part["default"] = {k: vars(await answer_unit(engine, k, u, StagedRules()))
                           for k, u in units.items()}
        part["default_seconds"] = round(time.perf_counter() - started, 1)
    default = {k: Unit(**u) for k, u in part["default"].items()}
    runs = [r for u in default.values() for r in u.right]
    part["runs"], part["default_right"] = len(runs), sum(runs)
    data["everyday"] = part
    _save(out, data)
    print(f"everyday tune: {sum(runs)}/{len(runs)} runs right, all rules on", flush=True)
    for name in names:
        if name in part["rules"]:
            continue
        begun = time.perf_counter()
        off = {k: await answer_unit(engine, k, units[k], StagedRules().off(name))
               for k, u in default.items() if name in u.fired}
        entry = everyday_worth(default, off)
        entry["seconds"] = round(time.perf_counter() - begun, 1)
        part["rules"][name] = entry
        print(f"  {name}: fired on {entry['fired_on']} ({entry['fired_runs']} runs), "
              f"+{entry['gained']} -{entry['lost']} = {entry['net_runs']:+d} runs "
              f"[{entry['net_95'][0]:+d}, {entry['net_95'][1]:+d}] ({entry['seconds']} s)",
              flush=True)
        _save(out, data)
    return data


async def _verify(cases: dict[str, list[Any]], default: dict[str, list[Answer]], model: Any,
                  name: str, count: int) -> dict[str, int]:
    """Re-answer ``count`` questions ``name`` did not fire on, with it off: how many were
    checked and how many came out different (which should be none)."""
    quiet = [(c, i) for c in CATEGORIES for i, a in enumerate(default[c]) if name not in a.fired]
    picked = random.Random(name).sample(quiet, min(count, len(quiet)))
    differ = 0
    for c, i in picked:
        again = await answer(cases[c][i], model, StagedRules().off(name))
        if (again.valid, again.got) != (default[c][i].valid, default[c][i].got):
            differ += 1
            print(f"  !! {name} did not fire on {cases[c][i].id} yet changed it", flush=True)
    return {"checked": len(picked), "differ": differ}


def _save(out: Path, data: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def print_report(data: dict[str, Any]) -> None:
    short = [c.replace("live_", "l_").replace("parallel", "par").replace("simple", "simp")
             .replace("multiple", "mult").replace("irrelevance", "irrel") for c in CATEGORIES]
    rows: list[list[object]] = [["(default accuracy)", "", "", "", "",
                                 *[data["default_accuracy"][c] for c in CATEGORIES]]]
    for name, w in data["rules"].items():
        rows.append([name, w["fired_on"], f"+{w['gained']}/-{w['lost']}",
                     w["net_questions"], f"[{w['net_95'][0]}, {w['net_95'][1]}]",
                     *[w["points_added"][c] for c in CATEGORIES]])
    print(f"what each staged rule adds, tuning split ({sum(data['questions'].values())} "
          f"questions: {data['questions']}); points = default minus rule off")
    print(table(["rule", "fired", "gain/loss", "net", "95%", *short], rows))
    weak = [n for n, w in data["rules"].items()
            if w["net_questions"] < 1 and w["net_95"][0] <= 0]
    print("worth less than one question, interval reaching zero: " + (", ".join(weak) or "none"))


def markdown(data: dict[str, Any]) -> str:
    """The docs' table: per rule, where it fired, questions gained/lost and net with its
    interval on BFCL, the same in runs on the everyday tune split, its worth (the two nets
    added), and the points it adds per BFCL category (blank: 0). A rule no longer in the
    table of rules is marked deleted."""
    everyday = (data.get("everyday") or {}).get("rules", {})
    heads = ["rule", "fired on", "gained", "lost", "net (95 %)", "everyday fired on",
             "everyday gained", "everyday lost", "everyday net (95 %)", "worth",
             *[c.replace("_", " ") for c in CATEGORIES]]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    share = ""
    if data.get("everyday"):
        share = f"{data['everyday']['default_right']}/{data['everyday']['runs']}"
    lines.append(f"| (accuracy, all rules on) | | | | | | | | {share} | | "
                 + " | ".join(f"{data['default_accuracy'][c]:.1f}" for c in CATEGORIES) + " |")
    names = [*data["rules"], *(n for n in everyday if n not in data["rules"])]
    for name in sorted(names, key=lambda n: -_worth(data["rules"].get(n), everyday.get(n))):
        lines.append("| " + " | ".join(_row(name, data["rules"].get(name), everyday.get(name)))
                     + " |")
    return "\n".join(lines)


def worth_table(data: dict[str, Any]) -> str:
    """The README's table: each rule's worth (BFCL net + everyday net) with both intervals."""
    everyday = (data.get("everyday") or {}).get("rules", {})
    names = [n for n in StagedRules.names() if n in data["rules"] or n in everyday]
    lines = ["| rule | worth | BFCL tuning net (95 %) | everyday tune net (95 %) |",
             "|---|---|---|---|"]
    for name in sorted(names, key=lambda n: -_worth(data["rules"].get(n), everyday.get(n))):
        cells = _row(name, data["rules"].get(name), everyday.get(name))
        lines.append(f"| {name} | {cells[9]} | {cells[4]} | {cells[8]} |")
    return "\n".join(lines)


def _worth(bfcl_part: dict[str, Any] | None, everyday_part: dict[str, Any] | None) -> int:
    """A rule's worth: its BFCL net questions plus its everyday net runs (each 0 unmeasured)."""
    return ((bfcl_part or {}).get("net_questions", 0)
            + (everyday_part or {}).get("net_runs", 0))


def _row(name: str, b: dict[str, Any] | None, e: dict[str, Any] | None) -> list[str]:
    label = name if name in StagedRules.names() else f"{name} (deleted)"
    cells = [label]
    for part, net in ((b, "net_questions"), (e, "net_runs")):
        if part is None:
            cells += ["", "", "", "(not run)"]
            continue
        low, high = part["net_95"]
        cells += [str(part["fired_on"]), str(part["gained"]), str(part["lost"]),
                  f"{part[net]:+d} [{low:+d}, {high:+d}]"]
    cells.append(f"{_worth(b, e):+d}" + ("" if b and e else " (one set)"))
    points = (b or {}).get("points_added", {})
    cells += [f"{points[c]:+.1f}" if points.get(c) else "" for c in CATEGORIES]
    return cells


def print_everyday(data: dict[str, Any]) -> None:
    part = data["everyday"]
    rows: list[list[object]] = [
        [name, w["fired_on"], f"+{w['gained']}/-{w['lost']}", w["net_runs"],
         f"[{w['net_95'][0]}, {w['net_95'][1]}]",
         _worth(data.get("rules", {}).get(name), w)]
        for name, w in part["rules"].items()]
    print(f"what each staged rule adds, everyday tune split ({part['runs']} runs: "
          f"{part['units']}; all rules on {part['default_right']} right)")
    print(table(["rule", "fired", "gain/loss", "net", "95%", "worth (+BFCL)"], rows))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=60, help="questions per category")
    parser.add_argument("--rules", default=",".join(StagedRules.names()),
                        help="comma-separated rule names (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verify", type=int, default=0,
                        help="per rule, questions it did not fire on to re-answer with it off")
    parser.add_argument("--out", default="docs/ablation.json")
    parser.add_argument("--everyday", action="store_true",
                        help="ablate on the everyday sentences' tune split instead of BFCL")
    parser.add_argument("--markdown", action="store_true",
                        help="print the saved run's table for docs/accuracy.md and stop")
    parser.add_argument("--worth", action="store_true",
                        help="print the README's table of each rule's worth and stop")
    args = parser.parse_args(argv)
    if args.markdown or args.worth:
        saved = json.loads(Path(args.out).read_text(encoding="utf-8"))
        print(markdown(saved) if args.markdown else worth_table(saved))
        return dict(saved)
    names = [n for n in args.rules.split(",") if n]
    unknown = sorted(set(names) - set(StagedRules.names()))
    if unknown or args.limit < 1:
        parser.error(f"unknown rule(s): {', '.join(unknown)}" if unknown else "--limit >= 1")
    if args.everyday:
        data = asyncio.run(run_everyday(args, names))
        print_everyday(data)
        return data
    data = asyncio.run(run(args, names))
    print_report(data)
    return data


if __name__ == "__main__":
    main()
