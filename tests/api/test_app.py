"""The app shell: security headers, error shapes, limits, size guards."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.core.limits import LIMITS
from app.pages import VIEWS


def test_every_view_is_built(client: TestClient) -> None:
    from app.pages import available

    assert [v.key for v in VIEWS if not available(v)] == []


def test_security_headers_on_pages_and_api(client: TestClient) -> None:
    for path in ("/", "/api/v1/limits", "/docs"):
        r = client.get(path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'self'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert r.headers["x-frame-options"] == "SAMEORIGIN"


def test_only_embeds_may_be_framed(client: TestClient) -> None:
    embeds = ["/embed" + v.path for v in VIEWS if v.embeddable]
    assert embeds, "no embed routes"
    for path in embeds:
        r = client.get(path.replace("{name}", "float8_e4m3fn"))
        assert r.status_code == 200, path
        assert "frame-ancestors *" in r.headers["content-security-policy"], path
        assert "x-frame-options" not in r.headers


def test_limits_lists_every_limit(client: TestClient) -> None:
    body = client.get("/api/v1/limits").json()["limits"]
    assert set(body) == set(LIMITS)
    assert body["pipeline_stages"]["value"] == 128
    assert body["mesh_ranks"]["value"] == 65_536
    assert body["sharding_devices"]["value"] == 4_096
    assert body["value_table_bits"]["value"] == 16


def test_limits_has_etag_and_304(client: TestClient) -> None:
    r = client.get("/api/v1/limits")
    etag = r.headers["etag"]
    assert "max-age" in r.headers["cache-control"]
    again = client.get("/api/v1/limits", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_oversized_body_is_413(client: TestClient) -> None:
    big = b"[" + b"1," * (LIMITS["request_body_bytes"].value // 2) + b"1]"
    r = client.post("/api/v1/limits", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["detail"][0]["loc"] == ["body"]
    assert "limit" in r.json()["detail"][0]["msg"]


def test_overlong_query_is_422(client: TestClient) -> None:
    r = client.get("/api/v1/limits?x=" + "a" * 9000)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query"]


def test_unknown_api_path_is_json_404(client: TestClient) -> None:
    r = client.get("/api/v1/nope")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert isinstance(r.json()["detail"], list)


def test_unknown_page_is_html_404(client: TestClient) -> None:
    r = client.get("/nope")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "Page not found" in r.text


def test_query_text_is_escaped_in_error_pages(client: TestClient) -> None:
    r = client.get("/<script>alert(1)</script>")
    assert r.status_code == 404
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;" in r.text


def test_favicon(client: TestClient) -> None:
    r = client.get("/favicon.ico")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in r.content


def test_openapi_documents_every_api_route(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    assert "/api/v1/limits" in paths
    for path, ops in paths.items():
        for method, op in ops.items():
            assert op.get("summary") or op.get("description"), f"{method} {path} undocumented"
            for param in op.get("parameters", []):
                assert param.get("description"), f"{method} {path} {param['name']} undocumented"


def test_semantic_error_on_a_path_parameter_names_the_path(client: TestClient) -> None:
    r = client.get("/api/v1/formats/float32/values")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["path", "name"]
    assert "16" in r.json()["detail"][0]["msg"]


def test_percent_encoded_garbage_is_422_naming_the_field(client: TestClient) -> None:
    r = client.get("/api/v1/formats/float8_e4m3fn/encode?value=%ff%fe")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "value"]


def test_raw_query_bytes_that_are_not_utf8_are_422() -> None:
    import asyncio

    from app.main import create_app

    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/v1/limits",
        "raw_path": b"/api/v1/limits",
        "query_string": b"x=\xff\xfe",
        "headers": [],
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1234),
        "root_path": "",
    }
    asyncio.run(create_app()(scope, receive, send))
    assert sent[0]["status"] == 422
    assert b"not valid UTF-8" in sent[1]["body"]  # type: ignore[operator]
