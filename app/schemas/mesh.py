"""Response models (OpenAPI docs) of /api/v1/mesh, /api/v1/sharding and /api/v1/sharding/model.

The `query` each response echoes is the request model itself, built from the core's query
dataclass, so the echo and the parameters cannot disagree.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.core.parallel.mesh_query import MeshQuery, ShardingQuery
from app.core.parallel.sharding_model import ModelShardingQuery
from app.schemas.query import query_model

MeshQueryModel = query_model(MeshQuery)
ShardingQueryModel = query_model(ShardingQuery)
ModelShardingQueryModel = query_model(ModelShardingQuery)

# ---------------------------------------------------------------- mesh


class MeshRank(BaseModel):
    rank: int = Field(description="Global rank.", examples=[6])
    node: int = Field(description="rank // gpus_per_node.", examples=[0])
    local_rank: int = Field(description="rank % gpus_per_node.", examples=[6])
    coords: dict[str, int] = Field(
        description="Coordinate on every axis.", examples=[{"pp": 0, "dp": 1, "tp": 2}]
    )


class MeshColumns(BaseModel):
    node: list[int] = Field(description="Node of each rank, indexed by rank.")
    local_rank: list[int] = Field(description="Rank within its node, indexed by rank.")
    coords: dict[str, list[int]] = Field(
        description="Per axis, the coordinate of each rank.", examples=[{"dp": [0, 0, 1, 1]}]
    )


class AxisStatsInfo(BaseModel):
    name: str = Field(description="Axis name.", examples=["tp"])
    size: int = Field(description="Axis size = group size.", examples=[4])
    group_count: int = Field(
        description="Number of groups along this axis (= GPUs sharing one coordinate on it).",
        examples=[4],
    )
    stride: int = Field(description="Rank distance between group neighbours.", examples=[1])
    nodes_per_group: int = Field(description="Most nodes any group touches.", examples=[1])
    groups_spanning_nodes: int = Field(description="Groups touching >1 node.", examples=[0])


class MeshDegrees(BaseModel):
    dp: int = Field(
        description="Data-parallel ranks as /api/v1/memory counts them: the data axes "
        "(dp, fsdp) times ep, since EP is carved out of DP.",
        examples=[128],
    )
    tp: int = Field(description="Tensor-parallel degree (tp axis).", examples=[1])
    pp: int = Field(description="Pipeline stages (pp axis).", examples=[16])
    cp: int = Field(description="Context-parallel degree (cp axis).", examples=[1])
    ep: int = Field(description="Expert-parallel degree (ep axis).", examples=[64])


class MeshResponse(BaseModel):
    query: MeshQueryModel = Field(description="Every parameter used, defaults filled in.")  # type: ignore[valid-type]
    world_size: int = Field(description="Product of axis sizes.", examples=[16])
    axis_names: list[str] = Field(
        description="Axes, outermost first.", examples=[["pp", "dp", "tp"]]
    )
    shape: list[int] = Field(description="Axis sizes.", examples=[[2, 2, 4]])
    gpus_per_node: int = Field(description="GPUs per node.", examples=[8])
    node_count: int = Field(description="Nodes used (last may be partial).", examples=[2])
    format: str = Field(description="`records` (contract) or `columns`.", examples=["records"])
    degrees: MeshDegrees = Field(description="Parallel degrees in /api/v1/memory's terms.")
    ranks: list[MeshRank] | MeshColumns | None = Field(
        default=None,
        description="records: one object per rank. columns: per-rank arrays indexed by rank. "
        "Absent when `include` omits ranks.",
    )
    groups: dict[str, list[list[int]]] | None = Field(
        default=None,
        description="Per axis, the groups (ranks agreeing on every other coordinate), each in "
        "ascending order of that axis's coordinate.",
        examples=[{"tp": [[0, 1, 2, 3], [4, 5, 6, 7]]}],
    )
    axis_stats: list[AxisStatsInfo] = Field(description="How each axis sits on nodes.")
    warnings: list[str] = Field(
        description="Layout problems a practitioner would want to know.",
        examples=[["world size 12 is not a multiple of gpus_per_node 8: ..."]],
    )
    notes: list[str] = Field(description="How `degrees` read the axes.")


# ---------------------------------------------------------------- sharding


class ShardDevice(BaseModel):
    rank: int = Field(description="Device rank.", examples=[6])
    coords: dict[str, int] = Field(description="Mesh coordinates.", examples=[{"dp": 1, "tp": 2}])
    index: list[list[int]] = Field(
        description="Half-open [start, stop] per dimension.", examples=[[[8, 16], [16, 24]]]
    )
    block: list[int] = Field(description="Block coordinates in the shard grid.", examples=[[1, 2]])
    block_id: int = Field(description="The block's position in `blocks`.", examples=[6])
    replica: int = Field(
        description="Replica id (JAX order: mixed radix of the replicated axes' coordinates).",
        examples=[0],
    )


class ShardBlock(BaseModel):
    block: list[int] = Field(description="Block coordinates.", examples=[[1, 2]])
    index: list[list[int]] = Field(description="Half-open ranges.", examples=[[[8, 16], [16, 24]]])
    ranks: list[int] = Field(description="Holders, by replica id.", examples=[[6]])


class ShardingResponse(BaseModel):
    query: ShardingQueryModel = Field(description="Every parameter used, defaults filled in.")  # type: ignore[valid-type]
    axis_names: list[str] = Field(description="Mesh axes.", examples=[["dp", "tp"]])
    mesh_shape: list[int] = Field(description="Mesh axis sizes.", examples=[[2, 4]])
    world_size: int = Field(description="Devices.", examples=[8])
    shape: list[int] = Field(description="Tensor shape.", examples=[[16, 32]])
    spec: list[list[str]] = Field(
        description="Per dimension, mesh axes major to minor ([] = unsharded).",
        examples=[[["dp"], ["tp"]]],
    )
    spec_text: str = Field(description="Normalised spec string.", examples=["dp,tp"])
    partition_spec: str = Field(
        description="The spec as JAX writes it.", examples=["P('dp', 'tp')"]
    )
    grid: list[int] = Field(description="Shards per dimension.", examples=[[2, 4]])
    block_count: int = Field(description="Distinct blocks (product of `grid`).", examples=[8])
    shard_shape: list[int] = Field(description="Shape of every shard.", examples=[[8, 8]])
    elements: int = Field(description="Elements of the whole tensor.", examples=[512])
    elements_per_device: int = Field(description="Elements of one shard.", examples=[64])
    replicated_axes: list[str] = Field(description="Axes the spec does not name.", examples=[[]])
    replication: int = Field(description="Copies of each block.", examples=[1])
    devices: list[ShardDevice] = Field(description="One entry per device, by rank.")
    blocks: list[ShardBlock] = Field(description="One entry per block, row-major.")


class WeightShard(BaseModel):
    name: str = Field(description="Weight name.", examples=["q_proj"])
    part: str = Field(description="One of `parts`.", examples=["attention"])
    layers: int = Field(description="How many layers hold this weight.", examples=[32])
    shape: list[int] = Field(description="Shape, [in, out] for matrices.", examples=[[4096, 4096]])
    spec: str = Field(description="Spec over `axes`.", examples=["_,tp"])
    partition_spec: str = Field(description="`spec` as JAX writes it.", examples=["P(None, 'tp')"])
    style: str = Field(description="column, row, vocab, expert, replicated.", examples=["column"])
    shard_shape: list[int] = Field(description="Per-device shard.", examples=[[4096, 1024]])
    bytes: int = Field(description="Whole weight, bytes (one layer).", examples=[33554432])
    bytes_per_rank: int = Field(description="Per device, bytes (one layer).", examples=[8388608])


class ModelShardingResponse(BaseModel):
    query: ModelShardingQueryModel = Field(  # type: ignore[valid-type]
        description="Every parameter used, defaults filled in."
    )
    model: str = Field(description="Model preset.", examples=["llama3-8b"])
    axes: str = Field(description="Mesh for one pipeline stage.", examples=["dp:2,tp:4"])
    dtype: str = Field(description="Weight dtype.", examples=["bfloat16"])
    bits_per_element: float = Field(description="Storage bits per weight.", examples=[16])
    pp: int = Field(description="Pipeline stages.", examples=[1])
    layers_per_stage: list[int] = Field(description="Layers on each stage.", examples=[[32]])
    weights: list[WeightShard] = Field(description="Every weight of one layer of each kind.")
    bytes_per_rank: dict[str, int] = Field(
        description="Per device: one dense layer, one MoE layer, embedding, head.",
        examples=[{"dense_layer": 109051904}],
    )
    parts: list[str] = Field(
        description="Every part a weight can belong to, in reading order.",
        examples=[["embedding", "attention", "mlp", "moe", "norm", "head"]],
    )
    titles: dict[str, str] = Field(
        description="What each key of `bytes_per_rank` counts, in words.",
        examples=[{"dense_layer": "one dense layer"}],
    )
    notes: list[str] = Field(description="Conventions and caveats.")
