"""Issue 22's measure on the real embedded model: everyday sentences and conversations.

Every sentence and conversation of ``bench/everyday_sentences.py`` (both splits) runs once
through one warm ``Engine`` and is scored by ``bench/everyday.py``: the right call (or none),
the result stated, every number of the answer grounded, no echo, the weather's error said. The
weather service is down (a dead port) and there is no display, as in ``test_bar.py``.

Issue 22's goal for the tune part is ≥ 95 %; it was 90 % when this test was written and 98 %
(170 of 173) since the word problems, bare places and follow-ups were read, so the test asserts
the floor reached (``FLOOR_TUNE``: no regression) and prints the goal beside the figure. The held-out third is printed, never asserted here: it is the check of
what tuning did, not a target to tune on (issue 22 asks ≥ 90 % of it).
About 260 runs: a few minutes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bench.everyday import GOAL_TUNE, Outcome, evaluate, select, share
from tests.integration.offline import offline

pytestmark = pytest.mark.integration

FLOOR_TUNE = 0.97
"""The tune part's right share reached so far, less a run or two: a change that loses more
is a regression. Raise it as the engine gets closer to ``GOAL_TUNE``."""


@pytest.fixture(scope="module")
def outcomes() -> Iterator[list[Outcome]]:
    from toolwire.builtin import default_registry
    from toolwire.engine import Engine

    with offline():
        engine = Engine(default_registry())
        sentences, conversations = select("all")
        yield asyncio.run(evaluate(engine, sentences, conversations))


def _failures(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        if not o.right:
            problems = "; ".join(p for found in o.problems.values() for p in found)
            lines.append(f"  [{o.case.tool}/{o.case.style}] {o.case.sentence!r}: {problems}"
                         f" | answer {o.answer[:120]!r}")
    return "\n".join(lines)


def _figure(outcomes: list[Outcome]) -> str:
    return f"{sum(o.right for o in outcomes)}/{len(outcomes)} = {share(outcomes):.1%}"


def test_tune_part_right_share_holds_its_floor(outcomes: list[Outcome]) -> None:
    """The tune part (sentences and conversation turns) right at ``FLOOR_TUNE`` at least; issue
    22's goal, ``GOAL_TUNE`` (95 %), is printed beside it."""
    tune = [o for o in outcomes if o.case.split == "tune"]
    right_share = share(tune)
    assert right_share >= FLOOR_TUNE, (
        f"everyday tune part right: {_figure(tune)} (floor {FLOOR_TUNE:.0%}, goal "
        f"{GOAL_TUNE:.0%}); wrong:\n{_failures(tune)}")


def test_heldout_figure_is_reported(outcomes: list[Outcome],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The held-out third, printed (not asserted): docs/benchmarks.md reports it."""
    held = [o for o in outcomes if o.case.split == "heldout"]
    tune = [o for o in outcomes if o.case.split == "tune"]
    with capsys.disabled():
        print(f"\neveryday: tune {_figure(tune)}; held-out {_figure(held)}")
    assert held
