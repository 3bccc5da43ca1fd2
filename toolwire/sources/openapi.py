"""OpenAPI 3.0/3.1 and Swagger 2.0 documents as tools that perform the real HTTP request.

    tools = add_openapi(registry, "https://api.example.com/openapi.json", auth="example")

Each operation becomes one tool:

- its **name** is the ``operationId``, or ``"<method> <path>"`` when there is none;
- its **description** is the operation's summary and description;
- its **arguments** merge the path, query, header and cookie parameters and the JSON (or form)
  request body into one JSON Schema. A name used in two places gets its location as a prefix
  (``path_id``, ``query_id``) so none collides; ``$ref`` are resolved (``referencing``, the
  library ``jsonschema`` resolves with) and the document is validated first
  (``openapi-spec-validator``).

Calling the tool validates the arguments against that schema (the registry's dispatch), then
sends the request with httpx (``http.py``). Operations other than GET need approval.
Operations whose method is idempotent by HTTP semantics (GET, HEAD, OPTIONS, TRACE, PUT,
DELETE: RFC 9110, 9.2.2) are ``idempotent`` tools: a call interrupted by a dead process is
sent again when its message is taken up.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from openapi_spec_validator import validate as validate_spec
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing import Registry as RefRegistry
from referencing import Resource
from referencing.exceptions import Unresolvable

from toolwire.credentials import Credential
from toolwire.sources.documents import SourceError
from toolwire.sources.http import Binding, HttpOperation
from toolwire.tools.registry import Tool

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
IDEMPOTENT_METHODS = frozenset({"get", "head", "options", "trace", "put", "delete"})
"""Methods whose request sent twice has the effect of one (RFC 9110, 9.2.2)."""
_DOC_URI = "urn:toolwire:openapi"
_IGNORED_HEADERS = {"accept", "content-type", "authorization"}
"""Header parameters OpenAPI says to ignore: the client sets them."""
_MAX_REF_DEPTH = 12
_SWAGGER_SCHEMA_KEYS = (
    "type", "format", "items", "enum", "default", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems", "maxItems",
    "uniqueItems", "multipleOf",
)
_DROPPED_KEYS = {"xml", "externalDocs", "discriminator", "example", "deprecated", "readOnly",
                 "writeOnly", "collectionFormat", "allowEmptyValue"}


@dataclass(frozen=True, kw_only=True)
class OpenApiSource:
    """Where imported HTTP tools come from and how they authenticate."""

    document: dict[str, Any]
    origin: str = ""
    """The URL or path the document came from (relative server URLs resolve against it)."""
    base_url: str | None = None
    """Overrides the document's servers (or Swagger host + basePath)."""
    credential: Credential | None = None
    auth_name: str | None = None
    """The configured credential's name (what snippets and stored rows mention)."""
    include: tuple[str, ...] = ()
    """Operation names or ``"METHOD /path"`` globs to import (default: all)."""
    exclude: tuple[str, ...] = ()
    timeout: float = 30.0
    tool_source: str = "openapi"
    """The ``Tool.source`` label of the tools (``openapi:<title>`` by default)."""
    allow_private: bool = False
    """The tools may call the base URL's host and port even at an internal address (the
    operator's own API); other internal addresses stay refused (``http.py``)."""


def openapi_tools(source: OpenApiSource) -> list[Tool]:
    """The tools of ``source``'s operations; ``SourceError`` for an invalid document."""
    document = source.document
    version = _check(document)
    resolver = RefRegistry().with_resource(_DOC_URI, Resource.opaque(document)).resolver(_DOC_URI)
    base_url = source.base_url or resolved_base_url(document, source.origin)
    if not base_url:
        raise SourceError("the document names no server: pass base_url")
    secured = _security_parameter_names(document, version, resolver)
    tools: list[Tool] = []
    for path, item in (document.get("paths") or {}).items():
        item = _resolved(item, resolver)
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            name = _name(operation, method, path)
            if not _selected(name, method, path, source.include, source.exclude):
                continue
            builder = _Builder(resolver=resolver, version=version, secured=secured)
            builder.parameters([*item.get("parameters", []), *operation.get("parameters", [])])
            builder.body(operation, document)
            tools.append(_tool(source, name, method, path, operation, base_url, builder))
    if not tools:
        raise SourceError("the document has no operations to import")
    return tools


def source_label(document: dict[str, Any]) -> str:
    """``openapi:<title>`` (the API's title from ``info``)."""
    title = str((document.get("info") or {}).get("title") or "api")
    return f"openapi:{title}"


# -- the document ---------------------------------------------------------------------------
def _check(document: dict[str, Any]) -> str:
    """``"2.0"``, ``"3.0"`` or ``"3.1"``, after validating the document."""
    version = str(document.get("openapi") or document.get("swagger") or "")
    if not version:
        raise SourceError("not an OpenAPI document: it has no 'openapi' or 'swagger' field")
    if not version.startswith(("2.0", "3.0", "3.1")):
        raise SourceError(f"unsupported OpenAPI version {version!r} (2.0, 3.0 and 3.1 are)")
    try:
        validate_spec(document)  # type: ignore[arg-type]
    except OpenAPIValidationError as e:
        where = "/".join(str(p) for p in getattr(e, "path", ()) or ())
        raise SourceError(f"invalid OpenAPI document{f' at {where}' if where else ''}: "
                          f"{getattr(e, 'message', e)}") from None
    except Exception as e:  # the validator raises its own errors for unresolvable refs
        raise SourceError(f"invalid OpenAPI document: {e}") from None
    return version[:3]


def resolved_base_url(document: dict[str, Any], origin: str) -> str:
    """The document's first server (Swagger: ``host`` + ``basePath``), resolved against
    ``origin``, the URL the document came from, when it is relative or missing."""
    if "swagger" in document:
        host = document.get("host")
        if not host:
            return _absolute("", origin, document.get("basePath", ""))
        scheme = (document.get("schemes") or ["https"])[0]
        return f"{scheme}://{host}{document.get('basePath', '')}"
    servers = document.get("servers") or []
    url = str(servers[0].get("url", "")) if servers and isinstance(servers[0], dict) else ""
    for var, spec in ((servers[0].get("variables") or {}).items() if url else ()):
        url = url.replace("{" + var + "}", str(spec.get("default", "")))
    return _absolute(url, origin, "")


def _absolute(url: str, origin: str, base_path: str) -> str:
    """``url`` resolved against the document's own URL (a relative server, or none)."""
    if url.startswith(("http://", "https://")):
        return url
    if origin.startswith(("http://", "https://")):
        return urljoin(origin, url or base_path or "/")
    return url


def _security_parameter_names(
    document: dict[str, Any], version: str, resolver: Any
) -> set[tuple[str, str]]:
    """``(location, name)`` of API-key parameters: configuration supplies them, not the model."""
    schemes = (document.get("securityDefinitions") if version == "2.0"
               else (document.get("components") or {}).get("securitySchemes")) or {}
    out: set[tuple[str, str]] = set()
    for scheme in schemes.values():
        scheme = _resolved(scheme, resolver)
        if isinstance(scheme, dict) and scheme.get("type") == "apiKey":
            out.add((str(scheme.get("in")), str(scheme.get("name", "")).lower()))
    return out


def _name(operation: dict[str, Any], method: str, path: str) -> str:
    operation_id = operation.get("operationId")
    return str(operation_id) if operation_id else f"{method} {path}"


def _selected(
    name: str, method: str, path: str, include: tuple[str, ...], exclude: tuple[str, ...]
) -> bool:
    keys = (name, f"{method.upper()} {path}")

    def matches(patterns: Iterable[str]) -> bool:
        return any(fnmatch.fnmatchcase(k, p) for p in patterns for k in keys)

    return (not include or matches(include)) and not matches(exclude)


# -- $ref -----------------------------------------------------------------------------------
def _resolved(node: Any, resolver: Any) -> Any:
    """``node`` with its top-level ``$ref`` followed (not its children)."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < _MAX_REF_DEPTH:
        node = _lookup(node["$ref"], resolver)
        seen += 1
    return node


def _lookup(ref: str, resolver: Any) -> Any:
    if not ref.startswith("#"):
        raise SourceError(f"$ref {ref!r} points outside the document (only local refs resolve)")
    try:
        return resolver.lookup(ref).contents
    except Unresolvable:
        raise SourceError(f"$ref {ref!r} does not resolve") from None


def inline_refs(node: Any, resolver: Any, seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every ``$ref`` replaced by what it points to; a recursive reference
    becomes an open schema (``{}``) described as such, so the result is finite."""
    if isinstance(node, list):
        return [inline_refs(v, resolver, seen) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen or len(seen) >= _MAX_REF_DEPTH:
            return {"description": f"(recursive: {ref.rsplit('/', 1)[-1]})"}
        target = inline_refs(_lookup(ref, resolver), resolver, (*seen, ref))
        siblings = {k: inline_refs(v, resolver, seen) for k, v in node.items() if k != "$ref"}
        return {**target, **siblings} if isinstance(target, dict) else target
    return {k: inline_refs(v, resolver, seen) for k, v in node.items()}


def json_schema(node: Any) -> Any:
    """An OpenAPI schema object as JSON Schema: ``nullable`` becomes a ``null`` type,
    documentation-only keywords go, ``readOnly`` properties leave request schemas."""
    if isinstance(node, list):
        return [json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED_KEYS or key.startswith("x-"):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {k: json_schema(v) for k, v in value.items()
                        if not (isinstance(v, dict) and v.get("readOnly"))}
        elif key in ("items", "additionalProperties", "not") or key.endswith("Of"):
            out[key] = json_schema(value)
        else:
            out[key] = value
    if out.pop("nullable", False) is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if out.get("type") == "file":
        out["type"] = "string"
    if isinstance(out.get("required"), list) and isinstance(out.get("properties"), dict):
        required = [r for r in out.pop("required") if r in out["properties"]]
        if required:
            out["required"] = required
    return out


# -- arguments ------------------------------------------------------------------------------
@dataclass(kw_only=True)
class _Argument:
    location: str
    name: str
    schema: dict[str, Any]
    required: bool


@dataclass(kw_only=True)
class _Builder:
    """Collects one operation's parameters and body, then names the arguments."""

    resolver: Any
    version: str
    secured: set[tuple[str, str]]
    found: list[_Argument] = field(default_factory=list)
    whole_body: _Argument | None = None
    body_kind: str = "json"

    def parameters(self, raw: list[Any]) -> None:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for parameter in raw:
            parameter = _resolved(parameter, self.resolver)
            if isinstance(parameter, dict) and "name" in parameter and "in" in parameter:
                merged[(str(parameter["in"]), str(parameter["name"]))] = parameter
        for (where, name), parameter in merged.items():
            if where == "header" and name.lower() in _IGNORED_HEADERS:
                continue
            if (where, name.lower()) in self.secured:
                continue
            if where == "body":
                self._body_schema(parameter.get("schema") or {}, bool(parameter.get("required")),
                                  "json", name="body")
                continue
            schema = self._parameter_schema(parameter)
            if parameter.get("description") and "description" not in schema:
                schema["description"] = str(parameter["description"])
            location = "form" if where == "formData" else where
            if location == "form":
                self.body_kind = "form"
            self.found.append(_Argument(location=location, name=name, schema=schema,
                                        required=bool(parameter.get("required"))
                                        or where == "path"))

    def _parameter_schema(self, parameter: dict[str, Any]) -> dict[str, Any]:
        if "schema" in parameter:
            schema = parameter["schema"]
        elif "content" in parameter and isinstance(parameter["content"], dict):
            media: dict[str, Any] = next(iter(parameter["content"].values()), {})
            schema = media.get("schema", {})
        else:  # Swagger 2.0 keeps the schema keywords on the parameter itself
            schema = {k: parameter[k] for k in _SWAGGER_SCHEMA_KEYS if k in parameter}
        return dict(json_schema(inline_refs(schema, self.resolver)))

    def body(self, operation: dict[str, Any], document: dict[str, Any]) -> None:
        if self.version == "2.0":
            return  # Swagger bodies are ``in: body`` / ``formData`` parameters
        request = _resolved(operation.get("requestBody"), self.resolver)
        if not isinstance(request, dict):
            return
        content: dict[str, Any] = request.get("content") or {}
        required = bool(request.get("required"))
        for media, kind in (("application/json", "json"),
                            ("application/x-www-form-urlencoded", "form")):
            if media in content:
                self._body_schema(content[media].get("schema") or {}, required, kind, "body")
                return
        for media, spec in content.items():
            if media.endswith("+json"):
                self._body_schema(spec.get("schema") or {}, required, "json", "body")
                return
        if content:
            self.body_kind = "text"
            self.whole_body = _Argument(location="body", name="body", required=required,
                                        schema={"type": "string",
                                                "description": f"the {next(iter(content))} body"})

    def _body_schema(self, raw: Any, required: bool, kind: str, name: str) -> None:
        schema = json_schema(inline_refs(raw, self.resolver))
        self.body_kind = kind
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if isinstance(properties, dict) and properties and schema.get("type", "object") == "object":
            needed = set(schema.get("required", [])) if required else set()
            for prop, prop_schema in properties.items():
                self.found.append(_Argument(location="body", name=prop, schema=prop_schema,
                                            required=prop in needed))
        else:
            self.whole_body = _Argument(location="body", name=name, schema=schema or {},
                                        required=required)

    def arguments(self) -> tuple[dict[str, Any], tuple[Binding, ...]]:
        """The argument schema and how each argument travels."""
        everything = [*self.found, *([self.whole_body] if self.whole_body else [])]
        counts = Counter(a.name for a in everything)
        properties: dict[str, Any] = {}
        required: list[str] = []
        bindings: list[Binding] = []
        for argument in everything:
            key = argument.name
            if counts[key] > 1 or key in properties:
                key = _unique(f"{argument.location}_{argument.name}", properties)
            properties[key] = argument.schema
            if argument.required:
                required.append(key)
            whole = argument is self.whole_body
            bindings.append(Binding(argument=key, location=argument.location,
                                    name=argument.name, whole_body=whole))
        schema: dict[str, Any] = {"type": "object", "properties": properties,
                                  "additionalProperties": False}
        if required:
            schema["required"] = required
        return schema, tuple(bindings)


def _unique(name: str, taken: dict[str, Any]) -> str:
    out, n = name, 2
    while out in taken:
        out, n = f"{name}_{n}", n + 1
    return out


def _description(operation: dict[str, Any], method: str, path: str) -> str:
    parts = [str(operation.get(k) or "").strip() for k in ("summary", "description")]
    text = "\n\n".join(p for p in dict.fromkeys(parts) if p)
    return text or f"{method.upper()} {path}"


_WORDS = re.compile(r"[{}/_-]+")


def _tool(
    source: OpenApiSource,
    name: str,
    method: str,
    path: str,
    operation: dict[str, Any],
    base_url: str,
    builder: _Builder,
) -> Tool:
    parameters, bindings = builder.arguments()
    call = HttpOperation(
        method=method.upper(), base_url=base_url, path=path, bindings=bindings,
        body_kind=builder.body_kind, credential=source.credential, auth_name=source.auth_name,
        timeout=source.timeout, allow_private=source.allow_private,
    )
    keywords = tuple(w for w in _WORDS.split(path) if w) + tuple(operation.get("tags") or ())
    return Tool(
        name=name,
        description=_description(operation, method, path),
        parameters=parameters,
        handler=call,
        keywords=keywords,
        timeout=source.timeout,
        requires_approval=method != "get",
        idempotent=method in IDEMPOTENT_METHODS,
        source=source.tool_source,
        snippet=call.snippet,
    )
