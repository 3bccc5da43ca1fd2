"""Rules of the GATE stage: whether the sentence wants a call at all (``strategy.py``'s
``StagedStrategy.gate``)."""

from __future__ import annotations

from toolwire.strategies.staged.rules.base import Rule, Stage

RELEVANCE_GATE = Rule(
    name="relevance_gate",
    what="No call when no candidate's retrieval relevance reaches the threshold (a lower one "
         "for a tool the sentence names).",
    why="A 135M model's own call/no-call signal is weak.",
    example="'tell me a joke about penguins' with get_weather: no call.",
    stages=(Stage.GATE,),
    decides=("toolwire.strategies.staged.strategy:StagedStrategy.verdict",),
)

CALIBRATED_RELEVANCE = Rule(
    name="calibrated_relevance",
    what="The gate's decision comes from a logistic model over the evidence (retrieval, "
         "embedding and literal scores, feasibility, the sentence's length and numbers; "
         "relevance.py), fitted on BFCL's tuning split, rather than from two hand-set "
         "thresholds on the fused score; the thresholds still decide where the embedding "
         "scores are missing (keyword-only retrieval).",
    why="No single score separates 'wants a call' from 'talks near a tool'.",
    example="'what is the capital of France' near get_weather(city): the model turns it away.",
    stages=(Stage.GATE,),
    decides=("toolwire.strategies.staged.strategy:StagedStrategy.calibrated",),
)

RULES = (RELEVANCE_GATE, CALIBRATED_RELEVANCE)
