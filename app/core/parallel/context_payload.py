"""The JSON body of GET /api/v1/context, as plain values and numpy arrays (see
`app.schemas.moe` for every field)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from app.core.parallel.context import SRC_RING, SRC_ULYSSES, SRC_ZIGZAG, Tiling, rank_blocks
from app.core.params import effective

if TYPE_CHECKING:
    from app.core.parallel.context import ContextResult

WORK_UNIT = "query–key pairs per sequence and head"


def _tiles(t: Tiling) -> list[dict[str, Any]]:
    cols = zip(
        t.rank.tolist(), t.step.tolist(), t.q_block.tolist(), t.k_block.tolist(),
        t.diagonal.tolist(), t.pairs.tolist(), strict=True,
    )  # fmt: skip
    return [
        {"rank": r, "step": s, "q_block": a, "k_block": b, "diagonal": d, "pairs": p}
        for r, s, a, b, d, p in cols
    ]


def _ring(t: Tiling) -> list[dict[str, Any]]:
    """Per step and rank: whose K/V block it holds (it received it from the rank before)."""
    blocks = rank_blocks(t.cp, t.placement).tolist()
    out = []
    for step in range(t.cp):
        for rank in range(t.cp):
            holder = (rank - step) % t.cp
            out.append({"step": step, "rank": rank, "kv_rank": holder, "kv_blocks": blocks[holder]})
    return out


def balance(t: Tiling) -> dict[str, Any]:
    """How evenly one placement spreads the work: makespan, idle share, busiest and idlest."""
    per_rank = t.work.sum(axis=0)
    makespan = t.makespan
    return {
        "placement": t.placement,
        "num_blocks": int(t.q_block.max() + 1) if t.q_block.size else t.cp,
        "makespan_pairs": makespan,
        "total_pairs": int(per_rank.sum()),
        "max_rank_pairs": int(per_rank.max()),
        "min_rank_pairs": int(per_rank.min()),
        "idle_fraction": 1 - float(per_rank.sum()) / (t.cp * makespan) if makespan else 0.0,
    }


def _per_rank(t: Tiling) -> list[dict[str, Any]]:
    work = t.work
    busy = work.sum(axis=0)
    idle = t.idle
    blocks = rank_blocks(t.cp, t.placement).tolist()
    tiles = np.bincount(t.rank, minlength=t.cp).tolist()
    return [
        {"rank": r, "q_blocks": blocks[r], "tiles": tiles[r], "pairs": int(busy[r]),
         "idle_pairs": int(idle[r]), "pairs_per_step": work[:, r].tolist()}
        for r in range(t.cp)
    ]  # fmt: skip


def context_payload(res: ContextResult) -> dict[str, Any]:
    """Every field of the response (see `app.schemas.moe.ContextResponse`)."""
    q, att, t = res.query, res.attention, res.tiling
    echo = effective(q)
    echo.update(
        model=att.model, heads=att.heads, kv_heads=att.kv_heads, head_dim=att.head_dim,
        dtype=att.dtype, gpu=att.gpu, gpus_per_node=att.gpus_per_node,
    )  # fmt: skip
    work = t.work
    blocks = rank_blocks(q.cp, q.placement).shape[1] * q.cp
    dense = q.seq_len * q.seq_len
    needed = q.seq_len * (q.seq_len + 1) // 2 if q.causal else dense
    sources = [SRC_RING, SRC_ULYSSES] + ([SRC_ZIGZAG] if q.placement == "zigzag" else [])
    return {
        "query": echo,
        "model": att.model, "model_title": att.model_title,
        "seq_len": q.seq_len, "cp": q.cp, "causal": q.causal, "placement": q.placement,
        "num_blocks": blocks, "block_tokens": t.block_tokens, "steps": q.cp,
        "q_blocks": rank_blocks(q.cp, q.placement),
        "tiles": _tiles(t),
        "ring": _ring(t),
        "step_pairs": work.max(axis=1),
        "per_rank": _per_rank(t),
        "work_unit": WORK_UNIT,
        "total_pairs": int(work.sum()), "needed_pairs": needed,
        "skipped_pairs": dense - needed, "dense_pairs": dense,
        **{k: v for k, v in balance(t).items() if k in ("makespan_pairs", "idle_fraction")},
        "balance": [balance(o) for o in res.others],
        "attention": {
            "heads": att.heads, "kv_heads": att.kv_heads, "head_dim": att.head_dim,
            "q_width": att.q_width, "kv_width": att.kv_width, "dtype": att.dtype,
            "dtype_bytes": att.dtype_bytes,
        },
        "volumes": res.volumes,
        "links": {
            kind: {"bandwidth": link.bandwidth, "latency": link.latency, "source": link.source}
            for kind, link in (("intra_node", att.links.intra_node), ("network", att.links.network))
        },
        "gpus_per_node": att.gpus_per_node, "nodes": att.place.nodes,
        "sources": sources,
        "notes": [
            "A step lasts as long as its busiest rank: the others wait for the next K/V block.",
            "Work counts query–key pairs; a diagonal tile under the causal mask is a triangle.",
            "Ring time is the K/V pass (cp − 1 ring steps of one block); Ulysses' is its two "
            "all-to-alls; both per layer, forward, on the collectives' alpha-beta model.",
        ],
    }  # fmt: skip
