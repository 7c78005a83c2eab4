"""Response models of GET /api/v1/moe (expert routing and its all-to-alls) and GET
/api/v1/context (ring-attention tiling and Ulysses), for validation and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

# ---------------------------------------------------------------- GET /moe


class A2AStep(BaseModel):
    label: str = Field(description="What the step does.", examples=["all pairs at once"])
    link: str = Field(description="intra_node, network, both, or none (nothing to send).")
    time: float = Field(description="Seconds: α + the busiest rank's bytes / B per link.")
    bytes: int = Field(description="Bytes all ranks send in this step together.")


class A2AExchange(BaseModel):
    time: float = Field(description="Seconds, all steps.", examples=[1.2e-5])
    intra_node_bytes: int = Field(description="Bytes sent over NVLink, all ranks together.")
    network_bytes: int = Field(description="Bytes sent over the network, all ranks together.")
    steps: list[A2AStep]


class A2APair(BaseModel):
    dispatch: A2AExchange = Field(description="Tokens to their experts.")
    combine: A2AExchange = Field(description="Expert outputs back to the tokens' ranks.")


class A2AWays(BaseModel):
    flat: A2APair = Field(description="Every pair of ranks at once (NCCL's all-to-all).")
    hierarchical: A2APair = Field(
        description="Gather per destination node over NVLink, one exchange per node pair over "
        "the network (each token once per node), fan out over NVLink."
    )


class LinkFigures(BaseModel):
    bandwidth: float = Field(description="B, bytes/s per GPU (achievable busbw).")
    latency: float = Field(description="α, seconds per step.")
    source: str = Field(description="Where the figures come from, or 'query' if overridden.")


class Routes(BaseModel):
    token_rank: list[int] = Field(description="Per token (0..T−1): the GPU that holds it.")
    token: list[int] = Field(description="Token of each copy (0..T−1).")
    src: list[int] = Field(description="Rank holding the token.")
    dst: list[int] = Field(description="Rank holding the expert.")
    expert: list[int] = Field(description="Expert of the copy.")
    choice: list[int] = Field(description="0 for a token's first choice, 1 second...; −1 for "
                              "expert choice (the expert picked the token).")  # fmt: skip
    kept: list[bool] = Field(description="False: dropped over capacity.")
    slot: list[int] = Field(description="Position in the expert's buffer (≥ capacity: dropped).")
    gate: list[float] = Field(description="Gate weight (softmax over the token's top-k logits).")


class Range(BaseModel):
    min: float
    max: float
    step: float


class MoeControls(BaseModel):
    experts: list[int] = Field(description="Expert counts a slider offers for this query.")
    top_k: Range
    ep: list[int] = Field(description="EP degrees dividing both experts and tokens.")
    tokens: list[int] = Field(description="Token counts a slider offers.")
    capacity_factor: Range
    skew: Range


class SharedExperts(BaseModel):
    experts: int = Field(description="Shared experts per layer.", examples=[1])
    tokens_per_rank: int = Field(description="Tokens each shared expert sees on each rank.")


class TokenBytes(BaseModel):
    dispatch: int = Field(description="Bytes of one token copy sent to an expert.")
    combine: int = Field(description="Bytes of one expert output sent back.")


class RuleSource(BaseModel):
    rule: str = Field(examples=["capacity"])
    source: str


class MoeResponse(BaseModel):
    query: dict[str, Any] = Field(description="Every parameter as computed (defaults filled).")
    model: str | None = Field(examples=["mixtral-8x7b"])
    model_title: str | None
    tokens: int = Field(description="T, tokens routed.", examples=[1024])
    tokens_per_rank: int = Field(examples=[256])
    experts: int = Field(examples=[16])
    top_k: int = Field(examples=[2])
    shared_experts: int = Field(examples=[0])
    hidden: int = Field(examples=[4096])
    ep: int = Field(examples=[4])
    experts_per_rank: int = Field(examples=[4])
    gpus_per_node: int = Field(examples=[8])
    nodes: int = Field(description="Nodes the EP group spans.", examples=[1])
    routing: str = Field(description="top_k or expert_choice.", examples=["top_k"])
    capacity: int = Field(description="ceil(capacity_factor · T · k / E) copies per expert.")
    capacity_formula: str = Field(examples=["ceil(1.25 × 1,024 × 2 / 16) = 160"])
    dropless: bool
    routed_copies: int = Field(description="Token copies routing made (T·k for top-k).")
    kept_copies: int = Field(description="Copies sent to an expert (routed − dropped).")
    dropped: int = Field(description="Copies over their expert's capacity.")
    dropped_fraction: float = Field(description="dropped / routed_copies.")
    expert_load: list[int] = Field(description="Copies routed to each expert, before capacity.")
    expert_kept: list[int] = Field(description="Copies each expert processes (≤ capacity).")
    expert_dropped: list[int] = Field(description="Copies each expert drops.")
    expert_rank: list[int] = Field(description="EP rank holding each expert.")
    expert_imbalance: float = Field(description="Busiest expert's load / mean load.")
    rank_load: list[int] = Field(description="Copies each rank's experts process.")
    imbalance: float = Field(description="Busiest rank's load / mean rank load.")
    experts_per_token: list[int] = Field(
        description="Tokens that reached 0, 1, 2 ... experts (after drops)."
    )
    shared: SharedExperts
    token_bytes: TokenBytes
    dispatch_tokens: list[list[int]] = Field(
        description="ep × ep: copies from source rank (row) to destination rank (column); the "
        "diagonal stays on the rank."
    )
    dispatch_bytes: list[list[int]] = Field(description="dispatch_tokens × token_bytes.dispatch.")
    combine_bytes: list[list[int]] = Field(
        description="ep × ep: bytes from expert rank (row) back to token rank (column)."
    )
    all_to_all: A2AWays
    links: dict[str, LinkFigures] = Field(description="intra_node and network.")
    routes: Routes | None = Field(description="routes=true: every token copy.")
    controls: MoeControls = Field(description="Values the page's sliders offer.")
    sources: list[RuleSource]
    notes: list[str]


# ---------------------------------------------------------------- GET /context


class Tile(BaseModel):
    rank: int = Field(description="Rank computing the tile.", examples=[1])
    step: int = Field(description="Ring step (0 .. cp−1).", examples=[1])
    q_block: int = Field(description="Query block (placement's blocks).", examples=[1])
    k_block: int = Field(description="Key/value block.", examples=[0])
    diagonal: bool = Field(description="A causal diagonal tile (a triangle of pairs).")
    pairs: int = Field(description="Query–key pairs computed.")


class RingHold(BaseModel):
    step: int
    rank: int
    kv_rank: int = Field(description="Rank whose K/V block this rank holds at this step.")
    kv_blocks: list[int] = Field(description="Those K/V blocks.")


class RankWork(BaseModel):
    rank: int
    q_blocks: list[int] = Field(description="Query (and K/V) blocks the rank owns.")
    tiles: int
    pairs: int = Field(description="Query–key pairs the rank computes.")
    idle_pairs: int = Field(description="Σ over steps of (busiest rank − this rank).")
    pairs_per_step: list[int]


class Balance(BaseModel):
    placement: str = Field(examples=["zigzag"])
    num_blocks: int
    makespan_pairs: int = Field(description="Σ over steps of the busiest rank's pairs.")
    total_pairs: int
    max_rank_pairs: int
    min_rank_pairs: int
    idle_fraction: float = Field(description="1 − total / (cp · makespan).")


class RingVolumes(BaseModel):
    forward_bytes: int = Field(description="Bytes a rank receives per layer, forward.")
    backward_bytes: int
    formula: str
    time_forward: float = Field(description="Seconds per layer, forward (the K/V pass).")
    algorithm: str = Field(description="How the pass runs: ring, or hierarchical across nodes.")
    source: str


class UlyssesVolumes(BaseModel):
    feasible: bool = Field(description="Whether heads split over cp ranks.")
    reason: str
    qkv_bytes: int = Field(description="Q, K, V all-to-all send buffer per rank.")
    output_bytes: int = Field(description="Output all-to-all send buffer per rank.")
    forward_bytes: int = Field(description="Bytes a rank sends per layer, forward.")
    backward_bytes: int
    formula: str
    time_forward: float = Field(description="Seconds per layer, forward (both all-to-alls).")
    source: str


class ContextVolumes(BaseModel):
    block_bytes: int = Field(description="One rank's K/V block.")
    kv_in_flight_bytes: int = Field(description="K/V held beyond its own: 2 blocks.")
    ring: RingVolumes
    ulysses: UlyssesVolumes


class AttentionShape(BaseModel):
    heads: int
    kv_heads: int
    head_dim: int
    q_width: int
    kv_width: int
    dtype: str
    dtype_bytes: float


class ContextResponse(BaseModel):
    query: dict[str, Any] = Field(description="Every parameter as computed (defaults filled).")
    model: str | None
    model_title: str | None
    seq_len: int = Field(examples=[8192])
    cp: int = Field(examples=[4])
    causal: bool
    placement: str = Field(examples=["zigzag"])
    num_blocks: int = Field(description="cp (contiguous) or 2·cp (zig-zag).", examples=[8])
    block_tokens: int = Field(examples=[1024])
    steps: int = Field(description="Ring steps (cp).")
    q_blocks: list[list[int]] = Field(description="Per rank: the blocks it owns.")
    tiles: list[Tile] = Field(description="Every computed tile, by step then rank.")
    ring: list[RingHold] = Field(description="Per step and rank: the K/V held.")
    step_pairs: list[int] = Field(description="Per step: the busiest rank's pairs.")
    per_rank: list[RankWork]
    work_unit: str
    total_pairs: int
    needed_pairs: int = Field(description="s(s+1)/2 causal, s² otherwise.")
    skipped_pairs: int = Field(description="Pairs the causal mask excludes.")
    dense_pairs: int
    makespan_pairs: int
    idle_fraction: float
    balance: list[Balance] = Field(description="Both placements, for comparison.")
    attention: AttentionShape
    volumes: ContextVolumes
    links: dict[str, LinkFigures]
    gpus_per_node: int
    nodes: int
    sources: list[str]
    notes: list[str]
