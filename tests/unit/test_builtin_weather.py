"""get_weather against httpx.MockTransport answers shaped like Open-Meteo's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from toolwire import Registry
from toolwire.builtin import weather
from toolwire.builtin.weather import WeatherError, get_weather, set_transport, weather_tool
from toolwire.config import Settings, get_settings
from toolwire.tools.dispatch import dispatch

GEO_URL = "https://geocoding-api.open-meteo.com/v1/search"
WEATHER_URL = "https://api.open-meteo.com/v1/forecast"

PARIS_FR = {
    "name": "Paris",
    "latitude": 48.85341,
    "longitude": 2.3488,
    "country_code": "FR",
    "country": "France",
    "admin1": "Île-de-France",
    "timezone": "Europe/Paris",
}
PARIS_US = {
    "name": "Paris",
    "latitude": 33.66094,
    "longitude": -95.55551,
    "country_code": "US",
    "country": "United States",
    "admin1": "Texas",
    "timezone": "America/Chicago",
}


def forecast(temperature: float, unit: str) -> dict[str, Any]:
    symbol = "°F" if unit == "fahrenheit" else "°C"
    return {
        "latitude": 48.86,
        "longitude": 2.3399997,
        "generationtime_ms": 0.05,
        "utc_offset_seconds": 7200,
        "timezone": "Europe/Paris",
        "timezone_abbreviation": "CEST",
        "elevation": 43.0,
        "current_units": {
            "time": "iso8601",
            "interval": "seconds",
            "temperature_2m": symbol,
            "apparent_temperature": symbol,
            "relative_humidity_2m": "%",
            "weather_code": "wmo code",
            "wind_speed_10m": "km/h",
        },
        "current": {
            "time": "2024-06-01T14:00",
            "interval": 900,
            "temperature_2m": temperature,
            "apparent_temperature": temperature - 1,
            "relative_humidity_2m": 55,
            "weather_code": 2,
            "wind_speed_10m": 11.2,
        },
    }


class OpenMeteo:
    """A recorded-shape Open-Meteo: the requests it saw, and answers per endpoint."""

    def __init__(self, places: list[dict[str, Any]]) -> None:
        self.places = places
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/search"):
            body = (
                {"results": self.places, "generationtime_ms": 0.4}
                if self.places
                else {"generationtime_ms": 0.4}
            )
            return httpx.Response(200, json=body)
        unit = request.url.params["temperature_unit"]
        return httpx.Response(200, json=forecast(71.6 if unit == "fahrenheit" else 22.0, unit))


@pytest.fixture
def use_transport() -> Iterator[Callable[[Any], None]]:
    get_settings.cache_clear()
    previous = weather._transport

    def install(handler: Any) -> None:
        set_transport(httpx.MockTransport(handler))

    yield install
    set_transport(previous)


def test_current_weather(use_transport: Callable[[Any], None]) -> None:
    service = OpenMeteo([PARIS_FR])
    use_transport(service)
    result = get_weather("Paris")
    assert result == {
        "city": "Paris",
        "country": "France",
        "latitude": 48.85341,
        "longitude": 2.3488,
        "time": "2024-06-01T14:00",
        "timezone": "Europe/Paris",
        "temperature": 22.0,
        "feels_like": 21.0,
        "unit": "celsius",
        "conditions": "partly cloudy",
        "humidity_percent": 55,
        "wind_speed_kmh": 11.2,
    }
    geo, current = service.requests
    assert str(geo.url).startswith(GEO_URL) and geo.url.params["name"] == "Paris"
    assert str(current.url).startswith(WEATHER_URL)
    assert current.url.params["latitude"] == "48.85341"
    assert current.url.params["temperature_unit"] == "celsius"


def test_fahrenheit_is_asked_of_the_service(use_transport: Callable[[Any], None]) -> None:
    use_transport(OpenMeteo([PARIS_FR]))
    result = get_weather("Paris", unit="fahrenheit")
    assert result["temperature"] == 71.6 and result["unit"] == "fahrenheit"


def test_country_after_a_comma_picks_the_match(use_transport: Callable[[Any], None]) -> None:
    service = OpenMeteo([PARIS_FR, PARIS_US])
    use_transport(service)
    assert get_weather("Paris, Texas")["country"] == "United States"
    assert service.requests[0].url.params["name"] == "Paris"
    assert get_weather("Paris, FR")["country"] == "France"


def test_unknown_city(use_transport: Callable[[Any], None]) -> None:
    use_transport(OpenMeteo([]))
    with pytest.raises(WeatherError, match="no place called 'Atlantis' was found"):
        get_weather("Atlantis")


def test_offline_is_a_clear_network_error(use_transport: Callable[[Any], None]) -> None:
    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)

    use_transport(offline)
    with pytest.raises(WeatherError, match="weather service unreachable: ConnectError"):
        get_weather("Paris")


def test_service_error_carries_its_reason(use_transport: Callable[[Any], None]) -> None:
    use_transport(lambda request: httpx.Response(400, json={"error": True, "reason": "bad lat"}))
    with pytest.raises(WeatherError, match="weather service error: HTTP 400: bad lat"):
        get_weather("Paris")


def test_answer_without_current_conditions(use_transport: Callable[[Any], None]) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/search"):
            return httpx.Response(200, json={"results": [PARIS_FR]})
        return httpx.Response(200, json={"hourly": {}})

    use_transport(broken)
    with pytest.raises(WeatherError, match="no current conditions"):
        get_weather("Paris")


async def test_settings_urls_are_used(use_transport: Callable[[Any], None]) -> None:
    service = OpenMeteo([PARIS_FR])
    use_transport(service)
    settings = Settings(
        weather_url="http://meteo.internal/v1/forecast",
        geocoding_url="http://geo.internal/v1/search",
    )
    registry = Registry()
    tool = registry.register(weather_tool(settings))
    assert tool.import_path is None  # bound to other URLs than the process settings
    result = await dispatch(registry, "get_weather", {"city": "Paris"})
    assert result.status == "ok", result.error
    assert [r.url.host for r in service.requests] == ["geo.internal", "meteo.internal"]
    assert weather_tool(get_settings()) is get_weather


def test_empty_city() -> None:
    with pytest.raises(WeatherError, match="name a city"):
        get_weather("  ")
