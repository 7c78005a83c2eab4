"""Which layers each pipeline rank holds, its role, and how many microbatches it keeps alive.

Part of resolving a memory query (`memory_query`): the model's layers are split over the
p·v virtual stages (v = chunks per rank), the first rank holds the embedding and the last the
LM head, and the schedule decides how many microbatches of activations a rank stores at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.core.symbolic import Quantity, define, minimum

StageRole = Literal["only", "first", "middle", "last"]


def layers_per_stage(layers: int, stages: int) -> list[int]:
    """Split `layers` over `stages`, taking any shortfall from the first and last stages.

    Llama 3 (arXiv 2407.21783 §3.3.2) removes one layer each from the first and last stages,
    which hold the embedding and the LM head: ``layers_per_stage(126, 16)`` gives 7, 8 × 14, 7.
    """
    base = -(-layers // stages)
    out = [base] * stages
    deficit = base * stages - layers
    order = [i for pair in zip(range(stages), reversed(range(stages)), strict=True) for i in pair]
    seen: list[int] = []
    for i in order:
        if i not in seen:
            seen.append(i)
    k = 0
    while deficit:
        out[seen[k % stages]] -= 1
        deficit -= 1
        k += 1
    return out


def stage_role(stage: int, stages: int) -> StageRole:
    """``only`` without a pipeline; else ``first`` (embedding), ``last`` (LM head), ``middle``."""
    if stages == 1:
        return "only"
    return "first" if stage == 0 else "last" if stage == stages - 1 else "middle"


@dataclass(frozen=True)
class StageLayout:
    """What pipeline rank `stage` holds: its layers, and the embedding or the LM head."""

    stage: int
    role: StageRole
    dense_layers: int
    moe_layers: int

    @property
    def layers(self) -> int:
        return self.dense_layers + self.moe_layers

    @property
    def has_embedding(self) -> bool:
        return self.role in ("only", "first")

    @property
    def has_lm_head(self) -> bool:
        """The LM head and the final norm sit on the last rank."""
        return self.role in ("only", "last")


def stage_layouts(layers: int, dense_layers: int, p: int, v: int) -> tuple[StageLayout, ...]:
    """The layers on each of `p` ranks; with `v` chunks, virtual stage k·p + r lives on rank r.

    The first `dense_layers` layers are dense and the rest MoE (DeepSeek-V3 puts 3 dense layers
    first). For example ``stage_layouts(126, 126, 16, 1)[0].dense_layers == 7``.
    """
    dense = [0] * p
    moe = [0] * p
    first = 0
    for c, n in enumerate(layers_per_stage(layers, p * v)):
        nd = max(0, min(first + n, dense_layers) - first)
        dense[c % p] += nd
        moe[c % p] += n - nd
        first += n
    return tuple(StageLayout(r, stage_role(r, p), dense[r], moe[r]) for r in range(p))


def in_flight(stage: int, p: int, v: int, microbatches: int | None) -> tuple[Quantity, Quantity]:
    """Microbatches whose activations rank `stage` holds at its peak, as (c chunks, m = c/v).

    1F1B (Narayanan et al. 2021 §2.2): rank r runs p − r forwards before its first backward.
    Interleaved with v chunks (Megatron-LM's warm-up): 2(p − 1 − r) + (v − 1)p + 1 chunk
    forwards, so rank 0 holds p·(1 + (p − 1)/(p·v)) microbatches' worth. Fewer microbatches
    than that cap it. For example ``in_flight(0, 4, 1, None)[1].value == 4``.
    """
    P, r = Quantity("p", p), Quantity("stage", stage)
    if v == 1:
        warm = P - r
        if microbatches is not None:
            warm = minimum(warm, Quantity("M", microbatches))
        m = define("m", warm, "microbatches in flight, 1F1B")
        return m, m
    V = Quantity("v", v)
    warm = 2 * (P - 1 - r) + (V - 1) * P + 1
    if microbatches is not None:
        warm = minimum(warm, Quantity("M", microbatches) * V)
    c = define("c", warm, "chunks in flight, interleaved 1F1B")
    return c, define("m", c / V, "microbatches in flight")


def pipeline_filling_microbatches(p: int, v: int) -> int:
    """The fewest microbatches (a multiple of p) at which no rank's warm-up is cut short.

    This is what a query without `microbatches` assumes: p for 1F1B, 2p when interleaved
    (rank 0 warms up with (v + 1)p − 1 chunks, more than the p·v of p microbatches).
    For example ``pipeline_filling_microbatches(4, 2) == 8``.
    """
    if v == 1:
        return p
    chunks = 2 * (p - 1) + (v - 1) * p + 1
    return p * -(-chunks // (p * v))
