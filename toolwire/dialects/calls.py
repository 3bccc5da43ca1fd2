"""Bringing a vendor's tool calls back to toolwire's terms."""

from __future__ import annotations

from toolwire.dialects.rewriting import onto_schema
from toolwire.messages import ToolCallRequest, ToolSpec


def restore_calls(
    calls: list[ToolCallRequest], tools: list[ToolSpec] | None
) -> list[ToolCallRequest]:
    """``calls`` with arguments coerced back onto each named tool's original schema."""
    by_name = {t.name: t for t in tools or []}
    out = []
    for call in calls:
        spec = by_name.get(call.name)
        arguments = onto_schema(spec.parameters, call.arguments) if spec else call.arguments
        out.append(ToolCallRequest(id=call.id, name=call.name, arguments=arguments))
    return out
