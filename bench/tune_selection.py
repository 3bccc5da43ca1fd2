"""Fit the selection among candidates on BFCL's tuning split (a fifth of each category, never
part of the reported figures).

The staged strategy picks one of the candidates retrieval offers with a conditional logistic
model (``toolwire/strategies/staged/choice.py``). This script fits it:

1. every question of the tuning split that offers several candidates and has a right one among
   them gets each candidate's evidence (:func:`choice.candidate_evidence`) and the model's
   log-likelihood of each name (the selection prompt the strategy uses: one model run each);
2. two conditional logit models (a softmax over the candidates, L2-regularised, fitted with
   SciPy) learn which candidate is right: one from the evidence alone, one with the model's
   log-probability too;
3. ``confident`` is the lowest probability of the first model's best candidate at which the
   whole procedure (the first model when confident, else the second) is right as often as it
   can be on the tuning split, so the model is asked only where it helps;
4. printed beside it: the hand-set weights this replaces, on the same questions, and a 5-fold
   cross-validated accuracy of the fitted procedure (weights and ``confident`` fitted on four
   folds, scored on the fifth), the honest figure.

    .venv/bin/python -m bench.tune_selection --save select.jsonl       # collect (~5 min), fit
    .venv/bin/python -m bench.tune_selection --load select.jsonl --fit  # refit, write the model
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
from dataclasses import dataclass
from datetime import date

from bench import tuning
from toolwire.config import get_settings
from toolwire.eval import bfcl
from toolwire.models import load_model
from toolwire.strategies.staged import select as hand
from toolwire.strategies.staged.choice import (
    FEATURES,
    LOGP_FLOOR,
    MODEL_FEATURE,
    SHIPPED,
    SelectionModel,
    candidate_evidence,
    log_softmax,
)
from toolwire.strategies.staged.matching import feasible, lexical_match

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
    logp: list[float]
    """The model's log-probability of each candidate's name (softmax over the candidates)."""
    right: list[bool]
    hand: int
    """The candidate the hand-set weights choose."""


def hand_choice(question: str, hits: list, raw: dict[str, float]) -> int:  # type: ignore[type-arg]
    """What ``select.py``'s hand-set weights choose, given the model's scores ``raw`` (by
    name)."""
    p_retrieval = hand._softmax({h.tool.name: hand.RETRIEVAL_SHARPNESS * h.score for h in hits})
    w = hand.MODEL_WEIGHT
    evidence = [(1 - w) * p_retrieval[h.tool.name]
                + hand.LEXICAL_WEIGHT * lexical_match(question, h.tool)
                - (0.0 if feasible(question, h.tool) else hand.INFEASIBLE_PENALTY)
                for h in hits]
    first, second = sorted(evidence, reverse=True)[:2]
    if first - second < hand.DECISIVE_MARGIN:
        p_model = hand._softmax(raw)
        evidence = [e + w * p_model.get(h.tool.name, 0.0)
                    for e, h in zip(evidence, hits, strict=True)]
    return max(range(len(hits)), key=lambda i: evidence[i])


async def collect() -> list[Question]:
    settings = get_settings()
    model = load_model(settings.model)
    out: list[Question] = []
    for category in CATEGORIES:
        for case in bfcl.load_cases(category, split="tune"):
            question, history = bfcl.split_question(case.messages)
            hits = bfcl.build_registry(case.functions).search(question, k=settings.retrieval_k)
            wanted = {name for call in case.ground_truth or [] for name in call}
            right = [h.tool.name in wanted for h in hits]
            if len(hits) < 2 or not any(right):
                continue
            names = [h.tool.name for h in hits]
            raw = await hand._name_scores(model, question, [h.tool for h in hits], history)
            scores = [raw.get(n, -math.inf) for n in names]
            out.append(Question(
                id=case.id, category=category, names=names,
                features=candidate_evidence(question, hits),
                logp=log_softmax(scores, floor=LOGP_FLOOR) if max(scores) > -math.inf
                else [0.0] * len(names),
                right=right, hand=hand_choice(question, hits, raw),
            ))
        print(f"  {category}: {sum(q.category == category for q in out)} questions", flush=True)
    return out


def _rows(q: Question, with_model: bool) -> list[list[float]]:
    return [[f[n] for n in FEATURES] + ([lp] if with_model else [])
            for f, lp in zip(q.features, q.logp, strict=True)]


def fit_weights(questions: list[Question], with_model: bool) -> dict[str, float]:
    """Conditional logit: maximise the probability the softmax over each question's candidates
    gives its right ones, less ``REGULARISATION``/2 × the squared weights."""
    import numpy as np
    from scipy.optimize import minimize  # the fitting tool, not a runtime need

    data = [(np.array(_rows(q, with_model)), np.array(q.right)) for q in questions]
    names = [*FEATURES, *([MODEL_FEATURE] if with_model else [])]

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

    w0 = np.zeros(len(names))
    result = minimize(loss, w0, jac=True, method="L-BFGS-B")
    return dict(zip(names, (float(v) for v in result.x), strict=True))


def procedure(model: SelectionModel, q: Question, confident: float) -> tuple[int, bool]:
    """The candidate the fitted procedure chooses, and whether it asked the model."""
    p = model.probabilities(q.features)
    asked = max(p) < confident
    if asked:
        p = model.probabilities(q.features, q.logp)
    return max(range(len(p)), key=lambda i: p[i]), asked


def fit(questions: list[Question]) -> tuple[SelectionModel, list[str]]:
    """Both weight sets, and ``confident``: the lowest at which the procedure is right as often
    as at any other (ties go to asking the model less)."""
    model = SelectionModel(weights=fit_weights(questions, False),
                           model_weights=fit_weights(questions, True), confident=1.0)
    grid = [t / 100 for t in range(0, 101)]
    table, best, chosen = [], -1, 1.0
    for confident in grid:
        picks = [procedure(model, q, confident) for q in questions]
        right = sum(q.right[i] for q, (i, _) in zip(questions, picks, strict=True))
        asked = sum(a for _, a in picks)
        table.append(f"confident {confident:.2f}: right {right}/{len(questions)}, "
                     f"model asked {asked}")
        if right > best:
            best, chosen = right, confident
    return SelectionModel(weights=model.weights, model_weights=model.model_weights,
                          confident=chosen), table


def cross_validated(questions: list[Question]) -> int:
    """Right choices when each fold is chosen by a procedure fitted on the other folds."""
    order = list(range(len(questions)))
    random.Random(0).shuffle(order)
    right = 0
    for k in range(FOLDS):
        held = {i for n, i in enumerate(order) if n % FOLDS == k}
        model, _ = fit([q for i, q in enumerate(questions) if i not in held])
        for i in held:
            pick, _ = procedure(model, questions[i], model.confident)
            right += questions[i].right[pick]
    return right


def per_category(questions: list[Question], pick: dict[str, int]) -> str:
    parts = []
    for category in CATEGORIES:
        group = [q for q in questions if q.category == category]
        if group:
            parts.append(f"{category} {sum(q.right[pick[q.id]] for q in group)}/{len(group)}")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    tuning.arguments(parser, SHIPPED)
    args = parser.parse_args()
    questions = tuning.questions(args, Question, lambda: asyncio.run(collect()))
    tuning.save(args.save, questions)
    model, table = fit(questions)
    print("\n".join(table))
    n = len(questions)
    hand_right = sum(q.right[q.hand] for q in questions)
    fitted_pick = {q.id: procedure(model, q, model.confident)[0] for q in questions}
    fitted_right = sum(q.right[fitted_pick[q.id]] for q in questions)
    cv_right = cross_validated(questions)
    first_right = sum(q.right[0] for q in questions)
    print(f"questions with several candidates and a right one: {n}")
    print(f"retrieval's first: {first_right}/{n}")
    print(f"hand-set weights: {hand_right}/{n} ({per_category(questions, {q.id: q.hand for q in questions})})")
    print(f"fitted (in sample): {fitted_right}/{n} ({per_category(questions, fitted_pick)})")
    print(f"fitted, {FOLDS}-fold cross-validated: {cv_right}/{n}")
    print(f"confident {model.confident:.2f}; weights "
          + ", ".join(f"{k} {v:+.2f}" for k, v in model.weights.items())
          + "; with the model " + ", ".join(f"{k} {v:+.2f}" for k, v in model.model_weights.items()))
    if args.fit:
        fitted = SelectionModel(
            weights=model.weights, model_weights=model.model_weights,
            confident=model.confident,
            fitted={
                "on": "BFCL tuning split (a fifth of every category by a hash of the id): "
                      "questions offering several candidates, a right one among them",
                "questions": n,
                "by": "bench/tune_selection.py (conditional logit, SciPy L-BFGS-B, "
                      f"L2 {REGULARISATION})",
                "date": date.today().isoformat(),
                "right_retrieval_first": first_right,
                "right_hand_weights": hand_right,
                "right_fitted_in_sample": fitted_right,
                "right_fitted_cross_validated": cv_right,
            },
        )
        SHIPPED.write_text(fitted.to_json() + "\n", encoding="utf-8")
        print(f"written {SHIPPED}")


if __name__ == "__main__":
    main()
