"""Exactly once where the tool allows it, on real processes: the API server and a
``toolwire worker`` over a Redis of the test's own, PostgreSQL as the source of truth. The
worker's pool processes are killed with SIGKILL in the middle of two tool calls:

- the idempotent ``reserve`` (its effect written, its call not returned) runs once more when
  the message is taken up, with the same ``call_key``, so its effect happens once and the call
  ends ``ok``;
- the plain ``take_note`` is never run again: its call ends ``interrupted`` and the answer
  says so.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_celery import (
    notes,
    post,
    redis_server,
    stack,  # noqa: F401  # the fixture: a PostgreSQL database, a free Redis port, the env
    starts,
    wait_done,
    worker,
)
from tests.integration.test_server import server

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def effects(home: Path) -> list[str]:
    path = home / "effects.txt"
    return path.read_text().splitlines() if path.exists() else []


def test_a_killed_worker_runs_idempotent_calls_again_once_and_no_others(
    stack: dict[str, Any],  # noqa: F811
) -> None:
    env, home = dict(stack["env"]), stack["home"]
    env["TOOLWIRE_MODEL"] = "scripted:tests.integration.idempotent_tools:reserve_or_note_model"
    env["TOOLWIRE_TOOL_MODULES"] = ('["tests.integration.celery_tools", '
                                    '"tests.integration.idempotent_tools"]')
    with redis_server(stack["port"]), server(stack["database_url"], home, env) as client, \
            worker(env, home / "worker.log"):
        reserved = post(client, "please reserve slow-1")
        noted = post(client, "please note slow-2")
        deadline = time.monotonic() + 60
        while not (starts(home, "slow-1") and starts(home, "slow-2")):
            assert time.monotonic() < deadline, notes(home)
            time.sleep(0.1)
        running = [*starts(home, "slow-1"), *starts(home, "slow-2")]
        for pid in {int(line.split()[1]) for line in running}:
            os.kill(pid, signal.SIGKILL)  # each pool process inside its call

        wait_done(client, [reserved, noted], 90)
        replies = {a["id"]: client.get(f"/interactions/{a['interaction_id']}/messages").json()[1]
                   for a in (reserved, noted)}

    first, again = starts(home, "slow-1")  # run once more, and only once
    key = first.split()[2]
    assert again.split()[2] == key, notes(home)  # with the same key
    assert effects(home) == [f"{key} slow-1"]  # so its effect happened once
    [call] = replies[reserved["id"]]["tool_calls"]
    assert (call["status"], call["result"]) == ("ok", "reserved slow-1")

    assert len(starts(home, "slow-2")) == 1, notes(home)  # never run again
    [call] = replies[noted["id"]]["tool_calls"]
    assert call["status"] == "error" and call["error"]["type"] == "interrupted"
    assert "not run again" in replies[noted["id"]]["content"]
