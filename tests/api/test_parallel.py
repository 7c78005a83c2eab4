"""API for presets, meshes and shard maps: real values and every 422 / 404 (memory: test_memory)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def _get(client: TestClient, url: str, **params: Any) -> Any:
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _error(client: TestClient, url: str, status: int, field: str, **params: Any) -> str:
    r = client.get(url, params=params)
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert any(d["loc"][-1] == field for d in detail), detail
    return str(detail)


# ---------------------------------------------------------------- presets


def test_models(client: TestClient) -> None:
    models = {m["name"]: m for m in _get(client, "/api/v1/presets/models")["models"]}
    assert len(models) == 7
    assert models["llama3-8b"]["total_params"] == 8_030_261_248
    assert models["llama3-70b"]["kv_cache_bytes_per_token"] == 327_680
    ds = models["deepseek-v3"]
    assert ds["mla"]["kv_lora_rank"] == 512 and ds["dense_layers"] == 3
    assert ds["total_params"] == pytest.approx(671e9, rel=0.02)
    one = _get(client, "/api/v1/presets/models/mixtral-8x7b")
    assert one["total_params"] == 46_702_792_704


def test_unknown_model_is_404(client: TestClient) -> None:
    detail = _error(client, "/api/v1/presets/models/llama2", 404, "name")
    assert "llama3-8b" in detail


def test_gpus(client: TestClient) -> None:
    gpus = {g["name"]: g for g in _get(client, "/api/v1/presets/gpus")["gpus"]}
    assert set(gpus) == {"a100-80gb", "h100-sxm", "h200", "b200", "mi300x"}
    assert gpus["h100-sxm"]["bf16_tflops"] == 989.0
    assert gpus["a100-80gb"]["fp8_tflops"] is None


def test_parallel_presets(client: TestClient) -> None:
    presets = {p["name"]: p for p in _get(client, "/api/v1/presets/parallel")["presets"]}
    p = presets["llama3-405b-8k"]
    assert p["axes"] == "dp:64,pp:16,cp:1,tp:8" and p["world_size"] == 8192
    assert "dp=64&tp=8&pp=16" in p["memory_query"]
    assert "dp=128" in presets["deepseek-v3"]["memory_query"]
    assert "ep=64" in presets["deepseek-v3"]["memory_query"]


def test_published_llama3_layout_fits_its_h100s(client: TestClient) -> None:
    # Llama 3 405B trained on H100 80GB with TP 8, PP 16, DP 64 (arXiv 2407.21783 Table 4), so
    # the preset's memory query must fit; FlashAttention never stores the s×s scores, and the
    # preset says what it assumes beyond the table.
    presets = {p["name"]: p for p in _get(client, "/api/v1/presets/parallel")["presets"]}
    p = presets["llama3-405b-8k"]
    assert p["provenance"] == "published" and p["assumed"]
    d = client.get(f"/api/v1/memory?{p['memory_query']}").json()
    assert d["fits"] is True and d["verdict"] == "fits"
    assert d["layout"]["name"] == "llama3-405b-8k"
    assert d["total"] < d["capacity"] - d["overhead"]


# ---------------------------------------------------------------- mesh


def test_mesh_contract(client: TestClient) -> None:
    d = _get(client, "/api/v1/mesh", axes="pp:2,dp:2,tp:4", gpus_per_node=8)
    assert d["world_size"] == 16
    assert d["axis_names"] == ["pp", "dp", "tp"] and d["shape"] == [2, 2, 4]
    assert d["ranks"][6] == {
        "rank": 6,
        "node": 0,
        "local_rank": 6,
        "coords": {"pp": 0, "dp": 1, "tp": 2},
    }
    assert d["ranks"][13] == {
        "rank": 13, "node": 1, "local_rank": 5, "coords": {"pp": 1, "dp": 1, "tp": 1},
    }  # fmt: skip
    assert d["groups"]["tp"][1] == [4, 5, 6, 7]
    assert d["groups"]["pp"][6] == [6, 14]
    assert d["groups"]["dp"][0] == [0, 4]
    assert d["warnings"] == []
    assert [s["nodes_per_group"] for s in d["axis_stats"]] == [2, 1, 1]


def test_mesh_columnar_matches_records(client: TestClient) -> None:
    rec = _get(client, "/api/v1/mesh", axes="dp:3,tp:4", gpus_per_node=8)
    col = _get(client, "/api/v1/mesh", axes="dp:3,tp:4", gpus_per_node=8, format="columnar")
    assert col["format"] == "columnar"
    for r in rec["ranks"]:
        i = r["rank"]
        assert col["ranks"]["node"][i] == r["node"]
        assert col["ranks"]["local_rank"][i] == r["local_rank"]
        assert {a: col["ranks"]["coords"][a][i] for a in ("dp", "tp")} == r["coords"]
    assert col["groups"] == rec["groups"]
    assert any("not a multiple of gpus_per_node" in w for w in rec["warnings"])


def test_mesh_include(client: TestClient) -> None:
    d = _get(client, "/api/v1/mesh", axes="dp:2,tp:2", include="groups")
    assert "ranks" not in d and d["groups"]["tp"] == [[0, 1], [2, 3]]
    d = _get(client, "/api/v1/mesh", axes="dp:2,tp:2", include="")
    assert "ranks" not in d and "groups" not in d and d["world_size"] == 4


def test_mesh_llama3_405b_16k(client: TestClient) -> None:
    d = _get(client, "/api/v1/mesh", axes="dp:128,pp:16,cp:1,tp:8", gpus_per_node=8)
    assert d["world_size"] == 16384 and len(d["ranks"]) == 16384
    assert d["ranks"][16383]["coords"] == {"dp": 127, "pp": 15, "cp": 0, "tp": 7}
    assert d["ranks"][16383]["node"] == 2047
    assert len(d["groups"]["tp"]) == 2048 and d["groups"]["tp"][-1] == list(range(16376, 16384))
    assert d["warnings"] == []


def test_mesh_etag_304(client: TestClient) -> None:
    r = client.get("/api/v1/mesh", params={"axes": "dp:2,tp:4"})
    assert "max-age" in r.headers["cache-control"]
    r2 = client.get(
        "/api/v1/mesh", params={"axes": "dp:2,tp:4"}, headers={"If-None-Match": r.headers["etag"]}
    )
    assert r2.status_code == 304


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"axes": "tp"}, "axes"),
        ({"axes": "tp:4,tp:2"}, "axes"),
        ({"axes": "tp:0"}, "axes"),
        ({"axes": "dp:256,tp:257"}, "axes"),
        ({"axes": "a:1,b:1,c:1,d:1,e:1,f:1,g:1,h:1,i:1"}, "axes"),
        ({}, "axes"),
        ({"axes": "tp:8", "gpus_per_node": 0}, "gpus_per_node"),
        ({"axes": "tp:8", "gpus_per_node": 100000}, "gpus_per_node"),
        ({"axes": "tp:8", "format": "csv"}, "format"),
        ({"axes": "tp:8", "include": "nodes"}, "include"),
    ],
)
def test_mesh_422(client: TestClient, params: dict[str, Any], field: str) -> None:
    _error(client, "/api/v1/mesh", 422, field, **params)


# ---------------------------------------------------------------- sharding


def test_sharding_contract(client: TestClient) -> None:
    d = _get(client, "/api/v1/sharding", axes="dp:2,tp:4", shape="16,32", spec="dp,tp")
    assert d["shard_shape"] == [8, 8] and d["grid"] == [2, 4] and d["replication"] == 1
    assert d["devices"][6] == {
        "rank": 6, "coords": {"dp": 1, "tp": 2}, "index": [[8, 16], [16, 24]], "block": [1, 2],
        "replica": 0,
    }  # fmt: skip
    assert d["blocks"][6] == {"block": [1, 2], "index": [[8, 16], [16, 24]], "ranks": [6]}


def test_sharding_replicated_and_joined(client: TestClient) -> None:
    d = _get(client, "/api/v1/sharding", axes="dp:2,tp:4", shape="16,32", spec="tp,_")
    assert d["replicated_axes"] == ["dp"] and d["replication"] == 2
    assert [x["replica"] for x in d["devices"]] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert d["blocks"][1]["ranks"] == [1, 5]
    # "+" (percent-encoded) and a literal "+" that arrives as a space mean the same.
    a = _get(client, "/api/v1/sharding", axes="dp:2,tp:4", shape="16", spec="tp+dp")
    b = client.get("/api/v1/sharding?axes=dp:2,tp:4&shape=16&spec=tp+dp").json()
    assert a == b and a["spec"] == [["tp", "dp"]]
    assert [x["index"][0][0] for x in a["devices"]] == [0, 4, 8, 12, 2, 6, 10, 14]


def test_sharding_default_spec_replicates(client: TestClient) -> None:
    d = _get(client, "/api/v1/sharding", axes="dp:2", shape="4,4")
    assert d["spec_text"] == "_,_" and d["replication"] == 2


def test_sharding_4096_devices(client: TestClient) -> None:
    d = _get(client, "/api/v1/sharding", axes="dp:64,tp:64", shape="4096,4096", spec="dp,tp")
    assert len(d["devices"]) == 4096 and d["devices"][4095]["index"] == [[4032, 4096], [4032, 4096]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"axes": "dp:2,tp:4", "shape": "16,30", "spec": "dp,tp"}, "shape"),
        ({"axes": "dp:2,tp:4", "shape": "16,32", "spec": "dp,ep"}, "spec"),
        ({"axes": "dp:2,tp:4", "shape": "16,32", "spec": "dp,dp"}, "spec"),
        ({"axes": "dp:2,tp:4", "shape": "16,32", "spec": "dp"}, "spec"),
        ({"axes": "dp:2,tp:4", "shape": "1,1,1,1,1", "spec": "_,_,_,_,_"}, "shape"),
        ({"axes": "dp:2,tp:4", "shape": "x", "spec": "_"}, "shape"),
        ({"axes": "dp:128,tp:64", "shape": "128,64", "spec": "dp,tp"}, "axes"),
        ({"axes": "dp", "shape": "4", "spec": "_"}, "axes"),
        ({"axes": "dp:2"}, "shape"),
    ],
)
def test_sharding_422(client: TestClient, params: dict[str, Any], field: str) -> None:
    _error(client, "/api/v1/sharding", 422, field, **params)


def test_model_sharding(client: TestClient) -> None:
    d = _get(client, "/api/v1/sharding/model", model="llama3-70b", tp=8, dp=2)
    w = {x["name"]: x for x in d["weights"]}
    assert d["axes"] == "dp:2,tp:8"
    assert w["q_proj"]["shape"] == [8192, 8192] and w["q_proj"]["shard_shape"] == [8192, 1024]
    assert w["k_proj"]["shard_shape"] == [8192, 128]  # one KV head per rank
    assert w["o_proj"]["style"] == "row" and w["o_proj"]["spec"] == "tp,_"
    assert w["down_proj"]["bytes_per_rank"] == 28672 * 8192 * 2 // 8
    d = _get(client, "/api/v1/sharding/model", model="mixtral-8x7b", ep=8, dp=8)
    e = {x["name"]: x for x in d["weights"]}["experts.gate_proj"]
    assert e["spec"] == "ep,_,tp" and e["shard_shape"] == [1, 4096, 14336]


def test_model_sharding_errors(client: TestClient) -> None:
    _error(client, "/api/v1/sharding/model", 404, "model", model="gpt-5")
    _error(client, "/api/v1/sharding/model", 422, "tp", model="llama3-8b", tp=3)
    _error(client, "/api/v1/sharding/model", 422, "ep", model="llama3-8b", ep=2, dp=2)
    _error(client, "/api/v1/sharding/model", 422, "zero", model="llama3-8b", zero=4)
    _error(client, "/api/v1/sharding/model", 422, "dtype", model="llama3-8b", dtype="fp5")


# ---------------------------------------------------------------- presets × mesh × memory


def test_every_parallel_preset_feeds_mesh_and_memory(client: TestClient) -> None:
    for p in _get(client, "/api/v1/presets/parallel")["presets"]:
        mesh = _get(client, "/api/v1/mesh", axes=p["axes"], format="columnar", include="")
        assert mesh["world_size"] == p["world_size"]
        r = client.get(f"/api/v1/memory?{p['memory_query']}&recompute=selective")
        assert r.status_code == 200, (p["name"], r.text)
        d = r.json()
        assert d["world_size"] == p["world_size"]  # ep is carved out of dp
