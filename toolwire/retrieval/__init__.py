"""Tool retrieval: BM25 (``bm25.py``) and dense embeddings (``embeddings.py``) fused into one
relevance score by the index (``index.py``). Ranks tool specs; knows nothing of the registry."""

from toolwire.retrieval.index import Hit, Ranking, ToolIndex, clauses, tool_document

__all__ = ["Hit", "Ranking", "ToolIndex", "clauses", "tool_document"]
