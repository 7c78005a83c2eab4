"""Why the winner is not one step bigger or smaller: its neighbours that cannot run.

A neighbour changes one choice of the winning layout — tp, pp or cp doubled or halved (dp
making up the GPUs), one ZeRO stage less, one recomputation level less, the micro batch
doubled — and is checked by the same rules as every candidate: TP inside a node, the global
batch shared evenly, /memory's divisibility rules, the schedule's size rules, and memory. Only
neighbours that fail are reported, each with its reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.parallel.memory_report import MemoryReport
from app.core.parallel.pipeline_schedules import SCHEDULES
from app.core.planning.plan_search import fits_with_room, shortfall
from app.core.planning.plan_space import (
    NO_PIPELINE,
    RECOMPUTE,
    Rejected,
    Space,
    Structure,
    schedule_error,
    structure_rule,
)

if TYPE_CHECKING:
    from app.core.planning.plan_search import Memory, Priced
    from app.core.planning.planner import PlanSetup


def _scaled(row: dict[str, Any], axis: str, factor: float) -> dict[str, Any] | None:
    """`row` with `axis` × factor and another degree ÷ factor so the GPUs stay (dp first,
    else pp, else cp), or None if no degree can give it up."""
    new_axis = row[axis] * factor
    if new_axis < 1 or not new_axis.is_integer():
        return None
    for other in ("dp", "pp", "cp"):
        rest = row[other] / factor
        if other != axis and rest >= 1 and rest.is_integer():
            return row | {axis: int(new_axis), other: int(rest)}
    return None


def _changes(row: dict[str, Any]) -> list[tuple[str, dict[str, Any] | None]]:
    out = [
        (f"{a} × {f}" if f > 1 else f"{a} ÷ 2", _scaled(row, a, f))
        for a in ("tp", "pp", "cp")
        for f in (2.0, 0.5)
    ]
    if row["zero"] > 0:
        out.append(("zero − 1", row | {"zero": row["zero"] - 1}))
    r = RECOMPUTE.index(row["recompute"])
    if r > 0:
        out.append((f"recompute {RECOMPUTE[r - 1]}", row | {"recompute": RECOMPUTE[r - 1]}))
    out.append(("micro batch × 2", row | {"micro_batch": row["micro_batch"] * 2}))
    return out


def _fix_pipeline(row: dict[str, Any], sequences: int) -> dict[str, Any] | None:
    """Microbatches from the batch, and a schedule that exists at this pp."""
    per = row["dp"] * row["micro_batch"]
    if sequences % per:
        return None
    row = row | {"microbatches": sequences // per}
    if row["pp"] == 1:
        return row | {"schedule": NO_PIPELINE, "chunks": 1}
    if row["schedule"] == NO_PIPELINE:
        return row | {"schedule": "1f1b", "chunks": 1}
    return row


def _rule(setup: PlanSetup, row: dict[str, Any], label: str) -> Rejected | None:
    """The first rule `row` breaks, before memory."""
    c = setup.constraints
    s = Structure(row["tp"], row["cp"], row["pp"], row["dp"], row["ep"])
    why = structure_rule(setup.model, s, c, setup.gpu.name)
    if why is not None:
        return Rejected(row, why.reason, why.field, f"{label}: {why.detail}")
    fixed = _fix_pipeline(row, c.sequences)
    if fixed is None:
        return Rejected(
            row,
            "global_batch",
            "micro_batch",
            f"{label}: dp × micro batch does not divide the {c.sequences} sequences",
        )
    if fixed["pp"] > 1:
        v = fixed["chunks"]
        if fixed["pp"] * v > setup.model.layers:
            return Rejected(
                fixed,
                "divisibility",
                "pp",
                f"{label}: pp·chunks = {fixed['pp'] * v} exceeds the {setup.model.layers} layers",
            )
        err = schedule_error(fixed["schedule"], fixed["pp"], fixed["microbatches"], v)
        if err is not None:
            name = SCHEDULES[fixed["schedule"]].label
            return Rejected(fixed, "schedule", "schedules", f"{label}: {name}: {err}")
    return None


def neighbours(setup: PlanSetup, space: Space, best: Priced, memory: Memory) -> list[Rejected]:
    """The winner's one-change neighbours that cannot run, with the reason each cannot."""
    out = []
    for label, row in _changes(best.row):
        if row is None:
            continue
        broken = _rule(setup, row, label)
        if broken is not None:
            out.append(broken)
            continue
        fixed = _fix_pipeline(row, setup.constraints.sequences)
        assert fixed is not None  # _rule checked it
        rep = memory.report(fixed)
        if isinstance(rep, MemoryReport) and not fits_with_room(rep):
            out.append(Rejected(fixed, "memory", label.split()[0], f"{label}: {shortfall(rep)}"))
    return out
