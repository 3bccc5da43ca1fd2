"""Secrets for HTTP tools, from configuration only: never from the model, never stored.

Below ``config`` (which reads them) and ``sources`` (whose requests carry them); imports nothing
else of toolwire. ``TOOLWIRE_CREDENTIALS`` holds named credentials as JSON::

    {"petstore": {"type": "bearer", "token": "s3cret"},
     "weather": {"type": "api_key", "name": "X-API-Key", "value": "k", "location": "header"},
     "legacy": {"type": "basic", "username": "u", "password": "p"}}

A source refers to one by name (``auth="petstore"``); the database keeps the name only. Secret
values are ``SecretStr``: they print as ``**********`` in reprs, logs and errors.
"""

from __future__ import annotations

import base64
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class _Credential(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Bearer(_Credential):
    """``Authorization: Bearer <token>``."""

    type: Literal["bearer"] = "bearer"
    token: SecretStr

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token.get_secret_value()}"}

    def params(self) -> dict[str, str]:
        return {}


class ApiKey(_Credential):
    """An API key in a header, a query parameter or a cookie."""

    type: Literal["api_key"] = "api_key"
    name: str = Field(min_length=1)
    value: SecretStr
    location: Literal["header", "query", "cookie"] = "header"

    def headers(self) -> dict[str, str]:
        if self.location == "header":
            return {self.name: self.value.get_secret_value()}
        if self.location == "cookie":
            return {"Cookie": f"{self.name}={self.value.get_secret_value()}"}
        return {}

    def params(self) -> dict[str, str]:
        return {self.name: self.value.get_secret_value()} if self.location == "query" else {}


class Basic(_Credential):
    """HTTP basic authentication."""

    type: Literal["basic"] = "basic"
    username: str
    password: SecretStr

    def headers(self) -> dict[str, str]:
        pair = f"{self.username}:{self.password.get_secret_value()}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}

    def params(self) -> dict[str, str]:
        return {}


Credential = Annotated[Bearer | ApiKey | Basic, Field(discriminator="type")]
"""One configured secret."""


def secret_names(credential: Bearer | ApiKey | Basic | None) -> set[str]:
    """The header and query names that carry ``credential`` (redacted from snippets)."""
    if credential is None:
        return set()
    return {k.lower() for k in (*credential.headers(), *credential.params())}
