"""GET /api/v1/throughput, /throughput/gallery, /plan and /plan/examples: the shapes the issue
names, names resolved as typed, a plan's memory reproduced on /memory, errors naming fields."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import error_detail


def get_json(client: TestClient, url: str, **params: Any) -> Any:
    """The JSON of a GET that must answer 200 (`url` may carry its own query string)."""
    r = client.get(url, params=params or None)
    assert r.status_code == 200, r.text
    return r.json()


def _error(client: TestClient, url: str, status: int, field: str) -> str:
    path, _, query = url.partition("?")
    return error_detail(client, path, status, field, **dict(parse_qsl(query)))


CLAIM = "/api/v1/throughput?model=Llama3-70B&gpus=1024&seq_len=8192&tokens_per_second=8000000"


def test_throughput_lists_every_convention_with_formula_and_source(client: TestClient) -> None:
    d = get_json(client, CLAIM)
    assert d["query"]["model"] == "llama3-70b"
    assert d["tokens_per_second_per_gpu"] == 8e6 / 1024
    names = [c["name"] for c in d["conventions"]]
    assert names == [
        "6n",
        "6n_attention",
        "6n_attention_causal",
        "megatron",
    ]  # no HFU without recompute
    for c in d["conventions"]:
        assert {"name", "flops_per_token", "tflops_per_gpu", "mfu", "formula", "source"} <= set(c)
        assert c["mfu"] == pytest.approx(c["tflops_per_gpu"] / 989)  # H100 BF16 dense
    sparse = next(p for p in d["peaks"] if p["name"] == "bf16_sparse")
    assert sparse["tflops"] == pytest.approx(1978)


def test_recompute_adds_the_hfu_conventions(client: TestClient) -> None:
    d = get_json(client, CLAIM + "&recompute=full")
    kinds = {c["name"]: c["kind"] for c in d["conventions"]}
    assert kinds["megatron_hfu"] == "hfu" and kinds["8n"] == "hfu"
    hfu = next(c for c in d["conventions"] if c["name"] == "8n")
    six = next(c for c in d["conventions"] if c["name"] == "6n")
    assert hfu["tflops_per_gpu"] == pytest.approx(six["tflops_per_gpu"] * 8 / 6)


def test_a_stated_layout_is_checked(client: TestClient) -> None:
    d = get_json(
        client,
        "/api/v1/throughput?model=llama3-405b&gpus=8192&seq_len=8192&tflops_per_gpu=430"
        "&global_batch_tokens=16777216&tp=8&pp=16&zero=1&recompute=selective"
        "&sequence_parallel=true",
    )
    checks = {c["name"]: c for c in d["checks"]}
    assert set(checks) == {"gpus", "global_batch", "tp_in_node", "memory", "plausible"}
    assert d["layout"]["dp"] == 64 and d["layout"]["microbatches"] == 32
    memory = get_json(client, "/api/v1/memory?" + checks["memory"]["memory_query"])
    assert checks["memory"]["ok"] == memory["fits"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("model=llama3-8b&gpus=8", "tokens_per_second"),
        ("model=llama3-8b&gpus=8&step_time=1", "global_batch_tokens"),
        ("model=llama3-8b&tokens_per_second=1e6", "gpus"),
        ("model=llama3-8b&gpus=8&tokens_per_second=1e6&gpu=a100&peak=fp8", "peak"),
        ("model=llama3-8b&gpus=8&tokens_per_second=1e6&tokens=5", "tokens"),
    ],
)
def test_throughput_errors_name_the_field(client: TestClient, query: str, field: str) -> None:
    _error(client, f"/api/v1/throughput?{query}", 422, field)


def test_unknown_convention_is_a_404_with_suggestion(client: TestClient) -> None:
    detail = _error(
        client,
        "/api/v1/throughput?model=llama3-8b&gpus=8&tflops_per_gpu=300&tflops_convention=megatorn",
        404,
        "tflops_convention",
    )
    assert "megatron" in detail


def test_gallery_runs_are_reproduced(client: TestClient) -> None:
    d = get_json(client, "/api/v1/throughput/gallery")
    assert d["tolerance"] == 0.02
    for run in d["runs"]:
        assert run["within"], run["name"]
        assert run["published"]["value"] and run["source"]
        # the claim's query decodes on /throughput
        get_json(client, "/api/v1/throughput?" + run["throughput_query"])


@pytest.fixture(scope="module")
def plan(client: TestClient) -> dict[str, Any]:
    return dict(get_json(client, "/api/v1/plan?model=llama3-8b&gpus=8&top=6"))


def test_plan_layouts_sorted_with_degrees_and_memory(plan: dict[str, Any]) -> None:
    layouts = plan["layouts"]
    assert [x["step_time"] for x in layouts] == sorted(x["step_time"] for x in layouts)
    need = {"tp", "pp", "dp", "cp", "ep", "zero", "chunks", "schedule", "recompute",
            "step_time", "mfu", "memory_per_gpu", "memory_query"}  # fmt: skip
    assert all(need <= set(x) for x in layouts)


def test_plan_memory_query_reproduces_memory(client: TestClient, plan: dict[str, Any]) -> None:
    for lay in plan["layouts"][:3]:
        memory = get_json(client, "/api/v1/memory?" + lay["memory_query"])
        assert memory["total"] == lay["memory_per_gpu"]
        assert memory["verdict"] == "fits"


def test_plan_links_open_the_other_views(client: TestClient, plan: dict[str, Any]) -> None:
    lay = plan["layouts"][0]
    for name in ("memory", "communication", "mesh", "throughput"):
        path, _, query = lay["links"][name].partition("?")
        assert client.get(path + "?" + query).status_code == 200
        get_json(client, f"/api/v1{path}?{query}")


def test_plan_examples_answer(client: TestClient) -> None:
    examples = get_json(client, "/api/v1/plan/examples")["examples"]
    assert examples
    first = dict(parse_qsl(examples[0]["query"]))
    assert get_json(client, "/api/v1/plan", **first)["layouts"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("model=llama3-8b&gpus=8&global_batch_tokens=1000", "global_batch_tokens"),
        ("model=llama3-8b&gpus=8&zero_stages=5", "zero_stages"),
        ("model=llama3-8b&gpus=8&top=1000", "top"),
        ("model=llama3-8b&gpus=8&max_pp=0", "max_pp"),
        ("model=llama3-8b&gpus=8&stages=2", "stages"),
    ],
)
def test_plan_errors_name_the_field(client: TestClient, query: str, field: str) -> None:
    _error(client, f"/api/v1/plan?{query}", 422, field)
