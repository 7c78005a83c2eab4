"""The app shell: security headers, error shapes, limits, size guards."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient

from app.api.common import CACHE, cached_json
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


# ---------------------------------------------------------------- the one response path


def test_unknown_query_parameter_is_422_with_a_suggestion(client: TestClient) -> None:
    cases = {
        "/api/v1/pipeline?stage=8": ("stage", "stages"),
        "/api/v1/memory?model=llama3-70b&sp=true": ("sp", "sequence_parallel"),
        "/api/v1/formats/bfloat16/encode?value=1&round=toward_zero": ("round", "rounding"),
        "/api/v1/limits?verbose=1": ("verbose", None),
    }
    for url, (name, suggestion) in cases.items():
        r = client.get(url)
        assert r.status_code == 422, url
        (item,) = r.json()["detail"]
        assert item["loc"] == ["query", name] and item["type"] == "unknown_parameter", url
        assert item["suggestion"] == suggestion, url
        if suggestion:
            assert f"did you mean {suggestion!r}" in item["msg"]


def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    for url in ("/api/v1/limits", "/api/v1/formats/bfloat16", "/", "/healthz", "/memory"):
        get, head = client.get(url), client.head(url)
        assert head.status_code == get.status_code == 200, url
        assert head.content == b"", url
        assert head.headers["content-length"] == str(len(get.content)), url
        assert head.headers.get("etag") == get.headers.get("etag"), url


def test_api_sends_cors_and_answers_preflight(client: TestClient) -> None:
    r = client.get("/api/v1/limits")
    assert r.headers["access-control-allow-origin"] == "*"
    assert "ETag" in r.headers["access-control-expose-headers"]
    pre = client.options(
        "/api/v1/memory",
        headers={"Origin": "https://blog.example", "Access-Control-Request-Method": "GET"},
    )
    assert pre.status_code == 204
    assert "GET" in pre.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in client.get("/").headers


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})
    assert r.headers["cache-control"] == "no-store"


def test_a_304_computes_nothing_and_the_body_is_computed_once() -> None:
    calls: list[int] = []
    app = FastAPI()

    @app.get("/count")
    def count(request: Request) -> Response:
        return cached_json(request, "k", lambda: calls.append(1) or {"calls": len(calls)})

    CACHE.clear()
    client = TestClient(app)
    first = client.get("/count")
    assert first.json() == {"calls": 1}
    assert client.get("/count").json() == {"calls": 1}  # served from the cache
    CACHE.clear()
    again = client.get("/count", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert calls == [1]  # the 304 after the cache was emptied still computed nothing


def test_response_cache_is_bounded_in_entries_and_bytes() -> None:
    from app.api.common import ResponseCache, _Entry

    cache = ResponseCache(max_entries=3, max_bytes=100)
    for i in range(5):
        cache.put(i, _Entry(b"x" * 10))
    assert [k for k in range(5) if cache.get(k)] == [2, 3, 4]
    cache.get(2)  # touch: 3 is now the least recently used
    cache.put(5, _Entry(b"y" * 75))  # 4 entries, 105 bytes: 3 goes, leaving 3 entries, 95 bytes
    assert [k for k in range(6) if cache.get(k)] == [2, 4, 5]
    cache.put(6, _Entry(b"z" * 500))  # one entry over the byte bound is still kept
    assert [k for k in range(7) if cache.get(k)] == [6]


def test_encode_json_contract() -> None:
    import json
    import math

    import numpy as np

    from app.api.encoding import encode_json

    payload = {
        "none": None,
        "x": math.nan,
        "v": np.array([1.5, np.inf, -np.inf]),
        "i": np.arange(3, dtype=np.int64),
        "big": 2**70,
        "t": (1, 2.25),
    }
    assert json.loads(encode_json(payload)) == {
        "none": None,
        "x": "nan",
        "v": [1.5, "inf", "-inf"],
        "i": [0, 1, 2],
        "big": 2**70,
        "t": [1, 2.25],
    }
    assert json.loads(encode_json({"a": [0.1, 1e300]})) == {"a": [0.1, 1e300]}
    # a null deep inside a large list: only the containers on its way are rewritten
    rows = [{"i": i, "v": float(i)} for i in range(1000)]
    rows[500] = {"i": 500, "v": math.inf, "note": None}
    decoded = json.loads(encode_json({"rows": rows, "head": {"s": "nullable"}}))
    assert decoded["rows"][500] == {"i": 500, "v": "inf", "note": None}
    assert decoded["rows"][999] == {"i": 999, "v": 999.0}
    assert decoded["head"] == {"s": "nullable"}
    assert json.loads(encode_json({1: "a", "b": [math.nan]})) == {"1": "a", "b": ["nan"]}


def test_the_openapi_document_is_compressed_tagged_and_revalidated(client: TestClient) -> None:
    """The /docs page, /moe and /context read it (~450 KB): gzip, an ETag and a 304, like any
    other GET, instead of the full body on every page load."""
    r = client.get("/api/v1/openapi.json", headers={"accept-encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    doc = r.json()
    assert doc["openapi"].startswith("3.") and "/api/v1/moe" in doc["paths"]
    assert "/api/v1/openapi.json" not in doc["paths"]  # the document is not part of the contract
    again = client.get("/api/v1/openapi.json", headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
