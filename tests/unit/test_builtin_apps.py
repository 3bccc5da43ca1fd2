"""open_app on Linux: a real launch of a (test) binary, and clear errors, never fake success."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from toolwire.builtin.apps import AppError, open_app

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux opener")


def _fake_app(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def desktop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A display and a PATH holding only the test's own app binaries."""
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    return tmp_path


def test_headless_machine_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(AppError, match="no display: cannot open calculator on a headless machine"):
        open_app("calculator")


def test_launches_the_first_installed_binary(desktop: Path) -> None:
    marker = desktop / "launched"
    _fake_app(desktop, "kcalc", f"echo kcalc > {marker}")
    result = open_app("calculator")
    assert result["app"] == "calculator" and result["launched"] == "kcalc"
    assert isinstance(result["pid"], int)
    deadline = time.monotonic() + 5
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.read_text().strip() == "kcalc"


def test_wayland_counts_as_a_display(desktop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    _fake_app(desktop, "firefox", "exit 0")
    assert open_app("firefox")["launched"] == "firefox"


def test_missing_app_lists_what_was_tried(desktop: Path) -> None:
    with pytest.raises(
        AppError, match="notepad is not installed: none of gnome-text-editor, gedit"
    ):
        open_app("notepad")


def test_an_app_that_fails_at_once_is_an_error(desktop: Path) -> None:
    _fake_app(desktop, "xterm", "exit 3")
    with pytest.raises(AppError, match=r"terminal failed to start: .*xterm exited with status 3"):
        open_app("terminal")


def test_unknown_app_name(desktop: Path) -> None:
    with pytest.raises(AppError, match="unknown app 'photoshop'"):
        open_app("photoshop")  # type: ignore[arg-type]
