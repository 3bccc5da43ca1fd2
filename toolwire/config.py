"""One settings object, read from ``TOOLWIRE_*`` environment variables (and a ``.env`` file).

``TOOLWIRE_HOME`` relocates all local state (database, index caches), so tests isolate it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from toolwire.credentials import Credential

DEFAULT_MODEL = "local:smollm2-135m"

#: Units of the target currency per one unit of the source; USD→CAD as the product spec asks.
DEFAULT_RATES: dict[str, float] = {
    "USD": 1.0,
    "CAD": 3.14159,
    "EUR": 0.92,
    "GBP": 0.79,
    "JPY": 149.5,
    "CHF": 0.88,
    "AUD": 1.52,
    "CNY": 7.24,
    "INR": 83.3,
    "MXN": 17.1,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOOLWIRE_", env_file=".env", extra="ignore")

    home: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("toolwire")))
    """Where local state lives: the SQLite database and index caches."""
    model: str = DEFAULT_MODEL
    """Model string: ``local:smollm2-135m``, ``local:/path.gguf``, ``openai:<model>[@url]``..."""
    database_url: str | None = None
    """SQLAlchemy URL; default a SQLite file under ``home``."""
    max_prompt_chars: int = Field(default=8000, ge=1)
    """Longer prompts (a ``/v1`` conversation's text, a system prompt) are refused (HTTP 413)."""
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    """Request bodies over this many bytes are refused (HTTP 413) while they stream in."""
    broker_url: str | None = None
    """Celery broker (``redis://127.0.0.1:6379/0``): posted messages are processed by
    ``toolwire worker`` processes instead of the API's own background tasks."""
    log_format: Literal["text", "json"] = "text"
    """``json``: one JSON object per log line, with the request id (for log collectors)."""
    trace_arguments: bool = False
    """Record each tool call's arguments on its trace span (they may hold what people typed).
    Traces are exported only where ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (``toolwire.tracing``)."""
    auth: Literal["auto", "required", "off"] = "auto"
    """API keys: ``required`` always; ``auto`` (default) unless the server is known to bind
    to loopback (``toolwire serve --host 127.0.0.1``; an app built by ``uvicorn --factory``
    does not know its address, so it requires keys); ``off`` never (only behind something
    that authenticates)."""
    rate_per_minute: int = Field(default=600, ge=1)
    """Requests per minute a key may make (a key can have its own)."""
    cors_origins: list[str] = Field(default_factory=list)
    """Web origins allowed to call the API from a browser (CORS); none by default."""
    retrieval_k: int = 5
    """How many tools retrieval offers the model."""
    max_attempts: int = 3
    """Tries at valid arguments before a call is given up as invalid."""
    answer_style: Literal["template", "model"] = "template"
    """``template``: results whose tools have answer templates are stated by them, without
    asking the model; ``model``: the model words every answer (checked, replaced when it
    fails). See ``EngineConfig.answer_style``."""
    free_answers: bool | None = None
    """Whether a sentence no tool serves may be answered from the model's own knowledge:
    unset, refused for a local model (``local:``, the embedded model above all), which then
    says that no tool can do it, and allowed for the others (OpenAI, Anthropic, Gemini). An
    interaction's setting ``free_answers`` overrides it."""
    clarify_below: float | None = Field(default=None, ge=0, le=1)
    """Below this confidence in a call (embedded model, staged strategy) no tool is called and
    the answer asks which tool is meant (the outcome ``clarify``); 0 turns it off; unset, the
    value fitted on BFCL's tuning split (``EngineConfig.clarify_below``). An interaction's
    setting ``clarify_below`` overrides it."""
    tool_threads: int = Field(default=32, ge=1)
    """Synchronous tool calls running at once (their own threads, never the default pool)."""
    model_timeout: float = Field(default=60.0, gt=0)
    """Seconds one model call may take (local or remote) before the request fails."""
    lease_seconds: float = Field(default=30.0, gt=0)
    """A message being processed holds a lease this long, renewed every third of it; once it
    expires (the process died, the database was away) any process takes the message up."""
    message_attempts: int = Field(default=3, ge=1)
    """Times a message is taken up before it is failed with the reason."""
    model_retries: int = Field(default=2, ge=0)
    """A Celery worker tries a message again this many times, with exponential backoff and
    jitter, when its model failed transiently (the model process crashed or timed out; a
    remote model's 408, 429, 5xx or connection error after the SDK's own retries); then the
    message fails with the model's reason. A permanent failure (a bad request) fails at once."""
    malloc_tuning: bool = True
    """``toolwire serve`` and ``toolwire worker`` fix glibc's mmap threshold and cap its arenas
    at two, in their own process and the ones they start (``toolwire.memory``: about 100 MB
    less resident under load); ``false`` leaves glibc's defaults."""
    concurrency: int = Field(default=4, ge=1)
    """Posted messages processed at once by one server process."""
    shutdown_grace: float = Field(default=10.0, ge=0)
    """On SIGTERM, seconds in-flight work may take before it is handed back to its lease."""
    currency_rates: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_RATES))
    """Rates relative to USD for the built-in ``convert_currency``."""
    tool_modules: list[str] = Field(default_factory=list)
    """Python modules imported at start-up whose ``@toolwire.tool`` functions are served."""
    sandbox_modules: list[str] = Field(default_factory=list)
    """Modules whose tools are untrusted: never imported by the server, their tools are
    discovered in the sandbox at start-up and every one runs sandboxed."""
    sandbox_mode: Literal["isolated", "weak"] = "isolated"
    """``isolated``: sandboxed tools run under bubblewrap (namespaces) and are refused where it
    is missing. ``weak``: the operator accepts rlimits-only processes there (logged loudly)."""
    credentials: dict[str, Credential] = Field(default_factory=dict)
    """Named secrets for HTTP tools (``TOOLWIRE_CREDENTIALS``, a JSON object): imported OpenAPI
    tools name one (``auth="petstore"``); only the name is ever stored."""
    http_timeout: float = Field(default=30.0, gt=0)
    """Seconds an imported HTTP or MCP tool may take (its tool timeout)."""
    http_tools_allow_private: bool = False
    """``True``: imported OpenAPI and MCP-over-HTTP tools may call loopback, private,
    link-local (cloud metadata) and other internal addresses, which are refused by default."""
    weather_url: str = "https://api.open-meteo.com/v1/forecast"
    geocoding_url: str = "https://geocoding-api.open-meteo.com/v1/search"

    @property
    def sqlite_path(self) -> Path:
        return self.home / "toolwire.db"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()
