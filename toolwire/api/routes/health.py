"""``/healthz`` (the database, the model process and the tool pool, each with its state) and
``/metrics`` (Prometheus)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import InterfaceError, OperationalError

import toolwire
from toolwire.api.deps import AppState, StateDep
from toolwire.api.schemas import ComponentHealth, Health
from toolwire.tools.pool import tool_pool

router = APIRouter(tags=["health"])


def _database(state: AppState) -> ComponentHealth:
    detail = {"backend": state.database.backend}
    if not state.database_ready:
        return ComponentHealth(state="connecting", detail=detail)
    try:
        state.database.ping()
    except (OperationalError, InterfaceError):
        return ComponentHealth(state="unavailable", detail=detail)
    return ComponentHealth(state="ok", detail=detail)


def _model(state: AppState) -> ComponentHealth:
    """The default model: ``not_loaded`` until first use; then its own health (a model process
    shows its state, pid and restarts; any other model is ``ok``)."""
    engine = state.engines.built(None)
    if engine is None:
        return ComponentHealth(state="not_loaded")
    health = engine.model.health()
    return ComponentHealth(state=health.state, detail=health.detail())


def _tools() -> ComponentHealth:
    stats = tool_pool().stats()
    state = "saturated" if stats.saturated else ("degraded" if stats.abandoned else "ok")
    detail = asdict(stats)
    detail["uncancellable"] = list(stats.uncancellable)
    return ComponentHealth(state=state, detail=detail)


def _broker(state: AppState) -> ComponentHealth | None:
    """The Celery broker, when messages go to workers: reachable, and its queue's depth."""
    queue = state.processor.queue
    if queue is None:
        return None
    detail = queue.ping()
    return ComponentHealth(state=detail.pop("state"), detail=detail)


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "the database is unreachable"}},
)
def healthz(state: StateDep) -> Response:
    """``ok``, ``degraded`` (a component needs attention but requests are served: a crashed
    model, a saturated tool pool, an unreachable broker) or ``unavailable`` with HTTP 503 (the
    database cannot be reached). ``components`` has ``broker`` (with the queue's depth) when
    messages go to Celery workers."""
    components = {"database": _database(state), "model": _model(state), "tools": _tools()}
    broker = _broker(state)
    if broker is not None:
        components["broker"] = broker
    if components["database"].state != "ok":
        status = "unavailable"
    elif (components["tools"].state != "ok" or components["model"].state in ("crashed", "failed")
          or (broker is not None and broker.state != "ok")):
        status = "degraded"  # with the broker away, messages wait (pending) for it
    else:
        status = "ok"
    body = Health(
        status=status,
        database=state.database.backend,
        model=state.engines.default_model,
        version=toolwire.__version__,
        components=components,
    )
    return JSONResponse(body.model_dump(), status_code=503 if status == "unavailable" else 200)


@router.get("/metrics", response_class=Response)
def metrics(state: StateDep) -> Response:
    """Request counts and latencies, tool calls by status, the tool pool, in Prometheus
    text format."""
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
