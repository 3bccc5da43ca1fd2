"""``open_app``: launch a desktop application through the platform's own opener.

Linux runs the first installed binary of the app (no shell) and needs a display
(``DISPLAY`` or ``WAYLAND_DISPLAY``); macOS runs ``open -a``; Windows ``os.startfile``. A
headless machine or a missing app is a clear error, never a pretended success.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any, Literal

AppName = Literal["browser", "chrome", "firefox", "calculator", "notepad", "terminal", "files"]

#: Candidate binaries per app on Linux, the first one installed wins.
LINUX_BINARIES: dict[str, tuple[str, ...]] = {
    "browser": ("xdg-open",),
    "chrome": ("google-chrome", "google-chrome-stable", "chromium", "chromium-browser"),
    "firefox": ("firefox",),
    "calculator": ("gnome-calculator", "kcalc", "galculator", "qalculate-gtk", "xcalc"),
    "notepad": ("gnome-text-editor", "gedit", "kate", "mousepad", "xed", "leafpad"),
    "terminal": ("x-terminal-emulator", "gnome-terminal", "konsole", "xfce4-terminal", "xterm"),
    "files": ("nautilus", "dolphin", "thunar", "nemo", "pcmanfm"),
}
#: Extra arguments per app on Linux (``xdg-open`` needs something to open).
LINUX_ARGUMENTS: dict[str, tuple[str, ...]] = {"browser": ("about:blank",)}
MACOS_NAMES: dict[str, str] = {
    "browser": "Safari",
    "chrome": "Google Chrome",
    "firefox": "Firefox",
    "calculator": "Calculator",
    "notepad": "TextEdit",
    "terminal": "Terminal",
    "files": "Finder",
}
WINDOWS_TARGETS: dict[str, str] = {
    "browser": "about:blank",
    "chrome": "chrome",
    "firefox": "firefox",
    "calculator": "calc",
    "notepad": "notepad",
    "terminal": "cmd",
    "files": "explorer",
}


STARTUP_CHECK_S = 0.3
"""How long a launched app is watched for an immediate failure."""


class AppError(RuntimeError):
    """The application cannot be opened here (no display, not installed, failed to start)."""


def open_app(app_name: AppName) -> dict[str, Any]:
    """Open (launch) a desktop application on this computer.

    Args:
        app_name: application to start; notepad is a text editor, files the file manager
    """
    if app_name not in LINUX_BINARIES:
        raise AppError(f"unknown app {app_name!r}: choose one of {', '.join(LINUX_BINARIES)}")
    if sys.platform == "darwin":
        return _open_macos(app_name)
    if sys.platform == "win32":
        os.startfile(WINDOWS_TARGETS[app_name])  # type: ignore[attr-defined,unused-ignore]
        return {"app": app_name, "launched": WINDOWS_TARGETS[app_name]}
    return _launch(app_name, _linux_command(app_name))


def _linux_command(app_name: str) -> list[str]:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise AppError(f"no display: cannot open {app_name} on a headless machine")
    for binary in LINUX_BINARIES[app_name]:
        path = shutil.which(binary)
        if path:
            return [path, *LINUX_ARGUMENTS.get(app_name, ())]
    tried = ", ".join(LINUX_BINARIES[app_name])
    raise AppError(f"{app_name} is not installed: none of {tried} is on the PATH")


def _open_macos(app_name: str) -> dict[str, Any]:
    command = ["open", "-a", MACOS_NAMES[app_name]]
    done = subprocess.run(command, capture_output=True, text=True, timeout=15, check=False)
    if done.returncode != 0:
        raise AppError(f"cannot open {app_name}: {done.stderr.strip() or 'open -a failed'}")
    return {"app": app_name, "launched": MACOS_NAMES[app_name]}


def _launch(app_name: str, command: list[str]) -> dict[str, Any]:
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # the app outlives this process and its signals
        )
    except OSError as e:
        raise AppError(f"cannot open {app_name}: {e}") from e
    try:  # an app that cannot start (no access to the display...) fails at once
        status = process.wait(timeout=STARTUP_CHECK_S)
    except subprocess.TimeoutExpired:
        status = 0
    if status != 0:
        raise AppError(f"{app_name} failed to start: {command[0]} exited with status {status}")
    return {"app": app_name, "launched": os.path.basename(command[0]), "pid": process.pid}
