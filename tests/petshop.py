"""A small real HTTP API for the OpenAPI source tests, served by uvicorn on loopback.

It wants ``Authorization: Bearer s3cret`` (from configuration, never from the model), keeps
the requests it saw, and describes itself twice: FastAPI's own ``/openapi.json`` (OpenAPI 3.1)
and a hand-written Swagger 2.0 document of the same operations (``SWAGGER``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Header, HTTPException, Query
from pydantic import BaseModel

TOKEN = "s3cret"
PETS: dict[int, dict[str, Any]] = {
    7: {"id": 7, "name": "Rex", "species": "dog"},
    8: {"id": 8, "name": "Tom", "species": "cat"},
}


class NewPet(BaseModel):
    name: str
    species: str


def petshop_app(seen: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI(title="Pet shop", version="1.0")

    def check(authorization: str | None) -> None:
        if authorization != f"Bearer {TOKEN}":
            raise HTTPException(401, "missing or wrong bearer token")

    @app.get("/pets/{pet_id}", operation_id="get_pet", summary="Get a pet by its id")
    def get_pet(pet_id: int, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        seen.append({"method": "GET", "path": f"/pets/{pet_id}", "authorization": authorization})
        check(authorization)
        if pet_id not in PETS:
            raise HTTPException(404, f"no pet with id {pet_id}")
        return PETS[pet_id]

    @app.get("/pets", operation_id="list_pets", summary="List the pets of one species")
    def list_pets(
        species: str = Query(description="dog or cat"),
        limit: int = Query(default=10, ge=1, le=100),
        authorization: str | None = Header(default=None),
    ) -> list[dict[str, Any]]:
        seen.append({"method": "GET", "path": "/pets", "species": species, "limit": limit})
        check(authorization)
        return [p for p in PETS.values() if p["species"] == species][:limit]

    @app.post("/pets", operation_id="add_pet", summary="Add a pet to the shop", status_code=201)
    def add_pet(pet: NewPet, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        seen.append({"method": "POST", "path": "/pets", "body": pet.model_dump()})
        check(authorization)
        return {"id": 9, **pet.model_dump()}

    return app


SWAGGER = """
swagger: "2.0"
info: {title: Pet shop (Swagger), version: "1.0"}
basePath: /
consumes: [application/json]
produces: [application/json]
paths:
  /pets/{pet_id}:
    get:
      operationId: get_pet
      summary: Get a pet by its id
      parameters:
        - {name: pet_id, in: path, required: true, type: integer}
      responses:
        "200": {description: the pet, schema: {$ref: "#/definitions/Pet"}}
  /pets:
    get:
      operationId: list_pets
      summary: List the pets of one species
      parameters:
        - {name: species, in: query, required: true, type: string, description: dog or cat}
        - {name: limit, in: query, type: integer, default: 10}
      responses:
        "200": {description: the pets}
    post:
      operationId: add_pet
      summary: Add a pet to the shop
      parameters:
        - {name: pet, in: body, required: true, schema: {$ref: "#/definitions/NewPet"}}
      responses:
        "201": {description: added}
definitions:
  NewPet:
    type: object
    required: [name, species]
    properties:
      name: {type: string}
      species: {type: string}
  Pet:
    allOf:
      - $ref: "#/definitions/NewPet"
      - {type: object, properties: {id: {type: integer}}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
