"""Benchmark: every collective algorithm's step list at 1,024 ranks (the step-list limit).

Measures, per algorithm (best of ROUNDS, in process; `*_cpu_ms` as process CPU time, less
sensitive to other load on a shared machine),
- `steps_ms`: building the explicit step list (numpy, uncached);
- `cost_ms`: the alpha-beta evaluation of every step (busiest rank per link);
- `view_ms`: the drawing replay (what every destination cell holds after its step);
- `transfers`: rows in the step list.
Plus the whole GET path for the biggest one (ring all-reduce, format=columns) through
compute_collective and the JSON encoder. Target (issue 10): step lists under 200 ms.
Prints one JSON line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import harness

from app.api.encoding import encode_json
from app.core.parallel import collective_steps as steps
from app.core.parallel.collective_algorithms import transfer_bytes
from app.core.parallel.collective_cost import Placement, evaluate
from app.core.parallel.collective_view import replay
from app.core.parallel.collectives import CollectiveQuery, compute_collective, resolve

N, LOCAL, ROUNDS = 1024, 8, 3
TARGET_MS = 200

CASES: dict[str, tuple[str, Callable[[], steps.StepList]]] = {
    "all_reduce/ring": ("all_reduce", lambda: steps.ring("all_reduce", N)),
    "all_reduce/hierarchical": ("all_reduce", lambda: steps.hierarchical("all_reduce", N, LOCAL)),
    "all_reduce/tree": ("all_reduce", lambda: steps.tree("all_reduce", N, 0)),
    "all_reduce/recursive_doubling": ("all_reduce", lambda: steps.recursive_doubling(N)),
    "all_gather/ring": ("all_gather", lambda: steps.ring("all_gather", N)),
    "reduce_scatter/hierarchical": (
        "reduce_scatter",
        lambda: steps.hierarchical("reduce_scatter", N, LOCAL),
    ),
    "broadcast/ring": ("broadcast", lambda: steps.pipelined_broadcast(N, N, 0)),
    "broadcast/tree": ("broadcast", lambda: steps.tree("broadcast", N, 0)),
    "all_to_all/direct": ("all_to_all", lambda: steps.all_to_all(N, pairwise=False)),
    "all_to_all/pairwise": ("all_to_all", lambda: steps.all_to_all(N, pairwise=True)),
}


def _best(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, best wall ms, best CPU ms) over ROUNDS calls."""
    wall = cpu = float("inf")
    out = None
    for _ in range(ROUNDS):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return out, round(wall * 1e3, 1), round(cpu * 1e3, 1)


def main() -> None:
    links = resolve(CollectiveQuery(ranks=N)).links
    place = Placement(N, LOCAL)
    figures: dict[str, dict[str, float]] = {}
    for name, (op, build) in CASES.items():
        st, steps_ms, steps_cpu = _best(build)
        nbytes = transfer_bytes(st, op, 1 << 30)
        _, cost_ms, cost_cpu = _best(lambda st=st, nb=nbytes: evaluate(st, place, nb, links))
        layout = "tree" if "tree" in name else "ring"
        _, view_ms, view_cpu = _best(lambda st=st, op=op, lay=layout: replay(op, st, 0, lay, place))
        figures[name] = {
            "transfers": st.size,
            "steps": st.num_steps,
            "steps_ms": steps_ms,
            "steps_cpu_ms": steps_cpu,
            "cost_ms": cost_ms,
            "cost_cpu_ms": cost_cpu,
            "view_ms": view_ms,
            "view_cpu_ms": view_cpu,
        }

    def whole_get() -> bytes:
        q = CollectiveQuery(ranks=N, format="columns", bytes=1 << 30)
        return encode_json(compute_collective(q).payload())

    body, get_ms, get_cpu = _best(whole_get)
    worst = max(f["steps_ms"] for f in figures.values())
    print(
        json.dumps(
            {
                "bench": "collectives",
                "load_average_1min": harness.load_average(),
                "ranks": N,
                "algorithms": figures,
                "worst_steps_ms": worst,
                "target_ms": TARGET_MS,
                "ring_all_reduce_columns_get": {
                    "ms": get_ms,
                    "cpu_ms": get_cpu,
                    "bytes": len(body),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
