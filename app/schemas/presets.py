"""Response models (OpenAPI docs) of the preset catalogues under /api/v1/presets."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.schemas.mesh import MeshDegrees


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
    degrees: MeshDegrees = Field(
        description="The layout's parallel degrees as /api/v1/mesh reports them for `axes` and "
        "/api/v1/memory takes them (dp counts every data-parallel rank, ep included)."
    )
    memory_query: str = Field(
        description="Query string for /api/v1/memory reproducing this layout (dp counts every "
        "data-parallel rank; ep divides it, Megatron convention).",
        examples=["model=llama3-405b&gpu=h100-sxm&dp=64&tp=8&pp=16&cp=1&ep=1&zero=1"],
    )
    source: str = Field(description="Paper / report cited.")
    notes: str = Field(description="Caveats.")
    recompute: str = Field(
        description="Activation recomputation the layout assumes.", examples=["selective"]
    )
    sequence_parallel: bool = Field(
        description="Whether the layout assumes Megatron sequence parallelism.", examples=[True]
    )
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


class MeshPresetInfo(BaseModel):
    name: str = Field(description="Preset name.", examples=["llama3-405b-8k"])
    title: str = Field(description="Display name.")
    kind: str = Field(
        description="published (a real run, see /presets/parallel) or teaching.",
        examples=["published"],
    )
    axes: str = Field(description="`axes=` for /api/v1/mesh.", examples=["dp:64,pp:16,cp:1,tp:8"])
    gpus_per_node: int = Field(description="`gpus_per_node=` for /api/v1/mesh.", examples=[8])
    source: str = Field(description="Paper / report cited (empty for teaching meshes).")
    notes: str = Field(description="What the mesh shows, caveats.")
    memory_query: str | None = Field(
        description="/api/v1/memory query string for a published layout, else null."
    )


class AxisConventionInfo(BaseModel):
    name: str = Field(description="Conventional axis name.", examples=["tp"])
    title: str = Field(description="What it splits.", examples=["tensor-parallel"])
    node_local: bool = Field(
        description="Its collectives sit on every layer's critical path, so it belongs inside "
        "a node (/api/v1/mesh warns when its groups span nodes).",
        examples=[True],
    )


class MeshPresetsResponse(BaseModel):
    meshes: list[MeshPresetInfo] = Field(description="Published layouts, then teaching meshes.")
    axes: list[AxisConventionInfo] = Field(description="Conventional axis names, in order.")


class ShardingExample(BaseModel):
    title: str = Field(description="What the example shows.")
    axes: str = Field(description="`axes=` for /api/v1/sharding.", examples=["dp:2,tp:4"])
    shape: str = Field(description="`shape=` for /api/v1/sharding.", examples=["16,32"])
    spec: str = Field(description="`spec=` for /api/v1/sharding.", examples=["dp,tp"])


class ShardingExamplesResponse(BaseModel):
    examples: list[ShardingExample] = Field(description="Shard maps that teach one thing each.")
