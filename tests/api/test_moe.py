"""GET /api/v1/moe and GET /api/v1/context as a client sees them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.api.helpers import error_detail, get_json


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def test_moe_default_answers_the_contract_fields(client: TestClient) -> None:
    d = get_json(client, "/api/v1/moe")
    q = d["query"]
    assert (q["experts"], q["top_k"], q["hidden"], q["ep"]) == (16, 2, 4096, 4)
    assert d["capacity"] == 160  # ceil(1.25 · 1024 · 2 / 16)
    assert len(d["expert_load"]) == 16 and sum(d["expert_load"]) == 1024 * 2
    assert d["dropped"] == sum(max(0, x - 160) for x in d["expert_load"])
    assert len(d["dispatch_bytes"]) == 4 and all(len(row) == 4 for row in d["dispatch_bytes"])
    per_copy = d["token_bytes"]["dispatch"]
    assert per_copy == 4096 * 2
    assert [[x * per_copy for x in row] for row in d["dispatch_tokens"]] == d["dispatch_bytes"]
    combine = [list(col) for col in zip(*d["dispatch_bytes"], strict=True)]
    assert d["combine_bytes"] == combine  # bf16 both ways: the transpose
    assert sum(map(sum, d["dispatch_tokens"])) == d["kept_copies"] == 2048 - d["dropped"]
    assert d["routes"] is None


def test_moe_model_preset_and_overrides(client: TestClient) -> None:
    # Mixtral 8x7B config.json: 8 local experts, 2 per token, hidden 4096
    d = get_json(client, "/api/v1/moe", model="Mixtral-8x7B", ep=2, tokens=64)
    assert (d["model"], d["experts"], d["top_k"], d["hidden"]) == ("mixtral-8x7b", 8, 2, 4096)
    assert d["query"]["model"] == "mixtral-8x7b"
    d = get_json(client, "/api/v1/moe", model="mixtral-8x7b", top_k=1, ep=2, tokens=64)
    assert d["top_k"] == 1


def test_moe_routes_list_every_copy(client: TestClient) -> None:
    d = get_json(client, "/api/v1/moe", tokens=64, experts=8, ep=4, routes="true")
    r = d["routes"]
    assert len(r["token"]) == 64 * 2
    assert sorted(set(r["token"])) == list(range(64))
    assert all(s == t // 16 for s, t in zip(r["src"], r["token"], strict=True))
    assert all(x == e // 2 for x, e in zip(r["dst"], r["expert"], strict=True))


def test_moe_dropless_and_fp8_dispatch(client: TestClient) -> None:
    d = get_json(client, "/api/v1/moe", dropless="true", dispatch_dtype="fp8", skew=3)
    assert d["dropped"] == 0 and d["kept_copies"] == 2048
    assert d["token_bytes"] == {"dispatch": 4096, "combine": 8192}
    assert d["query"]["dispatch_dtype"] == "float8_e4m3fn"


def test_moe_hierarchical_beside_flat_across_nodes(client: TestClient) -> None:
    d = get_json(client, "/api/v1/moe", ep=16, experts=64, top_k=8, gpus_per_node=4)
    a2a = d["all_to_all"]
    assert d["nodes"] == 4
    assert len(a2a["flat"]["dispatch"]["steps"]) == 1
    assert len(a2a["hierarchical"]["dispatch"]["steps"]) == 3
    # k = 8 over 4 nodes: several copies of a token share a node and cross it once
    assert (
        a2a["hierarchical"]["dispatch"]["network_bytes"] < a2a["flat"]["dispatch"]["network_bytes"]
    )


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"ep": 3}, 422, "ep"),
        ({"model": "llama3-8b"}, 422, "model"),
        ({"model": "mixtral"}, 404, "model"),
        ({"routing": "random"}, 422, "routing"),
        ({"tokens": 0}, 422, "tokens"),
        ({"dispatch_dtype": "fp7"}, 404, "dispatch_dtype"),
        ({"max_nodes": 1, "ep": 16, "gpus_per_node": 1, "top_k": 2}, 422, "max_nodes"),
    ],
)
def test_moe_errors_name_the_field(
    client: TestClient, params: dict[str, object], status: int, field: str
) -> None:
    error_detail(client, "/api/v1/moe", status, field, **params)


def test_context_default_and_tiles(client: TestClient) -> None:
    d = get_json(client, "/api/v1/context")
    assert (d["seq_len"], d["cp"], d["causal"], d["placement"]) == (8192, 4, True, "zigzag")
    assert d["num_blocks"] == 8 and d["block_tokens"] == 1024
    assert len(d["tiles"]) == 8 * 9 // 2
    assert set(d["tiles"][0]) == {"rank", "step", "q_block", "k_block", "diagonal", "pairs"}
    assert d["idle_fraction"] == 0
    assert {b["placement"] for b in d["balance"]} == {"contiguous", "zigzag"}
    assert [len(set(r["pairs_per_step"])) for r in d["per_rank"]] == [2] * 4


def test_context_contiguous_non_causal_is_balanced(client: TestClient) -> None:
    d = get_json(client, "/api/v1/context", placement="contiguous", causal="false", cp=8)
    assert d["num_blocks"] == 8 and len(d["tiles"]) == 64
    assert d["idle_fraction"] == 0 and d["skipped_pairs"] == 0


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"seq_len": 1001}, 422, "seq_len"),
        ({"cp": 0}, 422, "cp"),
        ({"placement": "striped"}, 422, "placement"),
        ({"model": "llama-3-70"}, 404, "model"),
    ],
)
def test_context_errors_name_the_field(
    client: TestClient, params: dict[str, object], status: int, field: str
) -> None:
    error_detail(client, "/api/v1/context", status, field, **params)


def test_etag_revalidates(client: TestClient) -> None:
    r = client.get("/api/v1/context?cp=2")
    assert r.status_code == 200
    again = client.get("/api/v1/context?cp=2", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
