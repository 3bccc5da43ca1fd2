"""The official ``openai`` client against a real toolwire server over loopback.

The server is ``python -m toolwire.api`` with ``TOOLWIRE_MODEL`` naming the scripted currency
model (see ``tests/unit/openai_compat_fixtures.py``); the tools are the built-in
``convert_currency`` schema, sent by the client as OpenAI tools.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openai import BadRequestError, NotFoundError, OpenAI

from tests.unit.openai_compat_fixtures import currency_model
from toolwire.builtin import default_registry
from toolwire.dialects import to_openai
from toolwire.models.base import Message
from toolwire.models.openai import OpenAIModel

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "I want to exchange 42 US dollars to Canadian dollars"
EXPECTED = {"amount": 42.0, "from_currency": "USD", "to_currency": "CAD"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("openai-compat")
    port = _free_port()
    env = {
        **os.environ,
        "TOOLWIRE_HOME": str(home),
        "TOOLWIRE_DATABASE_URL": f"sqlite:///{home / 'toolwire.db'}",
        "TOOLWIRE_MODEL": "scripted:tests.unit.openai_compat_fixtures:currency_model",
        "PYTHONPATH": str(ROOT),
    }
    log_path = home / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "toolwire.api", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait_ready(f"http://127.0.0.1:{port}", process, log_path)
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server not ready:\n{log.read_text()}")


@pytest.fixture(scope="module")
def client(base_url: str) -> OpenAI:
    return OpenAI(base_url=base_url, api_key="unused", max_retries=0)


def _convert_tool() -> dict:
    return to_openai(default_registry().get("convert_currency").spec())


def test_a_tool_call_without_streaming(client: OpenAI) -> None:
    response = client.chat.completions.create(
        model="toolwire", messages=[{"role": "user", "content": QUESTION}], tools=[_convert_tool()]
    )
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls or []
    assert call.function.name == "convert_currency"
    assert json.loads(call.function.arguments) == EXPECTED
    assert response.usage is not None and response.usage.total_tokens > 0


def test_a_tool_call_with_streaming(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="toolwire",
        messages=[{"role": "user", "content": QUESTION}],
        tools=[_convert_tool()],
        stream=True,
    )
    name, arguments, finish = "", "", None
    for chunk in stream:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                name += (delta.function and delta.function.name) or ""
                arguments += (delta.function and delta.function.arguments) or ""
            finish = choice.finish_reason or finish
    assert (name, json.loads(arguments), finish) == ("convert_currency", EXPECTED, "tool_calls")


def test_executed_server_side_the_call_streams_before_the_answer(client: OpenAI) -> None:
    """``toolwire.execute``: the call's deltas come as soon as it is decided, the answer's
    text after them."""
    stream = client.chat.completions.create(
        model="toolwire", messages=[{"role": "user", "content": QUESTION}], stream=True,
        extra_body={"toolwire": {"execute": True}},
    )
    kinds: list[str] = []
    name, arguments, text, finish = "", "", "", None
    for chunk in stream:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                kinds.append("call")
                name += (delta.function and delta.function.name) or ""
                arguments += (delta.function and delta.function.arguments) or ""
            if choice.delta.content:
                kinds.append("text")
                text += choice.delta.content
            finish = choice.finish_reason or finish
    assert (name, json.loads(arguments), finish) == ("convert_currency", EXPECTED, "stop")
    assert kinds[0] == "call" and "call" not in kinds[kinds.index("text"):] and text


def test_tool_choice_none_gives_text(client: OpenAI) -> None:
    response = client.chat.completions.create(
        model="toolwire",
        messages=[{"role": "user", "content": QUESTION}],
        tools=[_convert_tool()],
        tool_choice="none",
    )
    message = response.choices[0].message
    assert message.tool_calls is None and message.content


def test_a_malformed_tool_is_a_400_naming_the_field(client: OpenAI) -> None:
    bad = {
        "type": "function",
        "function": {"name": "convert currency", "parameters": {"type": "object"}},
    }
    with pytest.raises(BadRequestError) as caught:
        client.chat.completions.create(
            model="toolwire", messages=[{"role": "user", "content": QUESTION}], tools=[bad]
        )  # type: ignore[list-item]
    assert caught.value.status_code == 400
    assert caught.value.param == "tools[0].function.name"  # type: ignore[attr-defined]


def test_models_lists_the_served_model(client: OpenAI) -> None:
    assert [m.id for m in client.models.list()] == [
        "toolwire", "scripted:tests.unit.openai_compat_fixtures:currency_model"
    ]
    with pytest.raises(NotFoundError):  # an unknown model is never silently replaced
        client.chat.completions.create(model="gpt-imaginary",
                                       messages=[{"role": "user", "content": QUESTION}])


async def test_toolwire_as_the_model_of_toolwire(base_url: str) -> None:
    """``openai:<name>@<toolwire url>`` gets the same answer as the model in-process."""
    spec = default_registry().get("convert_currency").spec()
    messages = [Message(role="user", content=QUESTION)]
    remote = await OpenAIModel("toolwire", base_url=base_url).complete(messages, tools=[spec])
    local = await currency_model().complete(messages, tools=[spec])
    assert [(c.name, c.arguments) for c in remote.tool_calls] == [
        (c.name, c.arguments) for c in local.tool_calls
    ]
    assert remote.tool_calls[0].arguments == EXPECTED
