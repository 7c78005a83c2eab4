"""The JSON body of GET /api/v1/collectives, as plain values and numpy arrays.

Steps come as objects (`format=json`, the contract: ``steps: [{step, time, link,
transfers: [{src, dst, chunk, bytes, op}]}]``) or as one array per field
(`format=columns`, about a fifth of the bytes for large rank counts). Every array of `view`
is aligned with the transfers in step order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from app.core.parallel.collective_algorithms import ALGORITHMS, OPS
from app.core.parallel.collective_cost import step_links
from app.core.parallel.collective_steps import OP_NAMES

if TYPE_CHECKING:
    from app.core.parallel.collectives import CollectiveResult

_LINK_LABEL = {(True, False): "intra_node", (False, True): "network", (True, True): "both"}


def catalogue() -> list[dict[str, Any]]:
    """Every op with its promise, busbw factor and algorithms (for selectors and docs)."""
    return [
        {
            "op": op.name,
            "title": op.title,
            "promise": op.promise,
            "bus_factor": op.factor,
            "algorithms": [
                {
                    "name": a,
                    "title": ALGORITHMS[a].title,
                    "layout": ALGORITHMS[a].layout,
                    "source": ALGORITHMS[a].source,
                }
                for a in op.algorithms
            ],
        }
        for op in OPS.values()
    ]


def _steps_json(res: CollectiveResult) -> list[dict[str, Any]]:
    st, times, nbytes = res.steps, res.step_times, res.transfer_bytes
    assert st is not None and times is not None and nbytes is not None
    used = step_links(st, res.resolved.place)
    offsets = st.offsets().tolist()
    src, dst, chunk, nb = st.src.tolist(), st.dst.tolist(), st.chunk.tolist(), nbytes.tolist()
    ops = [OP_NAMES[o] for o in st.op.tolist()]
    out = []
    for s in range(st.num_steps):
        a, b = offsets[s], offsets[s + 1]
        transfers = [
            {"src": x, "dst": y, "chunk": c, "bytes": k, "op": o}
            for x, y, c, k, o in zip(src[a:b], dst[a:b], chunk[a:b], nb[a:b], ops[a:b], strict=True)
        ]
        out.append(
            {
                "step": s,
                "time": float(times[s]),
                "link": _LINK_LABEL[(bool(used[s, 0]), bool(used[s, 1]))],
                "transfers": transfers,
            }
        )
    return out


def _columns(res: CollectiveResult) -> dict[str, Any]:
    st, times = res.steps, res.step_times
    assert st is not None and times is not None
    used = step_links(st, res.resolved.place)
    return {
        "step": st.step,
        "src": st.src,
        "dst": st.dst,
        "chunk": st.chunk,
        "bytes": res.transfer_bytes,
        "op": st.op,
        "op_names": list(OP_NAMES),
        "step_time": times,
        "step_link": [_LINK_LABEL[(bool(a), bool(b))] for a, b in used.tolist()],
    }


def _view(res: CollectiveResult) -> dict[str, Any] | None:
    v = res.view
    if v is None:
        return None
    return {
        "cells": v.cells,
        "full": v.full,
        "hue_of": v.hue_of,
        "x": v.x,
        "y": v.y,
        "node": v.node,
        "initial_hue": v.initial_hue,
        "initial_holds": v.initial_holds,
        "src_cell": v.src_cell,
        "dst_cell": v.dst_cell,
        "hue": v.hue,
        "holds": v.holds,
    }


def collective_payload(res: CollectiveResult) -> dict[str, Any]:
    r = res.resolved
    q, place, table = r.query, r.place, res.table
    used_intra = any(row.intra is not None for row in table.rows)
    used_net = any(row.net is not None for row in table.rows)
    wire = sum(row.steps * ((row.intra or 0.0) + (row.net or 0.0)) for row in table.rows)
    links = {}
    for kind, used in (("intra_node", used_intra), ("network", used_net)):
        link = r.links.of(kind)  # type: ignore[arg-type]
        links[kind] = {
            "bandwidth": link.bandwidth,
            "latency": link.latency,
            "source": link.source,
            "used": used,
        }
    listed = res.steps is not None
    return {
        "query": r.effective(),
        "op": r.op.name,
        "op_title": r.op.title,
        "promise": r.op.promise,
        "algorithm": r.algorithm.name,
        "algorithm_title": r.algorithm.title,
        "algorithm_source": r.algorithm.source,
        "layout": r.algorithm.layout,
        "ranks": q.ranks,
        "bytes": q.bytes,
        "gpu": r.gpu,
        "gpus_per_node": r.gpus_per_node,
        "local_ranks": place.local,
        "nodes": place.nodes,
        "links": links,
        "time": res.time,
        "latency_time": res.latency_time,
        "bandwidth_time": res.bandwidth_time,
        "algorithm_bandwidth": res.algorithm_bandwidth,
        "bus_bandwidth": res.bus_bandwidth,
        "bus_factor": r.op.bus_factor(q.ranks),
        "bus_factor_formula": r.op.factor,
        "half_bandwidth_bytes": res.half_bandwidth_bytes,
        "regime": "latency-bound" if res.latency_time > res.bandwidth_time else "bandwidth-bound",
        "num_steps": table.steps,
        "num_chunks": res.steps.num_chunks if res.steps is not None else None,
        "wire_bytes_per_gpu": wire * q.bytes,
        "steps": _steps_json(res) if listed and q.format == "json" else None,
        "columns": _columns(res) if listed and q.format == "columns" else None,
        "view": _view(res),
        "sweep": {
            "sizes": res.sweep["sizes"].astype(np.int64),
            "series": res.sweep["series"],
        },
        "catalogue": catalogue(),
        "notes": list(res.notes),
    }
