"""The Google Gen AI SDK client (optional extra ``toolwire[gemini]``).

Its retries are configured explicitly (the SDK retries nothing by default): ``max_retries``
further attempts on 408/429/5xx, waiting ``backoff`` seconds and doubling, with jitter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from toolwire.providers import RETRY_STATUSES, api_key_from_env

if TYPE_CHECKING:
    from google.genai import Client


def gemini_client(
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    http_client: httpx.AsyncClient | None = None,
    max_retries: int = 3,
    timeout: float = 60,
    backoff: float = 1.0,
) -> Client:
    """A ``google.genai.Client``; the key comes from ``GEMINI_API_KEY`` or ``GOOGLE_API_KEY``."""
    try:
        from google.genai import Client, types
    except ImportError as e:
        raise ImportError('Please install "toolwire[gemini]" to use Gemini models') from e
    key = api_key or api_key_from_env(
        "gemini", "GEMINI_API_KEY", "GOOGLE_API_KEY", required=base_url is None
    )
    retry = types.HttpRetryOptions(
        attempts=max_retries + 1,
        initial_delay=backoff,
        max_delay=max(backoff * 2**max_retries, backoff),
        exp_base=2,
        jitter=0.5 * backoff,
        http_status_codes=list(RETRY_STATUSES),
    )
    options = types.HttpOptions(
        base_url=base_url,
        timeout=int(timeout * 1000),
        retry_options=retry,
        httpx_async_client=http_client,
    )
    return Client(api_key=key or "not-needed", http_options=options)
