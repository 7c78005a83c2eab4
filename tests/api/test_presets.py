"""API for the preset catalogues: real values, names as people type them, dp counted alike."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient

from app.schemas.presets import (
    MeshPresetsResponse,
    ParallelPresetsResponse,
    ShardingExamplesResponse,
)
from tests.api.helpers import get_json


def test_models(client: TestClient) -> None:
    models = {m["name"]: m for m in get_json(client, "/api/v1/presets/models")["models"]}
    assert len(models) == 7
    # Llama 3 8B: 32 × (attention 41,943,040 + MLP 3 × 4096 × 14336 + 2 × 4096 norms)
    # + 2 × 128256 × 4096 embeddings + 4096 final norm
    per_layer = 4096 * 4096 * 2 + 2 * 4096 * 1024 + 3 * 4096 * 14336 + 2 * 4096
    assert models["llama3-8b"]["total_params"] == 32 * per_layer + 2 * 128256 * 4096 + 4096
    # KV cache per token: 2 (K, V) × 8 KV heads × 128 dims × 80 layers × 2 bytes
    assert models["llama3-70b"]["kv_cache_bytes_per_token"] == 2 * 8 * 128 * 80 * 2
    ds = models["deepseek-v3"]
    assert ds["mla"]["kv_lora_rank"] == 512 and ds["dense_layers"] == 3  # config.json
    assert ds["total_params"] == pytest.approx(671e9, rel=0.02)  # arXiv 2412.19437


@pytest.mark.parametrize("typed", ["mixtral-8x7b", "Mixtral-8x7B", "mixtral_8x7b"])
def test_one_model_by_any_spelling(client: TestClient, typed: str) -> None:
    one = get_json(client, f"/api/v1/presets/models/{typed}")
    assert one["name"] == "mixtral-8x7b"
    # arXiv 2401.04088: 46.7B parameters
    assert one["total_params"] == pytest.approx(46.7e9, rel=0.005)


def test_unknown_model_is_404_with_a_suggestion(client: TestClient) -> None:
    r = client.get("/api/v1/presets/models/llama3-7b")
    assert r.status_code == 404
    (detail,) = r.json()["detail"]
    assert detail["loc"] == ["path", "name"] and "llama3-8b" in detail["valid"]
    assert detail["suggestion"] in ("llama3-8b", "llama3-70b")
    assert "did you mean" in detail["msg"]


def test_gpus(client: TestClient) -> None:
    gpus = {g["name"]: g for g in get_json(client, "/api/v1/presets/gpus")["gpus"]}
    assert set(gpus) == {"a100-80gb", "h100-sxm", "h200", "b200", "mi300x"}
    assert gpus["h100-sxm"]["bf16_tflops"] == 989.0  # NVIDIA H100 datasheet, dense
    assert gpus["a100-80gb"]["fp8_tflops"] is None  # Ampere has no FP8 tensor cores


def test_parallel_presets_state_their_degrees(client: TestClient) -> None:
    body = get_json(client, "/api/v1/presets/parallel")
    ParallelPresetsResponse.model_validate(body)
    presets = {p["name"]: p for p in body["presets"]}
    p = presets["llama3-405b-8k"]
    # arXiv 2407.21783 Table 4, row 1: TP 8, CP 1, PP 16, DP 64 on 8,192 GPUs
    assert p["axes"] == "dp:64,pp:16,cp:1,tp:8" and p["world_size"] == 8192
    assert p["degrees"] == {"dp": 64, "tp": 8, "pp": 16, "cp": 1, "ep": 1}
    # DeepSeek-V3 (arXiv 2412.19437 §3.2): 2,048 GPUs, PP 16, EP 64: 128 data-parallel ranks
    ds = presets["deepseek-v3"]
    assert ds["degrees"]["dp"] == 2048 // 16 and ds["degrees"]["ep"] == 64
    for preset in presets.values():
        memory = {k: v[0] for k, v in parse_qs(preset["memory_query"]).items()}
        assert {k: int(memory[k]) for k in preset["degrees"]} == preset["degrees"]


def test_every_preset_mesh_reports_the_presets_degrees(client: TestClient) -> None:
    for p in get_json(client, "/api/v1/presets/parallel")["presets"]:
        mesh = get_json(client, "/api/v1/mesh", axes=p["axes"], include="")
        assert mesh["degrees"] == p["degrees"] and mesh["world_size"] == p["world_size"]
        memory = client.get(f"/api/v1/memory?{p['memory_query']}")
        assert memory.json()["world_size"] == p["world_size"], memory.text


def test_mesh_presets_are_valid_mesh_queries(client: TestClient) -> None:
    body = get_json(client, "/api/v1/presets/meshes")
    MeshPresetsResponse.model_validate(body)
    kinds = [m["kind"] for m in body["meshes"]]
    assert kinds == sorted(kinds)  # published first, then teaching
    parallel = get_json(client, "/api/v1/presets/parallel")["presets"]
    assert kinds.count("published") == len(parallel)
    for m in body["meshes"]:
        mesh = get_json(client, "/api/v1/mesh", axes=m["axes"], gpus_per_node=m["gpus_per_node"])
        assert mesh["query"]["axes"] == m["axes"]
        assert (m["memory_query"] is None) == (m["kind"] == "teaching")


def test_sharding_examples_are_valid_sharding_queries(client: TestClient) -> None:
    body = get_json(client, "/api/v1/presets/sharding")
    ShardingExamplesResponse.model_validate(body)
    assert len(body["examples"]) >= 5
    for e in body["examples"]:
        d = get_json(client, "/api/v1/sharding", axes=e["axes"], shape=e["shape"], spec=e["spec"])
        assert d["query"] == {"axes": e["axes"], "shape": e["shape"], "spec": e["spec"]}


def test_published_llama3_layout_fits_its_h100s(client: TestClient) -> None:
    # Llama 3 405B trained on H100 80GB with TP 8, PP 16, DP 64 (arXiv 2407.21783 Table 4), so
    # the preset's memory query must fit; FlashAttention never stores the s×s scores, and the
    # preset says what it assumes beyond the table.
    presets = {p["name"]: p for p in get_json(client, "/api/v1/presets/parallel")["presets"]}
    p = presets["llama3-405b-8k"]
    assert p["provenance"] == "published" and p["assumed"]
    d = client.get(f"/api/v1/memory?{p['memory_query']}").json()
    assert d["fits"] is True and d["verdict"] == "fits"
    assert d["layout"]["name"] == "llama3-405b-8k"
    assert d["total"] < d["capacity"] - d["overhead"]
