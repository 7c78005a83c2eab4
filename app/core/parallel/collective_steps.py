"""Collective algorithms as explicit steps of point-to-point transfers.

A step list is a table of transfers, one row each: the step it belongs to, `src`, `dst`, the
`chunk` it carries and its `op`: "reduce" adds the source's chunk into the destination's,
"copy" overwrites it. The transfers of one step happen at the same time, each reading the
state as it was when the step began (so two ranks may swap partial sums in one step, as
recursive doubling does). Rows are sorted by step.

Chunks: ring algorithms split the buffer into n chunks, chunk c ending on (reduce-scatter) or
starting from (all-gather) rank c; the pipelined broadcast uses `chunks` pieces; tree and
recursive doubling move the whole buffer as chunk 0; all-to-all numbers the block rank r sends
to rank d as chunk r·n + d.

For example the ring all-reduce on 4 ranks has 6 steps of 4 transfers: step 0 is
0→1 chunk 3, 1→2 chunk 0, 2→3 chunk 1, 3→0 chunk 2 (reduce); after step 2 rank c holds chunk
c fully reduced and steps 3–5 copy it around the ring (Patarasuk & Yuan 2009; nccl-tests
PERFORMANCE.md).

Everything is built with numpy on whole arrays: 1,024 ranks (2 million transfers) in tens of
milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

COPY, REDUCE = 0, 1
OP_NAMES = ("copy", "reduce")


@dataclass(frozen=True, eq=False)
class StepList:
    """Transfers in step order, as parallel columns (see the module docstring)."""

    ranks: int
    num_chunks: int
    num_steps: int
    step: IntArray
    src: IntArray
    dst: IntArray
    chunk: IntArray
    op: IntArray

    @property
    def size(self) -> int:
        return int(self.step.shape[0])

    def offsets(self) -> IntArray:
        """Index of each step's first transfer, and the total at the end (num_steps + 1)."""
        return np.searchsorted(self.step, np.arange(self.num_steps + 1)).astype(np.int64)


def _empty() -> IntArray:
    return np.zeros(0, dtype=np.int64)


def _join(ranks: int, num_chunks: int, parts: list[tuple[IntArray, ...]]) -> StepList:
    """Concatenate (step, src, dst, chunk, op) blocks already in step order."""
    cols = [np.concatenate([p[i] for p in parts]) if parts else _empty() for i in range(5)]
    step = cols[0]
    num_steps = int(step.max()) + 1 if step.size else 0
    return StepList(ranks, num_chunks, num_steps, step, cols[1], cols[2], cols[3], cols[4])


def _ring_phase(
    members: IntArray, blocks: IntArray, reduce: bool, step0: int
) -> tuple[tuple[IntArray, ...], int]:
    """Rings run side by side: `members` (R rings × m positions), `blocks` (R × m × q chunks).

    Reduce-scatter: at step k position i adds block (i − k − 1) mod m into position i + 1,
    so after m − 1 steps position i holds block i summed over the ring. All-gather: position
    i copies block (i − k) mod m to position i + 1, starting from its own block i.
    """
    rings, m = members.shape
    q = blocks.shape[2]
    if m < 2:
        return tuple(_empty() for _ in range(5)), step0
    k = np.arange(m - 1)[:, None, None]
    i = np.arange(m)[None, None, :]
    b = (i - k - 1) % m if reduce else (i - k) % m  # (m−1, 1, m)
    shape = (m - 1, rings, m, q)
    # blocks[r, b[k, 0, i], :] for every (k, r, i)
    chunk = blocks[np.arange(rings)[None, :, None], b]
    src = np.broadcast_to(members[None, :, :, None], shape)
    dst = np.broadcast_to(np.roll(members, -1, axis=1)[None, :, :, None], shape)
    step = np.broadcast_to(step0 + k[..., None], shape)
    op = np.full(shape, REDUCE if reduce else COPY, dtype=np.int64)
    cols = tuple(np.ascontiguousarray(a).reshape(-1) for a in (step, src, dst, chunk, op))
    return cols, step0 + m - 1


def _flat_ring(n: int) -> tuple[IntArray, IntArray]:
    return np.arange(n, dtype=np.int64)[None, :], np.arange(n, dtype=np.int64)[None, :, None]


def _intra_rings(n: int, g: int) -> tuple[IntArray, IntArray]:
    """Rings inside each node (N = n/g of them); block j is every chunk c with c mod g = j."""
    nodes = n // g
    members = np.arange(n, dtype=np.int64).reshape(nodes, g)
    block = (np.arange(nodes)[None, :] * g + np.arange(g)[:, None]).astype(np.int64)  # (g, N)
    return members, np.broadcast_to(block, (nodes, g, nodes))


def _inter_rings(n: int, g: int) -> tuple[IntArray, IntArray]:
    """Rings across nodes, one per local rank i; block j is chunk j·g + i (owned by node j)."""
    members = np.arange(n, dtype=np.int64).reshape(n // g, g).T.copy()  # (g, N)
    return members, members[:, :, None]


def ring(op: str, n: int) -> StepList:
    """Ring reduce-scatter, all-gather, or all-reduce (reduce-scatter then all-gather)."""
    members, blocks = _flat_ring(n)
    parts = []
    s = 0
    if op in ("reduce_scatter", "all_reduce"):
        cols, s = _ring_phase(members, blocks, True, s)
        parts.append(cols)
    if op in ("all_gather", "all_reduce"):
        cols, s = _ring_phase(members, blocks, False, s)
        parts.append(cols)
    return _join(n, n, parts)


def hierarchical(op: str, n: int, g: int) -> StepList:
    """Two-level rings for a group of N = n/g nodes with g ranks each (rank = node·g + local).

    Reduce-scatter: inside each node over super-blocks of n/g chunks, then across nodes
    between ranks of the same local index; all-gather the reverse; all-reduce both, so the
    network carries 2(N − 1)/n of the buffer per GPU instead of 2(n − 1)/n.
    """
    intra = _intra_rings(n, g)
    inter = _inter_rings(n, g)
    phases: list[tuple[tuple[IntArray, IntArray], bool]] = []
    if op in ("reduce_scatter", "all_reduce"):
        phases += [(intra, True), (inter, True)]
    if op in ("all_gather", "all_reduce"):
        phases += [(inter, False), (intra, False)]
    parts = []
    s = 0
    for (members, blocks), reduce in phases:
        cols, s = _ring_phase(members, blocks, reduce, s)
        parts.append(cols)
    return _join(n, n, parts)


def pipelined_broadcast(n: int, chunks: int, root: int) -> StepList:
    """A chain root → root+1 → … carrying `chunks` pieces: piece c crosses link j at step c + j."""
    c, j = np.meshgrid(np.arange(chunks), np.arange(n - 1), indexing="ij")
    step = (c + j).reshape(-1)
    order = np.argsort(step, kind="stable")
    chain = (root + np.arange(n)) % n
    jj = j.reshape(-1)[order]
    cols = (
        step[order].astype(np.int64),
        chain[jj].astype(np.int64),
        chain[jj + 1].astype(np.int64),
        c.reshape(-1)[order].astype(np.int64),
        np.full(order.shape, COPY, dtype=np.int64),
    )
    return _join(n, chunks, [cols])


def _depth(v: IntArray) -> IntArray:
    """Depth of heap node v in a binary tree rooted at 0: floor(log2(v + 1))."""
    return (np.floor(np.log2(v + 1.0) + 1e-9)).astype(np.int64)


def _whole(step: int, src: IntArray, dst: IntArray, op: int) -> tuple[IntArray, ...]:
    """One step of transfers of the whole buffer (chunk 0)."""
    src = np.asarray(src, dtype=np.int64)
    return (
        np.full(src.shape, step, dtype=np.int64),
        src,
        np.asarray(dst, dtype=np.int64),
        np.zeros(src.shape, dtype=np.int64),
        np.full(src.shape, op, dtype=np.int64),
    )


def tree(op: str, n: int, root: int) -> StepList:
    """Binary tree (heap order from `root`): broadcast down, or all-reduce = reduce up + down.

    Level-synchronous: a reduce step sends every node of one depth to its parent (both
    children add into the parent at once), a broadcast step copies one depth to the next.
    """
    v = np.arange(1, n, dtype=np.int64)  # every non-root node, virtual numbering
    parent = (v - 1) // 2
    depth = _depth(v)
    levels = int(depth.max()) if v.size else 0
    parts = []
    if op == "all_reduce":
        for j in range(levels):
            at = depth == levels - j
            parts.append(_whole(j, (v[at] + root) % n, (parent[at] + root) % n, REDUCE))
    first = len(parts)
    for d in range(1, levels + 1):
        at = depth == d
        parts.append(_whole(first + d - 1, (parent[at] + root) % n, (v[at] + root) % n, COPY))
    return _join(n, 1, parts)


def recursive_doubling(n: int) -> StepList:
    """Recursive-doubling all-reduce of the whole buffer (Thakur et al. 2005, MPICH).

    With p the largest power of two ≤ n and r = n − p: first each even rank below 2r adds its
    buffer into the odd rank above it; the p remaining ranks exchange and add with the partner
    at distance 1, 2, 4, … (both directions in one step); last the odd ranks copy the result
    back to their even neighbours.
    """
    p = 1 << (n.bit_length() - 1)
    rem = n - p
    evens = np.arange(0, 2 * rem, 2, dtype=np.int64)
    # the p ranks that take part, indexed by their virtual rank
    active = np.concatenate([evens + 1, np.arange(2 * rem, n, dtype=np.int64)])
    parts = []
    if rem:
        parts.append(_whole(0, evens, evens + 1, REDUCE))
    vr = np.arange(p, dtype=np.int64)
    mask = 1
    while mask < p:
        parts.append(_whole(len(parts), active[vr], active[vr ^ mask], REDUCE))
        mask <<= 1
    if rem:
        parts.append(_whole(len(parts), evens + 1, evens, COPY))
    return _join(n, 1, parts)


def all_to_all(n: int, pairwise: bool) -> StepList:
    """Every rank r sends block r·n + d to every other rank d: all at once (direct), or in
    n − 1 steps where step k − 1 sends r → (r + k) mod n (pairwise exchange)."""
    r, k = np.meshgrid(np.arange(n), np.arange(1, n), indexing="ij")
    d = (r + k) % n
    if pairwise:
        step = (k - 1).T.reshape(-1)
        src, dst = r.T.reshape(-1), d.T.reshape(-1)
    else:
        step = np.zeros(r.size, dtype=np.int64)
        src, dst = r.reshape(-1), d.reshape(-1)
    cols = (
        step.astype(np.int64),
        src.astype(np.int64),
        dst.astype(np.int64),
        (src * n + dst).astype(np.int64),
        np.full(src.shape, COPY, dtype=np.int64),
    )
    return _join(n, n * n, [cols])
