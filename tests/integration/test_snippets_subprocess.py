"""Replay: each built-in call's snippet, run by a fresh Python, prints what dispatch recorded.

Weather goes to a real local HTTP server answering in Open-Meteo's shape (no internet here),
configured through the same TOOLWIRE_* variables for dispatch and for the snippet's process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from toolwire.builtin import default_registry
from toolwire.config import get_settings
from toolwire.tools.dispatch import ExecutionResult, SubprocessExecutor, dispatch
from toolwire.tools.snippets import snippet_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("calculate", {"expression": "(2 + 3) * 4 ** 0.5"}),
    ("calculate", {"expression": "__import__('os').system('id')"}),
    ("calculate", {"expression": "1 / 0"}),
    ("convert_currency", {"amount": 42, "from_currency": "USD", "to_currency": "CAD"}),
    ("convert_currency", {"amount": 99.99, "from_currency": "EUR", "to_currency": "JPY"}),
    ("convert_units", {"value": 26.2, "from_unit": "mile", "to_unit": "kilometer"}),
    ("convert_units", {"value": 1, "from_unit": "kilogram", "to_unit": "meter"}),
    (
        "convert_timezone",
        {"time": "2024-07-01T15:30", "from_timezone": "Europe/London", "to_timezone": "Asia/Tokyo"},
    ),
    ("convert_timezone", {"time": "noon", "from_timezone": "UTC", "to_timezone": "Nowhere/X"}),
    ("get_time", {"timezone": "America/New_York"}),
    ("open_app", {"app_name": "calculator"}),
    ("get_weather", {"city": "Paris, France", "unit": "fahrenheit"}),
    ("get_weather", {"city": "Atlantis"}),
]


class FakeOpenMeteo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/v1/search":
            found = query["name"] == "Paris"
            body: dict[str, Any] = {"generationtime_ms": 0.3}
            if found:
                body["results"] = [
                    {
                        "name": "Paris",
                        "latitude": 48.85341,
                        "longitude": 2.3488,
                        "country": "France",
                        "country_code": "FR",
                    }
                ]
        else:
            body = {
                "timezone": "Europe/Paris",
                "current": {
                    "time": "2024-06-01T14:00",
                    "temperature_2m": 71.6,
                    "apparent_temperature": 70.1,
                    "relative_humidity_2m": 55,
                    "weather_code": 61,
                    "wind_speed_10m": 9.4,
                },
            }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def meteo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenMeteo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def env(meteo: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("TOOLWIRE_WEATHER_URL", f"{meteo}/v1/forecast")
    monkeypatch.setenv("TOOLWIRE_GEOCODING_URL", f"{meteo}/v1/search")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    get_settings.cache_clear()
    yield dict(os.environ)
    get_settings.cache_clear()


def replay(snippet: str, env: dict[str, str]) -> tuple[int, Any]:
    done = subprocess.run(
        [sys.executable, "-c", snippet],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"the snippet printed nothing; stderr:\n{done.stderr}"
    return done.returncode, json.loads(lines[-1])


def assert_same(name: str, recorded: ExecutionResult, returncode: int, printed: Any) -> None:
    if recorded.status != "ok":
        assert returncode == 1
        assert recorded.error is not None
        assert printed == {
            "error": {"type": recorded.error["type"], "message": recorded.error["message"]}
        }
    elif name == "get_time":  # the clock moved on between the two runs
        gap = datetime.fromisoformat(printed) - datetime.fromisoformat(recorded.result)
        assert returncode == 0 and abs(gap.total_seconds()) < 30
    else:
        assert returncode == 0 and printed == recorded.result


@pytest.mark.parametrize(
    ("name", "arguments"), CALLS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CALLS)]
)
async def test_snippet_prints_the_recorded_result(
    name: str, arguments: dict[str, Any], env: dict[str, str]
) -> None:
    registry = default_registry()
    recorded = await dispatch(registry, name, arguments, approved=True)  # open_app needs it
    assert recorded.status in ("ok", "error"), recorded
    snippet = snippet_for(registry.get(name), arguments)
    returncode, printed = replay(snippet, env)
    assert_same(name, recorded, returncode, printed)


async def test_sandboxed_builtins_agree_with_in_process(env: dict[str, str]) -> None:
    registry = default_registry()
    sandbox = SubprocessExecutor()
    for name, arguments in CALLS[:9]:
        tool = registry.get(name)
        in_process = await dispatch(registry, name, arguments)
        sandboxed = await sandbox.run(tool, arguments)
        assert (sandboxed.status, sandboxed.result, sandboxed.error) == (
            in_process.status,
            in_process.result,
            in_process.error,
        ), name
