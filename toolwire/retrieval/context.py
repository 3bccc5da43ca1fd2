"""Retrieval for one turn of a conversation: the sentence's hits, then the tools the last
call used.

A follow-up leans on what came before it: "and in London?" names no tool at all, yet means
the one just called, so the last call's tools are offered after the hits. (Searching the
previous request too, as a second query weighing 0.15-0.35 of the order, lost on BFCL's
multi-turn set: R@5 .780 → .774-.742; it is not done.)

:func:`search_in_context` is what ``Pipeline.retrieve`` calls, and what the retrieval
benchmark calls for a case with a history (``toolwire.eval.retrieval``), so the benchmark
measures what a user of the pipeline gets.

    hits = search_in_context(registry.index, "and in London?", history, k=5)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from toolwire.messages import Message
from toolwire.retrieval.index import Hit, Indexable, ToolIndex

T = TypeVar("T", bound=Indexable)


def last_call_tools(history: Sequence[Message]) -> list[str]:
    """The tool names of the conversation's last assistant message with calls, in order."""
    last = next((m for m in reversed(history) if m.role == "assistant" and m.tool_calls), None)
    return list(dict.fromkeys(c.name for c in last.tool_calls)) if last else []


def search_in_context(
    index: ToolIndex[T],
    question: str,
    history: Sequence[Message],
    k: int,
    *,
    dense: bool = True,
) -> list[Hit[T]]:
    """The ``k`` best tools for ``question``, then the last call's tools not among them
    (scored 0: retrieval did not find them, the conversation did)."""
    hits = index.search(question, k, dense=dense)
    offered = {h.tool.name for h in hits}
    extra = []
    for name in last_call_tools(history):
        tool = index.get(name)
        if tool is not None and name not in offered:
            extra.append(Hit(tool=tool, score=0.0, keyword_score=0.0, dense_score=0.0))
    return [*hits, *extra]
