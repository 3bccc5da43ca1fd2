"""Fit the selection among candidates on BFCL's tuning split (a fifth of each category, never
part of the reported figures).

The staged strategy picks one of the candidates retrieval offers with a conditional logistic
model (``toolwire/strategies/staged/choice.py``), the one mechanism that decides which
function. This script fits it:

1. every question of the tuning split that offers several candidates and has a right one among
   them gets each candidate's evidence (:func:`choice.candidate_evidence`), read from the
   question's ``Reading``; no model runs;
2. a conditional logit (a softmax over the candidates, L2-regularised, fitted with SciPy)
   learns which candidate is right from that evidence;
3. printed beside it: retrieval's first candidate on the same questions, and a 5-fold
   cross-validated accuracy of the fit (weights fitted on four folds, scored on the fifth),
   the honest figure.

    .venv/bin/python -m bench.tune_selection --save select.jsonl       # collect, fit
    .venv/bin/python -m bench.tune_selection --load select.jsonl --fit  # refit, write the model
    .venv/bin/python -m bench.tune_selection --load select.jsonl --without feasibility
                                            # the same fit without a SELECT rule's features

``--without`` is how a SELECT rule is ablated: switching it off (``bench/ablate.py``) only sets
its features to their neutral values under weights fitted with them, while the question is
what a model fitted without them chooses.
"""

from __future__ import annotations

import argparse
import math
import random
from dataclasses import dataclass
from datetime import date

from bench import tuning
from toolwire.config import get_settings
from toolwire.eval import bfcl
from toolwire.strategies.staged.choice import FEATURES, SHIPPED, SelectionModel, candidate_evidence
from toolwire.strategies.staged.rules import rule
from toolwire.text.reading import read

CATEGORIES = ["multiple", "parallel_multiple", "live_multiple", "live_parallel_multiple"]
"""The categories whose questions offer several functions (the others offer one)."""
REGULARISATION = 1.0
"""L2 strength (half the squared weights are added to the summed negative log-likelihood)."""
FOLDS = 5


@dataclass(kw_only=True)
class Question:
    id: str
    category: str
    names: list[str]
    features: list[dict[str, float]]
    right: list[bool]


def collect() -> list[Question]:
    settings = get_settings()
    out: list[Question] = []
    for category in CATEGORIES:
        for case in bfcl.load_cases(category, split="tune"):
            question, _history = bfcl.split_question(case.messages)
            hits = bfcl.build_registry(case.functions).search(question, k=settings.retrieval_k)
            wanted = {name for call in case.ground_truth or [] for name in call}
            right = [h.tool.name in wanted for h in hits]
            if len(hits) < 2 or not any(right):
                continue
            out.append(Question(
                id=case.id, category=category, names=[h.tool.name for h in hits],
                features=candidate_evidence(read(question), hits), right=right,
            ))
        print(f"  {category}: {sum(q.category == category for q in out)} questions", flush=True)
    return out


def fit(questions: list[Question], features: tuple[str, ...] = FEATURES) -> SelectionModel:
    """Conditional logit over ``features``: maximise the probability the softmax over each
    question's candidates gives its right ones, less ``REGULARISATION``/2 × the squared
    weights."""
    import numpy as np
    from scipy.optimize import minimize  # the fitting tool, not a runtime need

    data = [(np.array([[f[n] for n in features] for f in q.features]), np.array(q.right))
            for q in questions]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * REGULARISATION * float(w @ w), REGULARISATION * w
        for x, right in data:
            u = x @ w
            p = np.exp(u - u.max())
            p /= p.sum()
            p_right = p[right].sum()
            total -= math.log(max(p_right, 1e-300))
            q = np.where(right, p, 0.0) / max(p_right, 1e-300)  # posterior over right ones
            grad = grad + x.T @ (p - q)
        return total, grad

    result = minimize(loss, np.zeros(len(features)), jac=True, method="L-BFGS-B")
    return SelectionModel(weights=dict(zip(features, (float(v) for v in result.x), strict=True)))


def pick(model: SelectionModel, q: Question) -> int:
    """The candidate ``model`` chooses."""
    p = model.probabilities(q.features)
    return max(range(len(p)), key=lambda i: p[i])


def cross_validated(questions: list[Question], features: tuple[str, ...] = FEATURES) -> int:
    """Right choices when each fold is chosen by a model fitted on the other folds."""
    order = list(range(len(questions)))
    random.Random(0).shuffle(order)
    right = 0
    for k in range(FOLDS):
        held = {i for n, i in enumerate(order) if n % FOLDS == k}
        model = fit([q for i, q in enumerate(questions) if i not in held], features)
        right += sum(questions[i].right[pick(model, questions[i])] for i in held)
    return right


def per_category(questions: list[Question], picks: dict[str, int]) -> str:
    parts = []
    for category in CATEGORIES:
        group = [q for q in questions if q.category == category]
        if group:
            parts.append(f"{category} {sum(q.right[picks[q.id]] for q in group)}/{len(group)}")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    tuning.arguments(parser, SHIPPED)
    parser.add_argument("--without", default="",
                        help="comma-separated SELECT rules whose features the fit leaves out")
    args = parser.parse_args()
    left_out = {k for name in args.without.split(",") if name for k in rule(name).neutral}
    features = tuple(f for f in FEATURES if f not in left_out)
    questions = tuning.questions(args, Question, collect)
    tuning.save(args.save, questions)
    model = fit(questions, features)
    n = len(questions)
    picks = {q.id: pick(model, q) for q in questions}
    fitted_right = sum(q.right[picks[q.id]] for q in questions)
    cv_right = cross_validated(questions, features)
    first_right = sum(q.right[0] for q in questions)
    print(f"questions with several candidates and a right one: {n}")
    print(f"retrieval's first: {first_right}/{n}")
    print(f"fitted (in sample): {fitted_right}/{n} ({per_category(questions, picks)})")
    print(f"fitted, {FOLDS}-fold cross-validated: {cv_right}/{n}")
    print("weights " + ", ".join(f"{k} {v:+.2f}" for k, v in model.weights.items()))
    if args.fit:
        fitted = SelectionModel(weights=model.weights, fitted={
            "on": "BFCL tuning split (a fifth of every category by a hash of the id): "
                  "questions offering several candidates, a right one among them",
            "questions": n,
            "by": f"bench/tune_selection.py (conditional logit, SciPy L-BFGS-B, L2 {REGULARISATION})",
            "date": date.today().isoformat(),
            "right_retrieval_first": first_right,
            "right_fitted_in_sample": fitted_right,
            "right_fitted_cross_validated": cv_right,
        })
        SHIPPED.write_text(fitted.to_json() + "\n", encoding="utf-8")
        print(f"written {SHIPPED}")


if __name__ == "__main__":
    main()
