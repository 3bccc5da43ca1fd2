"""Auth and client setup per vendor, apart from the wire adapters in ``toolwire.models``.

Each provider module builds the vendor's official async SDK client (an optional extra:
``toolwire[anthropic]``, ``toolwire[gemini]``; ``openai`` is a core dependency) with the key
from the vendor's usual environment variable, a timeout and the SDK's own retries with
exponential backoff on 429 and 5xx. Tests pass an ``httpx.AsyncClient`` with a MockTransport.
"""

from __future__ import annotations

import os

from toolwire.errors import ModelError

#: statuses worth retrying (rate limits, timeouts, server errors)
RETRY_STATUSES = (408, 429, 500, 502, 503, 504)


def api_key_from_env(provider: str, *names: str, required: bool = True) -> str | None:
    """The first of ``names`` set in the environment; a ``ModelError`` when required and none is."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    if required:
        raise ModelError(provider, f"no API key: set {' or '.join(names)}")
    return None
