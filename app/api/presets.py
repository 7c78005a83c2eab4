"""Model, GPU and parallel-layout presets: the catalogues every other view draws from."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Path, Request, Response

from app.api.common import api_router, cached_json
from app.core.parallel import presets
from app.core.parallel.mesh_query import mesh_presets, parallel_preset_info, sharding_examples
from app.schemas.presets import (
    GPUsResponse,
    MeshPresetsResponse,
    ModelInfo,
    ModelsResponse,
    ParallelPresetsResponse,
    ShardingExamplesResponse,
)

router = api_router("presets")


def _model_info(m: presets.ModelPreset) -> dict[str, Any]:
    pc = m.param_counts()
    return {
        "name": m.name,
        "title": m.title,
        "layers": m.layers,
        "hidden": m.hidden,
        "ffn": m.ffn,
        "heads": m.heads,
        "kv_heads": m.kv_heads,
        "head_dim": m.head_dim,
        "vocab": m.vocab,
        "tied_embeddings": m.tied_embeddings,
        "experts": m.experts,
        "experts_per_token": m.experts_per_token,
        "shared_experts": m.shared_experts,
        "expert_ffn": m.expert_ffn,
        "dense_layers": m.n_dense_layers,
        "moe_layers": m.n_moe_layers,
        "mla": asdict(m.mla) if m.mla else None,
        "total_params": pc.total,
        "active_params": pc.active,
        "active_params_published_convention": m.active_params_published_convention,
        "published_total": m.published_total,
        "published_active": m.published_active,
        "kv_cache_bytes_per_token": 2 * m.kv_dim_per_token_per_layer * m.layers,
        "params": {
            "embedding": pc.embedding,
            "lm_head": pc.lm_head,
            "attention_per_layer": pc.attention_per_layer,
            "dense_mlp_per_layer": pc.dense_mlp_per_layer,
            "expert_params_per_expert": pc.expert_params_per_expert,
            "router_per_layer": pc.router_per_layer,
            "shared_expert_per_layer": pc.shared_expert_per_layer,
            "norms_per_layer": pc.norms_per_layer,
        },
        "source": m.source,
        "notes": m.notes,
    }


@router.get(
    "/presets/models",
    response_model=ModelsResponse,
    summary="Model presets with published architectures",
    description="Architectures from model cards / config.json; parameter counts are computed "
    "from the architecture (tested within 2% of the published counts).",
)
def get_models(request: Request) -> Response:
    return cached_json(
        request, "models", lambda: {"models": [_model_info(m) for m in presets.MODELS.values()]}
    )


@router.get(
    "/presets/models/{name}",
    response_model=ModelInfo,
    summary="One model preset",
    description="404 lists the valid names.",
)
def get_model(
    request: Request,
    name: Annotated[str, Path(description="Model preset name.", examples=["llama3-8b"])],
) -> Response:
    model = presets.get_model(name, field="name")
    return cached_json(request, model.name, lambda: _model_info(model))


@router.get(
    "/presets/gpus",
    response_model=GPUsResponse,
    summary="GPU presets from vendor datasheets",
    description="Memory, dense BF16/FP8 TFLOP/s, HBM, intra-node link (one direction per GPU) "
    "and network (one direction per GPU) bandwidths in bytes/s.",
)
def get_gpus(request: Request) -> Response:
    return cached_json(
        request, "gpus", lambda: {"gpus": [asdict(g) for g in presets.GPUS.values()]}
    )


@router.get(
    "/presets/parallel",
    response_model=ParallelPresetsResponse,
    summary="Real parallel layouts (Llama 3 405B, DeepSeek-V3, ...)",
    description="Mesh axes (outermost first) usable as `axes=` for /api/v1/mesh, the layout's "
    "`degrees` and a query string for /api/v1/memory; both count dp as every data-parallel "
    "rank (DeepSeek-V3's mesh `pp:16,dp:2,ep:64` is dp 128, ep 64).",
)
def get_parallel_presets(request: Request) -> Response:
    return cached_json(
        request,
        "parallel",
        lambda: {"presets": [parallel_preset_info(p) for p in presets.PARALLEL_PRESETS.values()]},
    )


@router.get(
    "/presets/meshes",
    response_model=MeshPresetsResponse,
    summary="Meshes to draw: the published layouts, then small teaching meshes",
    description="Each entry's `axes` and `gpus_per_node` are a valid /api/v1/mesh query. "
    "`axes` lists the conventional axis names (dp, tp, pp, cp, ep, ...) with their meaning; "
    "node-local ones warn when their groups leave a node.",
)
def get_mesh_presets(request: Request) -> Response:
    return cached_json(request, "meshes", mesh_presets)


@router.get(
    "/presets/sharding",
    response_model=ShardingExamplesResponse,
    summary="Shard-map examples in JAX PartitionSpec terms",
    description="Each entry's `axes`, `shape` and `spec` are a valid /api/v1/sharding query.",
)
def get_sharding_examples(request: Request) -> Response:
    return cached_json(request, "sharding", lambda: {"examples": sharding_examples()})
