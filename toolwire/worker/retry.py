"""Which model failures are worth trying again, and how long to wait before each try.

A *transient* failure may pass on its own: the local model process crashed, was killed or
timed out (a fresh child serves the next request), or a remote model answered 408, 429 or a
5xx, or could not be reached at all, after its SDK's own retries. A *permanent* one will not:
a bad request, a bad key, an unknown model or provider, a constraint the model cannot take,
an answer that is not what the API promised (garbage). A backend may say so itself with a
``transient`` attribute on its error, which wins.

The worker hands a message that failed transiently back (``pending``, the attempt counted)
and retries its task after ``backoff()``: exponential, with jitter, capped; up to
``TOOLWIRE_MODEL_RETRIES`` times, then the message fails with the model's reason.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from toolwire.models.base import ModelError
from toolwire.providers import RETRY_STATUSES

__all__ = ["ModelRetries", "backoff", "transient"]

LOCAL_TRANSIENT = (
    "model process crashed",
    "model process was killed",
    "model process stopped answering",
    "model process exited with status",
    "did not answer within",
)
"""What a model process that died or hung mid-request says (``toolwire.models.process``),
and any model past its deadline (``TimedModel``). A process that cannot *load* the model
(``cannot load``, ``while loading``) is permanent: trying again loads it no better."""

TRANSPORT_ERRORS = ("APIConnectionError", "APITimeoutError", "TransportError")
"""The SDKs' "could not reach it / no answer in time" errors, by class name (so that no
optional SDK is imported here): openai's and anthropic's (``APITimeoutError`` is an
``APIConnectionError``), and httpx's (under google-genai)."""


def transient(error: BaseException) -> bool:
    """Whether a failed model call may succeed if tried again later."""
    if not isinstance(error, ModelError):
        return False  # a bug, an unknown model spec, garbage the SDK could not parse
    said = getattr(error, "transient", None)
    if isinstance(said, bool):
        return said
    if error.status is not None:
        return error.status in RETRY_STATUSES or error.status >= 500
    if any(part in str(error) for part in LOCAL_TRANSIENT) and "loading" not in str(error):
        return True
    return any(_unreachable(cause) for cause in _causes(error))


def _causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    cause = error.__cause__ or error.__context__
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    return chain


def _unreachable(error: BaseException) -> bool:
    if isinstance(error, (ConnectionError, TimeoutError)):
        return True
    return any(cls.__name__ in TRANSPORT_ERRORS for cls in type(error).__mro__)


def backoff(
    retry: int, *, base: float = 1.0, cap: float = 30.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before the ``retry``-th retry (from 1): ``base`` doubled each time up
    to ``cap``, of which a random half is waited ("equal jitter": never nearly nothing, and
    workers that failed together do not come back together)."""
    full = min(cap, base * 2.0 ** max(0, retry - 1))
    return full / 2 + full / 2 * rand()


@dataclass(frozen=True, kw_only=True)
class ModelRetries:
    """The worker's policy: a transient failure is tried again while the message has been
    taken up no more than ``retries`` times."""

    retries: int
    """Retries after the first try (``TOOLWIRE_MODEL_RETRIES``)."""

    def later(self, error: BaseException, attempts: int) -> bool:
        """Whether the message that failed with ``error`` on its ``attempts``-th try is handed
        back to be tried again (the Processor's ``retry_later``)."""
        return attempts <= self.retries and transient(error)
