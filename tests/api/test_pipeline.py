"""GET /api/v1/pipeline: values, every 422 names its field, formats, caching, the catalogue."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from app.api.encoding import encode_json
from app.core.parallel import pipeline_payload as shapes
from app.core.parallel.pipeline import simulate_pipeline
from app.schemas.pipeline import (
    ChromeTraceResponse,
    PipelineCatalogue,
    PipelineColumnsResponse,
    PipelineResponse,
)
from tests.api.test_openapi import ROUTES, undeclared

URL = "/api/v1/pipeline"


def test_gpipe_values(client: TestClient) -> None:
    r = client.get(URL, params={"schedule": "gpipe", "stages": 4, "microbatches": 8})
    assert r.status_code == 200
    body = r.json()
    # (m + p − 1)(F + B) = 11 × 3 with F = I = W = 1
    assert body["makespan"] == 33.0
    assert body["bubble_fraction"] == pytest.approx(3 / 11, abs=1e-9)
    assert body["closed_form"]["makespan"] == 33.0
    assert body["closed_form"]["applies"] is True
    assert "2104.04473" in body["closed_form"]["source"]
    assert body["op_count"] == len(body["ops"]) == 64
    assert [x["peak_activations"] for x in body["per_rank"]] == [8.0] * 4
    assert body["units"].startswith("cost units")
    assert body["query"] == {
        "schedule": "gpipe",
        "stages": 4,
        "microbatches": 8,
        "chunks": 1,
        "forward": 1.0,
        "backward_input": 1.0,
        "backward_weight": 1.0,
        "p2p": 0.0,
        "forward_backward": None,
        "stage_costs": None,
        "model": None,
        "gpu": "h100-sxm",
        "tp": 1,
        "cp": 1,
        "seq_len": 4096,
        "micro_batch": 1,
        "efficiency": 0.5,
        "recompute": "none",
        "format": "json",
    }
    assert body["cost_model"] is None
    op = body["ops"][0]
    assert op == {
        "rank": 0,
        "stage": 0,
        "chunk": 0,
        "microbatch": 0,
        "kind": "F",
        "start": 0.0,
        "end": 1.0,
        "waits_for": [],
    }
    # rank 1's first op is F0 of stage 1: it waits for F0 of stage 0, the first op above
    first_on_rank_1 = next(o for o in body["ops"] if o["rank"] == 1)
    assert (first_on_rank_1["kind"], first_on_rank_1["waits_for"]) == ("F", [0])


def test_costs_reach_the_simulation(client: TestClient) -> None:
    q = {
        "schedule": "zb_h2",
        "stages": 4,
        "microbatches": 8,
        "forward": 1,
        "backward_input": 1.5,
        "backward_weight": 0.5,
    }
    body = client.get(URL, params=q).json()
    # ZB-H2's paper bubble (p − 1)(F + I − 2W) at F = 1, I = 1.5, W = 0.5
    assert body["makespan"] == pytest.approx(8 * 3 + 3 * 1.5)
    h1 = client.get(URL, params={**q, "schedule": "zb_h1"}).json()
    assert h1["makespan"] == pytest.approx(8 * 3 + 3 * 2)


def test_body_equals_core_payload(client: TestClient) -> None:
    """What the API sends is the core's payload, whatever the format."""
    for name, extra in [("dualpipev", {}), ("interleaved_1f1b", {"chunks": 3}), ("zbv", {})]:
        q = {"schedule": name, "stages": 3, "microbatches": 9, "p2p": 0.1, **extra}
        core = simulate_pipeline(name, 3, 9, p2p=0.1, chunks=extra.get("chunks"))
        body = client.get(URL, params=q).json()
        assert body == json.loads(encode_json(shapes.records(core)))
        cols = client.get(URL, params={**q, "format": "columns"}).json()
        core = simulate_pipeline(name, 3, 9, p2p=0.1, chunks=extra.get("chunks"), format="columns")
        assert cols == json.loads(encode_json(shapes.columns(core)))


def test_columns_format(client: TestClient) -> None:
    q = {"schedule": "dualpipev", "stages": 2, "microbatches": 4}
    rows = client.get(URL, params=q).json()
    cols = client.get(URL, params={**q, "format": "columns"}).json()
    ops = cols["ops"]
    n = len(rows["ops"])
    assert set(ops) == {
        "rank",
        "stage",
        "chunk",
        "microbatch",
        "kind",
        "start",
        "end",
        "overlapped",
        "waits_for",
    }
    assert all(len(col) == n for col in ops.values())
    for j, op in enumerate(rows["ops"]):
        for key in ("rank", "stage", "chunk", "microbatch", "kind", "start", "end"):
            assert ops[key][j] == op[key]
        assert ops["overlapped"][j] == op.get("overlapped", False)
        assert [d for d in ops["waits_for"][j] if d >= 0] == op["waits_for"]
    assert cols["makespan"] == rows["makespan"]
    assert cols["query"] == {**rows["query"], "format": "columns"}


@pytest.mark.parametrize(
    ("fmt", "model"),
    [
        ("json", PipelineResponse),
        ("columns", PipelineColumnsResponse),
        ("chrome_trace", ChromeTraceResponse),
    ],
)
@pytest.mark.parametrize("schedule", ["1f1b", "interleaved_1f1b", "zbv", "dualpipev"])
def test_every_format_matches_the_declared_schema(
    client: TestClient, fmt: str, model: type, schedule: str
) -> None:
    """Each format's body validates against the route's response model with no extra key,
    and against its own alternative in particular."""
    body = client.get(
        URL, params={"schedule": schedule, "stages": 2, "microbatches": 4, "format": fmt}
    ).json()
    declared = ROUTES[URL].response_model
    TypeAdapter(declared).validate_python(body)
    assert undeclared(declared, body) == []
    model.model_validate(body)  # type: ignore[attr-defined]
    assert undeclared(model, body) == []


def test_openapi_declares_the_three_formats(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    schema = spec["paths"][URL]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    refs = {alt["$ref"].rsplit("/", 1)[-1] for alt in schema["anyOf"]}
    assert refs == {"PipelineResponse", "PipelineColumnsResponse", "ChromeTraceResponse"}


def test_chrome_trace_format(client: TestClient) -> None:
    r = client.get(
        URL, params={"schedule": "1f1b", "stages": 2, "microbatches": 2, "format": "chrome_trace"}
    )
    assert r.status_code == 200
    trace = r.json()
    xs = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert len(xs) == 8
    # 1 cost unit = 1 ms: the last backward on rank 0 runs 7–9, i.e. ts 7000 µs, dur 2000 µs
    last = max(xs, key=lambda e: e["ts"])
    assert (last["pid"], last["tid"], last["name"], last["ts"], last["dur"]) == (
        0,
        0,
        "B1",
        7000,
        2000,
    )
    assert "1 ms" in trace["otherData"]["time_scale"]


def test_etag_and_304(client: TestClient) -> None:
    q = {"schedule": "zbv", "stages": 4, "microbatches": 8}
    r = client.get(URL, params=q)
    assert r.status_code == 200
    etag = r.headers["etag"]
    assert "max-age" in r.headers["cache-control"]
    r2 = client.get(URL, params=q, headers={"If-None-Match": etag})
    assert r2.status_code == 304
    assert r2.content == b""
    assert r2.headers["etag"] == etag
    other = client.get(URL, params={**q, "microbatches": 9})
    assert other.headers["etag"] != etag
    assert client.get(URL, params={**q, "format": "columns"}).headers["etag"] != etag


def test_unknown_schedule_is_404_listing_names(client: TestClient) -> None:
    r = client.get(URL, params={"schedule": "pipedream"})
    assert r.status_code == 404
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["query", "schedule"]
    assert "zb_h2" in detail["valid"] and "dualpipev" in detail["valid"]


def test_schedule_names_as_people_type_them(client: TestClient) -> None:
    want = client.get(URL, params={"schedule": "zb_h1"})
    for typed in ("ZB-H1", "zb-h1", "ZB_H1", "zbh1"):
        r = client.get(URL, params={"schedule": typed})
        assert r.status_code == 200, typed
        assert r.json()["query"]["schedule"] == "zb_h1"
        assert r.content == want.content
        assert r.headers["etag"] == want.headers["etag"]  # one cache entry, one tag
    assert client.get(URL, params={"schedule": "1F1B"}).json()["schedule"] == "1f1b"
    miss = client.get(URL, params={"schedule": "zb-v"})
    assert miss.status_code == 200  # ZB-V folds to zbv
    miss = client.get(URL, params={"schedule": "dualpip"})
    assert miss.status_code == 404
    detail = miss.json()["detail"][0]
    assert detail["suggestion"] == "dualpipev"
    assert "did you mean 'dualpipev'" in detail["msg"]


def test_echo_fills_in_chunks_per_schedule(client: TestClient) -> None:
    # ZB-V and DualPipeV place 2 chunks as a V, interleaved 1F1B defaults to 2, the rest 1
    want = {"gpipe": 1, "1f1b": 1, "interleaved_1f1b": 2, "zb_h1": 1, "zbv": 2, "dualpipev": 2}
    for name, v in want.items():
        body = client.get(URL, params={"schedule": name, "stages": 2, "microbatches": 4}).json()
        assert body["query"]["chunks"] == body["chunks"] == v, name
        assert body["num_stages"] == 2 * v


def test_catalogue(client: TestClient) -> None:
    r = client.get(URL + "/schedules")
    assert r.status_code == 200
    body = r.json()
    PipelineCatalogue.model_validate(body)
    names = [s["name"] for s in body["schedules"]]
    assert names == ["gpipe", "1f1b", "interleaved_1f1b", "zb_h1", "zb_h2", "zbv", "dualpipev"]
    inter = next(s for s in body["schedules"] if s["name"] == "interleaved_1f1b")
    assert inter["chunks"] == {"default": 2, "min": 2, "max": 16}
    assert inter["microbatches_multiple_of_stages"] is True
    dual = next(s for s in body["schedules"] if s["name"] == "dualpipev")
    assert dual["min_microbatches_per_stage"] == 2
    # what the catalogue states is what the API enforces: m = 2p − 1 is refused, 2p is not
    bad = client.get(URL, params={"schedule": "dualpipev", "stages": 4, "microbatches": 7})
    good = client.get(URL, params={"schedule": "dualpipev", "stages": 4, "microbatches": 8})
    assert (bad.status_code, good.status_code) == (422, 200)
    defaults = {p["name"]: p["default"] for p in body["parameters"]}
    plain = client.get(URL).json()["query"]
    # chunks default per schedule; the costs default to null: 1 (p2p 0) without a model
    costs = {"chunks", "forward", "backward_input", "backward_weight", "p2p"}
    assert {k: v for k, v in defaults.items() if k not in costs} == {
        k: v for k, v in plain.items() if k not in costs
    }
    assert [defaults[k] for k in sorted(costs - {"chunks"})] == [None] * 4
    assert [plain[k] for k in ("forward", "backward_input", "backward_weight", "p2p")] == [
        1.0,
        1.0,
        1.0,
        0.0,
    ]
    assert (
        r.headers["etag"]
        and client.get(URL + "/schedules", headers={"If-None-Match": r.headers["etag"]}).status_code
        == 304
    )


def test_unknown_format_is_404(client: TestClient) -> None:
    r = client.get(URL, params={"format": "xml"})
    assert r.status_code == 404
    assert r.json()["detail"][0]["loc"] == ["query", "format"]


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"stages": 0}, "stages", "greater than or equal to 1"),
        ({"stages": 129}, "stages", "less than or equal to 128"),
        ({"microbatches": 1025}, "microbatches", "1024"),
        ({"chunks": 17}, "chunks", "16"),
        ({"schedule": "zbv", "chunks": 3}, "chunks", "chunks=2"),
        ({"schedule": "zbv", "chunks": 3}, "chunks", "chunks=3 works with: interleaved_1f1b"),
        ({"schedule": "dualpipev", "stages": 4, "microbatches": 7}, "microbatches", "8"),
        ({"schedule": "interleaved_1f1b", "chunks": 1}, "chunks", "at least 2"),
        (
            {"schedule": "interleaved_1f1b", "stages": 4, "microbatches": 6},
            "microbatches",
            "multiple",
        ),
        ({"schedule": "gpipe", "chunks": 2}, "chunks", "chunks=1"),
        ({"schedule": "zbv", "stages": 128, "microbatches": 1024}, "microbatches", "200,000"),
        ({"forward": -1}, "forward", "greater than or equal to 0"),
        ({"backward_input": -0.5}, "backward_input", "greater than or equal to 0"),
        ({"backward_weight": "abc"}, "backward_weight", "number"),
        ({"p2p": "inf"}, "p2p", "finite"),
        ({"forward_backward": -1, "schedule": "dualpipev"}, "forward_backward", "greater"),
        ({"stage_costs": "1,2"}, "stage_costs", "exactly 4"),
        ({"stage_costs": "1,2,x,4"}, "stage_costs", "comma-separated"),
        ({"forward": 0, "backward_input": 0, "backward_weight": 0}, "forward", "all be 0"),
    ],
)
def test_422_names_the_field(
    client: TestClient, params: dict[str, object], field: str, words: str
) -> None:
    r = client.get(URL, params=params)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail[0]["loc"] == ["query", field]
    assert words in detail[0]["msg"]


def test_every_schedule_through_http(client: TestClient) -> None:
    for name in ["gpipe", "1f1b", "interleaved_1f1b", "zb_h1", "zb_h2", "zbv", "dualpipev"]:
        r = client.get(URL, params={"schedule": name, "stages": 4, "microbatches": 8})
        assert r.status_code == 200, name
        body = r.json()
        assert body["schedule"] == name
        assert 0 <= body["bubble_fraction"] < 0.3
        assert len(body["per_rank"]) == 4


def test_openapi_documents_the_endpoint(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    op = spec["paths"]["/api/v1/pipeline"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert names >= {
        "schedule",
        "stages",
        "microbatches",
        "chunks",
        "forward",
        "backward_input",
        "backward_weight",
        "p2p",
        "forward_backward",
        "stage_costs",
        "format",
    }
    assert all(p.get("description") for p in op["parameters"])


def test_model_gives_costs_in_seconds(client: TestClient) -> None:
    q = {"model": "llama3-8b", "gpu": "h100-sxm", "stages": 4, "microbatches": 8}
    body = client.get(URL, params=q).json()
    assert body["units"] == "seconds"
    # Llama 3 8B layer: 2 × 218.1e6 weights + causal attention 2 × 4096 × 4096 FLOPs per token;
    # 8 layers × 4096 tokens over H100's 989 TFLOP/s dense BF16 at 0.5
    layer = 2 * (2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336) + 2 * 4096 * 4096
    f = layer * 8 * 4096 / (989e12 * 0.5)
    assert body["query"]["forward"] == pytest.approx(f, rel=1e-4)
    assert (
        body["query"]["backward_input"]
        == body["query"]["backward_weight"]
        == body["query"]["forward"]
    )
    assert body["cost_model"]["throughput"] == pytest.approx(494.5e12)
    assert body["closed_form"]["applies"] is False  # p2p > 0: the sends sit on the path
    trace = client.get(URL, params={**q, "format": "chrome_trace"}).json()
    first = next(e for e in trace["traceEvents"] if e["ph"] == "X")
    assert first["dur"] == pytest.approx(f * 1e6, rel=1e-4)  # seconds → microseconds


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"model": "llama3-8b", "forward": 2}, "forward"),
        ({"model": "llama3-8b", "backward_input": 1.5}, "backward_input"),
        ({"model": "llama3-8b", "p2p": 0.1}, "p2p"),
        ({"seq_len": 8192}, "seq_len"),
    ],
)
def test_model_and_explicit_costs_conflict(
    client: TestClient, params: dict[str, object], field: str
) -> None:
    r = client.get(URL, params=params)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", field]


def test_unknown_model_is_404_with_a_suggestion(client: TestClient) -> None:
    r = client.get(URL, params={"model": "llama3-8x"})
    assert r.status_code == 404
    assert r.json()["detail"][0]["loc"] == ["query", "model"]
