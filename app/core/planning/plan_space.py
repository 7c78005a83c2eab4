"""The planner's search space: every layout the constraints allow, as numpy columns.

A layout is a *structure* (tp, cp, pp, dp, ep: they multiply to the GPUs, with EP carved out
of dp·cp), a micro batch (which fixes the microbatches: the global batch's sequences are shared
over dp replicas), a schedule with its chunks, a ZeRO stage and a recomputation. Feasibility by
divisibility is decided by the same rules /memory applies (`memory_query.resolve`: heads,
KV heads and MLP widths divisible by tp, experts by ep, seq_len by cp, pp·chunks ≤ layers),
plus tp within one node, dp dividing the global batch's sequences and each schedule's size
rules (`pipeline_schedules.check_sizes`). What fails is kept with its reason so that the
planner can say why a neighbour of the winner was not taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.parallel.memory_query import MemoryQuery, resolve
from app.core.parallel.pipeline_schedules import SCHEDULES, check_sizes
from app.core.parallel.presets import ModelPreset

IntArray = npt.NDArray[np.int64]
RECOMPUTE = ("none", "selective", "full")
"""Leanest last: each option keeps fewer activations than the one before."""
NO_PIPELINE = "none"
LAYOUT_KEYS = ("tp", "pp", "dp", "cp", "ep", "zero", "chunks", "micro_batch", "microbatches",
               "recompute")  # fmt: skip
"""A layout's choices besides its schedule (what /memory needs to reproduce its memory)."""
ZERO_STAGES = (0, 1, 2, 3)
"""Rajbhandari et al. 2019: optimizer states (1), gradients (2), parameters (3) sharded."""


def divisors(n: int) -> list[int]:
    """``divisors(12) == [1, 2, 3, 4, 6, 12]``."""
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    return sorted({*small, *(n // d for d in small)})


@dataclass(frozen=True)
class Constraints:
    """What the planner may choose from (already resolved and checked)."""

    gpus: int
    gpus_per_node: int
    seq_len: int
    sequences: int
    max_tp: int
    max_pp: int
    max_cp: int
    max_ep: int
    max_chunks: int
    max_micro_batch: int
    schedules: tuple[str, ...]
    zero: tuple[int, ...]
    recompute: tuple[str, ...]


@dataclass(frozen=True)
class Structure:
    tp: int
    cp: int
    pp: int
    dp: int
    ep: int


@dataclass(frozen=True)
class Rejected:
    """A layout left out, and why (`reason`: divisibility, tp_across_nodes, global_batch,
    schedule or memory)."""

    layout: dict[str, Any]
    reason: str
    field: str
    detail: str


@dataclass
class Space:
    """Candidates as columns (one row per layout) and the structures they index."""

    structures: list[Structure]
    schedules: tuple[str, ...]
    columns: dict[str, IntArray]
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.columns["tp"])

    def layout(self, i: int) -> dict[str, Any]:
        """Row `i` as named degrees and options."""
        c = self.columns
        row: dict[str, Any] = {k: int(v[i]) for k, v in c.items() if k not in ("structure",)}
        row["schedule"] = self.schedules[row.pop("schedule")]
        row["recompute"] = RECOMPUTE[row["recompute"]]
        return row


def structure_error(
    model: ModelPreset, s: Structure, seq_len: int, gpu: str
) -> InvalidInput | None:
    """Why /memory would refuse this split of `model`, or None."""
    try:
        resolve(
            MemoryQuery(
                model=model.name,
                gpu=gpu,
                tp=s.tp,
                cp=s.cp,
                pp=s.pp,
                dp=s.dp,
                ep=s.ep,
                seq_len=seq_len,
            )
        )
    except InvalidInput as e:
        return e
    return None


def _ep_options(model: ModelPreset, dp: int, cp: int, max_ep: int) -> list[int]:
    if not model.is_moe:
        return [1]
    return [e for e in divisors(model.experts) if e <= max_ep and (dp * cp) % e == 0]


def structures(
    model: ModelPreset, c: Constraints, gpu: str
) -> tuple[list[Structure], list[Rejected]]:
    """Every (tp, cp, pp, dp, ep) whose product is the GPUs and that /memory accepts."""
    out, rejected = [], []
    for tp in divisors(c.gpus):
        if tp > c.max_tp:
            continue
        for cp in divisors(c.gpus // tp):
            if cp > c.max_cp:
                continue
            for pp in divisors(c.gpus // (tp * cp)):
                if pp > c.max_pp:
                    continue
                dp = c.gpus // (tp * cp * pp)
                for ep in _ep_options(model, dp, cp, c.max_ep):
                    s = Structure(tp, cp, pp, dp, ep)
                    why = structure_rule(model, s, c, gpu)
                    if why is None:
                        out.append(s)
                    else:
                        rejected.append(why)
    return out, rejected


def structure_rule(model: ModelPreset, s: Structure, c: Constraints, gpu: str) -> Rejected | None:
    layout = {"tp": s.tp, "cp": s.cp, "pp": s.pp, "dp": s.dp, "ep": s.ep}
    if s.tp > c.gpus_per_node:
        return Rejected(
            layout, "tp_across_nodes", "tp", f"tp = {s.tp} spans nodes of {c.gpus_per_node} GPUs"
        )
    if c.sequences % s.dp:
        return Rejected(
            layout,
            "global_batch",
            "dp",
            f"dp = {s.dp} does not divide the {c.sequences} sequences of the batch",
        )
    err = _cached_error(model, s, c.seq_len, gpu)
    if err is not None:
        return Rejected(layout, "divisibility", err[0], err[1])
    return None


@lru_cache(maxsize=4096)
def _cached_error(
    model: ModelPreset, s: Structure, seq_len: int, gpu: str
) -> tuple[str, str] | None:
    err = structure_error(model, s, seq_len, gpu)
    return None if err is None else (err.field, err.msg)


@lru_cache(maxsize=8192)
def schedule_error(schedule: str, p: int, m: int, v: int) -> str | None:
    """`check_sizes`' message for this schedule at p, m, v, or None when it runs."""
    try:
        check_sizes(SCHEDULES[schedule], p, m, v)
    except InvalidInput as e:
        return e.msg
    return None


def _pipelines(s: Structure, m: int, c: Constraints, layers: int) -> list[tuple[int, int]]:
    """(schedule index, chunks) options of a structure at m microbatches."""
    if s.pp == 1:
        return [(c.schedules.index(NO_PIPELINE), 1)]
    out = []
    for k, name in enumerate(c.schedules):
        if name == NO_PIPELINE:
            continue
        rule = SCHEDULES[name].chunks
        for v in range(rule.min, min(rule.max, c.max_chunks) + 1):
            if s.pp * v <= layers and schedule_error(name, s.pp, m, v) is None:
                out.append((k, v))
    return out


def _zero_options(s: Structure, c: Constraints) -> tuple[int, ...]:
    # ZeRO shards over dp·cp; with one replica every stage is the same layout as the first
    return c.zero if s.dp * s.cp > 1 else c.zero[:1]


def enumerate_space(model: ModelPreset, c: Constraints, gpu: str) -> Space:
    """Every candidate layout as columns (see the module docstring).

    For example Llama 3 8B on 8 GPUs (batch of 64 sequences, tp ≤ 8, no CP) has the
    structures (tp, pp, dp) = (1, 1, 8), (1, 2, 4), (2, 1, 4), …, each with its micro batches,
    schedules, ZeRO stages and recomputation.
    """
    found, rejected = structures(model, c, gpu)
    rows: list[tuple[int, ...]] = []
    for k, s in enumerate(found):
        per_replica = c.sequences // s.dp
        for mb in divisors(per_replica):
            if mb > c.max_micro_batch:
                break
            m = per_replica // mb
            if m > limit("pipeline_microbatches"):
                continue
            for sched, v in _pipelines(s, m, c, model.layers):
                rows.extend((k, mb, m, sched, v, z) for z in _zero_options(s, c))
    n_rec = len(c.recompute)
    if len(rows) * n_rec > limit("plan_candidates"):
        raise InvalidInput(
            "schedules",
            f"{len(rows) * n_rec:,} candidate layouts exceed plan_candidates "
            f"({limit('plan_candidates'):,}); narrow schedules, max_chunks, max_micro_batch, "
            "max_cp or max_pp",
        )
    base = np.array(rows, dtype=np.int64).reshape(-1, 6)
    base = np.repeat(base, n_rec, axis=0)
    rec_index = np.array([RECOMPUTE.index(r) for r in c.recompute], dtype=np.int64)
    rec = np.tile(rec_index, len(rows))
    st = base[:, 0]
    table = np.array([[s.tp, s.cp, s.pp, s.dp, s.ep] for s in found], dtype=np.int64).reshape(-1, 5)
    columns = {
        "structure": st,
        "tp": table[st, 0],
        "cp": table[st, 1],
        "pp": table[st, 2],
        "dp": table[st, 3],
        "ep": table[st, 4],
        "micro_batch": base[:, 1],
        "microbatches": base[:, 2],
        "schedule": base[:, 3],
        "chunks": base[:, 4],
        "zero": base[:, 5],
        "recompute": rec,
    }
    return Space(found, c.schedules, columns, rejected)
