"""The Gemini backend against scripted HTTP exchanges (no network)."""

from __future__ import annotations

import pytest

from tests.unit.provider_script import HttpScript, reply
from toolwire.models.base import JsonSchemaConstraint, Message, ModelError, Settings, ToolSpec

pytest.importorskip("google.genai")

from toolwire.models.gemini import GeminiModel

EVENT = ToolSpec(
    name="calendar.add",
    description="Add an event.",
    parameters={
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "attendees": {"type": "array", "items": {"type": "string"}},
            "extra": {"type": "object", "description": "Free-form metadata."},
            "priority": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        },
        "required": ["title"],
    },
)
USER = [
    Message(role="system", content="Be brief."),
    Message(role="user", content="Lunch with Ann and Bo"),
]


def _answer(parts: list[dict], finish: str = "STOP") -> dict:
    return {
        "candidates": [
            {"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 4, "totalTokenCount": 34},
        "modelVersion": "gemini-test",
    }


def _call(args: dict) -> dict:
    return {"functionCall": {"name": "calendar.add", "args": args}}


def _model(script: HttpScript, **kwargs: object) -> GeminiModel:
    return GeminiModel(
        "gemini-test", api_key="g-key", http_client=script.client(), backoff=0.01, **kwargs
    )  # type: ignore[arg-type]


async def test_plain_answer() -> None:
    script = HttpScript([reply(200, _answer([{"text": "Done."}]))])
    completion = await _model(script).complete(USER)
    assert (completion.text, completion.tool_calls) == ("Done.", [])
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (30, 4)
    request = script.requests[0]
    assert request.url.path.endswith("/models/gemini-test:generateContent")
    assert request.headers["x-goog-api-key"] == "g-key"
    sent = script.body()
    assert sent["contents"] == [{"role": "user", "parts": [{"text": "Lunch with Ann and Bo"}]}]
    assert sent["systemInstruction"]["parts"] == [{"text": "Be brief."}]


async def test_one_call_in_the_gemini_subset_and_back() -> None:
    args = {"title": "Lunch", "extra": '{"room": 4}', "priority": None}
    script = HttpScript([reply(200, _answer([_call(args)]))])
    completion = await _model(script).complete(
        USER, tools=[EVENT], settings=Settings(tool_choice="calendar.add")
    )
    [call] = completion.tool_calls
    assert call.name == "calendar.add"
    assert call.arguments == {
        "title": "Lunch",
        "extra": {"room": 4},
        "priority": None,
    }  # JSON decoded
    sent = script.body()
    [declaration] = sent["tools"][0]["functionDeclarations"]
    props = declaration["parameters"]["properties"]
    assert props["extra"]["type"] == "STRING"  # a free-form object travels as JSON text
    assert props["priority"] == {"type": "INTEGER", "nullable": True}
    assert sent["toolConfig"]["functionCallingConfig"] == {
        "mode": "ANY",
        "allowedFunctionNames": ["calendar.add"],
    }


async def test_parallel_calls_and_their_responses() -> None:
    script = HttpScript(
        [
            reply(200, _answer([_call({"title": "Lunch"}), _call({"title": "Dinner"})])),
            reply(200, _answer([{"text": "Both added."}])),
        ]
    )
    model = _model(script)
    first = await model.complete(USER, tools=[EVENT])
    assert [c.arguments["title"] for c in first.tool_calls] == ["Lunch", "Dinner"]
    assert first.finish_reason == "tool_calls"
    history = [
        *USER,
        Message(role="assistant", tool_calls=first.tool_calls),
        Message(role="tool", tool_call_id=first.tool_calls[0].id, content='{"id": 1}'),
        Message(role="tool", tool_call_id=first.tool_calls[1].id, content="added"),
    ]
    assert (await model.complete(history, tools=[EVENT])).text == "Both added."
    contents = script.body()["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert [p["functionCall"]["args"] for p in contents[1]["parts"]] == [
        {"title": "Lunch"},
        {"title": "Dinner"},
    ]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "calendar.add", "response": {"id": 1}}},
        {"functionResponse": {"name": "calendar.add", "response": {"result": "added"}}},
    ]


async def test_an_error_names_the_provider_and_the_reason() -> None:
    body = {
        "error": {
            "code": 400,
            "message": "parameters.properties: should be non-empty",
            "status": "INVALID_ARGUMENT",
        }
    }
    script = HttpScript([reply(400, body)])
    with pytest.raises(
        ModelError, match=r"gemini: gemini:gemini-test: HTTP 400: parameters\.properties"
    ) as caught:
        await _model(script).complete(USER)
    assert caught.value.status == 400
    assert len(script.requests) == 1


async def test_429_and_503_are_retried_with_backoff() -> None:
    limited = {
        "error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}
    }
    unavailable = {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}
    script = HttpScript(
        [reply(429, limited), reply(503, unavailable), reply(200, _answer([{"text": "ok"}]))]
    )
    assert (await _model(script).complete(USER)).text == "ok"
    assert len(script.requests) == 3


async def test_retries_run_out_into_a_model_error() -> None:
    limited = {
        "error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}
    }
    script = HttpScript([reply(429, limited), reply(429, limited)])
    with pytest.raises(ModelError, match="HTTP 429: Resource exhausted"):
        await _model(script, max_retries=1).complete(USER)
    assert len(script.requests) == 2


async def test_a_json_schema_constraint_asks_for_json() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    script = HttpScript([reply(200, _answer([{"text": '{"n": 3}'}]))])
    completion = await _model(script).complete(USER, constraint=JsonSchemaConstraint(schema=schema))
    assert completion.text == '{"n": 3}'
    config = script.body()["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == schema


def test_the_key_comes_from_either_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(ModelError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        GeminiModel("gemini-test")
    monkeypatch.setenv("GOOGLE_API_KEY", "from-env")
    assert GeminiModel("gemini-test").name == "gemini:gemini-test"


async def test_a_plain_answer_streams_through_the_sdk() -> None:
    import json

    import httpx

    def chunk(text: str, finish: str | None = None) -> str:
        candidate: dict = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        body = {"candidates": [candidate],
                "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 2,
                                  "totalTokenCount": 9}}
        return f"data: {json.dumps(body)}\r\n\r\n"

    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(200, content=(chunk("Buon") + chunk("giorno!", "STOP")).encode(),
                              headers={"content-type": "text/event-stream"})

    model = GeminiModel("gemini-test", api_key="g-key", backoff=0.01,
                        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    pieces: list[str] = []
    completion = await model.stream_complete([Message(role="user", content="Ciao")],
                                             settings=Settings(), on_text=pieces.append)
    assert pieces == ["Buon", "giorno!"] and completion.text == "Buongiorno!"
    assert "streamGenerateContent" in urls[0] and completion.finish_reason == "stop"
