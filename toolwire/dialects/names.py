"""Tool names a vendor accepts, and the way back.

toolwire allows ``.`` in tool names (``math.gcd``); OpenAI and Anthropic accept only
``[a-zA-Z0-9_-]{1,64}``, Gemini ``[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}``. ``WireNames`` maps each
name to a valid, unique wire name (unchanged when already valid) and maps calls back.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Dialect = Literal["openai", "anthropic", "gemini"]

PATTERNS: dict[str, re.Pattern[str]] = {
    "openai": re.compile(r"[a-zA-Z0-9_-]{1,64}"),
    "anthropic": re.compile(r"[a-zA-Z0-9_-]{1,64}"),
    "gemini": re.compile(r"[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}"),
}
_INVALID_CHAR = {
    "openai": re.compile(r"[^a-zA-Z0-9_-]"),
    "anthropic": re.compile(r"[^a-zA-Z0-9_-]"),
    "gemini": re.compile(r"[^a-zA-Z0-9_.:-]"),
}
_MAX = 64


def is_valid_name(name: str, dialect: Dialect) -> bool:
    """Whether ``dialect`` accepts ``name`` as a function name."""
    return PATTERNS[dialect].fullmatch(name) is not None


def wire_name(name: str, dialect: Dialect) -> str:
    """A deterministic name ``dialect`` accepts: invalid characters become ``_``."""
    if is_valid_name(name, dialect):
        return name
    out = _INVALID_CHAR[dialect].sub("_", name) or "_"
    if dialect == "gemini" and not re.match(r"[a-zA-Z_]", out):
        out = "_" + out
    if len(out) > _MAX:
        out = _shorten(out, name)
    return out


def _shorten(text: str, seed: str) -> str:
    digest = hashlib.sha1(seed.encode()).hexdigest()[:8]
    return f"{text[: _MAX - 9]}_{digest}"


@dataclass(kw_only=True)
class WireNames:
    """A two-way map between tool names and the names sent to one vendor."""

    dialect: Dialect
    to_wire: dict[str, str] = field(default_factory=dict)
    from_wire: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, names: Iterable[str], dialect: Dialect) -> WireNames:
        """Unique wire names for ``names`` (collisions get a hash suffix)."""
        out = cls(dialect=dialect)
        for name in names:
            out.add(name)
        return out

    def add(self, name: str) -> str:
        """Register ``name`` and return its wire name."""
        if name in self.to_wire:
            return self.to_wire[name]
        wire = wire_name(name, self.dialect)
        if wire in self.from_wire:
            wire = _shorten(wire, name)
        self.to_wire[name] = wire
        self.from_wire[wire] = name
        return wire

    def wire(self, name: str) -> str:
        """The wire name of ``name`` (registered on first use)."""
        return self.add(name)

    def original(self, wire: str) -> str:
        """The tool name behind ``wire`` (itself when unknown)."""
        return self.from_wire.get(wire, wire)
