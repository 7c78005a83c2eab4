"""Response models of /api/v1/inference, /inference/kv and /inference/batching: the roofline,
the KV capacity and the serving simulation, exactly as the pages draw them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.core.inference.batching import BatchingQuery
from app.core.inference.kv import KVQuery
from app.core.inference.roofline import InferenceQuery
from app.schemas.query import query_model

InferenceParams = query_model(InferenceQuery)
KVParams = query_model(KVQuery)
BatchingParams = query_model(BatchingQuery)

Bound = Literal["compute", "memory", "communication"]


# ---------------------------------------------------------------- GET /inference


class Op(BaseModel):
    """One op of the pass, summed over every layer that runs it, on one GPU of its stage."""

    name: str = Field(description="Op id.", examples=["qkv_proj"])
    title: str = Field(description="What the op is.", examples=["QKV projection"])
    kind: Literal["norm", "matmul", "attention", "elementwise", "communication"] = Field(
        description="norm, matmul, attention, elementwise or communication.", examples=["matmul"]
    )
    layers: int = Field(
        description="Layers that run it (1 for the head; stage boundaries for pp_send).",
        examples=[32],
    )
    flops: float = Field(description="FLOPs over those layers, one GPU.", examples=[1.6e11])
    bytes: float = Field(
        description="Bytes moved from or to HBM (collectives: the buffers of all calls).",
        examples=[8.1e8],
    )
    weight_bytes: float = Field(description="Of `bytes`: weights read.", examples=[8.0e8])
    kv_bytes: float = Field(description="Of `bytes`: KV cache read or written.", examples=[0])
    activation_bytes: float = Field(description="Of `bytes`: activations.", examples=[1.0e6])
    intensity: float = Field(description="FLOPs per byte (0 for collectives).", examples=[197])
    compute_time: float = Field(description="FLOPs / (peak · e_c), seconds.", examples=[1e-4])
    memory_time: float = Field(description="Bytes / (bandwidth · e_m), seconds.", examples=[2e-4])
    time: float = Field(description="The larger of the two (collectives: alpha-beta).")
    bound: Bound = Field(description="What sets `time`.", examples=["memory"])
    formula: str = Field(description="How FLOPs and bytes are counted.")
    collective: str | None = Field(description="Collectives: which one.", examples=["all_reduce"])
    algorithm: str | None = Field(
        description="Collectives: the fastest algorithm at this size.", examples=["ring"]
    )
    group_size: int | None = Field(description="Collectives: ranks in the group.", examples=[8])
    calls: int | None = Field(description="Collectives: calls in the pass.", examples=[64])
    buffer_bytes: float | None = Field(
        description="Collectives: one call's buffer (nccl-tests' size).", examples=[16384]
    )
    source: str = Field(description="Where the counting comes from.")


class TimeByBound(BaseModel):
    compute: float = Field(description="Seconds in compute-bound ops.")
    memory: float = Field(description="Seconds in memory-bound ops.")
    communication: float = Field(description="Seconds in collectives.")


class PhaseCost(BaseModel):
    """One prefill pass or one decode step of the batch."""

    name: Literal["prefill", "decode"] = Field(description="The phase.", examples=["decode"])
    batch: int = Field(description="Sequences in the pass.", examples=[1])
    context: int = Field(description="Prompt tokens (prefill) or cached tokens (decode).")
    tokens: int = Field(description="Tokens processed: batch·context or batch.")
    time: float = Field(description="Seconds through every pipeline stage in turn.")
    bottleneck_time: float = Field(description="Seconds of the slowest stage.")
    stage_times: list[float] = Field(description="Seconds of each pipeline stage.")
    time_by_bound: TimeByBound = Field(description="`time` split by what bounds each op.")
    flops: float = Field(description="FLOPs of the pass on one GPU of each stage, summed.")
    bytes: float = Field(description="HBM bytes of the pass (collectives not included).")
    weight_bytes: float = Field(description="Of `bytes`: weights.")
    kv_bytes: float = Field(description="Of `bytes`: KV cache.")
    activation_bytes: float = Field(description="Of `bytes`: activations.")
    communication_bytes: float = Field(description="Bytes in collective buffers.")
    ops: list[Op] = Field(description="Every op, in pass order, collectives last.")


class Phases(BaseModel):
    prefill: PhaseCost = Field(description="Prefill of `batch` prompts of `context` tokens.")
    decode: PhaseCost = Field(description="One decode step with `context` tokens cached.")


class ModelSummary(BaseModel):
    name: str = Field(description="Preset name, or custom.", examples=["llama3-8b"])
    title: str = Field(description="Display name.", examples=["Llama 3 8B"])
    layers: int = Field(description="Transformer layers.")
    hidden: int = Field(description="Hidden size.")
    heads: int = Field(description="Attention heads.")
    kv_heads: int = Field(description="KV heads.")
    attention: Literal["gqa", "mla"] = Field(description="Attention kind.")
    experts: int = Field(description="Routed experts (0: dense).")
    experts_per_token: int = Field(description="Experts per token.")
    sliding_window: int = Field(description="Window of sliding layers (0: none).")
    sliding_layers: int = Field(description="How many layers slide.")


class GpuSummary(BaseModel):
    name: str = Field(description="GPU preset.", examples=["h100-sxm"])
    title: str = Field(description="Display name.")
    memory_bytes: int = Field(description="HBM capacity.")


class Roofline(BaseModel):
    peak: float = Field(description="FLOP/s: dense peak × compute efficiency.", examples=[9.89e14])
    bandwidth: float = Field(description="Bytes/s: HBM × memory efficiency.", examples=[3.35e12])
    ridge: float = Field(description="FLOPs per byte where the roof bends: peak / bandwidth.")
    compute_dtype: Literal["bf16", "fp8"] = Field(description="The peak used.")
    weight_bytes_per_element: float = Field(description="Weight storage bytes (scales included).")
    kv_bytes_per_element: float = Field(description="KV-cache bytes per element.")
    source: str = Field(description="Citation.")


class RequestFigures(BaseModel):
    batch: int = Field(description="Sequences per pass.")
    context: int = Field(description="Tokens per prompt / in each cache.")
    ttft: float = Field(description="Time to first token: the prefill pass, seconds.")
    tpot: float = Field(description="Time per output token: one decode step, seconds.")
    tokens_per_second_per_replica: float = Field(description="Decode tokens/s of one replica.")
    tokens_per_second_per_gpu: float = Field(description="Per GPU of a replica (tp·pp).")
    tokens_per_second: float = Field(description="All dp replicas.")
    prefill_tokens_per_second_per_gpu: float = Field(description="Prompt tokens/s per GPU.")
    tokens_per_second_per_user: float = Field(description="1 / TPOT.")


class CurvePoint(BaseModel):
    batch: int = Field(description="Sequences decoding together.")
    tpot: float = Field(description="Seconds per output token.")
    ttft: float = Field(description="Prefill seconds of as many prompts.")
    tokens_per_second_per_gpu: float = Field(description="Throughput per GPU.")
    tokens_per_second_per_user: float = Field(description="1 / TPOT.")
    compute_bound: bool = Field(description="Whether the decode step's compute outweighs memory.")
    fits: bool = Field(description="Whether pp × batch sequences fit the KV cache (vLLM rule).")
    meets_slo: bool = Field(description="fits and tpot ≤ slo.")


class Curve(BaseModel):
    context: int = Field(description="Cached tokens per sequence.")
    slo: float = Field(description="TPOT target, seconds.")
    max_concurrency: float = Field(description="Sequences the cache holds at context + 1 tokens.")
    points: list[CurvePoint] = Field(description="Powers of two up to 4096, and the query's.")
    slo_batch: int | None = Field(description="Largest batch that meets the SLO (null: none).")
    slo_tokens_per_second_per_gpu: float | None = Field(description="Its throughput per GPU.")


class Share(BaseModel):
    name: str = Field(description="Kind of bytes.", examples=["attention"])
    title: str = Field(description="What they are.")
    bytes_per_gpu: float = Field(description="On the heaviest GPU.")
    split_over: list[str] = Field(description="Degrees that divide them.", examples=[["tp"]])
    duplicated_over: list[str] = Field(description="Degrees that repeat them.", examples=[["dp"]])
    note: str = Field(description="How.")


class TpPoint(BaseModel):
    tp: int = Field(description="Tensor-parallel degree.", examples=[8])
    ttft: float = Field(description="Prefill seconds.")
    tpot: float = Field(description="Decode step seconds.")
    tokens_per_second_per_gpu: float = Field(description="Decode throughput per GPU.")
    weights_per_gpu: float = Field(description="Bytes of weights on the heaviest GPU.")
    communication_time: float = Field(description="Seconds of collectives in a decode step.")


class InferenceResponse(BaseModel):
    query: InferenceParams = Field(  # type: ignore[valid-type]
        description="Every parameter as computed (defaults filled, names canonical)."
    )
    model: ModelSummary = Field(description="The architecture.")
    gpu: GpuSummary = Field(description="The GPU.")
    roofline: Roofline = Field(description="The roof every op is placed under.")
    world_size: int = Field(description="GPUs: tp·pp·dp.")
    replica_gpus: int = Field(description="GPUs per replica: tp·pp.")
    phase: Literal["prefill", "decode"] = Field(description="The phase of `ops` and `time`.")
    ops: list[Op] = Field(description="The ops of `phase` (as in `phases`).")
    time: float = Field(description="Seconds of one pass of `phase`.")
    critical_batch: float = Field(
        description="Batch above which a weight-bound matmul turns compute bound.",
        examples=[295.2],
    )
    critical_batch_formula: str = Field(description="Its formula.")
    critical_batch_source: str = Field(description="Its source.")
    critical_batch_step: int | None = Field(
        description="Smallest batch whose whole decode step is compute bound at this context "
        "(null: none up to the inference_batch limit)."
    )
    phases: Phases = Field(description="Both phases in full.")
    requests: RequestFigures = Field(description="What a request sees at this batch.")
    curve: Curve = Field(description="Latency against throughput over batch sizes.")
    layout: list[Share] = Field(description="What one GPU holds, and what repeats.")
    weights_per_gpu: float = Field(description="Bytes of weights on the heaviest GPU.")
    tp_sweep: list[TpPoint] = Field(description="The same figures at every TP degree that fits.")
    notes: list[str] = Field(description="Assumptions.")


# ---------------------------------------------------------------- GET /inference/kv


class LayerKindKV(BaseModel):
    kind: Literal["full", "sliding", "mla"] = Field(description="Attention kind.")
    layers: int = Field(description="Layers of this kind on the stage.")
    bytes_per_token: float = Field(description="KV bytes per token per layer on one GPU.")
    tokens_per_request: int = Field(description="Tokens a max_model_len request caches per layer.")
    blocks_per_request: int = Field(description="Blocks a max_model_len request takes.")


class StageKV(BaseModel):
    stage: int = Field(description="Pipeline stage.")
    layers: int = Field(description="Its layers.")
    weights: float = Field(description="Bytes of weights on one of its GPUs.")
    activations: float = Field(description="Activation peak, bytes (see activation_formula).")
    usable: float = Field(description="Bytes the engine's fraction covers.")
    budget: float = Field(description="Bytes left for the KV cache (negative: does not fit).")
    block_bytes: float = Field(description="Bytes of one block (all its layers).")
    num_blocks: int = Field(description="Blocks of the pool.")
    kv_tokens: int = Field(description="Tokens the pool holds per layer group.")
    max_concurrency: float = Field(description="Requests of max_model_len tokens at once.")
    kinds: list[LayerKindKV] = Field(description="Per attention kind.")


class Engine(BaseModel):
    name: str = Field(description="Engine.", examples=["vllm"])
    title: str = Field(description="Display name.")
    fraction_knob: str = Field(description="Its memory fraction's name.")
    fraction_of: str = Field(description="total, or free after weights.")
    default_fraction: float | None = Field(description="Its default (null: a rule).")
    block_knob: str = Field(description="Its block size's name.")
    default_block: int = Field(description="Its default block size.")
    subtracts: list[str] = Field(description="What the fraction must also hold.")
    rule: str = Field(description="The rule in words.")
    source: str = Field(description="Where the rule is in its code.")


class KVResponse(BaseModel):
    query: KVParams = Field(description="Every parameter as computed.")  # type: ignore[valid-type]
    engine: Engine = Field(description="The rule applied.")
    engines: list[Engine] = Field(description="Every engine rule bitmesh knows.")
    block_size: int = Field(description="Tokens per block.", examples=[16])
    memory_fraction: float = Field(description="The fraction used.", examples=[0.9])
    memory: int = Field(description="GPU memory, bytes.")
    overhead: int = Field(description="Bytes outside the model.")
    block_bytes: float = Field(description="Bytes of one block on the tightest stage.")
    num_blocks: int = Field(description="Blocks on the tightest stage (the engine's pool).")
    kv_tokens: int = Field(description="Tokens of KV per GPU per layer group.")
    max_concurrency: float = Field(description="Requests of max_model_len at once.")
    fits: bool = Field(description="Whether one max_model_len request fits.")
    tightest_stage: int = Field(description="The stage that sets the pool.")
    stages: list[StageKV] = Field(description="Every stage.")
    activation_formula: str = Field(description="How the activation peak is estimated.")
    notes: list[str] = Field(description="Assumptions.")


# ---------------------------------------------------------------- GET /inference/batching


class Summary(BaseModel):
    makespan: float = Field(description="First arrival to last finish, seconds.")
    output_tokens: int = Field(description="Tokens generated.")
    tokens_per_second: float = Field(description="Output tokens / makespan.")
    requests_per_second: float = Field(description="Requests / makespan.")
    ttft_mean: float = Field(description="Mean arrival to first token, seconds.")
    ttft_p50: float = Field(description="Median TTFT.")
    ttft_p99: float = Field(description="99th percentile TTFT.")
    tpot_mean: float = Field(description="Mean seconds per output token after the first.")
    mean_batch: float = Field(description="Mean sequences per step.")
    steps: int = Field(description="Engine steps.")
    busy_time: float = Field(description="Seconds the engine computed.")
    preemptions: int = Field(description="Preemptions (recomputes).")
    peak_blocks: int = Field(description="Most blocks in use (static: reserved).")


class Segments(BaseModel):
    """Runs of identical steps, columns of equal length."""

    step: list[int] = Field(description="First step of the run.")
    steps: list[int] = Field(description="Steps in the run.")
    start: list[float] = Field(description="Time it starts, seconds.")
    end: list[float] = Field(description="Time it ends.")
    running: list[int] = Field(description="Sequences in each step.")
    waiting: list[int] = Field(description="Arrived, not running, at the end.")
    prefills: list[int] = Field(description="Prompts prefilled in the step (each emits a token).")
    prefill_tokens: list[int] = Field(description="Prompt tokens per step.")
    decode_tokens: list[int] = Field(description="Output tokens per step from decoding.")
    blocks: list[int] = Field(description="Blocks in use at the end.")


class Events(BaseModel):
    step: list[int] = Field(description="Step of each allocation or free (sorted).")
    block: list[int] = Field(description="First block id of a run of consecutive ids.")
    count: list[int] = Field(description="Blocks in the run.")
    request: list[int] = Field(description="Request id (arrival order).")
    op: list[int] = Field(description="Index into op_names.")
    op_names: list[str] = Field(description="alloc, free.")


class RequestColumns(BaseModel):
    arrival: list[float] = Field(description="Arrival time, seconds.")
    prompt: list[int] = Field(description="Prompt tokens.")
    output: list[int] = Field(description="Output tokens.")
    admitted: list[float] = Field(description="First scheduled.")
    first_token: list[float] = Field(description="First token emitted.")
    finish: list[float] = Field(description="Last token emitted.")
    preemptions: list[int] = Field(description="Times preempted.")


class Trace(BaseModel):
    segments: Segments = Field(description="The steps.")
    events: Events = Field(description="Every block allocation and free.")
    requests: RequestColumns = Field(description="Every request.")


class Run(BaseModel):
    summary: Summary = Field(description="Figures of the run.")
    trace: Trace | None = Field(description="Step by step (null past the trace limit).")


class Disaggregation(BaseModel):
    prefill_batch: int = Field(description="Prompts per prefill pass.")
    prefill_requests_per_second: float = Field(description="One prefill replica.")
    decode_batch: int = Field(description="Sequences per decode step.")
    decode_context: int = Field(description="Mean cached tokens while decoding.")
    decode_requests_per_second: float = Field(description="One decode replica.")
    prefill_replicas_per_decode_replica: float = Field(description="The ratio.", examples=[0.4])
    ttft: float = Field(description="Prefill pass, seconds.")
    tpot: float = Field(description="Decode step, seconds.")
    formula: str = Field(description="How.")
    source: str = Field(description="Citation.")


class BatchingResponse(BaseModel):
    query: BatchingParams = Field(description="Every parameter as computed.")  # type: ignore[valid-type]
    engine: str = Field(description="The engine whose rule sized the pool.")
    kv: KVResponse = Field(
        description="The engine rule's KV capacity on one GPU (as GET /inference/kv answers "
        "for the same parameters); `num_blocks` below overrides its pool if given."
    )
    block_size: int = Field(description="Tokens per block.")
    num_blocks: int = Field(description="Blocks in the pool.")
    block_bytes: float = Field(description="Bytes per block on one GPU.")
    continuous: Run = Field(description="Continuous batching over the paged pool.")
    static: Run = Field(description="Static batching on the same stream.")
    disaggregation: Disaggregation = Field(description="Prefill replicas per decode replica.")
    sources: list[str] = Field(description="Citations.")
    notes: list[str] = Field(description="Assumptions.")
