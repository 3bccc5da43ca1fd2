"""Dialect rules one at a time: rewrites, rejections naming the path, names, messages."""

from __future__ import annotations

import pytest

from toolwire.dialects import (
    DialectError,
    WireNames,
    from_anthropic_messages,
    from_gemini,
    from_openai,
    from_openai_messages,
    onto_schema,
    to_anthropic_messages,
    to_gemini,
    to_gemini_contents,
    to_openai,
    to_openai_messages,
)
from toolwire.dialects import gemini as gemini_dialect
from toolwire.dialects import openai as openai_dialect
from toolwire.models.base import Message, ToolCallRequest, ToolSpec


def _spec(properties: dict, required: list[str] | None = None, **extra: object) -> ToolSpec:
    schema = {"type": "object", "properties": properties, **extra}
    if required is not None:
        schema["required"] = required
    return ToolSpec(name="f", description="A tool.", parameters=schema)


def test_gemini_rewrites_what_it_can() -> None:
    spec = _spec(
        {
            "when": {
                "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
                "description": "d",
            },
            "mode": {"const": "fast"},
            "size": {"type": "integer", "enum": [1, 2, 3]},
            "point": {"$ref": "#/$defs/Point"},
        },
        ["mode"],
        **{
            "$defs": {
                "Point": {
                    "type": "object",
                    "properties": {"x": {"type": "number"}},
                    "additionalProperties": False,
                }
            }
        },
    )
    declaration = to_gemini(spec)
    props = declaration["parameters"]["properties"]
    assert props["when"] == {
        "type": "STRING",
        "format": "date-time",
        "nullable": True,
        "description": "d",
    }
    assert props["mode"]["type"] == "STRING" and props["mode"]["enum"] == ["fast"]
    assert (
        "enum" not in props["size"] and "[1, 2, 3]" in props["size"]["description"]
    )  # the model still sees them
    assert (
        props["point"]["type"] == "OBJECT" and props["point"]["properties"]["x"]["type"] == "NUMBER"
    )
    assert gemini_dialect.problems(declaration) == []
    assert from_gemini(declaration) == spec


@pytest.mark.parametrize(
    ("properties", "defs", "path"),
    [
        ({"nothing": {"type": "null"}}, None, "parameters.properties.nothing"),
        (
            {"node": {"$ref": "#/$defs/Node"}},
            {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
            "parameters.properties.node.properties.next",
        ),
        (
            {"both": {"allOf": [{"type": "string"}, {"minLength": 2}]}},
            None,
            "parameters.properties.both",
        ),
    ],
)
def test_gemini_rejects_what_it_cannot_and_names_the_path(
    properties: dict, defs: dict | None, path: str
) -> None:
    spec = _spec(properties, **({"$defs": defs} if defs else {}))
    with pytest.raises(DialectError) as caught:
        to_gemini(spec)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"gemini: {path}: ")


def test_gemini_validator_states_the_rules() -> None:
    declaration = {
        "name": "1bad",
        "parameters": {
            "type": "OBJECT",
            "properties": {
                "a": {"type": "INTEGER", "enum": [1]},
                "b": {"type": "OBJECT"},
                "c": {"type": "ARRAY"},
                "d": {"type": "STRING", "format": "uri", "additionalProperties": False},
            },
            "required": ["zz"],
        },
    }
    problems = "\n".join(gemini_dialect.problems(declaration))
    for expected in [
        "name: '1bad'",
        "properties[a].enum: only allowed for STRING type",
        "properties[b].properties: should be non-empty for OBJECT type",
        "properties[c].items: missing field",
        "properties[d].format: 'uri' not supported",
        "properties[d].additionalProperties: unknown field",
        "parameters.required: 'zz' is not a property",
    ]:
        assert expected in problems


def test_a_tool_without_parameters_declares_none_to_gemini() -> None:
    spec = ToolSpec(
        name="now",
        description="The time.",
        parameters={"type": "object", "properties": {}, "required": []},
    )
    declaration = to_gemini(spec)
    assert "parameters" not in declaration
    assert gemini_dialect.problems(declaration) == []
    assert from_gemini(declaration) == spec


def test_strict_mode_makes_everything_required_and_closed() -> None:
    spec = _spec(
        {
            "q": {"type": "string"},
            "limit": {"type": "integer", "default": 10, "minimum": 1},
            "meta": {"type": "object"},
        },
        ["q"],
    )
    tool = to_openai(spec, strict=True)
    params = tool["function"]["parameters"]
    assert params["required"] == ["q", "limit", "meta"] and params["additionalProperties"] is False
    assert params["properties"]["limit"]["type"] == ["integer", "null"]
    assert (
        "default" not in params["properties"]["limit"]
        and params["properties"]["limit"]["minimum"] == 1
    )
    assert params["properties"]["meta"]["type"] == ["string", "null"]  # free-form: JSON text
    assert openai_dialect.problems(tool) == []
    assert from_openai(tool) == spec
    answer = {"q": "x", "limit": None, "meta": '{"a": [1]}'}
    assert onto_schema(spec.parameters, answer) == {"q": "x", "meta": {"a": [1]}}


def test_the_strict_validator_catches_a_plain_schema() -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "f",
            "strict": True,
            "parameters": _spec({"a": {"type": "string", "default": "x"}}).parameters,
        },
    }
    problems = openai_dialect.problems(tool)
    assert "function.parameters.additionalProperties: must be false" in problems
    assert "function.parameters.required: must list every property" in problems
    assert "function.parameters.properties.a.default: not supported in strict mode" in problems


def test_wire_names_are_valid_unique_and_reversible() -> None:
    long = "a." + "x" * 100
    names = WireNames.build(["math.gcd", "math_gcd", long, "ok"], "openai")
    wires = [names.wire(n) for n in ["math.gcd", "math_gcd", long, "ok"]]
    assert (
        wires[0] == "math_gcd"
        and wires[1] != "math_gcd"
        and len(wires[2]) == 64
        and wires[3] == "ok"
    )
    assert [names.original(w) for w in wires] == ["math.gcd", "math_gcd", long, "ok"]
    assert WireNames.build(["9lives"], "gemini").wire("9lives") == "_9lives"


CONVERSATION = [
    Message(role="system", content="Be brief."),
    Message(role="user", content="Weather in Paris and Rome?"),
    Message(
        role="assistant",
        content="Checking.",
        tool_calls=[
            ToolCallRequest(id="c1", name="weather.now", arguments={"city": "Paris"}),
            ToolCallRequest(id="c2", name="weather.now", arguments={"city": "Rome"}),
        ],
    ),
    Message(role="tool", content="20C", tool_call_id="c1"),
    Message(role="tool", content="25C", tool_call_id="c2"),
    Message(role="assistant", content="Paris 20C, Rome 25C."),
]


def test_openai_messages_round_trip() -> None:
    names = WireNames.build(["weather.now"], "openai")
    wire = to_openai_messages(CONVERSATION, names=names)
    assert wire[2]["tool_calls"][0]["function"]["name"] == "weather_now"
    assert from_openai_messages(wire, names=names) == CONVERSATION


def test_anthropic_messages_round_trip() -> None:
    system, wire = to_anthropic_messages(CONVERSATION)
    assert system == "Be brief."
    assert [m["role"] for m in wire] == ["user", "assistant", "user", "assistant"]
    assert [b["type"] for b in wire[2]["content"]] == ["tool_result", "tool_result"]
    assert from_anthropic_messages(system, wire) == CONVERSATION


def test_gemini_contents_name_each_function_response() -> None:
    system, contents = to_gemini_contents(CONVERSATION)
    assert system == "Be brief."
    assert [c["role"] for c in contents] == ["user", "model", "user", "model"]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "weather.now", "response": {"result": "20C"}}},
        {"functionResponse": {"name": "weather.now", "response": {"result": "25C"}}},
    ]


def test_bad_openai_messages_name_the_field() -> None:
    with pytest.raises(DialectError) as caught:
        from_openai_messages(
            [
                {
                    "role": "assistant",
                    "tool_calls": [{"function": {"name": "f", "arguments": "{oops"}}],
                }
            ]
        )
    assert caught.value.path == "messages[0].tool_calls[0].function.arguments"
