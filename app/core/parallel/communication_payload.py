"""The JSON body of GET /api/v1/communication, as plain values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.parallel.communication import OVERLAPS, Priced
from app.core.parallel.flops import SOURCE as FLOPS_SOURCE

if TYPE_CHECKING:
    from app.core.parallel.communication import CommunicationResult

AXIS_TITLES = {
    "tp": "Tensor parallel",
    "cp": "Context parallel",
    "ep": "Expert parallel",
    "pp": "Pipeline parallel",
    "dp": "Data parallel / ZeRO",
}


def _entry(p: Priced) -> dict[str, Any]:
    c = p.call
    return {
        "axis": c.axis,
        "collective": c.collective,
        "what": c.what,
        "phase": c.phase,
        "group_size": c.group.size,
        "local_ranks": p.local_ranks,
        "nodes": p.nodes,
        "count": c.count,
        "buffer_bytes": c.buffer_bytes,
        "wire_bytes_per_gpu": p.wire_bytes,
        "link": p.link,
        "algorithm": p.algorithm,
        "time": p.time,
        "time_by_link": {"intra_node": p.time_intra, "network": p.time_network},
        "exposed_time": p.exposed,
        "overlap": c.overlap,
        "overlapped": p.overlapped,
        "formula": c.formula,
        "source": c.source,
        "collectives_query": p.collectives_query,
    }


def _axes(bill: tuple[Priced, ...]) -> list[dict[str, Any]]:
    out = []
    for axis, title in AXIS_TITLES.items():
        mine = [p for p in bill if p.call.axis == axis]
        if not mine:
            continue
        biggest = max(mine, key=lambda p: p.time)
        out.append(
            {
                "axis": axis,
                "title": title,
                "group_size": max(p.call.group.size for p in mine),
                "time": sum(p.time for p in mine),
                "time_by_link": {
                    "intra_node": sum(p.time_intra for p in mine),
                    "network": sum(p.time_network for p in mine),
                },
                "exposed_time": sum(p.exposed for p in mine),
                "wire_bytes_per_gpu": sum(p.wire_bytes for p in mine),
                "collectives_query": biggest.collectives_query,
            }
        )
    return out


def communication_payload(res: CommunicationResult) -> dict[str, Any]:
    q, setup, st = res.query, res.setup, res.step
    model = setup.model
    assert model is not None
    query = setup.effective()
    query.update({k: getattr(q, k) for k in q.__dataclass_fields__ if k not in query})
    query["microbatches"] = setup.microbatches
    query["gpus_per_node"] = res.gpus_per_node
    query["schedule"] = res.schedule if q.pp > 1 else q.schedule
    tokens = q.dp * setup.microbatches * q.micro_batch * q.seq_len
    return {
        "query": query,
        "model": model.name,
        "model_title": model.title,
        "gpu": setup.gpu.name,
        "gpu_title": setup.gpu.title,
        "world_size": setup.world_size,
        "microbatches": setup.microbatches,
        "critical_rank": st.critical_rank,
        "bill": [_entry(p) for p in res.bill],
        "axes": _axes(res.bill),
        "compute_time": st.compute_time,
        "bubble_time": st.bubble_time,
        "exposed_communication_time": st.exposed_communication_time,
        "communication_time": sum(p.time for p in res.bill),
        "step_time": st.step_time,
        "makespan": st.makespan,
        "bubble_fraction": st.bubble_fraction,
        "schedule": st.schedule,
        "flops": {
            "per_token": res.flops_per_token,
            "per_gpu_per_step": res.model_flops_per_gpu,
            "peak": res.peak,
            "compute_dtype": q.compute_dtype,
            "efficiency": q.compute_efficiency,
            "mfu": res.model_flops_per_gpu / (st.step_time * res.peak),
            "formula": "6N + 6·L·s·d per token (N: active weights a token multiplies)",
            "source": FLOPS_SOURCE,
        },
        "tokens_per_step": tokens,
        "tokens_per_second": tokens / st.step_time,
        "overlap": [
            {"name": name, "on": bool(getattr(q, f"overlap_{name}")), "description": text}
            for name, text in OVERLAPS.items()
        ],
        "notes": list(res.notes),
    }
