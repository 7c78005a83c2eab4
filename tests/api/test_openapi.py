"""The OpenAPI document tells the truth: every example answers 200, and every JSON body
(success and error) matches the schema the document declares for it, with no undeclared key.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Union

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter

from app.api.examples import api_routes
from app.main import create_app
from app.schemas.meta import ErrorResponse

APP = create_app()


ROUTES = {r.path: r for r in api_routes(APP) if "GET" in r.methods}


def example_urls(route: APIRoute) -> list[str]:
    """The route's documented example requests (`x-examples`), or its bare path."""
    urls = (route.openapi_extra or {}).get("x-examples")
    assert urls, f"{route.path} has no x-examples"
    return list(urls)


def undeclared(annotation: Any, data: Any, where: str = "$") -> list[str]:
    """Keys of `data` that the type `annotation` does not declare (recursively)."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        found = [undeclared(a, data, where) for a in options]
        return min(found, key=len) if found else []
    if origin is list and isinstance(data, list):
        (item,) = typing.get_args(annotation) or (Any,)
        return [k for i, v in enumerate(data) for k in undeclared(item, v, f"{where}[{i}]")]
    if origin is dict and isinstance(data, dict):
        args = typing.get_args(annotation)
        value = args[1] if len(args) == 2 else Any
        return [k for key, v in data.items() for k in undeclared(value, v, f"{where}.{key}")]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not isinstance(data, dict):
            return []
        fields = annotation.model_fields
        names = {f.alias or n: f for n, f in fields.items()}
        out = [f"{where}.{k}" for k in data if k not in names]
        for key, f in names.items():
            if key in data:
                out += undeclared(f.annotation, data[key], f"{where}.{key}")
        return out
    return []


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(APP)


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_every_example_answers_200_and_matches_its_schema(client: TestClient, path: str) -> None:
    route = ROUTES[path]
    for url in example_urls(route):
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:300])
        body = r.json()
        model = route.response_model
        assert model is not None, f"{path} declares no response model"
        TypeAdapter(model).validate_python(body)
        assert undeclared(model, body) == [], url


def test_the_document_lists_the_error_bodies(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    for path, item in spec["paths"].items():
        if not path.startswith("/api/v1/") or "get" not in item:
            continue
        responses = item["get"]["responses"]
        assert {"200", "304", "404", "413", "422"} <= set(responses), path
        ref = responses["422"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorResponse"), path


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/formats/no_such_format", 404),
        ("/api/v1/pipeline?stages=0", 422),
        ("/api/v1/pipeline?stage=8", 422),
        ("/api/v1/presets/models/llama-9", 404),
    ],
)
def test_error_bodies_match_error_response(client: TestClient, url: str, status: int) -> None:
    r = client.get(url)
    assert r.status_code == status
    ErrorResponse.model_validate(r.json())
    assert undeclared(ErrorResponse, r.json()) == []
