"""``get_weather``: current weather from the public Open-Meteo APIs (no key needed).

Two requests: the geocoding API turns the city into coordinates, the forecast API gives the
current conditions there. URLs come from ``Settings.weather_url`` / ``Settings.geocoding_url``.
Tests (and offline demos) swap the network for an ``httpx.MockTransport``:

    previous = set_transport(httpx.MockTransport(handler))
    try: ...
    finally: set_transport(previous)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import httpx

from toolwire.config import Settings, get_settings

TIMEOUT_S = 5.0
KEYWORDS = (
    "forecast", "temperature", "climate", "outside",
    # how the weather feels: the English adjectives of felt temperature and humidity
    "hot", "warm", "cold", "chilly", "freezing", "humid",
    # the sky and what falls from it, as noun and adjective
    "rain", "rainy", "raining", "sun", "sunny", "cloud", "cloudy", "snow", "snowing", "wind",
    "windy", "storm", "fog",
)
"""What people write when they ask about the weather without the word: how it feels and
what the sky does ("how hot is it in Dubai", "is it raining in Berlin")."""
CURRENT_FIELDS = (
    "temperature_2m,apparent_temperature,relative_humidity_2m,weather_code,wind_speed_10m"
)

#: WMO weather interpretation codes, as Open-Meteo documents them.
WMO_CODES: dict[int, str] = {
    0: "clear sky",
    1: "mainly clear",
    2: "partly cloudy",
    3: "overcast",
    45: "fog",
    48: "depositing rime fog",
    51: "light drizzle",
    53: "moderate drizzle",
    55: "dense drizzle",
    56: "light freezing drizzle",
    57: "dense freezing drizzle",
    61: "slight rain",
    63: "moderate rain",
    65: "heavy rain",
    66: "light freezing rain",
    67: "heavy freezing rain",
    71: "slight snow fall",
    73: "moderate snow fall",
    75: "heavy snow fall",
    77: "snow grains",
    80: "slight rain showers",
    81: "moderate rain showers",
    82: "violent rain showers",
    85: "slight snow showers",
    86: "heavy snow showers",
    95: "thunderstorm",
    96: "thunderstorm with slight hail",
    99: "thunderstorm with heavy hail",
}

_transport: httpx.BaseTransport | None = None


class WeatherError(RuntimeError):
    """The weather service is unreachable or answered with an error, or the city is unknown."""


def set_transport(transport: httpx.BaseTransport | None) -> httpx.BaseTransport | None:
    """Send weather requests through ``transport`` (``None``: the network); returns the old one."""
    global _transport
    previous, _transport = _transport, transport
    return previous


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict[str, Any]:
    """Get the current weather (temperature, conditions, wind) in a city.

    Args:
        city: name of the city, optionally with its country, e.g. "Paris" or "Paris, France"
        unit: temperature unit of the answer
    """
    settings = get_settings()
    return fetch_weather(
        city, unit, weather_url=settings.weather_url, geocoding_url=settings.geocoding_url
    )


def weather_tool(settings: Settings | None = None) -> Callable[..., dict[str, Any]]:
    """The ``get_weather`` handler to register: this module's own unless ``settings`` names
    other service URLs than the process settings (then a handler bound to them, which has no
    import path for snippets or the sandbox)."""
    if settings is None or _urls(settings) == _urls(get_settings()):
        return get_weather
    weather_url, geocoding_url = _urls(settings)

    def bound(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict[str, Any]:
        return fetch_weather(city, unit, weather_url=weather_url, geocoding_url=geocoding_url)

    bound.__name__, bound.__doc__ = "get_weather", get_weather.__doc__
    return bound


def _urls(settings: Settings) -> tuple[str, str]:
    return settings.weather_url, settings.geocoding_url


def fetch_weather(city: str, unit: str, *, weather_url: str, geocoding_url: str) -> dict[str, Any]:
    """The current weather in ``city`` from the given Open-Meteo-compatible services."""
    if not city.strip():
        raise WeatherError("name a city to get its weather")
    with httpx.Client(transport=_transport, timeout=TIMEOUT_S) as client:
        place = _locate(client, geocoding_url, city)
        params = {
            "latitude": place["latitude"],
            "longitude": place["longitude"],
            "current": CURRENT_FIELDS,
            "temperature_unit": unit,
            "wind_speed_unit": "kmh",
            "timezone": "auto",
        }
        forecast = _get_json(client, weather_url, params)
    return _report(place, forecast, unit)


def _get_json(client: httpx.Client, url: str, params: dict[str, Any]) -> dict[str, Any]:
    try:
        response = client.get(url, params=params)
    except httpx.HTTPError as e:
        raise WeatherError(f"weather service unreachable: {type(e).__name__}: {e}") from e
    if response.is_error:
        raise WeatherError(
            f"weather service error: HTTP {response.status_code}: {_reason(response)}"
        )
    try:
        data = response.json()
    except ValueError as e:
        raise WeatherError("weather service error: the answer is not JSON") from e
    if not isinstance(data, dict):
        raise WeatherError("weather service error: unexpected answer")
    return data


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json().get("reason") or response.reason_phrase)
    except (ValueError, AttributeError):
        return response.reason_phrase


def _locate(client: httpx.Client, url: str, city: str) -> dict[str, Any]:
    """The best geocoding match of ``city``; "Paris, France" prefers a match in France."""
    name, _, region = (part.strip() for part in city.partition(","))
    params = {"name": name, "count": 10 if region else 1, "language": "en", "format": "json"}
    results = _get_json(client, url, params).get("results") or []
    if not results:
        raise WeatherError(f"no place called {city!r} was found")
    wanted = region.lower()
    for place in results:
        fields = (place.get("country"), place.get("country_code"), place.get("admin1"))
        if wanted and wanted in {str(f).lower() for f in fields if f}:
            return dict(place)
    return dict(results[0])


def _report(place: dict[str, Any], forecast: dict[str, Any], unit: str) -> dict[str, Any]:
    current = forecast.get("current")
    if not isinstance(current, dict) or "temperature_2m" not in current:
        raise WeatherError("weather service error: no current conditions in the answer")
    code = current.get("weather_code")
    return {
        "city": place.get("name"),
        "country": place.get("country"),
        "latitude": place.get("latitude"),
        "longitude": place.get("longitude"),
        "time": current.get("time"),
        "timezone": forecast.get("timezone"),
        "temperature": current["temperature_2m"],
        "feels_like": current.get("apparent_temperature"),
        "unit": unit,
        "conditions": WMO_CODES.get(code, f"weather code {code}") if code is not None else None,
        "humidity_percent": current.get("relative_humidity_2m"),
        "wind_speed_kmh": current.get("wind_speed_10m"),
    }
