"""Presets, device meshes, shard maps and per-GPU memory (issue 4).

Meshes and shard maps are large (16,384 ranks ≈ 1.7 MB of JSON), so their bodies are encoded
with row templates instead of a generic walk and memoised per URL.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import lru_cache
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Path, Query, Request, Response

from app.api.common import bytes_response, etag_of, json_response
from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.parallel import presets
from app.core.parallel.memory import MemoryQuery, compute_memory
from app.core.parallel.mesh import Mesh, build_mesh, parse_axes
from app.core.parallel.sharding import (
    ShardMap,
    format_spec,
    model_layout,
    parse_shape,
    parse_spec,
    shard_map,
)
from app.schemas.parallel import (
    GPUsResponse,
    MemoryResponse,
    MeshResponse,
    ModelInfo,
    ModelShardingResponse,
    ModelsResponse,
    ParallelPresetsResponse,
    ShardingResponse,
)

router = APIRouter(prefix="/api/v1", tags=["parallelism"])


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------- presets


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
    return json_response(request, {"models": [_model_info(m) for m in presets.MODELS.values()]})


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
    return json_response(request, _model_info(presets.get_model(name, field="name")))


@router.get(
    "/presets/gpus",
    response_model=GPUsResponse,
    summary="GPU presets from vendor datasheets",
    description="Memory, dense BF16/FP8 TFLOP/s, HBM, intra-node link (one direction per GPU) "
    "and network (one direction per GPU) bandwidths in bytes/s.",
)
def get_gpus(request: Request) -> Response:
    return json_response(request, {"gpus": [asdict(g) for g in presets.GPUS.values()]})


@router.get(
    "/presets/parallel",
    response_model=ParallelPresetsResponse,
    summary="Real parallel layouts (Llama 3 405B, DeepSeek-V3, ...)",
    description="Mesh axes (outermost first) usable as `axes=` for /api/v1/mesh, plus a query "
    "string for /api/v1/memory.",
)
def get_parallel_presets(request: Request) -> Response:
    out = []
    for p in presets.PARALLEL_PRESETS.values():
        d = asdict(p)
        d["world_size"] = p.world_size
        d["memory_query"] = p.memory_query()
        out.append(d)
    return json_response(request, {"presets": out})


# ---------------------------------------------------------------- mesh


def _rows(row: str, table: np.ndarray) -> str:
    """JSON text of one `row` template per table row, formatted in a single C-level pass.

    For example ``_rows("[%d,%d]", np.array([[1, 2], [3, 4]])) == "[1,2],[3,4]"``.
    """
    if table.shape[0] == 0:
        return ""
    return ",".join([row] * table.shape[0]) % tuple(table.ravel().tolist())


def _int_matrix(a: np.ndarray) -> str:
    """``[[0,1],[2,3]]`` for a 2-D integer array (json.dumps is several times slower)."""
    return "[" + _rows("[" + ",".join(["%d"] * a.shape[1]) + "]", a) + "]"


def _int_list(a: np.ndarray) -> str:
    return "[" + _rows("%d", a.reshape(-1, 1)) + "]"


def _mesh_records(mesh: Mesh) -> str:
    row = (
        '{"rank":%d,"node":%d,"local_rank":%d,"coords":{'
        + ",".join(f'"{n}":%d' for n in mesh.axis_names)
        + "}}"
    )
    table = np.column_stack([np.arange(mesh.world_size), mesh.node, mesh.local_rank, mesh.coords])
    return "[" + _rows(row, table) + "]"


def _mesh_columns(mesh: Mesh) -> str:
    coords = ",".join(
        f'"{n}":{_int_list(mesh.coords[:, i])}' for i, n in enumerate(mesh.axis_names)
    )
    return (
        f'{{"node":{_int_list(mesh.node)},'
        f'"local_rank":{_int_list(mesh.local_rank)},"coords":{{{coords}}}}}'
    )


@lru_cache(maxsize=8)
def _mesh_body(
    axes: str, gpus_per_node: int, fmt: str, include: frozenset[str]
) -> tuple[bytes, str]:
    """The encoded mesh and its ETag, memoised per canonical query."""
    mesh = build_mesh(axes, gpus_per_node)
    head = {
        "world_size": mesh.world_size,
        "axis_names": list(mesh.axis_names),
        "shape": list(mesh.shape),
        "gpus_per_node": mesh.gpus_per_node,
        "node_count": mesh.node_count,
        "format": fmt,
        "axis_stats": [asdict(s) for s in mesh.axis_stats],
        "warnings": list(mesh.warnings),
    }
    parts = [_dumps(head)[:-1]]
    if "ranks" in include:
        parts.append(
            '"ranks":' + (_mesh_records(mesh) if fmt == "records" else _mesh_columns(mesh))
        )
    if "groups" in include:
        groups = ",".join(f'"{k}":{_int_matrix(v)}' for k, v in mesh.groups.items())
        parts.append('"groups":{' + groups + "}")
    body = (",".join(parts) + "}").encode()
    return body, etag_of(body)


_INCLUDE = frozenset({"ranks", "groups"})


def _parse_include(text: str) -> frozenset[str]:
    items = frozenset(p.strip() for p in text.split(",") if p.strip())
    bad = sorted(items - _INCLUDE)
    if bad:
        raise InvalidInput("include", f"unknown part {bad[0]!r}; choose from ranks, groups")
    return items


@router.get(
    "/mesh",
    response_model=MeshResponse,
    summary="Device mesh: ranks, coordinates, groups and nodes",
    description="JAX `Mesh` semantics: rank r has the coordinates of r in "
    "`numpy.arange(world).reshape(sizes)` (last axis fastest). A group along an axis is the "
    "set of ranks agreeing on every other coordinate. Up to 65,536 ranks; "
    "`format=columnar` sends per-rank arrays instead of one object per rank.",
)
def get_mesh(
    request: Request,
    axes: Annotated[
        str,
        Query(
            max_length=200,
            description="Axes outermost first as name:size, comma separated.",
            examples=["pp:2,dp:2,tp:4", "dp:64,pp:16,cp:1,tp:8"],
        ),
    ],
    gpus_per_node: Annotated[
        int, Query(ge=1, le=limit("gpus_per_node"), description="GPUs per node.", examples=[8])
    ] = 8,
    format: Annotated[
        Literal["records", "columnar"],
        Query(description="records (one object per rank, the contract) or columnar."),
    ] = "records",
    include: Annotated[
        str,
        Query(max_length=40, description="Parts to send: ranks, groups.", examples=["ranks"]),
    ] = "ranks,groups",
) -> Response:
    parsed = parse_axes(axes)
    canonical = ",".join(f"{a.name}:{a.size}" for a in parsed)
    body, etag = _mesh_body(canonical, gpus_per_node, format, _parse_include(include))
    return bytes_response(request, body, etag)


# ---------------------------------------------------------------- sharding


def _sharding_body(sm: ShardMap) -> bytes:
    names = [a.name for a in sm.axes]
    ndim = len(sm.shape)
    coords = np.stack(np.unravel_index(np.arange(sm.world_size), [a.size for a in sm.axes]), axis=1)
    idx = ",".join(["[%d,%d]"] * ndim)
    blk = ",".join(["%d"] * ndim)
    crd = ",".join(f'"{n}":%d' for n in names)
    row = '{"rank":%d,"coords":{' + crd + '},"index":[' + idx + '],"block":[' + blk
    row += '],"replica":%d}'
    se = np.stack([sm.start, sm.stop], axis=2).reshape(sm.world_size, 2 * ndim)
    table = np.column_stack([np.arange(sm.world_size), coords, se, sm.block, sm.replica])
    bidx = sm.block_index
    ss = np.asarray(sm.shard_shape)
    bse = np.stack([bidx * ss, (bidx + 1) * ss], axis=2).reshape(len(bidx), 2 * ndim)
    ranks = ",".join(["%d"] * sm.replication)
    brow = '{"block":[' + blk + '],"index":[' + idx + '],"ranks":[' + ranks + "]}"
    btable = np.column_stack([bidx, bse, sm.block_ranks])
    head = {
        "axis_names": names,
        "mesh_shape": [a.size for a in sm.axes],
        "world_size": sm.world_size,
        "shape": list(sm.shape),
        "spec": [list(e) for e in sm.spec],
        "spec_text": format_spec(sm.spec),
        "grid": list(sm.grid),
        "shard_shape": list(sm.shard_shape),
        "replicated_axes": list(sm.replicated_axes),
        "replication": sm.replication,
    }
    body = (
        _dumps(head)[:-1]
        + ',"devices":['
        + _rows(row, table)
        + '],"blocks":['
        + _rows(brow, btable)
        + "]}"
    )
    return body.encode()


@lru_cache(maxsize=32)
def _sharding_cached(axes: str, shape: str, spec: str) -> tuple[bytes, str]:
    body = _sharding_body(shard_map(axes, shape, spec))
    return body, etag_of(body)


@router.get(
    "/sharding",
    response_model=ShardingResponse,
    summary="Shard map: which device holds which slice of a tensor",
    description="JAX `NamedSharding` semantics. `spec` has one entry per dimension: a mesh "
    "axis, several joined by `+` (major to minor), or `_` (unsharded); axes not named "
    "replicate. Up to 4,096 devices and 4 dimensions; indivisible dimensions are a 422.",
)
def get_sharding(
    request: Request,
    axes: Annotated[
        str,
        Query(max_length=200, description="Mesh axes, outermost first.", examples=["dp:2,tp:4"]),
    ],
    shape: Annotated[
        str, Query(max_length=100, description="Tensor shape, comma separated.", examples=["16,32"])
    ],
    spec: Annotated[
        str | None,
        Query(
            max_length=200,
            description="One entry per dimension (default: every dimension `_`).",
            examples=["dp,tp", "dp+tp,_"],
        ),
    ] = None,
) -> Response:
    dims = parse_shape(shape)
    parsed_axes = parse_axes(axes)
    parsed_spec = parse_spec(spec) if spec is not None else tuple(() for _ in dims)
    body, etag = _sharding_cached(
        ",".join(f"{a.name}:{a.size}" for a in parsed_axes),
        ",".join(map(str, dims)),
        format_spec(parsed_spec),
    )
    return bytes_response(request, body, etag)


@router.get(
    "/sharding/model",
    response_model=ModelShardingResponse,
    summary="Every weight of one transformer layer under TP / DP (FSDP) / EP",
    description="Megatron-style specs over the stage mesh `dp:dp/ep,ep:ep,tp:tp`: q/k/v, gate "
    "and up column-parallel (split `out`), o and down row-parallel (split `in`), embedding "
    "vocab-parallel, experts split over ep; zero=3 adds FSDP over the data axes. Each `spec` "
    "can be passed to /api/v1/sharding with `axes` to draw that weight.",
)
def get_model_sharding(
    request: Request,
    model: Annotated[str, Query(description="Model preset.", examples=["llama3-8b"])],
    tp: Annotated[
        int, Query(ge=1, le=limit("parallel_degree"), description="Tensor parallel.", examples=[4])
    ] = 1,
    dp: Annotated[
        int,
        Query(
            ge=1, le=limit("mesh_ranks"), description="Data parallel (ep divides it).", examples=[2]
        ),
    ] = 1,
    ep: Annotated[
        int, Query(ge=1, le=limit("parallel_degree"), description="Expert parallel.", examples=[1])
    ] = 1,
    pp: Annotated[
        int, Query(ge=1, le=limit("pipeline_stages"), description="Pipeline stages.", examples=[1])
    ] = 1,
    zero: Annotated[int, Query(ge=0, le=3, description="ZeRO stage (3 = FSDP).", examples=[0])] = 0,
    dtype: Annotated[
        str, Query(max_length=40, description="Weight dtype.", examples=["bfloat16", "mxfp4"])
    ] = "bfloat16",
) -> Response:
    return json_response(request, model_layout(model, tp, dp, ep, pp, zero, dtype))


# ---------------------------------------------------------------- memory


def _opt_int(description: str, example: int, le: int) -> Any:
    return Query(ge=1, le=le, description=description, examples=[example])


@router.get(
    "/memory",
    response_model=MemoryResponse,
    summary="Per-GPU memory for training or inference, term by term with formulas",
    description="Give `model=` (a preset), a custom architecture (`layers`, `hidden`, `heads`, "
    "optional `kv_heads`, `ffn` (default 4·hidden; counted as a SwiGLU MLP, 3·hidden·ffn), "
    "`vocab` (default 32000)), or only "
    "`params` (model states only). Training: ZeRO stages 0–3 with mixed-precision Adam "
    "(K = 12) over N_d = dp·cp; Korthikanti Table 2 activations times layers per stage times "
    "microbatches in flight (1F1B, interleaved with `chunks`). Inference: weights in `dtype` "
    "(mxfp4 4.25 bits, nvfp4 4.5 bits) plus the KV cache. Headline numbers are the fullest "
    "pipeline stage; `per_stage` has every stage; `advice` lists changes that lower the total.",
)
def get_memory(
    request: Request,
    model: Annotated[
        str | None, Query(max_length=60, description="Model preset.", examples=["llama3-70b"])
    ] = None,
    layers: Annotated[
        int | None, _opt_int("Custom: transformer layers.", 32, limit("model_layers"))
    ] = None,
    hidden: Annotated[
        int | None, _opt_int("Custom: hidden size.", 4096, limit("model_hidden"))
    ] = None,
    heads: Annotated[
        int | None, _opt_int("Custom: attention heads.", 32, limit("model_heads"))
    ] = None,
    kv_heads: Annotated[int | None, _opt_int("Custom: KV heads.", 8, limit("model_heads"))] = None,
    ffn: Annotated[int | None, _opt_int("Custom: MLP size.", 14336, limit("model_ffn"))] = None,
    vocab: Annotated[
        int | None, _opt_int("Custom: vocabulary.", 128256, limit("model_vocab"))
    ] = None,
    params: Annotated[
        float | None,
        Query(
            gt=0,
            le=limit("model_params"),
            description="Parameter count only (no architecture).",
            examples=[7.5e9],
        ),
    ] = None,
    gpu: Annotated[str, Query(max_length=40, description="GPU preset.", examples=["h100-sxm"])] = (
        "h100-sxm"
    ),
    dp: Annotated[
        int, _opt_int("Data-parallel degree (ep divides dp·cp).", 8, limit("mesh_ranks"))
    ] = 1,
    tp: Annotated[int, _opt_int("Tensor-parallel degree.", 8, limit("parallel_degree"))] = 1,
    pp: Annotated[int, _opt_int("Pipeline stages.", 4, limit("pipeline_stages"))] = 1,
    cp: Annotated[
        int, _opt_int("Context-parallel degree (divides seq_len).", 1, limit("parallel_degree"))
    ] = 1,
    ep: Annotated[
        int,
        _opt_int(
            "Expert-parallel degree: experts split over ep ranks carved out of dp·cp, and each "
            "expert over tp (Megatron, expert TP = TP).",
            1,
            limit("parallel_degree"),
        ),
    ] = 1,
    chunks: Annotated[
        int, _opt_int("Model chunks per pipeline rank (interleaving).", 1, limit("pipeline_chunks"))
    ] = 1,
    zero: Annotated[int, Query(ge=0, le=3, description="ZeRO stage.", examples=[1])] = 0,
    micro_batch: Annotated[int, _opt_int("Sequences per microbatch.", 1, limit("micro_batch"))] = 1,
    microbatches: Annotated[
        int | None,
        _opt_int(
            "Microbatches per iteration (default: at least pp, so 1F1B has p in flight).",
            8,
            limit("pipeline_microbatches"),
        ),
    ] = None,
    seq_len: Annotated[int, _opt_int("Sequence length (tokens).", 8192, limit("seq_len"))] = 4096,
    batch: Annotated[
        int,
        _opt_int(
            "Inference: sequences in the KV cache (train uses micro_batch).",
            1,
            limit("inference_batch"),
        ),
    ] = 1,
    recompute: Annotated[
        Literal["none", "selective", "full"], Query(description="Activation recomputation.")
    ] = "none",
    sequence_parallel: Annotated[bool, Query(description="Megatron sequence parallelism.")] = False,
    dtype: Annotated[
        str,
        Query(
            max_length=40,
            description="Weight dtype: registry names (bfloat16, float8_e4m3fn, ...), mxfp4, "
            "nvfp4; aliases bf16, fp8, fp4 (= mxfp4). In train mode it sets the working weight "
            "copy; gradients stay 16-bit and Adam keeps fp32 states (K = 12).",
            examples=["bfloat16", "fp8", "nvfp4"],
        ),
    ] = "bfloat16",
    kv_dtype: Annotated[
        str, Query(max_length=40, description="KV-cache dtype.", examples=["bfloat16"])
    ] = "bfloat16",
    mode: Annotated[Literal["train", "inference"], Query(description="train or inference.")] = (
        "train"
    ),
) -> Response:
    report = compute_memory(
        MemoryQuery(
            model=model,
            layers=layers,
            hidden=hidden,
            heads=heads,
            kv_heads=kv_heads,
            ffn=ffn,
            vocab=vocab,
            params=params,
            gpu=gpu,
            dp=dp,
            tp=tp,
            pp=pp,
            cp=cp,
            ep=ep,
            chunks=chunks,
            zero=zero,
            micro_batch=micro_batch,
            microbatches=microbatches,
            seq_len=seq_len,
            batch=batch,
            recompute=recompute,
            sequence_parallel=sequence_parallel,
            dtype=dtype,
            kv_dtype=kv_dtype,
            mode=mode,
        )
    )
    return json_response(request, report)
