"""Every error leaves the API as ``{"error": {"code": ..., "message": ...}}``, never a traceback.

    HTTPException / ApiError      → its status, with a code named after it
    RequestValidationError        → 422 invalid_request, listing each field and its reason
    sqlalchemy OperationalError   → 503 database_unavailable
    anything else                 → 500 internal_error (logged with its traceback)
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from toolwire.service.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "invalid_request",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
}


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str | None
    """Stable and machine-readable: ``not_found``, ``invalid_request``, ``rate_limited``..."""
    message: str
    """For a person: what went wrong and what to do."""


class ErrorBody(BaseModel):
    """Every error the API answers."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Malformed request",
        401: "No valid API key (when keys are required)",
        404: "No such resource (or another owner's)",
        409: "Conflicts with the resource's state",
        413: "Body, prompt or system prompt over its limit",
        415: "The body is not application/json",
        422: "Invalid fields or values (each named with its reason)",
        429: "Over the key's rate (see Retry-After)",
        502: "The model failed",
        503: "The database is unreachable (see Retry-After)",
    }.items()
}
"""Documented on every operation (the OpenAPI schema states every answer a client can get)."""


class ApiError(Exception):
    """An error with an HTTP status, a stable code and a message for the client."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, **exc.extra)


_SERVICE_STATUS: dict[type[ServiceError], int] = {
    NotFound: 404, Conflict: 409, Invalid: 422, Forbidden: 403,
}
"""The one place a service refusal gets its HTTP status (any other kind answers 400)."""


def status_of(exc: ServiceError) -> int:
    """The HTTP status for a service refusal."""
    return next((status for kind, status in _SERVICE_STATUS.items() if isinstance(exc, kind)), 400)


def _service_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return error_response(status_of(exc), exc.code, exc.message, **exc.extra)


def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODES.get(exc.status_code, f"http_{exc.status_code}")
    response = error_response(exc.status_code, code, str(exc.detail))
    response.headers.update(exc.headers or {})
    return response


def _field(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location)


def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [{"field": _field(e.get("loc", ())), "reason": e.get("msg", "")} for e in exc.errors()]
    message = "; ".join(f"{f['field']}: {f['reason']}" for f in fields) or "invalid request"
    return error_response(422, "invalid_request", message, fields=fields)


def _database_error(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", exc)
    return error_response(
        503, "database_unavailable", "the database cannot be reached; try again shortly"
    )


def _internal_error(_: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into JSON errors."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(InterfaceError, _database_error)
    app.add_exception_handler(Exception, _internal_error)
