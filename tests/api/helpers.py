"""Small request helpers the API tests share: a 200's JSON, a 4xx's detail naming a field."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def get_json(client: TestClient, url: str, **params: Any) -> Any:
    """The JSON of a GET that must answer 200 (the body is shown when it does not)."""
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def error_detail(client: TestClient, url: str, status: int, field: str, **params: Any) -> str:
    """The `detail` of a GET that must answer `status` and name `field` in a `loc`."""
    r = client.get(url, params=params)
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert any(d["loc"][-1] == field for d in detail), detail
    return str(detail)
