"""A declared tool that needs approval (imported through TOOLWIRE_TOOL_MODULES by a test)."""

from __future__ import annotations

import toolwire

SHREDDED: list[str] = []


@toolwire.tool(requires_approval=True)
def shred_document(name: str) -> str:
    """Shred a paper document for good.

    Args:
        name: the document's name
    """
    SHREDDED.append(name)
    return f"shredded {name}"
