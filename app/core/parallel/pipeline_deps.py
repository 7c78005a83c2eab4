"""Which op waits for which: the data dependencies of a pipeline, declared once.

Every schedule obeys the same rules; only the per-rank order differs. `RULES` states them,
`dependency_edges` applies them to a list of ops (giving each op the indices of the ops it
waits for), the simulator times the ops from those edges, and the API sends both the rules
and the edges, so no client re-derives them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.core.parallel.pipeline_orders import KIND_NAMES

MAX_WAITS = 2  # no op waits for more than two others (a backward: its forward and the next grad)


@dataclass(frozen=True)
class DependencyRule:
    """Ops of kind `waiting` on stage s wait for the `awaited` op of stage s + `stage_offset`.

    `awaited` lists the kinds that can play the part (a schedule runs B or I, not both); a
    stage outside 0..stages−1 means there is nothing to wait for.
    """

    waiting: tuple[str, ...]
    awaited: tuple[str, ...]
    stage_offset: int
    reason: str


RULES = (
    DependencyRule(
        ("F",), ("F",), -1, "a forward needs the previous stage's output for its microbatch"
    ),
    DependencyRule(
        ("B", "I"), ("F",), 0, "a backward needs its own stage's forward (the stored activations)"
    ),
    DependencyRule(
        ("B", "I"),
        ("B", "I"),
        +1,
        "a backward needs the gradient of the next stage's input (from its B or I)",
    ),
    DependencyRule(
        ("W",), ("I",), 0, "a weight gradient needs the output gradient its I pass received"
    ),
)

IntArray = npt.NDArray[np.int64]


class MissingOp(ValueError):
    """An op waits for one that no rank runs: the orders do not form a whole schedule."""


def _codes(kinds: tuple[str, ...]) -> list[int]:
    return [KIND_NAMES.index(k) for k in kinds]


def dependency_edges(
    kind: IntArray, stage: IntArray, microbatch: IntArray, num_stages: int, microbatches: int
) -> IntArray:
    """For n ops, an (n, MAX_WAITS) array of the op indices each waits for, −1 padding.

    For example GPipe with 2 stages, 1 microbatch, ops [F0@s0, F0@s1, B0@s1, B0@s0] gives
    ``[[-1, -1], [0, -1], [1, -1], [0, 2]]``: the last backward waits for its forward and
    for the backward of stage 1.
    """
    n = len(kind)
    waits = np.full((n, MAX_WAITS), -1, dtype=np.int64)
    filled = np.zeros(n, dtype=np.int64)
    key = stage * microbatches + microbatch
    for rule in RULES:
        awaited = np.isin(kind, _codes(rule.awaited))
        where = np.full(num_stages * microbatches, -1, dtype=np.int64)
        where[key[awaited]] = np.flatnonzero(awaited)
        target = stage + rule.stage_offset
        ops = np.flatnonzero(
            np.isin(kind, _codes(rule.waiting)) & (target >= 0) & (target < num_stages)
        )
        found = where[target[ops] * microbatches + microbatch[ops]]
        if (found < 0).any():
            i = int(ops[np.argmax(found < 0)])
            raise MissingOp(
                f"{KIND_NAMES[kind[i]]}(stage {stage[i]}, microbatch {microbatch[i]}) waits for "
                f"{'/'.join(rule.awaited)}(stage {target[i]}), which no rank runs"
            )
        waits[ops, filled[ops]] = found
        filled[ops] += 1
    return waits
