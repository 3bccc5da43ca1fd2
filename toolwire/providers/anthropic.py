"""The Anthropic SDK client (optional extra ``toolwire[anthropic]``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolwire.providers import api_key_from_env

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic


def anthropic_client(
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    http_client: Any | None = None,
    max_retries: int = 3,
    timeout: float = 60,
) -> AsyncAnthropic:
    """An ``AsyncAnthropic`` client; the key comes from ``ANTHROPIC_API_KEY`` when not given."""
    try:
        from anthropic import AsyncAnthropic
    except ImportError as e:
        raise ImportError('Please install "toolwire[anthropic]" to use Anthropic models') from e
    key = api_key or api_key_from_env("anthropic", "ANTHROPIC_API_KEY", required=base_url is None)
    return AsyncAnthropic(
        api_key=key or "not-needed",
        base_url=base_url,
        http_client=http_client,
        max_retries=max_retries,
        timeout=timeout,
    )
