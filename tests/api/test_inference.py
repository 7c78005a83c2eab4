"""GET /api/v1/inference, /inference/kv and /inference/batching through the API: the contract's
fields, names matched as typed, errors that name the field, and the echoed query answering
the same."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def _get(client: TestClient, url: str) -> dict[str, Any]:
    r = client.get(url)
    assert r.status_code == 200, r.text[:400]
    body: dict[str, Any] = r.json()
    return body


def test_inference_has_the_contracts_fields(client: TestClient) -> None:
    d = _get(client, "/api/v1/inference?model=llama3-70b&tp=8&batch=16&phase=prefill")
    assert d["phase"] == "prefill" and d["ops"] == d["phases"]["prefill"]["ops"]
    assert d["time"] == d["phases"]["prefill"]["time"]
    for op in d["ops"]:
        assert {"name", "flops", "bytes", "intensity", "bound", "time"} <= set(op)
    assert d["critical_batch"] > 0
    assert d["query"]["tp"] == 8 and d["query"]["model"] == "llama3-70b"


def test_names_match_as_typed_and_unknown_ones_are_404(client: TestClient) -> None:
    d = _get(client, "/api/v1/inference?model=Llama3-70B&gpu=H100&dtype=FP8&tp=8")
    assert (d["query"]["model"], d["query"]["gpu"], d["query"]["dtype"]) == (
        "llama3-70b", "h100-sxm", "float8_e4m3fn",
    )  # fmt: skip
    r = client.get("/api/v1/inference/kv?engine=vlm")
    assert r.status_code == 404
    detail = r.json()["detail"][0]
    assert detail["suggestion"] == "vllm" and "trtllm" in detail["valid"]
    assert _get(client, "/api/v1/inference/kv?engine=TensorRT-LLM")["engine"]["name"] == "trtllm"


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/inference?model=llama3-8b&tp=3", "tp"),
        ("/api/v1/inference?model=llama3-8b&ep=2&dp=2", "ep"),
        ("/api/v1/inference?layers=2&hidden=64", "heads"),
        ("/api/v1/inference?model=llama3-8b&layers=2", "layers"),
        ("/api/v1/inference?gpu=a100&compute_dtype=fp8", "compute_dtype"),
        ("/api/v1/inference?batch=0", "batch"),
        ("/api/v1/inference/kv?block_size=0", "block_size"),
        ("/api/v1/inference/batching?num_blocks=4&requests=5", "num_blocks"),
        ("/api/v1/inference/batching?rate=1e-9&requests=5", "rate"),
        ("/api/v1/inference/batching?requests=20000", "requests"),
        ("/api/v1/inference?contex=5", "contex"),
    ],
)
def test_errors_name_the_field(client: TestClient, url: str, field: str) -> None:
    r = client.get(url)
    assert r.status_code == 422, r.text[:300]
    assert field in {str(d["loc"][-1]) for d in r.json()["detail"]}


def test_the_echoed_query_answers_the_same(client: TestClient) -> None:
    for path in ("/api/v1/inference", "/api/v1/inference/kv"):
        first = _get(client, f"{path}?model=deepseek-v3&tp=8&pp=2&dtype=fp8")
        again = "&".join(f"{k}={v}" for k, v in first["query"].items() if v is not None)
        assert _get(client, f"{path}?{again}") == first


def test_kv_fields_and_the_batching_trace(client: TestClient) -> None:
    kv = _get(client, "/api/v1/inference/kv?model=llama3-8b&max_model_len=8192")
    assert kv["block_bytes"] == 2 * 32 * 16 * 8 * 128 * 2
    assert kv["num_blocks"] == kv["stages"][0]["num_blocks"] > 0
    assert kv["max_concurrency"] == kv["num_blocks"] / (8192 / 16)
    b = _get(client, "/api/v1/inference/batching?num_blocks=1024&rate=20&requests=60")
    assert b["num_blocks"] == 1024 and b["block_size"] == 16
    for run in ("continuous", "static"):
        trace = b[run]["trace"]
        assert len(trace["requests"]["arrival"]) == 60
        assert len(set(map(len, trace["segments"].values()))) == 1  # equal columns
        assert trace["events"]["op_names"] == ["alloc", "free"]
    big = _get(client, "/api/v1/inference/batching?requests=1500&trace=true")
    assert big["continuous"]["trace"] is None and any("trace" in n for n in big["notes"])


def test_revalidation_is_a_304(client: TestClient) -> None:
    url = "/api/v1/inference?model=llama3-8b&batch=4"
    tag = client.get(url).headers["etag"]
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304
