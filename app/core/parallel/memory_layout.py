"""Which layers each pipeline rank holds and its role (embedding, LM head).

Part of resolving a memory query (`memory_query`): the model's layers are split over the
p·v virtual stages (v = chunks per rank), placed on ranks as the schedule places them (loop
or V, `memory_schedule`); the first virtual stage holds the embedding and the last the LM head.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

StageRole = Literal["only", "first", "middle", "last", "ends"]


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


def stage_role(has_embedding: bool, has_lm_head: bool, ranks: int) -> StageRole:
    """``only`` without a pipeline; ``first`` (embedding), ``last`` (LM head), ``ends`` (both,
    as on rank 0 of the V-shaped schedules), else ``middle``."""
    if ranks == 1:
        return "only"
    if has_embedding and has_lm_head:
        return "ends"
    return "first" if has_embedding else "last" if has_lm_head else "middle"


@dataclass(frozen=True)
class StageLayout:
    """What pipeline rank `stage` holds: its layers, and the embedding or the LM head.

    `window_layers` counts its sliding-window attention layers (gpt-oss: every other one).
    """

    stage: int
    role: StageRole
    dense_layers: int
    moe_layers: int
    has_embedding: bool
    has_lm_head: bool
    window_layers: int = 0

    @property
    def layers(self) -> int:
        return self.dense_layers + self.moe_layers


def stage_layouts(
    layers: int,
    dense_layers: int,
    stage_to_rank: tuple[int, ...] | int,
    window: frozenset[int] | int = frozenset(),
) -> tuple[StageLayout, ...]:
    """The layers on each rank; virtual stage i lives on rank ``stage_to_rank[i]``.

    The layers are split over the virtual stages in order (`layers_per_stage`); the first
    `dense_layers` are dense and the rest MoE (DeepSeek-V3 puts 3 dense layers first); layers
    in `window` use sliding-window attention. The embedding sits with virtual stage 0 and the
    LM head with the last one. ``stage_layouts(layers, dense, p, v)`` (two ints) means the loop
    placement of p ranks with v chunks. For example with 1F1B on 16 ranks
    ``stage_layouts(126, 126, tuple(range(16)))[0].dense_layers == 7``; with ZB-V on 2 ranks
    (``stage_to_rank == (0, 1, 1, 0)``) rank 0 holds both the embedding and the LM head.
    """
    if isinstance(stage_to_rank, int):  # (p, v): the loop placement, stage k·p + r on rank r
        p, v = stage_to_rank, window if isinstance(window, int) else 1
        stage_to_rank, window = tuple(s % p for s in range(p * v)), frozenset()
    assert not isinstance(window, int)
    p = max(stage_to_rank) + 1
    dense, moe, win = [0] * p, [0] * p, [0] * p
    first = 0
    for i, n in enumerate(layers_per_stage(layers, len(stage_to_rank))):
        r = stage_to_rank[i]
        nd = max(0, min(first + n, dense_layers) - first)
        dense[r] += nd
        moe[r] += n - nd
        win[r] += sum(1 for layer in range(first, first + n) if layer in window)
        first += n
    head = stage_to_rank[-1]
    return tuple(
        StageLayout(
            r,
            stage_role(r == stage_to_rank[0], r == head, p),
            dense[r],
            moe[r],
            r == stage_to_rank[0],
            r == head,
            win[r],
        )
        for r in range(p)
    )
