"""``/healthz`` (liveness plus a database round trip) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

import toolwire
from toolwire.api.deps import StateDep
from toolwire.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(state: StateDep) -> Health:
    """``ok`` when the database answers; 503 (database_unavailable) when it does not."""
    state.database.ping()
    return Health(
        status="ok",
        database=state.database.backend,
        model=state.engines.default_model,
        version=toolwire.__version__,
    )


@router.get("/metrics", response_class=Response)
def metrics(state: StateDep) -> Response:
    """Request counts and latencies, tool calls by status, in Prometheus text format."""
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
