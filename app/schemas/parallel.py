"""Response models (OpenAPI docs) for per-GPU memory.

Routers return pre-serialised JSON; these models document the shapes.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

# ---------------------------------------------------------------- memory


class MemoryTerm(BaseModel):
    name: str = Field(description="What the bytes are.", examples=["optimizer_states"])
    bytes: int = Field(description="Bytes per GPU (worst stage).", examples=[1])
    formula: str = Field(
        description="The formula with the numbers substituted.", examples=["12·Ψ/N_d = ..."]
    )
    source: str = Field(description="Citation.", examples=["Rajbhandari et al. 2019"])


class StageMemory(BaseModel):
    stage: int = Field(description="Pipeline stage (rank along pp).", examples=[0])
    layers: int = Field(description="Layers on this stage.", examples=[20])
    dense_layers: int = Field(description="Dense layers on this stage.", examples=[20])
    moe_layers: int = Field(description="MoE layers on this stage.", examples=[0])
    has_embedding: bool = Field(description="Holds the input embedding.", examples=[True])
    has_lm_head: bool = Field(description="Holds the LM head.", examples=[False])
    params_per_gpu: int = Field(description="Parameters on one GPU of this stage.", examples=[1])
    parameters: int = Field(description="Bytes of weights.", examples=[4541513728])
    gradients: int = Field(description="Bytes of gradients.", examples=[4541513728])
    optimizer_states: int = Field(description="Bytes of optimizer states.", examples=[1])
    activations: int = Field(description="Bytes of activations.", examples=[1])
    kv_cache: int = Field(description="Bytes of KV cache.", examples=[0])
    total: int = Field(description="Sum of the terms.", examples=[1])
    fits: bool = Field(description="total ≤ capacity.", examples=[False])
    terms: list[MemoryTerm] = Field(description="This stage's terms with formulas.")


class MemoryAdvice(BaseModel):
    change: str = Field(description="What to change.", examples=["raise zero to 3"])
    params: dict[str, int | str | bool] = Field(
        description="Query parameters to override.", examples=[{"zero": 3}]
    )
    total: int = Field(description="Worst-stage total after the change.", examples=[1])
    fits: bool = Field(description="Whether it then fits.", examples=[True])


class MemoryResponse(BaseModel):
    mode: str = Field(description="train or inference.", examples=["train"])
    model: str = Field(description="Preset name, custom, or params.", examples=["llama3-70b"])
    gpu: str = Field(description="GPU preset.", examples=["h100-sxm"])
    world_size: int = Field(description="dp·tp·pp·cp GPUs.", examples=[64])
    params_total: int = Field(description="Parameters of the whole model.", examples=[70553706496])
    parameters: int = Field(description="Bytes of weights per GPU.", examples=[4541513728])
    gradients: int = Field(description="Bytes of gradients per GPU.", examples=[4541513728])
    optimizer_states: int = Field(description="Bytes of optimizer states.", examples=[13624541184])
    activations: int = Field(description="Bytes of activations per GPU.", examples=[1])
    activations_per_layer: int = Field(
        description="Bytes per layer per microbatch (Korthikanti Table 2).", examples=[3556769792]
    )
    kv_cache: int = Field(description="Bytes of KV cache per GPU.", examples=[0])
    total: int = Field(description="Total of the fullest stage.", examples=[1])
    capacity: int = Field(description="GPU memory bytes.", examples=[85899345920])
    fits: bool = Field(description="total ≤ capacity.", examples=[False])
    worst_stage: int = Field(description="Stage the headline numbers come from.", examples=[0])
    terms: list[MemoryTerm] = Field(description="The fullest stage's terms.")
    per_stage: list[StageMemory] = Field(description="Breakdown per pipeline stage.")
    advice: list[MemoryAdvice] = Field(
        description="Changes that lower the total, best first; when no single change fits, "
        "the first entry combines changes until it fits."
    )
    notes: list[str] = Field(description="Assumptions.")
