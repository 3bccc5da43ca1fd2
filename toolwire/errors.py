"""Errors that cross layers: raised low (a provider's setup, a model backend), caught high
(the pipeline, the API, the worker).

Imports nothing else of toolwire, so the providers and the models both raise them without
importing one another. The service's own domain errors are in ``toolwire.service.errors``.

    RuntimeError
     └── ModelError   a backend failed (the provider and, where there is one, the HTTP status)
"""

from __future__ import annotations

__all__ = ["ModelError"]


class ModelError(RuntimeError):
    """A backend failed; the message names the provider and why."""

    def __init__(self, provider: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.status = status
