"""Tools and the registry: a Python function becomes a tool, its JSON Schema from ``schema.py``.

    registry = Registry()

    @registry.tool
    def convert_currency(amount: float, from_currency: str, to_currency: str) -> float:
        '''Convert an amount of money from one currency to another.

        Args:
            amount: the amount to convert
        '''

The registry is the only way to execute anything: a call names a registered tool and its
arguments must validate against the tool's schema (see ``dispatch.py``); schemas come from
``schema.py``. OpenAPI documents and MCP servers add ordinary tools to it through
``toolwire.sources`` (``add_openapi(registry, ...)``, ``add_mcp(registry, ...)``): the registry
imports nothing of them.

A tool whose handler takes a parameter named ``call_key`` gets its call's idempotency key
there: the registry fills it and the model never sees it (it is not in the schema). The key is
the same each time the same call of a stored message runs, so an ``idempotent`` tool run again
after its process died can make its effect happen once (send it as an ``Idempotency-Key``,
or keep it beside what it wrote).
"""

from __future__ import annotations

import inspect
import re
import string
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict, TypeVar, Unpack, overload

import jsonschema

from toolwire.messages import ToolSpec
from toolwire.tools.schema import CALL_KEY, ToolError, check_schema, schema_from_function

if TYPE_CHECKING:
    from toolwire.retrieval.index import Hit, ToolIndex

F = TypeVar("F", bound=Callable[..., Any])

MAX_NAME_LENGTH = 256

AnswerTemplate: TypeAlias = "str | Callable[[dict[str, Any], Any], str]"
"""How a tool's result is put into words: a ``str.format`` template over the call's arguments
and ``result`` (``"{amount} {from_currency} is {result:.2f} {to_currency}"``), or a function of
(arguments, result) returning the sentence."""


class ToolOptions(TypedDict, total=False):
    """How a registered function is offered and run (``Registry.register``, ``@tool``)."""

    name: str | None
    """The tool's name (default: the function's)."""
    keywords: Iterable[str]
    """Extra words for retrieval (synonyms the description lacks)."""
    timeout: float
    """Seconds before an execution is stopped with a timeout error (default 10)."""
    sandbox: bool
    """Run in a separate, resource-limited process."""
    requires_approval: bool
    """Persist the call as pending until a person approves it."""
    idempotent: bool
    """Running a call twice has the effect of running it once (see ``Tool.idempotent``)."""
    answer: AnswerTemplate
    """The sentence that states a result (see ``AnswerTemplate``); checked at registration."""
    normalize: Callable[[dict[str, Any]], dict[str, Any]]
    """Rewrites the arguments people write into the schema's values before validation
    ("miles" -> "mile", "US dollars" -> "USD"); what it cannot rewrite it leaves as it is."""


@dataclass(kw_only=True)
class Tool:
    """A registered function (or a schema-only spec) with its execution policy."""

    name: str
    description: str
    parameters: dict[str, Any]
    """JSON Schema (type object) of the arguments."""
    handler: Callable[..., Any] | None = None
    """The Python callable; ``None`` for schema-only tools (selectable, not executable)."""
    keywords: tuple[str, ...] = ()
    """Extra words for retrieval (synonyms the description lacks)."""
    timeout: float = 10.0
    """Seconds before an execution is abandoned with a timeout error."""
    sandbox: bool = False
    """Run in a separate, resource-limited process."""
    requires_approval: bool = False
    """Persist the call as pending until a person approves it."""
    idempotent: bool = False
    """Running a call twice has the effect of running it once (a lookup, an HTTP GET, PUT or
    DELETE). A call whose process died before it returned is run again, under the same
    idempotency key, when its message is taken up; a call of any other tool ends
    ``interrupted`` and is never run again (at most once)."""
    takes_call_key: bool = False
    """The handler takes a ``call_key`` parameter, filled with the call's idempotency key."""
    import_path: str | None = None
    """``module:qualname`` of the handler, for the reproducible snippet."""
    source: str = "python"
    """Where the tool came from: ``python``, ``schema``, ``openapi:<title>``, ``mcp:<server>``."""
    snippet: Callable[[dict[str, Any]], str] | None = field(default=None, repr=False)
    """Writes the code reproducing a call (HTTP and MCP tools); default: from ``import_path``."""
    answer: AnswerTemplate | None = field(default=None, repr=False)
    """The sentence that states a result; ``None``: one built from the description."""
    normalize: Callable[[dict[str, Any]], dict[str, Any]] | None = field(default=None, repr=False)
    """Rewrites the arguments into the schema's values before validation (``ToolOptions``)."""
    _validator: jsonschema.protocols.Validator | None = field(default=None, repr=False)

    @property
    def executable(self) -> bool:
        return self.handler is not None

    def spec(self) -> ToolSpec:
        return ToolSpec(name=self.name, description=self.description, parameters=self.parameters)

    def handler_arguments(self, arguments: dict[str, Any], key: str = "") -> dict[str, Any]:
        """``arguments`` as the handler takes them: with ``call_key`` set to ``key`` (a fresh
        one when empty) for a handler that asks for it."""
        if not self.takes_call_key:
            return arguments
        return {**arguments, CALL_KEY: key or uuid.uuid4().hex}

    def normalized(self, arguments: Any) -> Any:
        """``arguments`` as the tool's ``normalize`` rewrites them (unchanged without one)."""
        if self.normalize is None or not isinstance(arguments, dict):
            return arguments
        return self.normalize(dict(arguments))

    def validate(self, arguments: Any) -> list[str]:
        """The schema errors of ``arguments``, each as ``path: message``; empty when valid."""
        if self._validator is None:
            cls = jsonschema.validators.validator_for(self.parameters, jsonschema.Draft202012Validator)
            self._validator = cls(self.parameters)
        errors = sorted(self._validator.iter_errors(arguments), key=lambda e: list(e.absolute_path))
        return [_format_error(e) for e in errors]


def _format_error(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return f"{path or '(arguments)'}: {error.message}"


def _check_name(name: str) -> None:
    """Any printable name is kept as given (``billing.invoices.list``, ``Get_Reviews(Tips)``,
    names with spaces); vendor dialects map it to a name they accept (``dialects/names.py``)."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise ToolError(f"invalid tool name {name!r}: use 1-{MAX_NAME_LENGTH} characters")
    if not name.isprintable() or name != name.strip():
        raise ToolError(
            f"invalid tool name {name!r}: no control characters nor leading/trailing spaces"
        )


def takes_call_key(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` has a parameter named ``call_key`` (the registry fills it)."""
    try:
        return CALL_KEY in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False


def check_answer(answer: AnswerTemplate | None, schema: dict[str, Any]) -> AnswerTemplate | None:
    """``answer`` if it is a function, or a template naming only parameters and ``result``
    (and no private attribute of them: ``{result.__class__}`` is refused)."""
    if answer is None or callable(answer):
        return answer
    if not isinstance(answer, str) or not answer.strip():
        raise ToolError("answer must be a non-empty str.format template or a function")
    known = {*schema.get("properties", {}), "result"}
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(answer) if f is not None]
    except ValueError as e:
        raise ToolError(f"answer template {answer!r} is malformed: {e}") from None
    for name in fields:
        root = re.split(r"[.\[]", name, maxsplit=1)[0]
        if "._" in name:
            raise ToolError(f"answer template names {{{name}}}: no private attributes")
        if root not in known:
            raise ToolError(
                f"answer template names {{{name}}}: use the parameters "
                f"({', '.join(sorted(known - {'result'})) or 'none'}) or {{result}}"
            )
    return answer


class Registry:
    """The tools toolwire may select and execute, searchable by meaning and by keyword."""

    def __init__(self, tools: Iterable[Tool] = (), *, index_dir: Path | None = None) -> None:
        """``index_dir`` keeps the tools' embedding vectors on disk across processes (the
        service passes ``TOOLWIRE_HOME/index``); without it they are computed in memory."""
        self._tools: dict[str, Tool] = {}
        self._index: ToolIndex[Tool] | None = None
        self._index_dir = index_dir
        for t in tools:
            self.add(t)

    # -- registration ---------------------------------------------------------------------
    @overload
    def tool(self, fn: F, /) -> F: ...
    @overload
    def tool(self, fn: None = None, /, **options: Unpack[ToolOptions]) -> Callable[[F], F]: ...
    def tool(
        self, fn: F | None = None, /, **options: Unpack[ToolOptions]
    ) -> F | Callable[[F], F]:
        """Decorator: register ``fn`` (bare ``@registry.tool`` or with ``ToolOptions``)."""

        def decorate(f: F) -> F:
            self.register(f, **options)
            return f

        return decorate(fn) if fn is not None else decorate

    def register(self, fn: Callable[..., Any], **options: Unpack[ToolOptions]) -> Tool:
        """Register a Python callable; its schema comes from its signature and docstring."""
        tool_name = options.get("name") or fn.__name__
        _check_name(tool_name)
        description, schema = schema_from_function(fn)
        module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
        import_path = f"{module}:{qualname}" if module and "<locals>" not in qualname else None
        return self.add(
            Tool(
                name=tool_name,
                description=description,
                parameters=schema,
                handler=fn,
                keywords=tuple(options.get("keywords", ())),
                timeout=options.get("timeout", 10.0),
                sandbox=options.get("sandbox", False),
                requires_approval=options.get("requires_approval", False),
                idempotent=options.get("idempotent", False),
                takes_call_key=takes_call_key(fn),
                import_path=import_path,
                answer=check_answer(options.get("answer"), schema),
                normalize=options.get("normalize"),
            )
        )

    def add_schema(
        self,
        spec: dict[str, Any],
        handler: Callable[..., Any] | None = None,
        *,
        keywords: Iterable[str] = (),
    ) -> Tool:
        """Register an OpenAI-style function spec ``{"name", "description", "parameters"}``."""
        if not isinstance(spec, dict):
            raise ToolError("a tool spec must be a JSON object")
        if spec.get("type") == "function" and isinstance(spec.get("function"), dict):
            spec = spec["function"]
        name = spec.get("name")
        if not isinstance(name, str):
            raise ToolError("a tool spec needs a string 'name'")
        parameters = spec.get("parameters") or {"type": "object", "properties": {}}
        return self.add(
            Tool(
                name=name,
                description=str(spec.get("description") or ""),
                parameters=parameters,
                handler=handler,
                keywords=tuple(keywords),
                takes_call_key=handler is not None and takes_call_key(handler),
                source="schema",
            )
        )

    def add(self, tool: Tool) -> Tool:
        """Add a ready ``Tool``; names are unique and schemas must be valid."""
        _check_name(tool.name)
        if tool.name in self._tools:
            raise ToolError(f"a tool named {tool.name!r} is already registered")
        check_schema(tool.name, tool.parameters)
        self._tools[tool.name] = tool
        if self._index is not None:
            self._index.add([tool])
        return tool

    def remove(self, name: str) -> None:
        if self._tools.pop(name, None) is None:
            raise KeyError(name)
        if self._index is not None:
            self._index.remove([name])

    # -- lookup ---------------------------------------------------------------------------
    def get(self, name: str) -> Tool:
        """The tool called ``name``; ``KeyError`` when there is none."""
        return self._tools[name]

    def find(self, name: str) -> Tool | None:
        """The tool called ``name``, or ``None``."""
        return self._tools.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        """The tools as they are now: a copy, so a source loaded or dropped meanwhile by
        another thread (``toolwire.service.registry``) never breaks the iteration."""
        return iter(list(self._tools.values()))

    def __len__(self) -> int:
        return len(self._tools)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    # -- retrieval ------------------------------------------------------------------------
    @property
    def index(self) -> ToolIndex[Tool]:
        """The search index, built on first use and kept in step with registrations."""
        if self._index is None:
            from toolwire.retrieval.index import ToolIndex

            self._index = ToolIndex(cache_dir=self._index_dir)
            self._index.add(list(self._tools.values()))
        return self._index

    def use_index(self, index: ToolIndex[Tool]) -> None:
        """Search with ``index`` (say, one with a disk cache or without embeddings)."""
        index.add([t for t in self._tools.values() if t.name not in index])
        self._index = index

    def search(self, query: str, k: int = 5) -> list[Hit[Tool]]:
        """The ``k`` tools most relevant to ``query``, best first."""
        return self.index.search(query, k)


_DECLARED: list[tuple[Callable[..., Any], ToolOptions]] = []


@overload
def tool(fn: F, /) -> F: ...
@overload
def tool(fn: None = None, /, **options: Unpack[ToolOptions]) -> Callable[[F], F]: ...
def tool(fn: F | None = None, /, **options: Unpack[ToolOptions]) -> F | Callable[[F], F]:
    """Declare a tool for the default registry (the CLI's, the service's, ``Engine()``'s).

    The function is checked at once (a bad schema fails at import, not at the first request)
    and added, with the built-in tools, to every ``toolwire.builtin.default_registry()``.
    Modules named in ``TOOLWIRE_TOOL_MODULES`` are imported so their declarations count.

    ``idempotent=True`` says that running a call twice has the effect of running it once: a
    call whose process died before it returned is then run again when its message is taken
    up, instead of ending ``interrupted``. A parameter named ``call_key`` is not offered to the
    model: it receives the call's idempotency key, the same on every run of that call, so the
    tool can make its effect happen once::

        @toolwire.tool(idempotent=True)
        def book_table(restaurant: str, time: str, call_key: str) -> str:
            return reservations.create(restaurant, time, idempotency_key=call_key)
    """
    def declare(f: F) -> F:
        Registry().register(f, **options)  # validates now
        _DECLARED.append((f, options))
        return f

    return declare(fn) if fn is not None else declare


def declared_tools() -> list[tuple[Callable[..., Any], ToolOptions]]:
    """The functions declared with ``@toolwire.tool``, with their options, in order."""
    return list(_DECLARED)
