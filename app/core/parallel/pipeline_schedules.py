"""The schedule catalogue: each schedule's name, order generator, placement and size rules.

Every rule a client needs before it asks (how many chunks a schedule takes, whether m must be
a multiple of p) is a field here; `check_sizes` enforces exactly these fields and
`rules_text` says them in words, so the API, the page's hints and the 422s cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.names import Registry
from app.core.parallel import pipeline_orders as orders
from app.core.parallel.pipeline_orders import Generator

# Where a schedule puts its chunks (see pipeline_orders), in words.
PLACEMENTS = {
    "loop": "stage s runs on rank s mod p, so each rank holds chunks r, r + p, …",
    "v": "chunk 0 runs down ranks 0 → p − 1 and chunk 1 comes back up p − 1 → 0",
}


@dataclass(frozen=True)
class ChunkRule:
    """How many model chunks v per rank a schedule takes, and its default."""

    default: int
    min: int
    max: int

    def accepts(self, v: int) -> bool:
        return self.min <= v <= self.max


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    label: str  # how people write it: "ZB-H1"
    title: str
    generator: Generator
    placement: str  # a key of PLACEMENTS
    split_backward: bool  # runs I and W instead of B (zero-bubble family)
    overlapped: bool  # runs overlapped F&B spans; reads `forward_backward`
    chunks: ChunkRule
    microbatches_multiple_of_stages: bool
    min_microbatches_per_stage: int  # m ≥ this × p (0: no rule beyond m ≥ 1)
    source: str


ONE_CHUNK = ChunkRule(1, 1, 1)
V_CHUNKS = ChunkRule(2, 2, 2)

SCHEDULES: dict[str, ScheduleSpec] = {
    s.name: s
    for s in (
        ScheduleSpec(
            "gpipe",
            "GPipe",
            "GPipe: all forwards, then all backwards",
            orders.gpipe,
            "loop",
            False,
            False,
            ONE_CHUNK,
            False,
            0,
            "Huang et al. 2019, GPipe, arXiv 1811.06965",
        ),
        ScheduleSpec(
            "1f1b",
            "1F1B",
            "1F1B (PipeDream-Flush), as in Megatron-LM",
            orders.one_f_one_b,
            "loop",
            False,
            False,
            ONE_CHUNK,
            False,
            0,
            "Narayanan et al. 2021, arXiv 2104.04473 §2.2; Megatron-LM schedules.py",
        ),
        ScheduleSpec(
            "interleaved_1f1b",
            "Interleaved 1F1B",
            "Interleaved 1F1B with v model chunks per rank",
            orders.interleaved_1f1b,
            "loop",
            False,
            False,
            ChunkRule(2, 2, limit("pipeline_chunks")),
            # Megatron-LM asserts it too ("number of microbatches is not divisible by
            # pipeline-model-parallel-size"): with a short last group the fixed warm-up count
            # can make ranks wait on each other forever (p = 4, m = 5, v = 3).
            True,
            0,
            "Narayanan et al. 2021, arXiv 2104.04473 §2.2; Megatron-LM "
            "forward_backward_pipelining_with_interleaving",
        ),
        ScheduleSpec(
            "zb_h1",
            "ZB-H1",
            "ZB-H1: 1F1B with the weight backward deferred into the bubbles",
            orders.zb_h1,
            "loop",
            True,
            False,
            ONE_CHUNK,
            False,
            0,
            "Qi et al. 2023, Zero Bubble Pipeline Parallelism, arXiv 2401.10241 §3.1; "
            "order of Megatron-DeepSpeed ZeroBubbleH1Pipeline (exact semantics)",
        ),
        ScheduleSpec(
            "zb_h2",
            "ZB-H2",
            "ZB-H2: extra warm-up forwards, weight backwards moved to the tail",
            orders.zb_h2,
            "loop",
            True,
            False,
            ONE_CHUNK,
            False,
            0,
            "Qi et al. 2023, Zero Bubble Pipeline Parallelism, arXiv 2401.10241 §3.1 "
            "(order reconstructed from the paper's description)",
        ),
        ScheduleSpec(
            "zbv",
            "ZB-V",
            "ZB-V: V-shaped placement of 2 chunks per rank, zero bubble at 1F1B memory",
            orders.zbv,
            "v",
            True,
            False,
            V_CHUNKS,
            False,
            0,
            "Qi et al. 2023, arXiv 2401.10241 §6; torch.distributed.pipelining "
            "ScheduleZBVZeroBubble",
        ),
        ScheduleSpec(
            "dualpipev",
            "DualPipeV",
            "DualPipeV: V-shaped DualPipe with overlapped forward & backward spans",
            orders.dualpipev,
            "v",
            True,
            True,
            V_CHUNKS,
            False,
            # deepseek-ai/DualPipe dualpipev.py asserts num_chunks >= num_ranks * 2
            2,
            "DeepSeek-AI 2024, arXiv 2412.19437 §3.2.1; deepseek-ai/DualPipe dualpipev.py",
        ),
    )
}

SCHEDULE_NAMES = Registry(
    "schedule",
    SCHEDULES,
    aliases={"pipedream_flush": "1f1b", "interleaved": "interleaved_1f1b"},
)


def _takes(v: int) -> list[str]:
    return [s.name for s in SCHEDULES.values() if s.chunks.accepts(v)]


def check_sizes(spec: ScheduleSpec, p: int, m: int, v: int) -> None:
    """Raise `InvalidInput` naming the field when `spec` cannot run p ranks, m and v.

    For example ``check_sizes(SCHEDULES["dualpipev"], 4, 7, 2)`` says microbatches must be
    at least 2 × stages = 8.
    """
    rule = spec.chunks
    if not rule.accepts(v):
        others = ", ".join(_takes(v)) or "none"
        if rule.min == rule.max:
            raise InvalidInput(
                "chunks",
                f"{spec.name} holds exactly {rule.min} model chunk{'s' * (rule.min > 1)} per "
                f"rank; set chunks={rule.min} (got {v}; chunks={v} works with: {others})",
            )
        bound = f"at least {rule.min}" if v < rule.min else f"at most {rule.max}"
        raise InvalidInput(
            "chunks",
            f"{spec.name} needs {bound} chunks per rank (got {v}); chunks={v} works with: {others}",
        )
    if spec.microbatches_multiple_of_stages and m % p:
        lo = max(p, m - m % p)
        raise InvalidInput(
            "microbatches",
            f"{spec.name} needs microbatches to be a multiple of stages ({p}), as in "
            f"Megatron-LM; got {m}, try {lo} or {lo + p}",
        )
    k = spec.min_microbatches_per_stage
    if m < k * p:
        raise InvalidInput(
            "microbatches",
            f"{spec.name} needs at least {k} × stages = {k * p} microbatches (got {m})",
        )


def rules_text(spec: ScheduleSpec) -> str:
    """`spec`'s size rules in words, from the same fields `check_sizes` enforces.

    For example ``rules_text(SCHEDULES["zbv"])`` begins "v is fixed at 2: chunk 0 runs down".
    """
    rule = spec.chunks
    if rule.max == 1:
        more = ", ".join(s.label for s in SCHEDULES.values() if s.chunks.max > 1)
        text = f"v = 1: one model chunk per rank ({more} hold more)."
    elif rule.min == rule.max:
        text = f"v is fixed at {rule.min}: {PLACEMENTS[spec.placement]}."
    else:
        text = (
            f"v: {rule.min} to {rule.max} model chunks per rank; {PLACEMENTS[spec.placement]}; "
            "interleaving divides the bubble by v."
        )
    if spec.microbatches_multiple_of_stages:
        text += " m must be a multiple of p, as Megatron-LM asserts."
    if spec.min_microbatches_per_stage:
        text += f" m must be at least {spec.min_microbatches_per_stage}p."
    return text
