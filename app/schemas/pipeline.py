"""Response models of GET /api/v1/pipeline (one per format) and its catalogue.

The router returns bytes; these models are what the OpenAPI document declares and what the
tests validate every body against (no undeclared key: `extra="forbid"`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PipelineQueryEcho(_Strict):
    schedule: str = Field(description="Canonical schedule name.", examples=["zb_h1"])
    stages: int = Field(description="Pipeline ranks p.", examples=[4])
    microbatches: int = Field(description="Microbatches m.", examples=[8])
    chunks: int = Field(description="Chunks per rank v, resolved per schedule.", examples=[1])
    forward: float = Field(description="F cost.", examples=[1.0])
    backward_input: float = Field(description="I cost.", examples=[1.0])
    backward_weight: float = Field(description="W cost.", examples=[1.0])
    p2p: float = Field(description="Send latency.", examples=[0.0])
    forward_backward: float | None = Field(
        description="Overlapped F&B span; null: the chunk's F + B.", examples=[None]
    )
    stage_costs: str | None = Field(
        description="Per-stage multipliers, written one way; null: all 1.", examples=[None]
    )
    model: str | None = Field(
        description="Model preset whose FLOPs give the costs in seconds; null: costs as given.",
        examples=["llama3-8b"],
    )
    gpu: str = Field(description="GPU preset (read with model).", examples=["h100-sxm"])
    tp: int = Field(description="Tensor-parallel degree (read with model).", examples=[1])
    cp: int = Field(description="Context-parallel degree (read with model).", examples=[1])
    seq_len: int = Field(description="Tokens per sequence (read with model).", examples=[4096])
    micro_batch: int = Field(description="Sequences per microbatch (with model).", examples=[1])
    efficiency: float = Field(description="Fraction of the BF16 peak (with model).", examples=[0.5])
    recompute: str = Field(description="none, selective or full (with model).", examples=["none"])
    format: str = Field(description="json, columns or chrome_trace.", examples=["json"])


class CostModelInfo(_Strict):
    forward_flops: float = Field(
        description="FLOPs of one microbatch's forward through one rank's share, per GPU.",
        examples=[1.539e13],
    )
    throughput: float = Field(
        description="FLOP/s assumed: dense BF16 peak × efficiency.", examples=[4.945e14]
    )
    note: str = Field(description="The derivation in words, with the figures used.")
    source: str = Field(description="Where the FLOP counts and the split come from.")


class OpKindInfo(_Strict):
    kind: str = Field(description="F, B, I or W.", examples=["I"])
    title: str = Field(description="What the op computes.", examples=["backward (inputs)"])
    forward: bool = Field(description="The op is a forward (it stores activations).")
    frees_activations: bool = Field(
        description="The microbatch's activations are dropped when this op ends (B, or W when "
        "the backward is split)."
    )


class PipelineOp(_Strict):
    rank: int = Field(description="Device that runs the op (0..stages−1).", examples=[0])
    stage: int = Field(
        description="Model chunk index along the model, 0..stages·chunks−1.", examples=[4]
    )
    chunk: int = Field(description="Which of its rank's chunks this stage is.", examples=[1])
    microbatch: int = Field(description="Microbatch index, 0..microbatches−1.", examples=[3])
    kind: str = Field(
        description="F forward, B whole backward, I backward for inputs, W backward for weights.",
        examples=["F"],
    )
    start: float = Field(description="Start time in cost units.", examples=[12.5])
    end: float = Field(description="End time in cost units.", examples=[13.0])
    waits_for: list[int] = Field(
        description="Indices (into `ops`) of the ops this one waits for, per the dependency "
        "rules of GET /api/v1/pipeline/schedules: 0, 1 or 2 of them.",
        examples=[[17, 40]],
    )
    overlapped: bool | None = Field(
        default=None,
        description="Present (true) only on the two ops of a DualPipeV overlapped F&B span; "
        "they share start and end and the span counts once in busy time.",
        examples=[True],
    )


class PipelineOpColumns(_Strict):
    rank: list[int] = Field(description="Per op: its device.")
    stage: list[int] = Field(description="Per op: its model chunk along the model.")
    chunk: list[int] = Field(description="Per op: which of its rank's chunks.")
    microbatch: list[int] = Field(description="Per op: its microbatch.")
    kind: list[str] = Field(description="Per op: F, B, I or W.")
    start: list[float] = Field(description="Per op: start time.")
    end: list[float] = Field(description="Per op: end time.")
    overlapped: list[bool] = Field(description="Per op: part of an overlapped F&B span.")
    waits_for: list[list[int]] = Field(
        description="Per op: the indices of the ops it waits for as a pair, −1 where it waits "
        "for fewer than two (fixed width, so a client can read it as a flat array).",
        examples=[[[-1, -1], [0, -1], [1, -1], [0, 2]]],
    )


class RankSummary(_Strict):
    rank: int = Field(description="Device index.", examples=[0])
    busy: float = Field(
        description="Time the rank computes (overlapped spans once).", examples=[24]
    )
    idle: float = Field(description="makespan − busy.", examples=[9])
    peak_activations: float = Field(
        description="Most microbatches whose forward has started and whose last backward op "
        "(B, or W when split) has not ended, in units of the rank's whole share (a chunk "
        "counts 1/chunks).",
        examples=[4],
    )
    activations: list[list[float]] = Field(
        description="Step function [[t, count], ...]: count holds from t until the next step.",
        examples=[[[0, 0], [0, 1], [1, 2]]],
    )


class ClosedFormInfo(_Strict):
    makespan: float = Field(description="The paper's makespan at these costs.", examples=[33])
    bubble: float = Field(description="Idle time per rank, makespan − m(F+B).", examples=[9])
    bubble_fraction: float = Field(description="bubble / makespan.", examples=[0.2727])
    formula: str = Field(
        description="The formula, in the module's notation.",
        examples=["makespan = (m + p − 1)(F + B); bubble fraction = (p − 1)/(m + p − 1)"],
    )
    source: str = Field(description="Where the formula comes from.", examples=["arXiv 2104.04473"])
    applies: bool = Field(
        description="False when these parameters break the formula's assumptions (p2p > 0, "
        "unequal stages, costs outside the range the paper assumes).",
        examples=[True],
    )
    note: str = Field(description="Why it does not apply, or caveats.", examples=[""])


class _PipelineSummary(_Strict):
    schedule: str = Field(description="Canonical schedule name.", examples=["1f1b"])
    label: str = Field(description="The schedule as people write it.", examples=["1F1B"])
    title: str = Field(description="Human-readable name.", examples=["1F1B (PipeDream-Flush)"])
    source: str = Field(description="Where the op order comes from.", examples=["arXiv 2104.04473"])
    query: PipelineQueryEcho = Field(description="Every parameter used, defaults filled in.")
    ranks: int = Field(description="Number of devices p (= the `stages` parameter).", examples=[4])
    num_stages: int = Field(description="Model chunks in total, p·v.", examples=[4])
    chunks: int = Field(description="Chunks per rank v.", examples=[1])
    placement: str = Field(
        description='"loop": stage s on rank s mod p; "v": stage s<p on rank s, else 2p−1−s.',
        examples=["loop"],
    )
    stage_to_rank: list[int] = Field(description="Rank of each stage.", examples=[[0, 1, 2, 3]])
    stage_to_chunk: list[int] = Field(
        description="Which of its rank's chunks each stage is.", examples=[[0, 0, 0, 0]]
    )
    stage_roles: list[str] = Field(
        description="Role of each stage: first (with the embedding), middle, last (with the LM "
        "head), or only.",
        examples=[["first", "middle", "middle", "last"]],
    )
    kinds: list[OpKindInfo] = Field(description="The op kinds an op's `kind` names.")
    units: str = Field(
        description='Unit of every time in the response: "seconds" when the query names a '
        "model, else cost units.",
        examples=["cost units", "seconds"],
    )
    cost_model: CostModelInfo | None = Field(
        description="How the costs were derived from `model`; null when they were given."
    )
    op_count: int = Field(description="Number of ops.", examples=[64])
    makespan: float = Field(description="End of the last op.", examples=[33])
    bubble_fraction: float = Field(
        description="1 − Σ busy / (ranks · makespan).", examples=[0.2727]
    )
    busy_mean: float = Field(description="Mean busy time per rank.", examples=[24])
    idle_mean: float = Field(description="Mean idle time per rank.", examples=[9])
    peak_activations: float = Field(
        description="The largest peak of activations in flight over the ranks.", examples=[4]
    )
    peak_rank: int = Field(description="The (lowest) rank with that peak.", examples=[0])
    closed_form: ClosedFormInfo | None = Field(
        description="The paper's closed form at these costs, or null where none exists."
    )
    per_rank: list[RankSummary] = Field(description="One entry per rank, indexed by rank.")


class PipelineResponse(_PipelineSummary):
    """format=json."""

    ops: list[PipelineOp] = Field(description="Every op, rank by rank, in start order.")


class PipelineColumnsResponse(_PipelineSummary):
    """format=columns: the same fields, `ops` as parallel arrays."""

    ops: PipelineOpColumns = Field(description="Every op as parallel arrays, same order.")


class ChromeTraceResponse(_Strict):
    """format=chrome_trace: Chrome trace / Perfetto JSON (the Trace Event Format)."""

    traceEvents: list[dict[str, object]] = Field(
        description='One "M" (metadata) event per rank, then one "X" (complete) event per op.'
    )
    displayTimeUnit: str = Field(description="ms.", examples=["ms"])
    otherData: dict[str, object] = Field(
        description="schedule, time_scale, makespan, bubble_fraction and the query."
    )


PipelineAnyResponse = PipelineResponse | PipelineColumnsResponse | ChromeTraceResponse


class ChunkRuleInfo(_Strict):
    default: int = Field(description="Chunks per rank when `chunks` is not given.", examples=[2])
    min: int = Field(description="Fewest chunks per rank.", examples=[2])
    max: int = Field(description="Most chunks per rank.", examples=[16])


class ScheduleInfo(_Strict):
    name: str = Field(description="Canonical name (the `schedule` value).", examples=["zb_h1"])
    label: str = Field(description="As people write it.", examples=["ZB-H1"])
    title: str = Field(description="One line on what it does.")
    source: str = Field(description="Where its op order comes from.")
    placement: str = Field(description="loop or v (see `placements`).", examples=["loop"])
    split_backward: bool = Field(description="Runs I and W instead of one B.")
    overlapped: bool = Field(description="Runs overlapped F&B spans (reads forward_backward).")
    chunks: ChunkRuleInfo = Field(description="Chunks per rank it takes.")
    microbatches_multiple_of_stages: bool = Field(description="m must be a multiple of p.")
    min_microbatches_per_stage: int = Field(
        description="m must be at least this × p (0: no such rule).", examples=[2]
    )
    rules: str = Field(description="The size rules in words.")
    parameters: list[str] = Field(description="The query parameters this schedule reads.")


class DependencyRuleInfo(_Strict):
    waiting: list[str] = Field(description="Kinds of the op that waits.", examples=[["B", "I"]])
    awaited: list[str] = Field(
        description="Kinds that can be awaited (a schedule runs B or I, not both).",
        examples=[["B", "I"]],
    )
    stage_offset: int = Field(
        description="The awaited op is on stage s + stage_offset, same microbatch; nothing is "
        "awaited when that stage does not exist.",
        examples=[1],
    )
    reason: str = Field(description="Why, in words.")


class ParameterInfo(_Strict):
    name: str = Field(description="Query parameter.", examples=["stages"])
    type: str = Field(description="integer, number or string.", examples=["integer"])
    nullable: bool = Field(description="null (left out) is a valid value with a meaning.")
    default: object = Field(description="Value when left out.", examples=[4])
    description: str = Field(description="What it means.")
    minimum: float | None = Field(description="Smallest valid value.", examples=[1])
    maximum: float | None = Field(description="Largest valid value.", examples=[128])


class FormatInfo(_Strict):
    name: str = Field(description="A `format` value.", examples=["columns"])
    title: str = Field(description="What the body holds.")


class CostPresetInfo(_Strict):
    name: str = Field(description="Preset key.", examples=["zb"])
    title: str = Field(description="Label with its values.", examples=["ZB paper (F = 1, …)"])
    values: dict[str, object] = Field(description="Query parameters it sets.")
    source: str = Field(description="Why these values.")


class CostModelRules(_Strict):
    derives: list[str] = Field(
        description="The costs a model derives: giving one of them with `model` is a 422.",
        examples=[["forward", "backward_input", "backward_weight", "p2p"]],
    )
    reads: list[str] = Field(
        description="The parameters only a model reads: giving one without `model` is a 422.",
        examples=[["gpu", "tp", "cp", "seq_len", "micro_batch", "efficiency", "recompute"]],
    )
    units: str = Field(description="The unit of the times when `model` is given.")
    source: str = Field(description="Where the FLOP counts and the split come from.")


class PipelineCatalogue(_Strict):
    schedules: list[ScheduleInfo] = Field(description="Every schedule with its rules.")
    placements: dict[str, str] = Field(description="What each placement means.")
    kinds: list[OpKindInfo] = Field(description="The op kinds.")
    dependencies: list[DependencyRuleInfo] = Field(
        description="Which op waits for which; every schedule obeys the same rules, and each "
        "op's `waits_for` applies them."
    )
    stage_roles: dict[str, str] = Field(description="What each stage role means.")
    parameters: list[ParameterInfo] = Field(description="The query parameters, with defaults.")
    formats: list[FormatInfo] = Field(description="The `format` values.")
    cost_presets: list[CostPresetInfo] = Field(description="Named sets of costs.")
    limits: dict[str, int] = Field(description="The pipeline limits (also in /api/v1/limits).")
    units: str = Field(description="The unit of every cost and time (without a model).")
    cost_model: CostModelRules = Field(description="How `model` turns the costs into seconds.")
