"""What each rank's buffer looks like after every step, for drawing a collective.

A rank's buffer is drawn as cells: one per chunk (ring algorithms), one for the whole buffer
(tree, recursive doubling), or one per peer for all-to-all (cell j holds the block exchanged
with rank j: first the block the rank sends to j, then the block it received from j). A cell
shows `hue` (whose data: the chunk for reductions and gathers, the sending rank for
all-to-all; −1 empty) and `holds`, the number of ranks' contributions summed in it.

`replay` applies the transfers step by step, each reading the state at the step's start, and
records what every destination cell holds after its step, so a page only assigns values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.parallel.collective_cost import FloatArray, IntArray, Placement
from app.core.parallel.collective_steps import REDUCE, StepList


@dataclass(frozen=True, eq=False)
class View:
    cells: int
    full: int
    """`holds` of a complete cell: n for reductions, 1 for copies."""
    hue_of: str
    """What a cell's hue names: "chunk", or "sender" (all-to-all: the rank the block is from)."""
    x: FloatArray
    """Where to draw each rank, in the unit square (a circle, nodes apart; or a tree)."""
    y: FloatArray
    node: IntArray
    initial_hue: IntArray
    """(ranks, cells)."""
    initial_holds: IntArray
    src_cell: IntArray
    """Per transfer, the cell it leaves from and the cell it lands in."""
    dst_cell: IntArray
    hue: IntArray
    """Per transfer, the destination cell after the step."""
    holds: IntArray


def _cells(op: str, steps: StepList) -> tuple[int, IntArray, IntArray]:
    n = steps.ranks
    if op == "all_to_all":
        return n, steps.chunk % n, steps.chunk // n
    return steps.num_chunks, steps.chunk, steps.chunk


def _initial(op: str, n: int, cells: int, root: int) -> tuple[IntArray, IntArray]:
    idx = np.broadcast_to(np.arange(cells, dtype=np.int64), (n, cells))
    if op in ("all_reduce", "reduce_scatter"):
        return idx.copy(), np.ones((n, cells), dtype=np.int64)
    if op == "all_to_all":
        own = np.broadcast_to(np.arange(n, dtype=np.int64)[:, None], (n, cells))
        return own.copy(), np.ones((n, cells), dtype=np.int64)
    hue = np.full((n, cells), -1, dtype=np.int64)
    if op == "all_gather":
        owner = np.arange(n)
        hue[owner, owner] = owner
    else:  # broadcast: the root holds everything
        hue[root] = np.arange(cells)
    return hue, (hue >= 0).astype(np.int64)


def positions(layout: str, place: Placement, root: int) -> tuple[FloatArray, FloatArray]:
    """Ranks on a circle clockwise from the top, a gap between nodes; or a binary tree in heap
    order from `root` (depth down, children under their parent)."""
    n = place.ranks
    r = np.arange(n, dtype=np.int64)
    if layout == "tree":
        v = (r - root) % n
        depth = np.floor(np.log2(v + 1.0) + 1e-9).astype(np.int64)
        width = 2.0**depth
        levels = max(1, int(depth.max()))
        return (v - (width - 1) + 0.5) / width, depth / levels
    node = place.node_of(r)
    gap = 1.5 if place.spans_nodes else 0.0
    slot = r + gap * node
    angle = -np.pi / 2 + 2 * np.pi * slot / (n + gap * place.nodes)
    return 0.5 + 0.5 * np.cos(angle), 0.5 + 0.5 * np.sin(angle)


def replay(op: str, steps: StepList, root: int, layout: str, place: Placement) -> View:
    """Every cell's state after each step (see the module docstring)."""
    n = steps.ranks
    cells, src_cell, dst_cell = _cells(op, steps)
    hue0, holds0 = _initial(op, n, cells, root)
    hue, holds = hue0.copy(), holds0.copy()
    out_hue = np.empty(steps.size, dtype=np.int64)
    out_holds = np.empty(steps.size, dtype=np.int64)
    bounds = steps.offsets()
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        s, d = steps.src[a:b], steps.dst[a:b]
        sc, dc = src_cell[a:b], dst_cell[a:b]
        vals, hues = holds[s, sc], hue[s, sc]  # the state at the step's start
        red = steps.op[a:b] == REDUCE
        np.add.at(holds, (d[red], dc[red]), vals[red])
        cp = ~red
        holds[d[cp], dc[cp]] = vals[cp]
        hue[d[cp], dc[cp]] = hues[cp]
        out_holds[a:b] = holds[d, dc]
        out_hue[a:b] = hue[d, dc]
    x, y = positions(layout, place, root)
    full = n if op in ("all_reduce", "reduce_scatter") else 1
    node = place.node_of(np.arange(n, dtype=np.int64))
    hue_of = "sender" if op == "all_to_all" else "chunk"
    return View(
        cells, full, hue_of, x, y, node, hue0, holds0, src_cell, dst_cell, out_hue, out_holds
    )
