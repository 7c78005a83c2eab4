"""The planner's walk: candidates fastest first, checked against memory, and the finalists
priced exactly (see `planner`'s docstring for the order of things)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.parallel.communication import (
    CommunicationQuery,
    CommunicationResult,
    compute_communication,
)
from app.core.parallel.memory_query import MemoryQuery
from app.core.parallel.memory_report import MemoryReport, memory_report
from app.core.planning.plan_space import LAYOUT_KEYS, NO_PIPELINE, RECOMPUTE, Space

if TYPE_CHECKING:
    from app.core.planning.planner import PlanSetup

MEMORY_FIELDS = {f.name for f in fields(MemoryQuery)}
COMMUNICATION_FIELDS = {f.name for f in fields(CommunicationQuery)}


def memory_query(setup: PlanSetup, row: dict[str, Any]) -> MemoryQuery:
    """The /memory query of one layout (sequence parallelism on wherever tp > 1)."""
    values = {f.name: getattr(setup.base, f.name) for f in fields(MemoryQuery)}
    values |= {k: row[k] for k in LAYOUT_KEYS}
    values["sequence_parallel"] = row["tp"] > 1
    if "schedule" in MEMORY_FIELDS and row["schedule"] != NO_PIPELINE:
        values["schedule"] = row["schedule"]  # memory that knows the schedule's activations
    return MemoryQuery(**values)


def communication_query(setup: PlanSetup, mq: MemoryQuery, schedule: str) -> CommunicationQuery:
    q = setup.query
    values = {f.name: getattr(mq, f.name) for f in fields(MemoryQuery)}
    links = {
        n: getattr(q, n)
        for n in (
            "gpus_per_node",
            "nvls",
            "bandwidth",
            "latency",
            "network_bandwidth",
            "network_latency",
        )
    }
    values |= links | {"compute_dtype": q.compute_dtype, "compute_efficiency": q.compute_efficiency}
    values["schedule"] = None if schedule == NO_PIPELINE else schedule
    return CommunicationQuery(**{k: v for k, v in values.items() if k in COMMUNICATION_FIELDS})


def fits_with_room(report: MemoryReport | InvalidInput | None) -> TypeGuard[MemoryReport]:
    """/memory's verdict is "fits": the total leaves its overhead free (not "tight")."""
    return isinstance(report, MemoryReport) and report.verdict == "fits"


def shortfall(report: MemoryReport) -> str:
    """Why a report does not fit, e.g. "needs 97.5 GB of 85.9 GB per GPU"."""
    need, cap = report.total / 1e9, report.capacity / 1e9
    text = f"needs {need:.1f} GB of {cap:.1f} GB per GPU"
    if report.fits:  # within capacity but not its overhead
        text += f", leaving less than {report.overhead / 1e9:.0f} GB free"
    return text


class Memory:
    """/memory's verdicts, each asked once per distinct query."""

    def __init__(self, setup: PlanSetup, budget: int) -> None:
        self.setup = setup
        self.budget = budget
        self.asked = 0
        self._cache: dict[MemoryQuery, MemoryReport | InvalidInput] = {}

    def report(self, row: dict[str, Any]) -> MemoryReport | InvalidInput | None:
        """The report (or the model's refusal) of `row`; None once the budget is spent."""
        mq = memory_query(self.setup, row)
        if mq not in self._cache:
            if self.asked >= self.budget:
                return None
            self.asked += 1
            try:
                self._cache[mq] = memory_report(mq, formulas=False)
            except InvalidInput as e:
                self._cache[mq] = e
        return self._cache[mq]


@dataclass
class Walk:
    fits: list[int] = field(default_factory=list)
    reports: dict[int, MemoryReport] = field(default_factory=dict)
    over: list[tuple[int, MemoryReport]] = field(default_factory=list)
    pruned: int = 0
    tied: int = 0
    exhausted: bool = False


def _group(space: Space, i: int) -> tuple[int, ...]:
    c = space.columns
    return tuple(int(c[k][i]) for k in ("structure", "schedule", "chunks"))


def _leanest(space: Space, i: int) -> dict[str, Any]:
    """The layout of `i`'s structure that keeps the least: micro batch 1, the most ZeRO and
    recomputation allowed, and 1F1B (no schedule keeps fewer microbatches in flight)."""
    c = space.columns
    row = space.layout(i) | {
        "micro_batch": 1,
        "zero": int(c["zero"].max()),
        "recompute": RECOMPUTE[int(c["recompute"].max())],
    }
    per_replica = row["microbatches"] * space.layout(i)["micro_batch"]
    row["microbatches"] = per_replica
    if row["pp"] > 1:
        row |= {"schedule": "1f1b", "chunks": 1}
    return row


def walk(
    space: Space,
    order: npt.NDArray[np.int64],
    estimate: npt.NDArray[np.float64],
    memory: Memory,
    needed: int,
) -> Walk:
    """Candidates in `order` until `needed` fit (see the planner's step 3).

    A failure at (micro batch b, ZeRO z, recomputation r) rules out, in the same structure,
    schedule and chunks, every (b' ≥ b, z' ≤ z, r' ≤ r): they keep at least as much. A
    structure's first candidate asks about its leanest layout first; if even that does not fit,
    the whole structure is out.
    """
    out = Walk()
    taken: set[tuple[Any, ...]] = set()
    failed: dict[tuple[int, ...], list[tuple[int, int, int]]] = {}
    hopeless: set[int] = set()
    viable: set[int] = set()
    mbs, zero, rec = (space.columns[k] for k in ("micro_batch", "zero", "recompute"))
    structure = space.columns["structure"]
    for i in (int(x) for x in order):
        g, b, z, r = _group(space, i), int(mbs[i]), int(zero[i]), int(rec[i])
        k = int(structure[i])
        if k not in viable and k not in hopeless:
            lean = memory.report(_leanest(space, i))
            if lean is None:
                out.exhausted = True
                break
            fits = fits_with_room(lean)
            (viable if fits else hopeless).add(k)
        if k in hopeless or any(
            b >= fb and z <= fz and r <= fr for fb, fz, fr in failed.get(g, ())
        ):
            out.pruned += 1
            continue
        tie = (g, b, r, float(estimate[i]))
        if tie in taken:
            out.tied += 1
            continue
        report = memory.report(space.layout(i))
        if report is None:
            out.exhausted = True
            break
        if fits_with_room(report):
            out.fits.append(i)
            out.reports[i] = report
            taken.add(tie)
            if len(out.fits) >= needed:
                break
            continue
        failed.setdefault(g, []).append((b, z, r))
        if isinstance(report, MemoryReport):
            out.over.append((i, report))
    return out


def leaner_variants(space: Space, i: int) -> list[int]:
    """Candidates of `i`'s group that keep less: a higher ZeRO stage or more recomputation."""
    c = space.columns
    same = np.ones(space.size, dtype=bool)
    for k in ("structure", "micro_batch", "schedule", "chunks"):
        same &= c[k] == c[k][i]  # a leaner variant of the same layout
    z, r = c["zero"], c["recompute"]
    leaner = same & (z >= z[i]) & (r >= r[i])
    if not leaner.any():
        return []
    # the corners: most ZeRO, most recomputation, and both (they span the memory saved)
    corner = ((z == z[leaner].max()) | (z == z[i])) & ((r == r[leaner].max()) | (r == r[i]))
    return [int(j) for j in np.flatnonzero(leaner & corner) if j != i]


MARGIN = 0.03
"""A layout whose estimate is within this of the best exact step is priced exactly too."""


@dataclass(frozen=True)
class Estimate:
    compute: float
    exposed: float
    bubble: float
    step: float


@dataclass(frozen=True)
class Priced:
    """A layout that fits: its memory, its estimate and, for the finalists, its exact step."""

    index: int
    row: dict[str, Any]
    memory: MemoryReport
    memory_query: MemoryQuery
    estimate: Estimate
    result: CommunicationResult | None = None

    @property
    def exact(self) -> bool:
        return self.result is not None

    @property
    def step_time(self) -> float:
        return self.result.step.step_time if self.result is not None else self.estimate.step

    def parts(self) -> tuple[float, float, float]:
        """Compute, exposed communication and bubble (exact where priced)."""
        if self.result is not None:
            st = self.result.step
            return st.compute_time, st.exposed_communication_time, st.bubble_time
        e = self.estimate
        return e.compute, e.exposed, e.bubble


def _estimate(estimates: dict[str, npt.NDArray[np.float64]], i: int) -> Estimate:
    return Estimate(*(float(estimates[k][i]) for k in ("compute", "exposed", "bubble", "step")))


def finalists(
    setup: PlanSetup,
    space: Space,
    found: Walk,
    memory: Memory,
    estimates: dict[str, npt.NDArray[np.float64]],
) -> list[Priced]:
    """Every layout that fit, plus the leaner variants of the best two; priced exactly where
    it is cheap (no pipeline) or could still win (an estimate within MARGIN of the best exact
    step), at most plan_finalists simulations, fastest estimate first."""
    reports = dict(found.reports)
    chosen = list(found.fits)
    for i in found.fits[:2]:
        for j in leaner_variants(space, i):
            if j not in reports:
                rep = memory.report(space.layout(j))
                if fits_with_room(rep):
                    chosen.append(j)
                    reports[j] = rep
    chosen.sort(key=lambda i: (estimates["step"][i], i))
    out, best, simulated = [], float("inf"), 0
    for i in chosen:
        row = space.layout(i)
        mq = memory_query(setup, row)
        p = Priced(i, row, reports[i], mq, _estimate(estimates, i))
        cheap = row["pp"] == 1
        if cheap or (
            p.estimate.step <= best * (1 + MARGIN) and simulated < limit("plan_finalists")
        ):
            result = compute_communication(communication_query(setup, mq, row["schedule"]))
            p = replace(p, result=result)
            simulated += not cheap
            best = min(best, p.step_time)
        out.append(p)
    return out


def recompute_index(name: str) -> int:
    return RECOMPUTE.index(name)
