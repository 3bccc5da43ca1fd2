"""BFCL's summary figures (toolwire/eval/aggregate.py) against the pinned bfcl-eval's own code.

bfcl-eval's leaderboard module imports pandas, which the lean install leaves out; it is given a
stand-in here (its aggregation uses none of it) and its own ``generate_leaderboard_csv`` is run
on a made-up score table, so the categories in each figure and their weights are the package's.
"""

from __future__ import annotations

import csv
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from toolwire.eval import checker
from toolwire.eval.aggregate import (
    LIVE_AST,
    Figure,
    bfcl_figures,
    mean,
    percentage_weighted,
    weighted,
)
from toolwire.eval.bfcl import dataset_sizes

pytest.importorskip("bfcl_eval")

#: A made-up score table: every category toolwire runs, each with its own accuracy.
EVERY_CATEGORY = {
    "simple_python": 0.47, "multiple": 0.5, "parallel": 0.14, "parallel_multiple": 0.09,
    "irrelevance": 0.86, "live_simple": 0.28, "live_multiple": 0.27, "live_parallel": 0.0,
    "live_parallel_multiple": 0.05, "live_irrelevance": 0.76, "live_relevance": 0.625,
}
#: A partial one: categories left out count 0.
SOME_CATEGORIES = {"simple_python": 0.5, "live_simple": 0.3, "live_multiple": 0.2, "irrelevance": 0.9}


@pytest.fixture(scope="module")
def helper() -> Any:
    """bfcl-eval's ``eval_runner_helper``, imported with a stand-in for pandas."""
    checker._bfcl()  # the model-config stand-in and BFCL_PROJECT_ROOT
    saved = sys.modules.get("pandas")
    sys.modules.setdefault("pandas", types.ModuleType("pandas"))
    try:
        from bfcl_eval.eval_checker import eval_runner_helper
    finally:
        if saved is None:
            sys.modules.pop("pandas", None)
    return eval_runner_helper


def _leaderboard(helper: Any, scores: dict[str, float], out: Path) -> dict[str, dict[str, str]]:
    """bfcl-eval's leaderboard CSVs for ``scores``: file stem → column → value ("12.34%")."""
    sizes = dataset_sizes(scores)
    table = {"toolwire": {c: {"accuracy": a, "total_count": sizes[c]} for c, a in scores.items()}}
    config = types.SimpleNamespace(display_name="toolwire", url="", org="", license="",
                                   input_price=None, output_price=None)
    mapping = {"toolwire": config}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(helper, "MODEL_CONFIG_MAPPING", mapping)
        helper.generate_leaderboard_csv(table, out)
    rows = {}
    for path in out.glob("*.csv"):
        with path.open(newline="") as f:
            rows[path.stem] = next(csv.DictReader(f))
    return rows


def _percent(cell: str) -> float:
    return float(cell.rstrip("%"))


@pytest.mark.parametrize("scores", [EVERY_CATEGORY, SOME_CATEGORIES], ids=["every", "some"])
def test_the_figures_are_bfcl_evals_own(
    helper: Any, scores: dict[str, float], tmp_path: Path
) -> None:
    csvs = _leaderboard(helper, scores, tmp_path)
    ours = bfcl_figures(scores, dataset_sizes(LIVE_AST))
    theirs = {
        "overall": csvs["data_overall"]["Overall Acc"],
        "non_live": csvs["data_non_live"]["Non-Live Overall Acc"],
        "live": csvs["data_live"]["Live Overall Acc"],
        "multi_turn": csvs["data_multi_turn"]["Multi Turn Overall Acc"],
        "agentic": csvs["data_agentic"]["Agentic Overall Acc"],
    }
    if "live_irrelevance" in scores:  # bfcl-eval prints N/A when one of the two is missing
        theirs["irrelevance"] = csvs["data_overall"]["Irrelevance Detection"]
    for name, cell in theirs.items():
        figure: Figure = getattr(ours, name)
        assert abs(100 * figure.accuracy - _percent(cell)) <= 0.005 + 1e-9, name  # CSV: 2 places


def test_live_is_the_four_live_ast_categories_only() -> None:
    sizes = {"live_simple": 258, "live_multiple": 1053, "live_parallel": 16,
             "live_parallel_multiple": 24}
    figures = bfcl_figures({"live_simple": 1.0, "live_irrelevance": 1.0}, sizes)
    assert figures.live.accuracy == pytest.approx(258 / (258 + 1053 + 16 + 24))
    assert figures.live.not_scored == ("live_multiple", "live_parallel", "live_parallel_multiple")
    assert figures.irrelevance.accuracy == 0.5 and figures.irrelevance.not_scored == ("irrelevance",)


def test_the_averages_match_bfcl_evals_functions_exactly(helper: Any) -> None:
    values = [(0.47, 400), (0.125, 16), (0.8, 240)]
    theirs = [{"accuracy": a, "total_count": n, "display_accuracy": a} for a, n in values]
    parts = [Figure(accuracy=a) for a, _ in values]
    assert mean(parts).accuracy == helper.calculate_unweighted_accuracy(theirs)["accuracy"]
    assert (weighted([(p, n) for p, (_, n) in zip(parts, values, strict=True)]).accuracy
            == helper.calculate_weighted_accuracy(theirs)["accuracy"])
    weights = [10, 30, 40]
    assert (percentage_weighted(list(zip(parts, weights, strict=True))).accuracy
            == helper.calculate_percentage_weighted_accuracy(theirs, weights)["accuracy"])


def test_a_missing_live_size_is_named() -> None:
    with pytest.raises(KeyError, match="live_parallel"):
        bfcl_figures({}, {"live_simple": 1, "live_multiple": 1})
