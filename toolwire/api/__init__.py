"""The REST API: ``create_app()`` builds it; ``toolwire serve`` runs it (see ``app.py``).

``create_app`` is imported on first use, so the CLI can mount ``toolwire.cli.serve``
without loading FastAPI and SQLAlchemy for every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolwire.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from toolwire.api.app import create_app

        return create_app
    raise AttributeError(f"module 'toolwire.api' has no attribute {name!r}")
