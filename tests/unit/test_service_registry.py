"""One registry builder for every process (``service_registry``), and tool sources that change
through the database: what one process imports or forgets, another holding a registry over the
same database loads or drops at its next refresh, and a message is answered with at least the
sources it was accepted under."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.petshop import SWAGGER
from toolwire.config import Settings, get_settings
from toolwire.credentials import Bearer
from toolwire.engine import Engine
from toolwire.messages import Completion
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.retrieval.index import ToolIndex
from toolwire.service.engines import Engines
from toolwire.service.metrics import Metrics
from toolwire.service.processing import Processor
from toolwire.service.registry import SavedSources, service_registry
from toolwire.sources.saved import import_openapi_source
from toolwire.store import data
from toolwire.store.db import Database
from toolwire.store.tables import InteractionCreate, Message
from toolwire.tools.registry import Registry

PETS = {"get_pet", "list_pets", "add_pet"}
LABEL = "openapi:Pet shop (Swagger)"

TRUSTED = '''
import toolwire


@toolwire.tool
def water_plants(room: str) -> str:
    """Water the plants of a room."""
    return f"watered {room}"
'''

UNTRUSTED = '''
import toolwire


@toolwire.tool
def feed_fish(grams: int) -> str:
    """Feed the fish."""
    return f"fed {grams} g"
'''


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings naming a trusted and an untrusted tool module, declared into an empty
    ``@toolwire.tool`` list (so the rest of the suite never sees them)."""
    from toolwire.tools import registry as registry_module

    monkeypatch.setattr(registry_module, "_DECLARED", [])
    suffix = uuid.uuid4().hex[:8]
    trusted, untrusted = f"plants_{suffix}", f"fish_{suffix}"
    (tmp_path / f"{trusted}.py").write_text(TRUSTED)
    (tmp_path / f"{untrusted}.py").write_text(UNTRUSTED)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TOOLWIRE_TOOL_MODULES", f'["{trusted}"]')
    monkeypatch.setenv("TOOLWIRE_SANDBOX_MODULES", f'["{untrusted}"]')
    monkeypatch.setenv("TOOLWIRE_SANDBOX_MODE", "weak")  # found in a child, bwrap or not
    get_settings.cache_clear()
    yield get_settings()
    for name in (trusted, untrusted):
        sys.modules.pop(name, None)


def fast_registry() -> Registry:
    """A registry searched by keywords only (no embedding model to load)."""
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    return registry


def following(database: Database, registry: Registry | None = None) -> SavedSources:
    """What one process holds: its registry, kept in step with the database's sources."""
    return SavedSources(registry or fast_registry(), database)


def import_pets(sources: SavedSources, document: str = SWAGGER) -> None:
    sources.add(lambda: import_openapi_source(sources.registry, document,
                                              base_url="http://127.0.0.1:9"))


def test_the_builder_gives_builtin_declared_sandboxed_and_saved_tools(
    modules: Settings, database: Database,
) -> None:
    import_pets(following(database))
    registry = service_registry(modules, database)
    assert {"calculate", "convert_currency", "water_plants", "feed_fish"} <= set(registry.names)
    assert registry.get("feed_fish").sandbox and not registry.get("water_plants").sandbox
    assert set(registry.names) >= PETS
    assert {registry.get(name).source for name in PETS} == {LABEL}
    assert not PETS & set(service_registry(modules).names)  # no database: no saved sources


def test_an_import_elsewhere_is_loaded_and_a_forget_dropped_at_the_next_refresh(
    database: Database,
) -> None:
    here, there = following(database), following(database)
    assert there.refresh() and not PETS & set(there.registry.names)
    import_pets(here)
    assert set(here.registry.names) >= PETS
    assert there.refresh()
    assert set(there.registry.names) >= PETS
    assert there.registry.search("get a pet by its id", 1)[0].tool.name == "get_pet"  # indexed
    assert not there.refresh()  # the version did not move: nothing more is read

    assert here.forget(LABEL)
    assert not PETS & set(here.registry.names)
    assert there.refresh()
    assert not PETS & set(there.registry.names)
    assert all(hit.tool.name not in PETS for hit in there.registry.search("pet", 5))
    assert not here.forget(LABEL)  # nothing left to forget


def test_a_source_imported_again_replaces_its_tools_everywhere(database: Database) -> None:
    here, there = following(database), following(database)
    import_pets(here)
    there.refresh()
    import_pets(here, SWAGGER.replace("get_pet", "fetch_pet"))
    assert there.refresh()
    assert "fetch_pet" in there.registry and "get_pet" not in there.registry
    assert there.registry.get("fetch_pet").source == LABEL


def test_every_change_moves_the_version_once(database: Database) -> None:
    def version() -> int:
        return database.read_sync(lambda s: data.tool_sources_version(session=s))

    start = version()
    import_pets(following(database))
    assert version() == start + 1
    following(database).forget(LABEL)
    assert version() == start + 2
    assert not following(database).forget(LABEL)
    assert version() == start + 2  # nothing was forgotten


def test_a_source_that_fails_is_reported_and_tried_again_when_the_version_moves(
    database: Database,
) -> None:
    lender = following(database)
    lender.credentials = {"shop": Bearer(token="s3cret")}
    lender.add(lambda: import_openapi_source(
        lender.registry, SWAGGER, base_url="http://127.0.0.1:9", auth="shop",
        credentials=lender.credentials))
    there = following(database)  # knows no credential named "shop"
    there.refresh()
    assert LABEL in there.failures and "shop" in there.failures[LABEL]
    assert not PETS & set(there.registry.names)
    there.credentials = lender.credentials  # configured now
    other = SWAGGER.replace("Pet shop (Swagger)", "Other shop")
    import_pets(lender, other.replace("get_pet", "o1").replace("list_pets", "o2")
                .replace("add_pet", "o3"))  # any change moves the version
    there.refresh()
    assert there.failures == {} and set(there.registry.names) >= PETS


def test_an_engine_built_before_an_import_offers_the_new_tools(database: Database) -> None:
    settings = Settings(model="scripted")
    engines = Engines(settings=settings, database=database,
                      engine=Engine(fast_registry(), model=ScriptedModel([]), settings=settings))
    engine = engines.get()
    import_pets(following(database))
    assert "get_pet" not in engine.registry
    assert engines.sources is not None and engines.sources.refresh()
    assert "get_pet" in engine.registry  # the engines share the registry the sources change


def _offered(request: Request, seen: list[set[str]]) -> Completion:
    if request.tools:
        seen.append({tool.name for tool in request.tools})
    return Completion(text="Nothing to call.")


async def test_a_message_is_answered_with_the_sources_it_was_accepted_under(
    database: Database,
) -> None:
    """The "worker" below never polls: it loads the sources before running the message,
    because the message keeps the version it was accepted under."""
    seen: list[set[str]] = []
    settings = Settings(model="scripted", retrieval_k=50)
    model = ScriptedModel(lambda request: _offered(request, seen))
    engines = Engines(settings=settings, database=database,
                      engine=Engine(fast_registry(), model=model, settings=settings))
    worker = Processor(database=database, engines=engines, metrics=Metrics())
    await engines.sync_sources()
    assert engines.sources is not None and engines.sources.version == 0

    import_pets(following(database))  # through "the API", after the worker loaded its sources
    message = _accepted(database, "get the pet with id 7")
    assert message.sources_version == 1
    outcome = await worker.process_message(message.id)
    assert outcome is not None and outcome.message.status == "done", outcome
    assert seen[-1] >= PETS, seen


def _accepted(database: Database, prompt: str) -> Message:
    with database.write_session() as s:
        interaction = data.create_interaction(session=s, interaction_in=InteractionCreate())
        return data.add_user_message(session=s, interaction_id=interaction.id, content=prompt)


def test_a_process_already_at_the_version_reads_nothing_more(
    database: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sources = following(database)
    import_pets(following(database))
    sources.at_least(1)
    assert set(sources.registry.names) >= PETS
    reads: list[Any] = []
    monkeypatch.setattr(sources, "refresh", lambda: reads.append(1))
    sources.at_least(1)
    sources.at_least(0)
    assert reads == []
    sources.at_least(None)  # a message stored before versions were kept
    assert reads == [1]
