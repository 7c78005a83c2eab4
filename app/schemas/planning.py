"""Response models of /api/v1/throughput, /throughput/gallery, /plan and /plan/examples
(validation and the OpenAPI document; the routers return encoded JSON)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# ---------------------------------------------------------------- GET /throughput


class Claim(BaseModel):
    kind: str = Field(
        description="tokens_per_second, tokens_per_second_per_gpu, step_time, gpu_hours or "
        "tflops_per_gpu: the one claim given.",
        examples=["tokens_per_second"],
    )
    text: str = Field(description="The claim in words.",
                      examples=["8,000,000 tokens/s on 1,024 × NVIDIA H100 SXM 80GB"])  # fmt: skip


class PeakUsed(BaseModel):
    name: str = Field(examples=["bf16_dense"])
    title: str = Field(examples=["BF16 dense"])
    tflops: float = Field(description="TFLOP/s per GPU the MFU divides by.", examples=[989.0])
    source: str


class ConventionReading(BaseModel):
    name: str = Field(description="The convention's name.", examples=["6n_attention"])
    title: str = Field(examples=["6N + attention (PaLM, full scores)"])
    kind: Literal["mfu", "hfu"] = Field(
        description="mfu counts model FLOPs; hfu also counts what recomputation runs again."
    )
    flops_per_token: float = Field(description="Training FLOPs per token under it.")
    tflops_per_gpu: float = Field(description="Achieved TFLOP/s per GPU under it.")
    mfu: float = Field(description="tflops_per_gpu / the peak used (an HFU for kind hfu).")
    formula: str = Field(examples=["6·N + 12·L·s·d"])
    substituted: str = Field(description="The formula with this model's numbers.")
    source: str


class PeakReading(BaseModel):
    name: str = Field(examples=["bf16_sparse"])
    title: str
    dtype: Literal["bf16", "fp8"]
    sparse: bool = Field(description="The 2:4-sparse datasheet figure (twice the dense one).")
    tflops: float | None = Field(description="Null where the GPU has no such tensor cores.")
    mfu: float | None = Field(description="The reference convention's TFLOP/s over this peak.")
    used: bool = Field(description="The peak the conventions' `mfu` divide by.")


class Implied(BaseModel):
    train_tokens: float = Field(description="Tokens of the implied run (query train_tokens).")
    gpu_hours: float = Field(description="GPU-hours to train them at this throughput.")
    seconds: float | None = Field(description="Wall-clock seconds on the claim's GPUs.")
    days: float | None = Field(description="The same in days.")
    tokens_per_gpu_hour: float


class TimeShare(BaseModel):
    name: str = Field(description="model_flops, recompute, bubble or other.")
    title: str
    fraction: float = Field(description="Share of each GPU's time (they sum to 1 at most).")
    detail: str


class CheckResult(BaseModel):
    name: str = Field(description="gpus, global_batch, tp_in_node, memory or plausible.")
    title: str
    ok: bool | None = Field(description="Null when not enough was given to tell.")
    detail: str
    memory_query: str | None = Field(description="For the memory check: its /memory query.")


class ThroughputResponse(BaseModel):
    query: dict[str, Any] = Field(description="Every parameter as used, names resolved.")
    model: str
    model_title: str
    params: float = Field(description="N, the parameters a token uses.")
    gpu: str
    gpu_title: str
    gpus: int | None
    gpus_per_node: int
    seq_len: int
    claim: Claim
    tokens_per_second: float | None = Field(description="Over all GPUs (null without gpus).")
    tokens_per_second_per_gpu: float
    step_time: float | None = Field(description="Seconds per step, given or implied.")
    peak: PeakUsed
    reference: str = Field(description="The convention the peaks and the time bar use.")
    conventions: list[ConventionReading] = Field(
        description="The claim under every FLOPs convention that applies (HFU kinds only "
        "when recompute is given)."
    )
    peaks: list[PeakReading]
    implied: Implied
    time: list[TimeShare] = Field(description="Where each GPU's time goes.")
    checks: list[CheckResult]
    layout: dict[str, Any] | None = Field(description="The stated layout as checked.")
    notes: list[str]


# ---------------------------------------------------------------- GET /throughput/gallery


class Reading(BaseModel):
    convention: str = Field(description="A FLOPs convention or a peak name.")
    title: str
    value: float = Field(description="The published quantity as this convention reads it.")
    error: float = Field(description="value / published − 1.")


class PublishedFigure(BaseModel):
    quantity: Literal["mfu", "tflops_per_gpu", "days"]
    value: float = Field(description="As published (MFU as a fraction).")
    text: str = Field(examples=["43% BF16 MFU"])


class GalleryRun(BaseModel):
    name: str = Field(examples=["mt-nlg-530b-2240"])
    title: str
    source: str = Field(description="Where the numbers come from.")
    family: Literal["flops", "peak", "time"] = Field(
        description="What the conventions compared here vary: the FLOPs count, the peak, or "
        "nothing (a wall-clock reading)."
    )
    claim: Claim
    throughput_query: str = Field(description="Query string of /throughput for the claim.")
    published: PublishedFigure
    convention: str = Field(description="The convention the source used.")
    reproduced: Reading = Field(description="The published figure under that convention.")
    within: bool = Field(description="|error| ≤ 2%.")
    others: list[Reading] = Field(description="The other conventions' readings and errors.")
    note: str


class ConventionInfo(BaseModel):
    name: str = Field(examples=["megatron_hfu"])
    title: str
    kind: Literal["mfu", "hfu"]
    formula: str
    source: str
    recompute: list[str] = Field(description="The recomputation settings it describes.")


class PeakInfo(BaseModel):
    name: str = Field(examples=["bf16_dense"])
    title: str


class GalleryResponse(BaseModel):
    tolerance: float = Field(description="Largest |error| accepted for the stated convention.")
    conventions: list[ConventionInfo] = Field(description="Every FLOPs convention.")
    peaks: list[PeakInfo] = Field(description="Every peak a claim can be divided by.")
    runs: list[GalleryRun]


# ---------------------------------------------------------------- GET /plan


class LayoutLinks(BaseModel):
    memory: str = Field(description="/memory with this layout.")
    communication: str = Field(description="/communication with this layout and schedule.")
    pipeline: str | None = Field(description="/pipeline with its schedule (null without PP).")
    mesh: str = Field(description="/mesh with its axes, Megatron rank order.")
    throughput: str = Field(description="/throughput with its step and batch as the claim.")


class Layout(BaseModel):
    rank: int = Field(description="Position by step_time (1 = fastest).")
    tp: int
    pp: int
    dp: int
    cp: int
    ep: int
    zero: int
    chunks: int
    micro_batch: int
    microbatches: int
    recompute: str
    schedule: str | None = Field(description="Null without a pipeline (pp = 1).")
    sequence_parallel: bool
    label: str = Field(examples=["TP 8 · PP 1 · DP 8 · ZeRO-1 · selective recompute · mb 1"])
    exact: bool = Field(
        description="Priced by /communication's step-time model with its pipeline simulated "
        "(else the screen's estimate)."
    )
    step_time: float = Field(description="Seconds per optimizer step.")
    compute_time: float
    exposed_communication_time: float
    bubble_time: float
    bubble_fraction: float
    estimated_step_time: float = Field(description="The screen's estimate.")
    mfu: float
    tokens_per_second: float
    tokens_per_second_per_gpu: float
    memory_per_gpu: int = Field(description="Bytes on the fullest GPU (/memory's total).")
    memory_capacity: int
    memory_verdict: str = Field(examples=["fits"])
    pareto: bool = Field(description="On the memory-time front of the layouts listed.")
    versus_best: str = Field(description="How it compares with the fastest.")
    memory_query: str = Field(description="Query string reproducing its memory on /memory.")
    links: LayoutLinks


class RejectedLayout(BaseModel):
    label: str
    reason: Literal["memory", "divisibility", "tp_across_nodes", "global_batch", "schedule"]
    field: str = Field(description="The parameter that would have to change.")
    detail: str
    layout: dict[str, Any]


class Searched(BaseModel):
    structures: int = Field(description="(tp, cp, pp, dp, ep) splits that divide evenly.")
    candidates: int = Field(description="Layouts enumerated and screened.")
    memory_checks: int = Field(description="Layouts /memory's model was asked about.")
    pruned: int = Field(description="Layouts ruled out by a leaner one not fitting.")
    tied: int = Field(description="Fits left out: as fast as a listed one, more memory.")
    fits_found: int
    priced: int = Field(description="Layouts listed.")
    budget_spent: bool = Field(description="True if plan_memory_checks ran out.")


class ScheduleOption(BaseModel):
    name: str = Field(examples=["zb_h1"])
    label: str = Field(examples=["ZB-H1"])


class PlanOptions(BaseModel):
    schedules: list[ScheduleOption] = Field(description="Every schedule the planner knows.")
    zero_stages: list[int] = Field(examples=[[0, 1, 2, 3]])
    recompute: list[str] = Field(examples=[["none", "selective", "full"]])


class PlanResponse(BaseModel):
    query: dict[str, Any] = Field(description="Every parameter as used, names resolved.")
    model: str
    model_title: str
    gpu: str
    gpu_title: str
    gpus: int
    gpus_per_node: int
    sequences: int = Field(description="Sequences in the global batch.")
    peak_tflops: float
    searched: Searched
    layouts: list[Layout] = Field(description="Sorted by step_time.")
    infeasible: list[RejectedLayout] = Field(
        description="Faster layouts that do not fit, and the winner's neighbours that cannot run."
    )
    why: list[str] = Field(description="Why the top layouts win, in sentences.")
    options: PlanOptions = Field(
        description="What `schedules`, `zero_stages` and `recompute` may name."
    )
    notes: list[str]


class PlanExample(BaseModel):
    name: str
    title: str
    query: str = Field(description="Query string for /plan.")


class PlanExamplesResponse(BaseModel):
    examples: list[PlanExample]
