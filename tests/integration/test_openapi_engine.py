"""A sentence end to end on the embedded model over imported HTTP tools: the registry holds a
real API on loopback, imported from its own OpenAPI 3.1 document and from a Swagger 2.0 one;
the sentence must make the real request and the answer must carry what the API returned."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.petshop import SWAGGER, TOKEN, petshop_app, serving
from toolwire.credentials import Bearer
from toolwire.sources import add_openapi
from toolwire.tools.registry import Registry

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def petshop() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    with serving(petshop_app(seen)) as url:
        yield url, seen


@pytest.fixture(scope="module")
def engine_for() -> Any:
    from toolwire.engine import Engine
    from toolwire.models.local import LocalModel

    model = LocalModel()
    yield lambda registry: Engine(registry, model=model)
    model.close()


@pytest.mark.parametrize("kind", ["openapi", "swagger"])
def test_the_embedded_model_calls_the_real_api(
    petshop: tuple[str, list[dict[str, Any]]], engine_for: Any, kind: str,
) -> None:
    url, seen = petshop
    registry = Registry()  # the API is on loopback: the operator's own, trusted by default
    add_openapi(registry, f"{url}/openapi.json" if kind == "openapi" else SWAGGER,
                base_url=url, auth="petshop",
                credentials={"petshop": Bearer(token=TOKEN)})  # type: ignore[arg-type]
    before = len(seen)
    run = engine_for(registry).run("Show me the pet with id 7")
    assert [c.name for c in run.calls] == ["get_pet"], run.calls
    call = run.calls[0]
    assert call.arguments == {"pet_id": 7} and call.status == "ok", call
    assert seen[before:] == [{"method": "GET", "path": "/pets/7",
                              "authorization": f"Bearer {TOKEN}"}]
    assert "Rex" in run.answer or "dog" in run.answer, run.answer  # what the API returned
    assert TOKEN not in (call.snippet or "") and TOKEN not in run.answer
