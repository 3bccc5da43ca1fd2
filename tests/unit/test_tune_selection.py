"""bench/tune_selection.py's fit: a conditional logit that finds the evidence which tells the
right candidate, and an honest cross-validated count (no model runs: the questions are made
here)."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from bench import tuning
from bench.tune_selection import Question, cross_validated, fit, pick
from toolwire.strategies.staged.choice import FEATURES


def _question(i: int, rng: random.Random) -> Question:
    """Three candidates; the right one is closer in meaning (dense) but only sometimes ranked
    first."""
    right = rng.randrange(3)
    features = []
    for c in range(3):
        f = dict.fromkeys(FEATURES, 0.0) | {"feasible": 1.0, "moments_feasible": 1.0}
        f["dense"] = (0.8 if c == right else 0.3) + rng.uniform(-0.1, 0.1)
        f["fused"] = rng.uniform(0, 1)
        f["first"] = float(c == 0)
        features.append(f)
    return Question(id=str(i), category="multiple", names=["a", "b", "c"], features=features,
                    right=[c == right for c in range(3)])


def test_the_fit_finds_the_evidence_that_tells_the_right_candidate() -> None:
    rng = random.Random(7)
    questions = [_question(i, rng) for i in range(120)]
    model = fit(questions)
    assert model.weights["dense"] > 5 * abs(model.weights["fused"])
    assert all(q.right[pick(model, q)] for q in questions)
    assert cross_validated(questions) == len(questions)


def test_a_fit_without_some_features_weighs_only_the_others() -> None:
    rng = random.Random(7)
    questions = [_question(i, rng) for i in range(120)]
    kept = tuple(f for f in FEATURES if f != "dense")
    model = fit(questions, kept)
    assert set(model.weights) == set(kept)  # "dense", the telling feature, is left out
    assert cross_validated(questions, kept) < cross_validated(questions) == len(questions)


def test_questions_are_kept_and_read_back(tmp_path: Path) -> None:
    rng = random.Random(1)
    saved = [_question(i, rng) for i in range(3)]
    path = tmp_path / "q.jsonl"
    tuning.save(path, saved)
    args = argparse.Namespace(load=path)
    assert tuning.questions(args, Question, lambda: []) == saved
    assert tuning.questions(argparse.Namespace(load=None), Question, lambda: saved[:1]) == saved[:1]
