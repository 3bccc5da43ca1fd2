"""schemathesis against the real server (auth on, SQLite and PostgreSQL): generated requests
for every operation of the published OpenAPI schema, valid and invalid, get no 5xx and no
answer the schema does not describe.

The model is the scripted one of ``test_server`` (the infrastructure is under test, not the
model). Imported tool sources time out fast: generated URLs point nowhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.conftest import postgres_database, sqlite_url
from tests.integration.test_server import server
from toolwire.api.auth import create_key
from toolwire.store.migrate import opened

pytestmark = pytest.mark.integration

EXAMPLES = 40
"""Per operation, mode and database: 26 operations, valid and invalid, make over 1,000 cases
per database."""
NOT_CHECKED = [positive_data_acceptance, negative_data_rejection]
"""Schema-valid data may still be refused for what a schema cannot say (an unknown model,
another owner's id): a 4xx with a message. Unknown query parameters and headers, which
negative cases add, are ignored as HTTP APIs do. Every answer is still checked: no 5xx, a
documented status, content type, headers and body."""
RAN: dict[tuple[str, str], int] = {}


class Served:
    def __init__(self, base_url: str, key: str, database: str) -> None:
        self.base_url, self.key, self.database = base_url, key, database


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fuzzed_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path_factory.mktemp("fuzz-db"))
        return
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def served(fuzzed_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("fuzz")
    with opened(fuzzed_database) as database:
        key = database.write_sync(lambda s: create_key(s, owner="fuzzer"))[0]
    env = {"TOOLWIRE_AUTH": "required", "TOOLWIRE_HTTP_TIMEOUT": "2",
           "TOOLWIRE_RATE_PER_MINUTE": "1000000"}
    with server(fuzzed_database, home, env) as client:
        yield Served(str(client.base_url), key, fuzzed_database.split(":")[0])


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors_and_answers_match_the_schema(served: Served, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{served.base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {served.key}"}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: Any) -> None:
            ran = (served.database, case.operation.label)
            RAN[ran] = RAN.get(ran, 0) + 1
            response = case.call(base_url=served.base_url, headers=headers, timeout=30)
            assert response.status_code < 500, f"{response.status_code} {response.text[:300]}"
            case.validate_response(response, excluded_checks=NOT_CHECKED)

        try:
            fuzz()
        except Unsatisfiable:  # no parameter to make invalid (GET /healthz)
            continue
        except Exception as e:  # every operation is tried; all failures are reported together
            failures.append(f"{operation.label}: {str(e)[:1500]}")
    assert not failures, "\n\n".join(failures)


def test_over_a_thousand_cases_ran_per_database() -> None:
    per_database: dict[str, int] = {}
    for (database, _), count in RAN.items():
        per_database[database] = per_database.get(database, 0) + count
    assert per_database and all(n >= 1000 for n in per_database.values()), per_database
