"""The example tools toolwire registers by default, one module per family.

    registry = default_registry()          # calculate, convert_currency, open_app, ...
    register_builtins(my_registry, settings)

They register through the same ``Registry.register`` as any user tool: the schema comes from
each function's signature and Google-style docstring.
"""

from __future__ import annotations

import functools
import importlib
import logging

from toolwire.builtin import answers, calculator, clock, currency, units, weather
from toolwire.builtin.apps import open_app
from toolwire.builtin.calculator import calculate
from toolwire.builtin.clock import convert_timezone, get_time
from toolwire.builtin.units import convert_units
from toolwire.config import Settings, get_settings
from toolwire.tools.registry import Registry, declared_tools
from toolwire.tools.sandbox import discover_tools
from toolwire.tools.sandbox_child import within_module
from toolwire.tools.schema import ToolError

__all__ = ["BUILTIN_NAMES", "default_registry", "register_builtins"]

log = logging.getLogger(__name__)

BUILTIN_NAMES = (
    "calculate",
    "convert_currency",
    "open_app",
    "get_time",
    "convert_timezone",
    "convert_units",
    "get_weather",
)


def register_builtins(registry: Registry, settings: Settings | None = None) -> Registry:
    """Add the built-in tools to ``registry`` (rates and service URLs from ``settings``).
    The lookups and conversions are ``idempotent`` (an interrupted call is run again);
    ``open_app`` is not."""
    registry.register(calculate, keywords=calculator.KEYWORDS, answer=answers.calculation,
                      idempotent=True)
    rates = currency.check_rates((settings or get_settings()).currency_rates)
    registry.register(currency.currency_tool(settings), keywords=currency.KEYWORDS,
                      answer=answers.money, idempotent=True,
                      normalize=functools.partial(currency.canonical_arguments, rates=rates))
    registry.register(open_app, keywords=("launch", "start", "run", "application", "program"),
                      requires_approval=True,  # a side effect on the user's screen
                      answer=answers.opened)
    registry.register(get_time, keywords=clock.KEYWORDS,
                      answer=answers.clock, idempotent=True)
    registry.register(convert_timezone, keywords=("clock", "time zone", "meeting", "local time"),
                      answer=answers.time_zone_change, idempotent=True)
    registry.register(
        convert_units,
        keywords=("length", "distance", "weight", "mass", "temperature", "volume", "speed"),
        answer=answers.measurement, normalize=units.canonical_arguments, idempotent=True,
    )
    registry.register(
        weather.weather_tool(settings),
        keywords=weather.KEYWORDS,
        timeout=15.0, answer=answers.weather, idempotent=True,
    )
    return registry


def default_registry(settings: Settings | None = None) -> Registry:
    """A fresh registry: the built-in tools and those declared with ``@toolwire.tool``.

    Modules named in ``settings.tool_modules`` (``TOOLWIRE_TOOL_MODULES``) are imported first,
    so the tools they declare are included. Modules named in ``settings.sandbox_modules``
    (``TOOLWIRE_SANDBOX_MODULES``) are untrusted and never imported here: a sandboxed child
    imports each one and describes its tools, which are registered as proxies that always run
    sandboxed (``toolwire.tools.sandbox.discover_tools``; their ``normalize`` and ``answer``
    functions are dropped, as they would run in this process). Where the sandbox is unavailable
    (and ``TOOLWIRE_SANDBOX_MODE`` is not ``weak``) such a module is refused with a logged
    error, and the rest still loads.
    """
    settings = settings or get_settings()
    for module in settings.tool_modules:
        importlib.import_module(module)
    own = settings if settings is not get_settings() else None
    registry = register_builtins(Registry(index_dir=settings.home / "index"), own)
    untrusted = tuple(settings.sandbox_modules)
    for fn, options in declared_tools():
        module = getattr(fn, "__module__", "") or ""
        if not any(within_module(module, name) for name in untrusted):  # those: discovered
            registry.register(fn, **options)
    for module in untrusted:
        _add_sandbox_module(registry, module)
    return registry


def _add_sandbox_module(registry: Registry, module: str) -> None:
    """Add the tools of the untrusted ``module``, discovered in the sandbox: all, or none with
    a logged error (the service still starts without them)."""
    try:
        tools = discover_tools(module)
        Registry(tools)  # valid names and schemas, none twice: checked before any is added
        clash = [t.name for t in tools if t.name in registry]
        if clash:
            raise ToolError(f"already registered: {', '.join(clash)}")
        for tool in tools:
            registry.add(tool)
    except ToolError as e:
        log.error("TOOLWIRE_SANDBOX_MODULES: %s not loaded: %s", module, e)
