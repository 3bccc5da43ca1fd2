"""The playground in a real browser: Debian's headless Chromium (``/usr/bin/chromium``, which
``scripts/system_deps.sh`` installs; Playwright downloads no browser here) drives ``GET /`` of
the real server (``python -m toolwire.api``) on the embedded model and a SQLite file.

A sentence typed into the page streams its steps in (the ``convert_currency`` call and its
result), the interaction's history is there again after a reload, and the page asks for
nothing from anywhere but its own server. With keys on (and a scripted model, for speed) the
page asks for a key, keeps it, and lets a person reject a call that waits for approval. Screenshots (``playground.png`` after the run,
``playground-last.png`` at the end, pass or fail) are kept under ``tmp_path`` and copied to
``$TOOLWIRE_ARTIFACTS`` when that is set.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect, sync_playwright

from tests.conftest import _in_ci, sqlite_url
from tests.integration.test_server import server
from toolwire.api.auth import create_key
from toolwire.models.base import Completion, ToolCallRequest
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.store.db import Database

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
PROMPT = "I want to exchange 42 US dollars to Canadian dollars"
RUN_TIMEOUT_MS = 120_000
"""The embedded model on a slow, shared machine: a run can take most of this."""

WATCH_STEPS = """() => {
  window.stepsSeen = [];
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) {
      if (node.dataset?.kind) window.stepsSeen.push([node.dataset.kind, Math.round(performance.now())]);
    }
  }).observe(document.getElementById("steps"), { childList: true });
}"""
"""Records when each step shows up, to tell steps streamed in from a run shown at its end."""


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    """A page in headless Chromium; its last state is kept as a screenshot, pass or fail."""
    if not CHROMIUM.exists():
        message = (f"Debian's chromium is not installed at {CHROMIUM} "
                   "(scripts/system_deps.sh installs it as root)")
        if _in_ci():
            pytest.fail(f"{message}; CI runs the playground test, install chromium")
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000},
                                    permissions=["clipboard-read", "clipboard-write"])
            yield page
            _keep_screenshot(page, tmp_path / "playground-last.png")
        finally:
            browser.close()


def _keep_screenshot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    artifacts = os.environ.get("TOOLWIRE_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        copied = shutil.copy(path, Path(artifacts) / path.name)
        print(f"screenshot: {copied}")


def test_a_sentence_streams_its_steps_and_stays_in_the_history(
    page: Page, tmp_path: Path
) -> None:
    embedded = {"TOOLWIRE_MODEL": "local:smollm2-135m"}
    with server(sqlite_url(tmp_path), tmp_path, extra_env=embedded) as client:
        base = str(client.base_url).rstrip("/")
        elsewhere: list[str] = []

        def only_this_server(route: Route) -> None:
            if route.request.url.startswith(base + "/"):
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        page.route("**/*", only_this_server)
        page.goto(base + "/")
        expect(page.locator("#tools")).to_contain_text("convert_currency")

        page.evaluate(WATCH_STEPS)
        started = time.monotonic()
        page.get_by_label("Sentence").fill(PROMPT)
        page.get_by_role("button", name="Run").click()
        steps = page.locator("#steps")
        executed = steps.locator('[data-kind="executed"]')
        expect(executed).to_contain_text("convert_currency", timeout=RUN_TIMEOUT_MS)
        expect(executed).to_contain_text("131.95")
        copy = executed.get_by_role("button", name="Copy the Python snippet")
        copy.click()
        expect(copy).to_have_text("Copied")  # for two seconds, once the clipboard has it
        assert "convert_currency(" in page.evaluate("navigator.clipboard.readText()")
        expect(page.get_by_role("button", name="Run")).to_be_enabled(timeout=RUN_TIMEOUT_MS)
        print(f"run shown in {time.monotonic() - started:.1f} s")
        seen: list[list[Any]] = page.evaluate("window.stepsSeen")
        print("steps seen (ms):", seen)
        shown = dict(seen)
        assert [kind for kind, _ in seen][:2] == ["stored", "retrieved"] and "call_proposed" in shown
        # streamed, not shown at the end: the first steps were on the page well before the
        # last one (the first sentence's retrieval alone loads the embedding model); a run
        # sent whole at its end would add every step within a few milliseconds
        assert shown["executed"] - shown["stored"] > 50, seen
        expect(page.locator("#answer")).not_to_be_empty()
        _keep_screenshot(page, tmp_path / "playground.png")

        [interaction] = client.get("/interactions").json()["items"]
        assert page.url.endswith("#" + interaction["id"])
        page.reload()
        expect(page.get_by_label("Interaction")).to_have_value(interaction["id"])
        history = page.locator("#history")
        expect(history).to_contain_text(PROMPT)
        expect(history).to_contain_text("convert_currency")
        expect(history).to_contain_text("131.95")
        assert elsewhere == []


def _opener(request: Request) -> Completion:
    if request.tools:
        return Completion(tool_calls=[ToolCallRequest(id="", name="open_app",
                                                      arguments={"app_name": "calculator"})])
    return Completion(text="Done.")


def opener_model() -> ScriptedModel:
    """The model of the keyed test: it always asks to open the calculator (which needs
    approval; the test rejects it, so nothing is ever launched)."""
    return ScriptedModel(_opener, name="scripted-opener")


def test_with_keys_on_the_page_asks_for_one_and_a_person_rejects_a_call(
    page: Page, tmp_path: Path
) -> None:
    url = sqlite_url(tmp_path)
    env = {"TOOLWIRE_MODEL": "scripted:tests.integration.test_playground:opener_model",
           "TOOLWIRE_AUTH": "required"}
    with server(url, tmp_path, extra_env=env) as client:
        assert client.get("/interactions").status_code == 401
        database = Database(url)
        key = database.write_sync(lambda s: create_key(s, owner="tester"))[0]
        database.dispose()

        page.goto(str(client.base_url).rstrip("/") + "/")
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Use this key").click()
        expect(page.locator("#key-form")).to_be_hidden()
        assert page.evaluate("localStorage.getItem('toolwire.apiKey')") == key

        page.get_by_label("Search tools").fill("launch an application")
        expect(page.locator("#tools li").first).to_contain_text(re.compile(r"open_app \d\.\d{3}"))

        sentence = "open the calculator <b>now</b>"  # text, never markup
        page.get_by_label("Sentence").fill(sentence)
        page.get_by_role("button", name="Run").click()
        approval = page.locator('#steps [data-kind="approval"]')
        expect(approval).to_contain_text("Approval needed: open_app", timeout=RUN_TIMEOUT_MS)
        expect(page.locator("#history .approval")).to_be_visible()  # it waits there too
        approval.get_by_label("Reason (optional)").fill("not on this machine")
        approval.get_by_role("button", name="Reject").click()
        expect(approval).to_contain_text("rejected")
        expect(page.get_by_role("button", name="Approve")).to_have_count(0)
        expect(page.locator("#answer")).not_to_be_empty()

        page.reload()
        history = page.locator("#history")
        expect(history).to_contain_text(sentence)
        expect(history).to_contain_text("rejected")
        assert history.locator("b").count() == 0
        [call] = client.get("/tool-calls", headers={"authorization": f"Bearer {key}"}).json()["items"]
        assert call["status"] == "rejected" and call["decision_reason"] == "not on this machine"
