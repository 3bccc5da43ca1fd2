"""One internal ToolSpec, three vendor dialects, and the way back.

    to_openai(spec) / to_openai(spec, strict=True)   from_openai(tool)
    to_anthropic(spec)                                from_anthropic(tool)
    to_gemini(spec)                                   from_gemini(declaration)

Each dialect module also converts message lists (assistant tool calls, tool results, parallel
calls) and has a ``problems(tool)`` validator that states the vendor's rules. Rewrites that a
dialect forces are reversible through schema notes (``rewriting.py``); names a vendor refuses
are mapped by ``WireNames``; ``onto_schema`` brings a model's answer back to the original
schema.
"""

from toolwire.dialects.anthropic import (
    from_anthropic,
    from_anthropic_content,
    from_anthropic_messages,
    to_anthropic,
    to_anthropic_messages,
)
from toolwire.dialects.gemini import from_gemini, from_gemini_parts, to_gemini, to_gemini_contents
from toolwire.dialects.names import WireNames, is_valid_name, wire_name
from toolwire.dialects.openai import (
    can_be_strict,
    from_openai,
    from_openai_messages,
    strict_schema,
    to_openai,
    to_openai_messages,
    unstrict_schema,
)
from toolwire.dialects.rewriting import DialectError, onto_schema

__all__ = [
    "DialectError",
    "WireNames",
    "can_be_strict",
    "from_anthropic",
    "from_anthropic_content",
    "from_anthropic_messages",
    "from_gemini",
    "from_gemini_parts",
    "from_openai",
    "from_openai_messages",
    "is_valid_name",
    "onto_schema",
    "strict_schema",
    "to_anthropic",
    "to_anthropic_messages",
    "to_gemini",
    "to_gemini_contents",
    "to_openai",
    "to_openai_messages",
    "unstrict_schema",
    "wire_name",
]
