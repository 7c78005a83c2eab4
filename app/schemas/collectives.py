"""Response and request models of /api/v1/collectives, /collectives/nccl-tests and
/communication (for validation and the OpenAPI document; the routers return encoded JSON)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.limits import limit

# ---------------------------------------------------------------- GET /collectives


class Transfer(BaseModel):
    src: int = Field(description="Sending rank.", examples=[0])
    dst: int = Field(description="Receiving rank.", examples=[1])
    chunk: int = Field(
        description="Chunk carried: 0..n−1 for rings (chunk c ends on / starts from rank c), 0 "
        "for tree and recursive doubling (the whole buffer), r·n + d for the all-to-all block "
        "from r to d, 0..chunks−1 for the pipelined broadcast.",
        examples=[3],
    )
    bytes: int = Field(description="Bytes this transfer carries.", examples=[8388608])
    op: str = Field(
        description="reduce (add into the destination's chunk) or copy (overwrite it).",
        examples=["reduce"],
    )


class Step(BaseModel):
    step: int = Field(description="Step index; a step's transfers run at once.", examples=[0])
    time: float = Field(
        description="Seconds: α + the busiest rank's bytes / B, the slower link if both.",
        examples=[2.5e-5],
    )
    link: str = Field(description="intra_node, network or both.", examples=["intra_node"])
    transfers: list[Transfer] = Field(
        description="Transfers of this step; each reads the state at the step's start."
    )


class StepColumns(BaseModel):
    step: list[int] = Field(description="Step of each transfer (sorted).")
    src: list[int] = Field(description="Sending rank of each transfer.")
    dst: list[int] = Field(description="Receiving rank of each transfer.")
    chunk: list[int] = Field(description="Chunk of each transfer.")
    bytes: list[int] = Field(description="Bytes of each transfer.")
    op: list[int] = Field(description="Index into op_names (0 copy, 1 reduce).")
    op_names: list[str] = Field(description="Names of the op codes.", examples=[["copy", "reduce"]])
    step_time: list[float] = Field(description="Seconds of each step.")
    step_link: list[str] = Field(description="intra_node, network or both, per step.")


class CollectiveView(BaseModel):
    cells: int = Field(description="Cells drawn per rank's buffer.", examples=[8])
    full: int = Field(description="`holds` of a complete cell (n for reductions, else 1).")
    hue_of: str = Field(description="chunk, or sender (all-to-all: whose block a cell holds).")
    x: list[float] = Field(description="Per rank: where to draw it, 0..1 across.")
    y: list[float] = Field(description="Per rank: where to draw it, 0..1 down.")
    node: list[int] = Field(description="Per rank: the node it sits on.")
    initial_hue: list[list[int]] = Field(
        description="Per rank and cell before step 0: whose data (chunk, or sending rank for "
        "all-to-all); −1 empty."
    )
    initial_holds: list[list[int]] = Field(
        description="Per rank and cell before step 0: contributions summed (0 empty)."
    )
    src_cell: list[int] = Field(description="Per transfer (step order): cell it leaves.")
    dst_cell: list[int] = Field(description="Per transfer: cell it lands in.")
    hue: list[int] = Field(description="Per transfer: the destination cell's hue after the step.")
    holds: list[int] = Field(
        description="Per transfer: the destination cell's contributions after."
    )


class LinkUse(BaseModel):
    bandwidth: float = Field(
        description="B, bytes/s per GPU (achievable busbw).", examples=[3.7e11]
    )
    latency: float = Field(description="α, seconds per algorithm step.", examples=[3.1e-6])
    source: str = Field(description="Where the figures come from, or 'query' if overridden.")
    used: bool = Field(description="Whether this collective uses the link.", examples=[True])


class SweepSeries(BaseModel):
    algorithm: str = Field(description="Algorithm name.", examples=["ring"])
    title: str = Field(description="Display name.", examples=["Ring"])
    times: list[float] = Field(description="Seconds at each size of `sizes`.")
    bus_bandwidth: list[float] = Field(description="busbw (bytes/s) at each size.")
    half_bandwidth_bytes: float | str = Field(
        description="Size where the latency and bandwidth terms are equal (half the "
        "asymptotic algbw): latency-bound below, bandwidth-bound above.",
        examples=[9.2e6],
    )


class Sweep(BaseModel):
    sizes: list[int] = Field(description="Message sizes (bytes), 1 KiB .. 16 GiB.")
    series: list[SweepSeries] = Field(description="One series per applicable algorithm.")


class AlgorithmInfo(BaseModel):
    name: str = Field(examples=["ring"])
    title: str = Field(examples=["Ring"])
    layout: str = Field(description="How to draw the ranks: ring (circle) or tree.")
    source: str = Field(description="Where the algorithm comes from.")


class OpInfo(BaseModel):
    op: str = Field(examples=["all_reduce"])
    title: str = Field(examples=["All-reduce"])
    promise: str = Field(description="What every rank holds at the end.")
    bus_factor: str = Field(description="nccl-tests' busbw factor.", examples=["2(n−1)/n"])
    algorithms: list[AlgorithmInfo]


class CollectiveResponse(BaseModel):
    query: dict[str, Any] = Field(description="Every parameter as computed (defaults filled).")
    op: str = Field(examples=["all_reduce"])
    op_title: str = Field(examples=["All-reduce"])
    promise: str = Field(description="What the collective guarantees at the end.")
    algorithm: str = Field(description="The algorithm used (auto resolved).", examples=["ring"])
    algorithm_title: str = Field(examples=["Ring"])
    algorithm_source: str
    layout: str = Field(description="ring or tree: how the page places the ranks.")
    ranks: int = Field(examples=[8])
    bytes: int = Field(description="S, nccl-tests' size convention.", examples=[67108864])
    gpu: str = Field(examples=["h100-sxm"])
    gpus_per_node: int = Field(examples=[8])
    local_ranks: int = Field(description="Ranks of the group per node.", examples=[8])
    nodes: int = Field(description="Nodes the group spans.", examples=[1])
    links: dict[str, LinkUse] = Field(description="intra_node and network.")
    time: float = Field(description="Seconds (alpha-beta model).", examples=[2.9e-4])
    latency_time: float = Field(description="The α part of `time`.")
    bandwidth_time: float = Field(description="The bytes/B part of `time`.")
    algorithm_bandwidth: float = Field(description="algbw = bytes / time.", examples=[2.3e11])
    bus_bandwidth: float = Field(description="busbw = algbw × bus_factor.", examples=[4.1e11])
    bus_factor: float = Field(examples=[1.75])
    bus_factor_formula: str = Field(examples=["2(n−1)/n"])
    half_bandwidth_bytes: float | str = Field(
        description="Size where this algorithm reaches half its asymptotic bandwidth."
    )
    regime: str = Field(description="latency-bound or bandwidth-bound at this size.")
    num_steps: int = Field(examples=[14])
    num_chunks: int | None = Field(description="Chunks of the step list (null if unlisted).")
    wire_bytes_per_gpu: float = Field(description="Bytes the busiest rank sends in total.")
    steps: list[Step] | None = Field(description="format=json: the steps (null beyond the limit).")
    columns: StepColumns | None = Field(description="format=columns: the steps as arrays.")
    view: CollectiveView | None = Field(description="view=true: drawing data per transfer.")
    sweep: Sweep = Field(description="Time and busbw against message size.")
    catalogue: list[OpInfo] = Field(description="Every op and its algorithms.")
    notes: list[str] = Field(description="Assumptions behind the figures.")


# ---------------------------------------------------------------- POST /collectives/nccl-tests


class NcclTestsRequest(BaseModel):
    """A pasted nccl-tests table and, optionally, what the text does not say."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        description="The output of all_reduce_perf, all_gather_perf, reduce_scatter_perf or "
        "alltoall_perf (the whole log or just the rows).",
        max_length=limit("nccl_tests_text_bytes"),
        examples=[
            "#       size         count      type   redop    root     time   algbw   busbw "
            "#wrong     time   algbw   busbw #wrong\n"
            "     1048576        262144     float     sum      -1    31.20   33.61   58.81"
            "      0    30.95   33.88   59.29      0\n"
            "   268435456      67108864     float     sum      -1   1213.5  221.21  387.12"
            "      0   1208.4  222.14  388.75      0\n"
        ],
    )
    op: str | None = Field(
        default=None,
        description="all_reduce, all_gather, reduce_scatter or all_to_all (default: read "
        "from the text, e.g. 'Collective test starting: all_gather_perf').",
        max_length=40,
        examples=["all_reduce"],
    )
    ranks: int | None = Field(
        default=None,
        description="Ranks in the test (default: the '# Rank' lines, else busbw/algbw).",
        ge=2,
        le=limit("mesh_ranks"),
        examples=[8],
    )
    gpu: str = Field(
        default="h100-sxm",
        description="GPU preset whose model curve is drawn beside the data.",
        max_length=40,
    )
    in_place: bool = Field(default=False, description="Fit the in-place columns instead.")


class NcclRow(BaseModel):
    bytes: int = Field(description="size column (B).", examples=[1048576])
    time: float = Field(description="Seconds (the table prints µs).", examples=[3.12e-5])
    algorithm_bandwidth: float = Field(description="algbw, bytes/s.", examples=[3.361e10])
    bus_bandwidth: float = Field(description="busbw, bytes/s.", examples=[5.881e10])
    fitted_bus_bandwidth: float = Field(description="The fitted curve at this size.")


class NcclFit(BaseModel):
    bus_bandwidth: float = Field(description="B: asymptotic busbw (bytes/s).", examples=[4.0e11])
    half_bandwidth_bytes: float = Field(description="n½: size at half of B.", examples=[1.2e7])
    latency: float = Field(description="α per ring step: n½ / (n·B), seconds.")
    overhead: float = Field(description="Time at zero size (seconds): factor · n½ / B.")
    rms_relative_error: float = Field(description="Fit quality: RMS of time errors / time.")
    points: int = Field(description="Rows used.")


class NcclTestsResponse(BaseModel):
    op: str = Field(examples=["all_reduce"])
    ranks: int = Field(examples=[8])
    ranks_from: str = Field(description="query, rank lines or busbw/algbw ratio.")
    bus_factor: float = Field(examples=[1.75])
    columns: str = Field(description="out_of_place or in_place.")
    rows: list[NcclRow]
    fit: NcclFit
    model: dict[str, Any] = Field(description="The preset's model curve at the same sizes.")
    calibrated_query: str = Field(
        description="Query string for /collectives and /communication with the fitted figures."
    )
    warnings: list[str]


# ---------------------------------------------------------------- GET /communication


class LinkSplit(BaseModel):
    intra_node: float = Field(description="Seconds on the intra-node link.")
    network: float = Field(description="Seconds on the network.")


class BillEntry(BaseModel):
    axis: str = Field(description="tp, cp, ep, pp or dp.", examples=["tp"])
    collective: str = Field(
        description="all_reduce, all_gather, reduce_scatter, all_to_all or send_recv.",
        examples=["all_reduce"],
    )
    what: str = Field(description="What it carries.", examples=["attention and MLP outputs"])
    phase: str = Field(description="forward, backward or step (after the pipeline).")
    group_size: int = Field(description="Ranks in the group.", examples=[8])
    local_ranks: int = Field(description="Ranks of the group per node.", examples=[8])
    nodes: int = Field(description="Nodes the group spans.", examples=[1])
    count: int = Field(description="Calls per step on one GPU.", examples=[320])
    buffer_bytes: int = Field(description="Per call, nccl-tests' size convention.")
    wire_bytes_per_gpu: float = Field(description="Bytes one GPU sends, all calls together.")
    link: str = Field(description="intra_node, network or both.", examples=["intra_node"])
    algorithm: str = Field(description="How the collective runs (ring, hierarchical, ...).")
    time: float = Field(description="Seconds, all calls together.")
    time_by_link: LinkSplit
    exposed_time: float = Field(description="The part of `time` not hidden behind compute.")
    overlap: str = Field(description="The overlap switch that applies (overlap_<name>).")
    overlapped: bool = Field(description="Whether that switch is on.")
    formula: str = Field(description="How count and buffer are counted.")
    source: str = Field(description="The paper or code the volumes come from.")
    collectives_query: str = Field(description="Query string of /collectives for one call.")


class AxisTotal(BaseModel):
    axis: str = Field(examples=["tp"])
    title: str = Field(examples=["Tensor parallel"])
    group_size: int = Field(examples=[8])
    time: float = Field(description="Seconds of all its collectives.")
    time_by_link: LinkSplit
    exposed_time: float
    wire_bytes_per_gpu: float
    collectives_query: str = Field(description="/collectives query of its biggest collective.")


class FlopsInfo(BaseModel):
    per_token: int = Field(description="Model FLOPs per token of a training step.")
    per_gpu_per_step: float = Field(description="Model FLOPs one GPU does per step.")
    peak: float = Field(description="Dense peak FLOP/s used.")
    compute_dtype: str = Field(examples=["bf16"])
    efficiency: float = Field(description="Fraction of peak the kernels reach.")
    mfu: float = Field(description="per_gpu_per_step / (step_time × peak).")
    formula: str
    source: str


class OverlapInfo(BaseModel):
    name: str = Field(examples=["tp"])
    on: bool = Field(examples=[False])
    description: str


class CommunicationResponse(BaseModel):
    query: dict[str, Any] = Field(description="Every parameter as computed.")
    model: str = Field(examples=["llama3-70b"])
    model_title: str
    gpu: str = Field(examples=["h100-sxm"])
    gpu_title: str
    world_size: int = Field(examples=[64])
    microbatches: int = Field(examples=[16])
    critical_rank: int = Field(description="Pipeline rank the bill is for (the slowest).")
    bill: list[BillEntry] = Field(description="Every collective of one step on that GPU.")
    axes: list[AxisTotal] = Field(description="The bill summed per axis.")
    compute_time: float = Field(description="Seconds of compute in one step.")
    bubble_time: float = Field(description="Seconds idle in the pipeline bubble.")
    exposed_communication_time: float = Field(description="Seconds of communication not hidden.")
    communication_time: float = Field(description="Seconds of all collectives, hidden or not.")
    step_time: float = Field(description="compute + exposed communication + bubble.")
    makespan: float = Field(description="Simulated pipeline makespan (seconds).")
    bubble_fraction: float
    schedule: str = Field(examples=["1f1b"])
    flops: FlopsInfo
    tokens_per_step: int
    tokens_per_second: float
    overlap: list[OverlapInfo]
    notes: list[str]


class CommunicationExample(BaseModel):
    name: str = Field(examples=["llama3-405b-8k"])
    title: str
    query: str = Field(description="Query string for /communication.")
    source: str


class CommunicationExamplesResponse(BaseModel):
    examples: list[CommunicationExample]
