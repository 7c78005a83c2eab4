"""The time of one training step: compute + exposed communication + pipeline bubble.

Pure: it takes costs in seconds and returns the decomposition; where the costs come from
(FLOPs over peak, collectives over links) is `app.core.parallel.communication`'s business,
so the throughput and planning views can reuse it with their own costs.

- Each virtual stage (p·v of them, model order) costs, per microbatch, `forward` and
  `backward` compute plus the communication of the same pass that is not hidden behind it
  (`exposed_forward`, `exposed_backward`: TP, CP and EP collectives inside the layers).
- The schedule is simulated (`app.core.parallel.pipeline.simulate_pipeline`) with these costs
  and the point-to-point latency `p2p`, which sits on the dependency path between stages.
  A stage's cost multiplier scales its forward and backward alike, so the simulator sees each
  stage's total exactly and the split between F and B as the average split.
- After the last backward each pipeline rank may still wait for communication that did not
  overlap (`after`: the data-parallel gradient reduction, parameter all-gathers).

The step ends when the slowest rank is done: step = makespan + after[r*] for the rank r* with
the largest total, and for that rank

    step_time = compute_time + exposed_communication_time + bubble_time

where the bubble is the part of the makespan that rank spends neither computing nor
communicating. For example 4 equal stages, 8 microbatches, F = 1 s, B = 2 s, nothing exposed:
1F1B takes (8 + 3) × 3 = 33 s, 24 s of compute and a 9 s bubble, (p − 1)(F + B).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import InvalidInput
from app.core.parallel.pipeline import simulate_pipeline


@dataclass(frozen=True)
class StageCost:
    """Seconds per microbatch through one virtual stage on one GPU."""

    forward: float
    backward: float
    exposed_forward: float = 0.0
    exposed_backward: float = 0.0

    @property
    def total(self) -> float:
        return self.forward + self.backward + self.exposed_forward + self.exposed_backward


@dataclass(frozen=True)
class StepInput:
    stages: tuple[StageCost, ...]
    """p·v virtual stages in model order (stage k·p + r lives on rank r)."""
    ranks: int
    chunks: int
    microbatches: int
    schedule: str
    p2p: float = 0.0
    after: tuple[float, ...] = ()
    """Per pipeline rank: exposed communication after its last backward (default none)."""


@dataclass(frozen=True)
class StepTime:
    step_time: float
    compute_time: float
    exposed_communication_time: float
    bubble_time: float
    makespan: float
    critical_rank: int
    """The pipeline rank whose compute, communication and bubble add up to the step (of the
    ranks that finish last, the busiest)."""
    bubble_fraction: float
    """Of the critical rank's step: bubble_time / step_time."""
    schedule: str


def _stage_rank(inp: StepInput) -> list[int]:
    return [s % inp.ranks for s in range(len(inp.stages))]


def step_time(inp: StepInput) -> StepTime:
    """Decompose one step (see the module docstring).

    For example ``step_time(StepInput((StageCost(1, 2),) * 4, 4, 1, 8, "1f1b")).bubble_time``
    is 9.0: (p − 1)(F + B).
    """
    p, v, m = inp.ranks, inp.chunks, inp.microbatches
    if len(inp.stages) != p * v:
        raise ValueError(f"{len(inp.stages)} stage costs for {p} ranks × {v} chunks")
    after = inp.after or (0.0,) * p
    stage_rank = _stage_rank(inp)
    if p == 1:
        makespan = m * sum(s.total for s in inp.stages)
    else:
        fwd = sum(s.forward + s.exposed_forward for s in inp.stages) / p
        bwd = sum(s.backward + s.exposed_backward for s in inp.stages) / p
        if fwd + bwd <= 0:
            raise InvalidInput("model", "the step has no compute to schedule")
        mult = [v * s.total / (fwd + bwd) for s in inp.stages]
        sim = simulate_pipeline(
            inp.schedule,
            p,
            m,
            chunks=v,
            forward=fwd,
            backward_input=bwd / 2,
            backward_weight=bwd / 2,
            p2p=inp.p2p,
            stage_costs=mult,
        )
        makespan = sim.makespan
        stage_rank = list(sim.stage_to_rank)
    compute = [0.0] * p
    exposed = [0.0] * p
    for cost, rank in zip(inp.stages, stage_rank, strict=True):
        compute[rank] += m * (cost.forward + cost.backward)
        exposed[rank] += m * (cost.exposed_forward + cost.exposed_backward)
    totals = [makespan + a for a in after]
    # ties (every rank ends with the makespan) go to the busiest rank: its step has the least
    # bubble, so its bill is the one that sets the pace
    r = max(range(p), key=lambda k: (totals[k], compute[k] + exposed[k], -k))
    bubble = max(0.0, makespan - compute[r] - exposed[r])
    step = totals[r]
    return StepTime(
        step_time=step,
        compute_time=compute[r],
        exposed_communication_time=exposed[r] + after[r],
        bubble_time=bubble,
        makespan=makespan,
        critical_rank=r,
        bubble_fraction=bubble / step if step > 0 else 0.0,
        schedule=inp.schedule if p > 1 else "none",
    )
