"""API for meshes and shard maps: JAX semantics, the echoed query, every 422 / 404."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.schemas.mesh import MeshResponse, ModelShardingResponse, ShardingResponse
from tests.api.helpers import error_detail, get_json

# ---------------------------------------------------------------- mesh


def test_mesh_contract(client: TestClient) -> None:
    d = get_json(client, "/api/v1/mesh", axes="pp:2,dp:2,tp:4", gpus_per_node=8)
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


@pytest.mark.parametrize("name", ["columns", "columnar"])
def test_mesh_columns_match_records(client: TestClient, name: str) -> None:
    rec = get_json(client, "/api/v1/mesh", axes="dp:3,tp:4", gpus_per_node=8)
    col = get_json(client, "/api/v1/mesh", axes="dp:3,tp:4", gpus_per_node=8, format=name)
    # the option has /api/v1/pipeline's name; the old name still works and is echoed as such
    assert col["format"] == col["query"]["format"] == "columns"
    MeshResponse.model_validate(rec)
    MeshResponse.model_validate(col)
    for r in rec["ranks"]:
        i = r["rank"]
        assert col["ranks"]["node"][i] == r["node"]
        assert col["ranks"]["local_rank"][i] == r["local_rank"]
        assert {a: col["ranks"]["coords"][a][i] for a in ("dp", "tp")} == r["coords"]
    assert col["groups"] == rec["groups"]
    assert any("not a multiple of gpus_per_node" in w for w in rec["warnings"])


def test_mesh_include(client: TestClient) -> None:
    d = get_json(client, "/api/v1/mesh", axes="dp:2,tp:2", include="groups")
    assert "ranks" not in d and d["groups"]["tp"] == [[0, 1], [2, 3]]
    d = get_json(client, "/api/v1/mesh", axes="dp:2,tp:2", include="")
    assert "ranks" not in d and "groups" not in d and d["world_size"] == 4


def test_mesh_llama3_405b_16k(client: TestClient) -> None:
    d = get_json(client, "/api/v1/mesh", axes="dp:128,pp:16,cp:1,tp:8", gpus_per_node=8)
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
        ({"axes": "tp:8", "gpus_per_node": 0}, "gpus_per_node"),
        ({"axes": "tp:8", "gpus_per_node": 100000}, "gpus_per_node"),
        ({"axes": "tp:8", "format": "csv"}, "format"),
        ({"axes": "tp:8", "include": "nodes"}, "include"),
    ],
)
def test_mesh_422(client: TestClient, params: dict[str, Any], field: str) -> None:
    error_detail(client, "/api/v1/mesh", 422, field, **params)


# ---------------------------------------------------------------- sharding


def test_sharding_contract(client: TestClient) -> None:
    d = get_json(client, "/api/v1/sharding", axes="dp:2,tp:4", shape="16,32", spec="dp,tp")
    assert d["shard_shape"] == [8, 8] and d["grid"] == [2, 4] and d["replication"] == 1
    assert d["devices"][6] == {
        "rank": 6, "coords": {"dp": 1, "tp": 2}, "index": [[8, 16], [16, 24]], "block": [1, 2],
        "block_id": 6, "replica": 0,
    }  # fmt: skip
    assert d["blocks"][6] == {"block": [1, 2], "index": [[8, 16], [16, 24]], "ranks": [6]}


def test_sharding_replicated_and_joined(client: TestClient) -> None:
    d = get_json(client, "/api/v1/sharding", axes="dp:2,tp:4", shape="16,32", spec="tp,_")
    assert d["replicated_axes"] == ["dp"] and d["replication"] == 2
    assert [x["replica"] for x in d["devices"]] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert d["blocks"][1]["ranks"] == [1, 5]
    # "+" (percent-encoded) and a literal "+" that arrives as a space mean the same.
    a = get_json(client, "/api/v1/sharding", axes="dp:2,tp:4", shape="16", spec="tp+dp")
    b = client.get("/api/v1/sharding?axes=dp:2,tp:4&shape=16&spec=tp+dp").json()
    assert a == b and a["spec"] == [["tp", "dp"]]
    assert [x["index"][0][0] for x in a["devices"]] == [0, 4, 8, 12, 2, 6, 10, 14]


def test_sharding_default_spec_replicates(client: TestClient) -> None:
    d = get_json(client, "/api/v1/sharding", axes="dp:2", shape="4,4")
    assert d["spec_text"] == "_,_" and d["replication"] == 2


def test_sharding_4096_devices(client: TestClient) -> None:
    d = get_json(client, "/api/v1/sharding", axes="dp:64,tp:64", shape="4096,4096", spec="dp,tp")
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
    ],
)
def test_sharding_422(client: TestClient, params: dict[str, Any], field: str) -> None:
    error_detail(client, "/api/v1/sharding", 422, field, **params)


def test_model_sharding(client: TestClient) -> None:
    d = get_json(client, "/api/v1/sharding/model", model="llama3-70b", tp=8, dp=2)
    w = {x["name"]: x for x in d["weights"]}
    assert d["axes"] == "dp:2,tp:8"
    assert w["q_proj"]["shape"] == [8192, 8192] and w["q_proj"]["shard_shape"] == [8192, 1024]
    assert w["k_proj"]["shard_shape"] == [8192, 128]  # one KV head per rank
    assert w["o_proj"]["style"] == "row" and w["o_proj"]["spec"] == "tp,_"
    assert w["down_proj"]["bytes_per_rank"] == 28672 * 8192 * 2 // 8
    d = get_json(client, "/api/v1/sharding/model", model="mixtral-8x7b", ep=8, dp=8)
    e = {x["name"]: x for x in d["weights"]}["experts.gate_proj"]
    assert e["spec"] == "ep,_,tp" and e["shard_shape"] == [1, 4096, 14336]


def test_model_sharding_errors(client: TestClient) -> None:
    detail = error_detail(client, "/api/v1/sharding/model", 404, "model", model="llama3-7b")
    assert "did you mean" in detail
    error_detail(client, "/api/v1/sharding/model", 422, "tp", model="llama3-8b", tp=3)
    error_detail(client, "/api/v1/sharding/model", 422, "ep", model="llama3-8b", ep=2, dp=2)
    error_detail(client, "/api/v1/sharding/model", 422, "zero", model="llama3-8b", zero=4)
    error_detail(client, "/api/v1/sharding/model", 422, "dtype", model="llama3-8b", dtype="fp5")


# ---------------------------------------------------------------- the echoed query


def test_mesh_defaults_are_echoed(client: TestClient) -> None:
    d = get_json(client, "/api/v1/mesh")
    assert d["query"] == {
        "axes": "pp:2,dp:2,tp:4",
        "gpus_per_node": 8,
        "format": "records",
        "include": "ranks,groups",
    }
    assert d["world_size"] == 2 * 2 * 4 and d["node_count"] == 2
    MeshResponse.model_validate(d)


def test_equal_queries_share_one_answer_and_tag(client: TestClient) -> None:
    a = client.get("/api/v1/mesh", params={"axes": " dp:2 , tp:4", "include": "groups,ranks"})
    b = client.get("/api/v1/mesh", params={"axes": "dp:2,tp:4"})
    assert a.json() == b.json() and a.headers["etag"] == b.headers["etag"]
    assert a.json()["query"]["axes"] == "dp:2,tp:4"


def test_mesh_degrees_count_dp_like_memory(client: TestClient) -> None:
    # DeepSeek-V3 (arXiv 2412.19437 §3.2): PP 16, EP 64 over 2,048 GPUs
    d = get_json(client, "/api/v1/mesh", axes="pp:16,dp:2,ep:64", include="")
    assert d["degrees"] == {"dp": 128, "tp": 1, "pp": 16, "cp": 1, "ep": 64}
    assert any("carved out of DP" in n for n in d["notes"])
    m = get_json(client, "/api/v1/memory", model="deepseek-v3", dp=128, ep=64, pp=16, zero=1)
    assert m["world_size"] == d["world_size"] == 2048


def test_sharding_defaults_are_the_worked_example(client: TestClient) -> None:
    d = get_json(client, "/api/v1/sharding")
    assert d["query"] == {"axes": "dp:2,tp:4", "shape": "16,32", "spec": "dp,tp"}
    assert d["partition_spec"] == "P('dp', 'tp')" and d["shard_shape"] == [8, 8]
    ShardingResponse.model_validate(d)
    # the same tensor and mesh, replicated on request (JAX P(None, None))
    d = get_json(client, "/api/v1/sharding", axes="dp:2,tp:4", shape="16,32", spec="_,_")
    assert d["replication"] == 8


def test_sharding_elements_and_block_ids(client: TestClient) -> None:
    d = get_json(client, "/api/v1/sharding", axes="dp:2,tp:4", shape="16,32", spec="_,tp")
    assert (d["elements"], d["elements_per_device"], d["block_count"]) == (512, 128, 4)
    # rank r = (dp, tp) holds columns [8·tp, 8·tp + 8): block tp
    assert [x["block_id"] for x in d["devices"]] == [r % 4 for r in range(8)]
    ShardingResponse.model_validate(d)


def test_model_sharding_defaults_and_names(client: TestClient) -> None:
    d = get_json(client, "/api/v1/sharding/model", model="Llama3-8B")
    assert d["query"] == {
        "model": "llama3-8b", "tp": 1, "dp": 1, "ep": 1, "pp": 1, "zero": 0, "dtype": "bfloat16",
    }  # fmt: skip
    assert d["axes"] == "dp:1,tp:1" and set(d["bytes_per_rank"]) <= set(d["titles"])
    assert {w["part"] for w in d["weights"]} <= set(d["parts"])
    ModelShardingResponse.model_validate(d)


def test_model_sharding_says_which_mesh_it_uses(client: TestClient) -> None:
    d = get_json(client, "/api/v1/sharding/model", model="deepseek-v3", dp=128, ep=64)
    assert d["axes"] == "dp:2,ep:64,tp:1"
    mesh = get_json(client, "/api/v1/mesh", axes=d["axes"], include="")
    assert mesh["degrees"]["dp"] == d["query"]["dp"] == 128
    assert any("dp=128 counts every data-parallel rank" in n for n in d["notes"])


def test_records_follow_numpy_order_for_a_16k_mesh(client: TestClient) -> None:
    d = get_json(client, "/api/v1/mesh", axes="dp:128,pp:16,cp:1,tp:8", format="columns")
    grid = np.arange(16384).reshape(128, 16, 1, 8)
    for axis, i in (("dp", 0), ("pp", 1), ("tp", 3)):
        expected = np.indices(grid.shape)[i].ravel()
        assert np.array_equal(np.asarray(d["ranks"]["coords"][axis]), expected)
