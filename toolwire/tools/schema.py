"""JSON Schemas for tools: from a Python function's type hints and docstring (Google, NumPy or
reST ``Args``), and the check that a given schema is a valid object schema.

    description, parameters = schema_from_function(convert_currency)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

import docstring_parser
import jsonschema
from pydantic import ConfigDict, Field, create_model

CALL_KEY = "call_key"
"""The parameter through which a handler asks for its call's idempotency key: filled by the
registry, never by the model, so it is left out of the schema."""


class ToolError(ValueError):
    """A tool could not be registered: bad name, duplicate, invalid schema."""


def schema_from_function(fn: Callable[..., Any]) -> tuple[str, dict[str, Any]]:
    """Description and JSON Schema of ``fn`` from its type hints and docstring (without a
    ``call_key`` parameter: the registry fills that one)."""
    doc = docstring_parser.parse(inspect.getdoc(fn) or "")
    param_docs = {p.arg_name: " ".join((p.description or "").split()) for p in doc.params}
    hints = get_type_hints(fn, include_extras=True)
    fields: dict[str, Any] = {}
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ToolError(f"{fn.__name__}: *args/**kwargs cannot be described by a schema")
        if name == CALL_KEY:
            continue
        annotation = hints.get(name, Any)
        default = ... if param.default is param.empty else param.default
        description = param_docs.get(name) or None
        fields[name] = (annotation, Field(default, description=description))
    model = create_model(  # type: ignore[call-overload]
        f"{fn.__name__}_arguments", __config__=ConfigDict(extra="forbid"), **fields
    )
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    schema.setdefault("properties", {})
    schema.setdefault("required", [])
    description = " ".join(
        " ".join(part.split()) for part in (doc.short_description, doc.long_description) if part
    )
    return description, schema


def check_schema(name: str, schema: Any) -> None:
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise ToolError(f"{name}: parameters must be a JSON Schema of type 'object'")
    cls = jsonschema.validators.validator_for(schema, jsonschema.Draft202012Validator)
    error = jsonschema.exceptions.best_match(_meta_validator(cls).iter_errors(schema))
    if error is not None:
        path = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise ToolError(f"{name}: invalid parameters schema at {path}: {error.message}")


@functools.cache
def _meta_validator(cls: Any) -> Any:
    """One validator of the metaschema per draft (building it per tool costs milliseconds)."""
    return cls(cls.META_SCHEMA, format_checker=cls.FORMAT_CHECKER)


CONSTRAINING_KEYWORDS = frozenset({
    "type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "properties", "items",
    "prefixItems", "pattern",
})
"""The JSON Schema keywords that say what a value may be (the others, like ``description``
or ``default``, annotate it); llama.cpp's schema-to-grammar converter reads these."""


def constrains(schema: dict[str, Any]) -> bool:
    """Whether ``schema`` says anything of what its value may be (BFCL's type "any" leaves a
    parameter with its description alone, which allows any value)."""
    return bool(CONSTRAINING_KEYWORDS & schema.keys())
