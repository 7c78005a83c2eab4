"""Response model (OpenAPI docs) of GET /api/v1/memory: everything the memory page draws.

The page computes nothing: the verdict, the world size, each stage's role and microbatches in
flight, and the bar segment of every term come from here, and `query` holds every parameter
with its default filled in (the request's own model, `MemoryQueryParams`).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.core.parallel.memory_layout import StageRole
from app.core.parallel.memory_query import MemoryQuery
from app.core.parallel.memory_report import Verdict
from app.core.parallel.memory_terms import Segment
from app.schemas.query import query_model

MemoryQueryParams = query_model(MemoryQuery)


class MemoryTerm(BaseModel):
    name: str = Field(description="What the bytes are.", examples=["optimizer_states"])
    segment: Segment = Field(
        description="The part of the GPU's memory (bar segment) the bytes belong to: "
        "embedding_activations and output_activations are activations.",
        examples=["optimizer_states"],
    )
    bytes: int = Field(description="Bytes per GPU.", examples=[3406135296])
    formula: str = Field(
        description="The formula in symbols, then with the numbers substituted, then what "
        "each defined quantity is; printed from the same expression the bytes come from.",
        examples=["Adam, K = 12 (fp32 master, m, v): 12·Ψ/N_d = 12 × 2,270,756,864/8"],
    )
    source: str = Field(description="Citation.", examples=["Rajbhandari et al. 2019"])


class SegmentBytes(BaseModel):
    """Bytes on one GPU by segment (the sums of its terms), their total, and whether it fits."""

    parameters: int = Field(description="Bytes of weights.", examples=[4541513728])
    gradients: int = Field(description="Bytes of gradients.", examples=[4541513728])
    optimizer_states: int = Field(description="Bytes of optimizer states.", examples=[3406135296])
    activations: int = Field(description="Bytes of activations.", examples=[88583700480])
    kv_cache: int = Field(description="Bytes of KV cache.", examples=[0])
    total: int = Field(description="Sum of the terms.", examples=[101211185152])
    fits: bool = Field(description="total ≤ the GPU's capacity.", examples=[False])


class StageMemory(SegmentBytes):
    stage: int = Field(description="Pipeline stage (rank along pp).", examples=[0])
    role: StageRole = Field(
        description="`only` without a pipeline; `first` holds the embedding, `last` the LM head.",
        examples=["first"],
    )
    layers: int = Field(description="Layers on this stage.", examples=[20])
    dense_layers: int = Field(description="Dense layers on this stage.", examples=[20])
    moe_layers: int = Field(description="MoE layers on this stage.", examples=[0])
    has_embedding: bool = Field(description="Holds the input embedding.", examples=[True])
    has_lm_head: bool = Field(description="Holds the LM head.", examples=[False])
    microbatches_in_flight: float | None = Field(
        description="Training: microbatches whose activations this stage holds at its peak "
        "(1F1B: p − stage; interleaved: chunks in flight / v). Null for inference.",
        examples=[4],
    )
    params_per_gpu: int = Field(
        description="Parameters on one GPU of this stage.", examples=[2270756864]
    )
    terms: list[MemoryTerm] = Field(description="This stage's terms with formulas.")


class MemoryAdvice(BaseModel):
    change: str = Field(description="What to change.", examples=["raise zero to 3"])
    params: dict[str, int | str | bool] = Field(
        description="Query parameters to override.", examples=[{"zero": 3}]
    )
    total: int = Field(description="Worst-stage total after the change.", examples=[1])
    fits: bool = Field(description="Whether it then fits.", examples=[True])
    world_size: int = Field(description="GPUs (dp·tp·pp·cp) after the change.", examples=[256])


class MemoryResponse(SegmentBytes):
    """The fullest stage's bytes (`SegmentBytes`), every stage, the verdict and advice."""

    mode: str = Field(description="train or inference.", examples=["train"])
    model: str = Field(description="Preset name, custom, or params.", examples=["llama3-70b"])
    gpu: str = Field(description="GPU preset.", examples=["h100-sxm"])
    query: MemoryQueryParams = Field(  # type: ignore[valid-type]
        description="Every parameter as computed: defaults filled in, names as the registries "
        "spell them (`microbatches` stays null when not given: enough to fill the pipeline). "
        "Sent back as a query, it gives the same answer."
    )
    world_size: int = Field(description="dp·tp·pp·cp GPUs.", examples=[256])
    gpus_per_stage: int = Field(
        description="dp·tp·cp GPUs per pipeline stage, which hold the same bytes.", examples=[64]
    )
    microbatches: int = Field(
        description="Microbatches per iteration the activations assume: `query.microbatches` "
        "if given, else the fewest that fill the pipeline (pp for 1F1B, 2·pp interleaved).",
        examples=[4],
    )
    params_total: int = Field(description="Parameters of the whole model.", examples=[70553706496])
    activations_per_layer: int = Field(
        description="Bytes per layer per microbatch (Korthikanti Table 2).", examples=[3556769792]
    )
    capacity: int = Field(description="GPU memory bytes.", examples=[85899345920])
    headroom: int = Field(
        description="capacity − total (negative when it does not fit).", examples=[-1]
    )
    utilisation: float = Field(description="total / capacity.", examples=[1.18])
    verdict: Verdict = Field(
        description="`over` past capacity; `tight` above 90% of it (the CUDA context, NCCL "
        "buffers and allocator fragmentation often take a few GB); else `fits`.",
        examples=["over"],
    )
    worst_stage: int = Field(description="Stage the headline numbers come from.", examples=[0])
    terms: list[MemoryTerm] = Field(description="The fullest stage's terms.")
    per_stage: list[StageMemory] = Field(description="Breakdown per pipeline stage.")
    advice: list[MemoryAdvice] = Field(
        description="Changes that lower the total, best first; when no single change fits, "
        "the first entry combines changes until it fits."
    )
    notes: list[str] = Field(description="Assumptions.")
