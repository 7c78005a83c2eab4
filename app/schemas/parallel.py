"""Response models (OpenAPI docs) for presets, meshes and shard maps (memory: `memory`).

Routers return pre-serialised JSON; these models document the shapes.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

# ---------------------------------------------------------------- presets


class MLAInfo(BaseModel):
    q_lora_rank: int = Field(description="Rank of the query down-projection.", examples=[1536])
    kv_lora_rank: int = Field(description="Width of the cached KV latent.", examples=[512])
    qk_nope_head_dim: int = Field(description="Per-head q/k dims without RoPE.", examples=[128])
    qk_rope_head_dim: int = Field(description="Per-head q/k dims with RoPE.", examples=[64])
    v_head_dim: int = Field(description="Per-head value dims.", examples=[128])


class ParamBreakdown(BaseModel):
    embedding: int = Field(description="Input embedding parameters.", examples=[525336576])
    lm_head: int = Field(description="LM head parameters (0 when tied).", examples=[525336576])
    attention_per_layer: int = Field(description="Attention parameters per layer.", examples=[1])
    dense_mlp_per_layer: int = Field(description="Dense MLP parameters per layer.", examples=[1])
    expert_params_per_expert: int = Field(description="Parameters of one routed expert.")
    router_per_layer: int = Field(description="Router parameters per MoE layer.")
    shared_expert_per_layer: int = Field(description="Shared-expert parameters per MoE layer.")
    norms_per_layer: int = Field(description="Norm parameters per layer.", examples=[8192])


class ModelInfo(BaseModel):
    name: str = Field(description="Preset name (use as `model=`).", examples=["llama3-8b"])
    title: str = Field(description="Display name.", examples=["Llama 3 8B"])
    layers: int = Field(description="Transformer layers.", examples=[32])
    hidden: int = Field(description="Model width h.", examples=[4096])
    ffn: int = Field(description="Dense MLP intermediate size.", examples=[14336])
    heads: int = Field(description="Query heads.", examples=[32])
    kv_heads: int = Field(description="Key/value heads (GQA groups).", examples=[8])
    head_dim: int = Field(description="Dimension of one q/k head.", examples=[128])
    vocab: int = Field(description="Vocabulary size.", examples=[128256])
    tied_embeddings: bool = Field(description="LM head shares the embedding.", examples=[False])
    experts: int = Field(description="Routed experts per MoE layer (0 = dense).", examples=[0])
    experts_per_token: int = Field(description="Routed experts each token uses.", examples=[0])
    shared_experts: int = Field(description="Always-on shared experts.", examples=[0])
    expert_ffn: int = Field(description="Intermediate size of one expert.", examples=[0])
    dense_layers: int = Field(description="Dense (non-MoE) layers, first.", examples=[32])
    moe_layers: int = Field(description="MoE layers.", examples=[0])
    mla: MLAInfo | None = Field(description="MLA dimensions (DeepSeek) or null.")
    total_params: int = Field(description="Computed total parameters.", examples=[8030261248])
    active_params: int = Field(
        description="Computed parameters touched per token (embeddings included).",
        examples=[8030261248],
    )
    active_params_published_convention: int = Field(
        description="Active parameters counted as the model card does.", examples=[8030261248]
    )
    published_total: float = Field(description="Total from the model card.", examples=[8.03e9])
    published_active: float = Field(description="Active from the model card.", examples=[8.03e9])
    kv_cache_bytes_per_token: int = Field(
        description="KV-cache bytes per token (all layers, bf16, one replica).",
        examples=[131072],
    )
    params: ParamBreakdown = Field(description="Parameter counts by part.")
    source: str = Field(description="Where the architecture comes from.")
    notes: str = Field(description="Caveats.", examples=[""])


class ModelsResponse(BaseModel):
    models: list[ModelInfo] = Field(description="Every model preset.")


class GPUInfo(BaseModel):
    name: str = Field(description="Preset name (use as `gpu=`).", examples=["h100-sxm"])
    title: str = Field(description="Display name.", examples=["NVIDIA H100 SXM 80GB"])
    memory_bytes: int = Field(
        description="HBM bytes (datasheet GB as GiB).", examples=[85899345920]
    )
    memory_gb_datasheet: float = Field(description="Capacity as the datasheet says.", examples=[80])
    bf16_tflops: float = Field(description="Dense BF16 TFLOP/s.", examples=[989.0])
    fp8_tflops: float | None = Field(description="Dense FP8 TFLOP/s or null.", examples=[1979.0])
    hbm_bandwidth: float = Field(description="HBM bytes/s.", examples=[3.35e12])
    intra_node_bandwidth: float = Field(
        description="NVLink / Infinity Fabric bytes/s per GPU, one direction.", examples=[4.5e11]
    )
    intra_node_link: str = Field(description="Link name.", examples=["NVLink 4"])
    network_bandwidth: float = Field(
        description="Scale-out bytes/s per GPU, one direction.", examples=[5e10]
    )
    gpus_per_node: int = Field(description="GPUs per node.", examples=[8])
    source: str = Field(description="Datasheet cited.")
    notes: str = Field(description="Caveats.", examples=[""])


class GPUsResponse(BaseModel):
    gpus: list[GPUInfo] = Field(description="Every GPU preset.")


class ParallelPresetInfo(BaseModel):
    name: str = Field(description="Preset name.", examples=["llama3-405b-8k"])
    title: str = Field(description="Display name.")
    model: str = Field(description="Model preset.", examples=["llama3-405b"])
    gpu: str = Field(description="GPU preset.", examples=["h100-sxm"])
    axes: str = Field(description="Mesh axes, outermost first.", examples=["dp:64,pp:16,cp:1,tp:8"])
    gpus_per_node: int = Field(description="GPUs per node.", examples=[8])
    world_size: int = Field(description="Product of the axis sizes.", examples=[8192])
    seq_len: int = Field(description="Training sequence length.", examples=[8192])
    micro_batch: int = Field(description="Microbatch size.", examples=[1])
    zero: int = Field(description="ZeRO stage.", examples=[1])
    memory_query: str = Field(
        description="Query string for /api/v1/memory reproducing this layout (dp counts every "
        "data-parallel rank; ep divides it, Megatron convention).",
        examples=["model=llama3-405b&gpu=h100-sxm&dp=64&tp=8&pp=16&cp=1&ep=1&zero=1"],
    )
    recompute: str = Field(
        description="Activation recomputation the layout assumes.", examples=["selective"]
    )
    sequence_parallel: bool = Field(
        description="Whether the layout assumes Megatron sequence parallelism.", examples=[True]
    )
    source: str = Field(description="Paper / report cited.")
    notes: str = Field(description="Caveats.")
    provenance: str = Field(
        description="`published` when the source reports these degrees for a real run, else "
        "`illustrative`.",
        examples=["published"],
    )
    assumed: str = Field(description="What the memory query assumes beyond the source.")
    global_batch: int = Field(description="Tokens per iteration (0: not given).")
    schedule: str = Field(description="Pipeline schedule.", examples=["1f1b"])
    chunks: int = Field(description="Chunks per pipeline rank.", examples=[1])
    convention: str = Field(description="Memory accounting convention.", examples=["megatron"])
    fp8_activations: bool = Field(description="Linear inputs cached in FP8.")
    grad_dtype: str = Field(description="Gradient dtype ('' : the convention's).")
    optimizer_dtype: str = Field(description="Adam moment dtype ('': float32).")


class ParallelPresetsResponse(BaseModel):
    presets: list[ParallelPresetInfo] = Field(description="Real parallel layouts.")


# ---------------------------------------------------------------- mesh


class MeshRank(BaseModel):
    rank: int = Field(description="Global rank.", examples=[6])
    node: int = Field(description="rank // gpus_per_node.", examples=[0])
    local_rank: int = Field(description="rank % gpus_per_node.", examples=[6])
    coords: dict[str, int] = Field(
        description="Coordinate on every axis.", examples=[{"pp": 0, "dp": 1, "tp": 2}]
    )


class AxisStatsInfo(BaseModel):
    name: str = Field(description="Axis name.", examples=["tp"])
    size: int = Field(description="Axis size = group size.", examples=[4])
    group_count: int = Field(description="Number of groups along this axis.", examples=[4])
    stride: int = Field(description="Rank distance between group neighbours.", examples=[1])
    nodes_per_group: int = Field(description="Most nodes any group touches.", examples=[1])
    groups_spanning_nodes: int = Field(description="Groups touching >1 node.", examples=[0])


class MeshResponse(BaseModel):
    world_size: int = Field(description="Product of axis sizes.", examples=[16])
    axis_names: list[str] = Field(
        description="Axes, outermost first.", examples=[["pp", "dp", "tp"]]
    )
    shape: list[int] = Field(description="Axis sizes.", examples=[[2, 2, 4]])
    gpus_per_node: int = Field(description="GPUs per node.", examples=[8])
    node_count: int = Field(description="Nodes used (last may be partial).", examples=[2])
    format: str = Field(description="`records` (contract) or `columnar`.", examples=["records"])
    ranks: list[MeshRank] | dict[str, object] | None = Field(
        default=None,
        description="records: one object per rank. columnar: {node: [...], local_rank: [...], "
        "coords: {axis: [...]}} indexed by rank. Absent when `include` omits ranks.",
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


# ---------------------------------------------------------------- sharding


class ShardDevice(BaseModel):
    rank: int = Field(description="Device rank.", examples=[6])
    coords: dict[str, int] = Field(description="Mesh coordinates.", examples=[{"dp": 1, "tp": 2}])
    index: list[list[int]] = Field(
        description="Half-open [start, stop] per dimension.", examples=[[[8, 16], [16, 24]]]
    )
    block: list[int] = Field(description="Block coordinates in the shard grid.", examples=[[1, 2]])
    replica: int = Field(
        description="Replica id (JAX order: mixed radix of the replicated axes' coordinates).",
        examples=[0],
    )


class ShardBlock(BaseModel):
    block: list[int] = Field(description="Block coordinates.", examples=[[1, 2]])
    index: list[list[int]] = Field(description="Half-open ranges.", examples=[[[8, 16], [16, 24]]])
    ranks: list[int] = Field(description="Holders, by replica id.", examples=[[6]])


class ShardingResponse(BaseModel):
    axis_names: list[str] = Field(description="Mesh axes.", examples=[["dp", "tp"]])
    mesh_shape: list[int] = Field(description="Mesh axis sizes.", examples=[[2, 4]])
    world_size: int = Field(description="Devices.", examples=[8])
    shape: list[int] = Field(description="Tensor shape.", examples=[[16, 32]])
    spec: list[list[str]] = Field(
        description="Per dimension, mesh axes major to minor ([] = unsharded).",
        examples=[[["dp"], ["tp"]]],
    )
    spec_text: str = Field(description="Normalised spec string.", examples=["dp,tp"])
    grid: list[int] = Field(description="Shards per dimension.", examples=[[2, 4]])
    shard_shape: list[int] = Field(description="Shape of every shard.", examples=[[8, 8]])
    replicated_axes: list[str] = Field(description="Axes the spec does not name.", examples=[[]])
    replication: int = Field(description="Copies of each block.", examples=[1])
    devices: list[ShardDevice] = Field(description="One entry per device, by rank.")
    blocks: list[ShardBlock] = Field(description="One entry per block, row-major.")


class WeightShard(BaseModel):
    name: str = Field(description="Weight name.", examples=["q_proj"])
    part: str = Field(
        description="embedding, attention, mlp, moe, head, norm.", examples=["attention"]
    )
    layers: int = Field(description="How many layers hold this weight.", examples=[32])
    shape: list[int] = Field(description="Shape, [in, out] for matrices.", examples=[[4096, 4096]])
    spec: str = Field(description="Spec over `axes`.", examples=["_,tp"])
    style: str = Field(description="column, row, vocab, expert, replicated.", examples=["column"])
    shard_shape: list[int] = Field(description="Per-device shard.", examples=[[4096, 1024]])
    bytes: int = Field(description="Whole weight, bytes (one layer).", examples=[33554432])
    bytes_per_rank: int = Field(description="Per device, bytes (one layer).", examples=[8388608])


class ModelShardingResponse(BaseModel):
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
    notes: list[str] = Field(description="Conventions and caveats.")
