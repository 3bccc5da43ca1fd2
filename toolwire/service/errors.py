"""What the service refuses, named by kind, not by transport: the API maps each kind to its
HTTP status in one place (``toolwire.api.errors``), the CLI prints the message and exits
non-zero, and the worker records it on the message."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A refusal with a stable, machine-readable ``code`` and a ``message`` for a person."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


class NotFound(ServiceError):
    """No such resource (or another owner's)."""


class Conflict(ServiceError):
    """The resource's state does not allow it (a call that is not waiting, a reused key)."""


class Invalid(ServiceError):
    """A value the caller may not give (a model string, a field)."""


class Forbidden(ServiceError):
    """The caller may not do this."""
