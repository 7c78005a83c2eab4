"""Response models of GET /api/v1/pipeline (for the OpenAPI docs; the router returns bytes)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PipelineOp(BaseModel):
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
    overlapped: bool | None = Field(
        default=None,
        description="Present (true) only on the two ops of a DualPipeV overlapped F&B span; "
        "they share start and end and the span counts once in busy time.",
        examples=[True],
    )


class RankSummary(BaseModel):
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


class ClosedFormInfo(BaseModel):
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


class PipelineResponse(BaseModel):
    schedule: str = Field(description="Schedule name.", examples=["1f1b"])
    title: str = Field(description="Human-readable name.", examples=["1F1B (PipeDream-Flush)"])
    source: str = Field(description="Where the op order comes from.", examples=["arXiv 2104.04473"])
    parameters: dict[str, object] = Field(
        description="Echo of every parameter after defaults (chunks resolved, costs as floats).",
        examples=[{"schedule": "1f1b", "stages": 4, "microbatches": 8, "chunks": 1}],
    )
    ranks: int = Field(description="Number of devices p (= the `stages` parameter).", examples=[4])
    num_stages: int = Field(description="Model chunks in total, p·v.", examples=[4])
    chunks: int = Field(description="Chunks per rank v.", examples=[1])
    placement: str = Field(
        description='"loop": stage s on rank s mod p; "v": stage s<p on rank s, else 2p−1−s.',
        examples=["loop"],
    )
    stage_to_rank: list[int] = Field(description="Rank of each stage.", examples=[[0, 1, 2, 3]])
    units: str = Field(description="Unit of every time in the response.", examples=["cost units"])
    op_count: int = Field(description="Number of ops.", examples=[64])
    makespan: float = Field(description="End of the last op.", examples=[33])
    bubble_fraction: float = Field(
        description="1 − Σ busy / (ranks · makespan).", examples=[0.2727]
    )
    per_rank: list[RankSummary] = Field(description="One entry per rank, indexed by rank.")
    closed_form: ClosedFormInfo | None = Field(
        description="The paper's closed form at these costs, or null where none exists."
    )
    ops: list[PipelineOp] = Field(description="Every op, rank by rank, in start order.")
