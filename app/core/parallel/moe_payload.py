"""The JSON body of GET /api/v1/moe, as plain values and numpy arrays (see
`app.schemas.moe` for every field)."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.core.limits import limit
from app.core.parallel.moe import (
    SRC_CAPACITY,
    SRC_EXPERT_CHOICE,
    SRC_NODE_LIMITED,
    SRC_SHARED,
    MoeResult,
    token_bytes,
)
from app.core.parallel.moe_dispatch import Exchange
from app.core.params import effective

# Slider ranges the page offers (display choices; the API accepts anything within the limits).
CAPACITY_FACTOR_RANGE = {"min": 0.25, "max": 4.0, "step": 0.05}
SKEW_RANGE = {"min": 0.0, "max": 4.0, "step": 0.1}
TOP_K_SLIDER_MAX = 16


def _doubling(start: int, stop: int, current: int) -> list[int]:
    """start, 2·start, 4·start ... up to stop, with `current` among them."""
    out, v = {current}, start
    while v <= stop:
        out.add(v)
        v *= 2
    return sorted(out)


def controls(res: MoeResult) -> dict[str, Any]:
    """Values each slider can take for this query (every one of them a valid request)."""
    q, lay = res.query, res.layer
    cells = limit("moe_router_cells")
    ep_max = min(limit("moe_ep"), lay.experts)
    return {
        "experts": [
            e
            for e in _doubling(q.ep, limit("moe_experts"), lay.experts)
            if e >= lay.top_k and q.tokens * e <= cells
        ],
        "top_k": {"min": 1, "max": min(lay.experts, max(TOP_K_SLIDER_MAX, lay.top_k)), "step": 1},
        "ep": [d for d in range(1, ep_max + 1) if lay.experts % d == 0 and q.tokens % d == 0],
        "tokens": [
            t for t in _doubling(q.ep, limit("moe_tokens"), q.tokens) if t * lay.experts <= cells
        ],
        "capacity_factor": CAPACITY_FACTOR_RANGE,
        "skew": SKEW_RANGE,
    }


def _exchange(x: Exchange) -> dict[str, Any]:
    return {
        "time": x.time,
        "intra_node_bytes": x.intra_node_bytes,
        "network_bytes": x.network_bytes,
        "steps": [
            {"label": s.label, "link": s.link, "time": s.time, "bytes": s.bytes} for s in x.steps
        ],
    }


def _routes(res: MoeResult) -> dict[str, Any] | None:
    if not res.query.routes or res.routed.expert.size > limit("moe_routes"):
        return None
    r, q = res.routed, res.query
    return {
        "token_rank": np.arange(q.tokens) // (q.tokens // q.ep),
        "token": r.token, "src": res.src, "dst": res.dst, "expert": r.expert, "choice": r.choice,
        "kept": r.kept, "slot": r.slot, "gate": np.round(r.gate, 6),
    }  # fmt: skip


def _sources(res: MoeResult) -> list[dict[str, str]]:
    q = res.query
    out = [{"rule": "capacity", "source": SRC_CAPACITY}]
    if q.routing == "expert_choice":
        out.append({"rule": "expert_choice", "source": SRC_EXPERT_CHOICE})
    if q.max_nodes is not None:
        out.append({"rule": "max_nodes", "source": SRC_NODE_LIMITED})
    if res.layer.shared_experts:
        out.append({"rule": "shared_experts", "source": SRC_SHARED})
    return out


def _loads(res: MoeResult) -> dict[str, Any]:
    r, lay, q = res.routed, res.layer, res.query
    kept_per_expert = np.bincount(r.expert[r.kept], minlength=lay.experts)
    rank_load = res.dispatch_tokens.sum(axis=0)
    mean_rank = rank_load.sum() / q.ep
    mean_expert = r.expert_load.sum() / lay.experts
    per_token = np.bincount(r.token[r.kept], minlength=q.tokens)
    return {
        "expert_load": r.expert_load,
        "expert_kept": kept_per_expert,
        "expert_dropped": r.expert_load - kept_per_expert,
        "expert_rank": np.arange(lay.experts) // lay.experts_per_rank,
        "expert_imbalance": float(r.expert_load.max() / mean_expert) if mean_expert else 1.0,
        "rank_load": rank_load,
        "imbalance": float(rank_load.max() / mean_rank) if mean_rank else 1.0,
        "experts_per_token": np.bincount(per_token),
    }


def moe_payload(res: MoeResult) -> dict[str, Any]:
    """Every field of the response (see `app.schemas.moe.MoeResponse`)."""
    q, lay = res.query, res.layer
    echo = effective(q)
    echo.update(
        model=lay.model, experts=lay.experts, top_k=lay.top_k, shared_experts=lay.shared_experts,
        hidden=lay.hidden, gpus_per_node=lay.gpus_per_node, gpu=lay.gpu,
        dispatch_dtype=lay.dispatch_dtype, combine_dtype=lay.combine_dtype,
    )  # fmt: skip
    copies = int(res.routed.expert.size)
    d_bytes, c_bytes = (
        token_bytes(lay.hidden, lay.dispatch_bits),
        token_bytes(lay.hidden, lay.combine_bits),
    )
    return {
        "query": echo,
        "model": lay.model, "model_title": lay.model_title,
        "tokens": q.tokens, "tokens_per_rank": q.tokens // q.ep,
        "experts": lay.experts, "top_k": lay.top_k, "shared_experts": lay.shared_experts,
        "hidden": lay.hidden, "ep": q.ep, "experts_per_rank": lay.experts_per_rank,
        "gpus_per_node": lay.gpus_per_node, "nodes": lay.place.nodes, "routing": q.routing,
        "capacity": res.capacity,
        "capacity_formula": f"ceil({q.capacity_factor:g} × {q.tokens:,} × {lay.top_k} / "
        f"{lay.experts}) = {res.capacity:,}",
        "dropless": q.dropless,
        "routed_copies": copies, "kept_copies": copies - res.dropped, "dropped": res.dropped,
        "dropped_fraction": res.dropped / copies if copies else 0.0,
        **_loads(res),
        "shared": {"experts": lay.shared_experts, "tokens_per_rank": q.tokens // q.ep},
        "token_bytes": {"dispatch": d_bytes, "combine": c_bytes},
        "dispatch_tokens": res.dispatch_tokens,
        "dispatch_bytes": res.dispatch_tokens * d_bytes,
        "combine_bytes": res.dispatch_tokens.T * c_bytes,
        "all_to_all": {
            "flat": {"dispatch": _exchange(res.flat[0]), "combine": _exchange(res.flat[1])},
            "hierarchical": {
                "dispatch": _exchange(res.hierarchical[0]),
                "combine": _exchange(res.hierarchical[1]),
            },
        },
        "links": {
            kind: {"bandwidth": link.bandwidth, "latency": link.latency, "source": link.source}
            for kind, link in (("intra_node", res.links.intra_node), ("network", res.links.network))
        },
        "routes": _routes(res),
        "controls": controls(res),
        "sources": _sources(res),
        "notes": list(res.notes),
    }  # fmt: skip
