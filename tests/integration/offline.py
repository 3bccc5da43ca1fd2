"""This process as the bar's sentences are measured: the weather service down (a dead port)
and no display (``bench.bar.offline_env``), with the settings read again inside and after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bench.bar import UNREACHABLE_URL


@contextmanager
def offline() -> Iterator[None]:
    """Within: ``TOOLWIRE_WEATHER_URL`` and ``TOOLWIRE_GEOCODING_URL`` unreachable, no
    ``DISPLAY`` nor ``WAYLAND_DISPLAY``; the environment and settings restored afterwards."""
    from toolwire.config import get_settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOOLWIRE_WEATHER_URL", UNREACHABLE_URL)
        mp.setenv("TOOLWIRE_GEOCODING_URL", UNREACHABLE_URL)
        mp.delenv("DISPLAY", raising=False)
        mp.delenv("WAYLAND_DISPLAY", raising=False)
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()
