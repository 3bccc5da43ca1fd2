"""The OpenAI SDK client, for api.openai.com or any OpenAI-compatible server.

With a custom ``base_url`` (vLLM, Ollama, llama.cpp server, LM Studio, another toolwire) a
missing key is fine: such servers usually ignore it, so a placeholder is sent.
"""

from __future__ import annotations

import httpx

from toolwire.providers import api_key_from_env

try:
    from openai import AsyncOpenAI
except ImportError as e:  # pragma: no cover - openai is a core dependency
    raise ImportError('Please install "toolwire[openai]" to use OpenAI models') from e

PLACEHOLDER_KEY = "not-needed"


def openai_client(
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    http_client: httpx.AsyncClient | None = None,
    max_retries: int = 3,
    timeout: float = 60,
) -> AsyncOpenAI:
    """An ``AsyncOpenAI`` client; the key comes from ``OPENAI_API_KEY`` when not given."""
    key = api_key or api_key_from_env("openai", "OPENAI_API_KEY", required=base_url is None)
    return AsyncOpenAI(
        api_key=key or PLACEHOLDER_KEY,
        base_url=base_url,
        http_client=http_client,
        max_retries=max_retries,
        timeout=timeout,
    )
