"""The real ``toolwire`` command in a subprocess: ``run`` (JSON and human), ``tools``, bad input.

The weather service is down (a dead port) and there is no display, as in ``test_bar.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.bar import offline_env
from toolwire.builtin import BUILTIN_NAMES

pytestmark = pytest.mark.integration

TIMEOUT_S = 300


def _command() -> list[str]:
    """The installed entry point beside this Python, else the module."""
    script = Path(sys.executable).with_name("toolwire")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "toolwire.cli"]


def toolwire(*args: str) -> subprocess.CompletedProcess[str]:
    env = offline_env(os.environ)
    env.pop("TOOLWIRE_MODEL", None)  # the embedded default
    return subprocess.run([*_command(), *args], capture_output=True, text=True, env=env,
                          timeout=TIMEOUT_S, check=False)


def test_run_json_prints_calls_with_result_snippet_and_answer() -> None:
    done = toolwire("run", "--json", "I want to exchange 42 US dollars to Canadian dollars")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert set(payload) == {"calls", "answer"}
    [call] = payload["calls"]
    assert set(call) == {"name", "arguments", "status", "result", "error", "snippet"}
    assert call["name"] == "convert_currency"
    assert call["arguments"] == {"amount": 42, "from_currency": "USD", "to_currency": "CAD"}
    assert call["result"] == pytest.approx(131.95)
    assert call["error"] is None
    assert "convert_currency(" in call["snippet"]
    assert isinstance(payload["answer"], str) and payload["answer"].strip()


def test_run_json_without_a_fitting_tool_makes_no_call() -> None:
    done = toolwire("run", "--json", "write me a poem about the sea")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["calls"] == []
    assert payload["answer"].strip()


def test_run_prints_the_call_and_its_error_when_offline() -> None:
    done = toolwire("run", "What's the weather like in Paris right now? Use celsius.")
    assert done.returncode == 0, done.stderr
    assert "get_weather(city='Paris', unit='celsius')" in done.stdout
    assert "unreachable" in done.stdout


def test_tools_list_names_every_builtin() -> None:
    done = toolwire("tools", "list", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {r["name"] for r in rows} >= set(BUILTIN_NAMES)
    assert all(r["description"] and r["parameters"]["type"] == "object" for r in rows)
    human = toolwire("tools", "list")
    assert all(name in human.stdout for name in BUILTIN_NAMES)


def test_tools_search_ranks_convert_currency_first() -> None:
    done = toolwire("tools", "search", "--json", "currency")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows[0]["name"] == "convert_currency"
    assert rows[0]["score"] >= max(r["score"] for r in rows)
    human = toolwire("tools", "search", "currency")
    assert "convert_currency" in human.stdout.splitlines()[0]


@pytest.mark.parametrize("prompt", ["", "   "])
def test_run_refuses_an_empty_prompt(prompt: str) -> None:
    done = toolwire("run", prompt)
    assert done.returncode != 0
    assert "prompt is empty" in done.stderr


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("bogus:thing", "unknown model provider 'bogus'"),
        ("nonsense", "unknown model 'nonsense'"),
        ("local:/no/such/model.gguf", "no GGUF model file"),
    ],
)
def test_run_refuses_an_unknown_model_clearly(model: str, message: str) -> None:
    done = toolwire("run", "--model", model, "convert 1000 JPY to GBP")
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
