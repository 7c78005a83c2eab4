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
        description="`only` without a pipeline; `first` holds the embedding, `last` the LM "
        "head, `ends` both (rank 0 of the V-shaped schedules).",
        examples=["first"],
    )
    layers: int = Field(description="Layers on this stage.", examples=[20])
    dense_layers: int = Field(description="Dense layers on this stage.", examples=[20])
    moe_layers: int = Field(description="MoE layers on this stage.", examples=[0])
    has_embedding: bool = Field(description="Holds the input embedding.", examples=[True])
    has_lm_head: bool = Field(description="Holds the LM head.", examples=[False])
    microbatches_in_flight: float | None = Field(
        description="Training: microbatches whose activations this stage holds at its peak, "
        "the pipeline simulator's peak_activations for the schedule (1F1B: p − stage). Null "
        "for inference.",
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
    fits: bool = Field(description="Whether the total is within capacity.", examples=[True])
    verdict: Verdict = Field(
        description="As the headline would say it after the change: `tight` (fits, barely) "
        "when less than the overhead stays free.",
        examples=["fits"],
    )
    world_size: int = Field(description="GPUs (dp·tp·pp·cp) after the change.", examples=[256])
    cost: str = Field(
        description="What the change costs: recomputed FLOPs, extra traffic, a bigger bubble.",
        examples=["+50% data-parallel traffic (weights all-gathered in forward and backward)"],
    )
    rank: int = Field(
        description="Order a practitioner would try it in (0: a combination of the others).",
        examples=[3],
    )


class KeptTensor(BaseModel):
    name: str = Field(description="The tensors kept for the backward pass.", examples=["V"])
    part: str = Field(description="attention, mlp, moe or layer.", examples=["attention"])
    bytes: int = Field(description="Bytes per layer per microbatch on one GPU.", examples=[1])
    formula: str = Field(description="Formula with numbers substituted.")
    source: str = Field(description="Why the tensor is kept.")


class DroppedTensor(BaseModel):
    name: str = Field(description="Tensors the recompute mode recomputes instead of keeping.")
    bytes: int = Field(description="Bytes they would take per layer per microbatch.")


class LayerBytes(BaseModel):
    kind: str = Field(description="dense or moe.", examples=["dense"])
    bytes: int = Field(description="Sum of the kept tensors.", examples=[533209088])
    recomputed: list[DroppedTensor] = Field(
        description="What selective or full recompute drops (recomputed in the backward)."
    )
    tensors: list[KeptTensor] = Field(description="Every kept tensor.")


class LayerAnatomy(BaseModel):
    anatomy: str = Field(description="model or gpt.", examples=["model"])
    attention: str = Field(description="flash or eager.", examples=["flash"])
    recompute: str = Field(description="none, selective or full.", examples=["none"])
    layers: list[LayerBytes] = Field(description="The dense and/or MoE layer.")
    left_out: str = Field(description="What the anatomy does not count.")


class ScheduleInfo(BaseModel):
    """The simulated schedule (the same simulation as GET /api/v1/pipeline)."""

    name: str = Field(description="Schedule.", examples=["1f1b"])
    title: str = Field(description="Schedule title.")
    source: str = Field(description="Where the schedule comes from.")
    stages: int = Field(description="Pipeline ranks p.", examples=[4])
    chunks: int = Field(description="Chunks per rank v.", examples=[1])
    microbatches: int = Field(description="Microbatches per iteration m.", examples=[8])
    simulated: bool = Field(description="False without a pipeline (p = 1).", examples=[True])
    bubble_fraction: float = Field(description="1 − busy/(p·makespan).", examples=[0.27])
    makespan: float = Field(description="Iteration length in cost units (F = I = W = 1).")
    peak: list[float] = Field(description="Per rank: peak microbatches in flight.")
    first_in_flight: float = Field(description="Most microbatches the first stage holds.")
    last_in_flight: float = Field(description="Most microbatches the last stage holds.")
    strip_buckets: int = Field(description="Time slices of the strip.", examples=[96])
    strip: list[list[float]] = Field(
        description="Per rank: the most microbatches in flight within each equal time slice "
        "of the makespan (empty when not drawn)."
    )


class LayoutInfo(BaseModel):
    name: str = Field(description="Parallel preset the query reproduces.", examples=["deepseek-v3"])
    title: str = Field(description="Its title.")
    provenance: str = Field(
        description="`published` (the source reports these degrees for a real run) or "
        "`illustrative`.",
        examples=["published"],
    )
    source: str = Field(description="Where the layout comes from.")
    notes: str = Field(description="Caveats.")
    assumed: str = Field(description="What the query assumes beyond the source.")


class MemoryOptionChoice(BaseModel):
    value: str = Field(description="Query value.", examples=["flash"])
    label: str = Field(description="Label.", examples=["FlashAttention"])
    note: str = Field(description="What it means.")


class MemoryOptionControl(BaseModel):
    name: str = Field(description="Query parameter.", examples=["attention"])
    label: str = Field(description="Control label.", examples=["Attention kernel"])
    default: str | None = Field(description="Declared default (null: derived).")
    default_note: str = Field("", description="What a null default means.")
    choices: list[MemoryOptionChoice] = Field(description="Choices.")


class MemoryOptionNumber(BaseModel):
    name: str = Field(description="Query parameter.", examples=["overhead"])
    label: str = Field(description="Control label.")
    default: float | None = Field(description="Declared default.")
    note: str = Field(description="What it means.")


class WeightDtypeInfo(BaseModel):
    name: str = Field(description="Storage dtype.", examples=["mxfp4"])
    bits: float = Field(description="Bits per element, block scales included.", examples=[4.25])


class MemoryOptionsResponse(BaseModel):
    controls: list[MemoryOptionControl] = Field(description="Choice parameters.")
    numbers: list[MemoryOptionNumber] = Field(description="Number parameters.")
    weight_dtypes: list[WeightDtypeInfo] = Field(description="Weight storage choices.")


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
        description="Bytes per layer per microbatch on one GPU (the dense layer's, else the "
        "MoE layer's; see `anatomy`).",
        examples=[281288704],
    )
    capacity: int = Field(description="GPU memory bytes.", examples=[85899345920])
    headroom: int = Field(
        description="capacity − total (negative when it does not fit).", examples=[-1]
    )
    utilisation: float = Field(description="total / capacity.", examples=[1.18])
    overhead: int = Field(
        description="Bytes that must stay free (query `overhead`, GB): CUDA context, NCCL "
        "buffers, allocator fragmentation.",
        examples=[4000000000],
    )
    usable: int = Field(description="capacity − overhead.", examples=[81899345920])
    verdict: Verdict = Field(
        description="`over` past capacity; `tight` (fits, barely) when less than `overhead` "
        "stays free; else `fits`.",
        examples=["over"],
    )
    worst_stage: int = Field(description="Stage the headline numbers come from.", examples=[0])
    terms: list[MemoryTerm] = Field(description="The fullest stage's terms.")
    per_stage: list[StageMemory] = Field(description="Breakdown per pipeline stage.")
    advice: list[MemoryAdvice] = Field(
        description="Changes that lower the total, best first; when no single change fits, "
        "the first entry combines changes until it fits."
    )
    weights: dict[str, str] = Field(
        description="Weight dtype of each tensor class (attention, mlp, embedding, router): "
        "`dtype_<class>`, else `dtype`, else as the checkpoint ships (inference) or bfloat16.",
        examples=[
            {"attention": "bfloat16", "mlp": "mxfp4", "embedding": "bfloat16", "router": "bfloat16"}
        ],
    )
    weights_default: str = Field(
        description="What `dtype` left out means for this answer: bfloat16 in training, the "
        "checkpoint's own dtypes in inference.",
        examples=["as the checkpoint ships"],
    )
    convention: dict[str, str] = Field(
        description="Model-state accounting: name, title and source.",
        examples=[{"name": "zero_paper", "title": "ZeRO paper", "source": "arXiv 1910.02054"}],
    )
    accounting: str = Field(description="Which framework's accounting the numbers follow.")
    anatomy: LayerAnatomy | None = Field(description="Training: the layer's kept tensors.")
    schedule: ScheduleInfo | None = Field(description="Training: the simulated schedule.")
    layout: LayoutInfo | None = Field(
        description="The parallel preset this query reproduces (null: none), with provenance."
    )
    links: dict[str, str] = Field(
        description="The same layout in /pipeline (with pp > 1) and /mesh.",
        examples=[{"mesh": "/mesh?axes=dp:8,pp:4,tp:8&gpus_per_node=8"}],
    )
    notes: list[str] = Field(description="Assumptions.")
